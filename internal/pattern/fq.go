package pattern

import "github.com/azmq/azmq/internal/pipe"

// fq fair-queues incoming messages: it takes one whole message from each
// pipe with input in turn, so a flooding peer cannot starve the others
// (libzmq fq.cpp). The pipes with input wait in a ReadyList, so a pop
// costs the same with a thousand quiet peers as with one. It is guarded
// by the owning socket's mutex.
type fq struct {
	pipes []*pipe.Pipe
	gone  map[*pipe.Pipe]struct{} // detached, kept until drained
	ready pipe.ReadyList
}

func (f *fq) add(p *pipe.Pipe) {
	f.pipes = append(f.pipes, p)
	p.In.SetList(&f.ready, p)
}

// detach forgets p once its In queue is empty: messages that arrived
// before the peer went are still delivered, as libzmq does.
func (f *fq) detach(p *pipe.Pipe) {
	if p.In.Len() > 0 {
		if f.gone == nil {
			f.gone = make(map[*pipe.Pipe]struct{})
		}
		f.gone[p] = struct{}{}
		return
	}
	f.remove(p)
}

func (f *fq) remove(p *pipe.Pipe) {
	var i int
	f.pipes, i = removePipe(f.pipes, p)
	if i >= 0 {
		p.In.SetList(nil, nil)
		f.ready.Drop(p)
	}
	delete(f.gone, p)
}

// pop takes the next message in turn. ok is false when no pipe has one.
// Pipes closed and drained, and detached pipes drained, are dropped.
func (f *fq) pop() (m pipe.Msg, from *pipe.Pipe, ok bool) {
	for {
		p := f.ready.Next()
		if p == nil {
			return pipe.Msg{}, nil, false
		}
		m, ok, closed := p.In.TryPopListed()
		_, detached := f.gone[p]
		if ok {
			if detached && p.In.Len() == 0 {
				f.remove(p)
			}
			return m, p, true
		}
		if closed || detached {
			f.remove(p)
		}
	}
}
