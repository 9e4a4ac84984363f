package pattern

import "github.com/azmq/azmq/internal/pipe"

// fq fair-queues incoming messages: it takes one whole message from each
// pipe with input in turn, so a flooding peer cannot starve the others
// (libzmq fq.cpp). It is guarded by the owning socket's mutex.
type fq struct {
	pipes []*pipe.Pipe
	gone  map[*pipe.Pipe]struct{} // detached, kept until drained
	next  int
}

func (f *fq) add(p *pipe.Pipe) { f.pipes = append(f.pipes, p) }

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
	if i >= 0 && i < f.next {
		f.next--
	}
	delete(f.gone, p)
}

// pop takes the next message in turn. ok is false when no pipe has one.
// Pipes closed and drained, and detached pipes drained, are dropped.
func (f *fq) pop() (m pipe.Msg, from *pipe.Pipe, ok bool) {
	for tries := len(f.pipes); tries > 0 && len(f.pipes) > 0; tries-- {
		if f.next >= len(f.pipes) {
			f.next = 0
		}
		p := f.pipes[f.next]
		if !p.In.Ready() && len(f.gone) == 0 {
			// Nothing there (and not closed): skip it without its lock,
			// which matters with a thousand peers and one talking.
			f.next++
			continue
		}
		m, ok, closed := p.In.TryPop()
		if ok {
			f.next++
			return m, p, true
		}
		if _, detached := f.gone[p]; closed || detached {
			f.remove(p) // the next pipe slides into f.next
			continue
		}
		f.next++
	}
	return pipe.Msg{}, nil, false
}
