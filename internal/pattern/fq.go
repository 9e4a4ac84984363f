package pattern

import "github.com/azmq/azmq/internal/pipe"

// fq fair-queues incoming messages: it takes one whole message from each
// pipe with input in turn, so a flooding peer cannot starve the others
// (libzmq fq.cpp). It is guarded by the owning socket's mutex.
//
// With few pipes it looks at each in turn, which costs one atomic load a
// pipe. With many (a broker's thousand clients) the pipes with input wait
// in a ReadyList instead, so a pop costs the same however many peers are
// quiet; the list costs a little more per message than a look at a few
// pipes.
type fq struct {
	pipes []*pipe.Pipe
	gone  map[*pipe.Pipe]struct{} // detached, kept until drained
	next  int                     // the pipe to look at first, scanning

	listed bool // the ready pipes wait in ready
	ready  pipe.ReadyList
	// held is the pipe popped last, which had more: it keeps its turn
	// until another pipe waits.
	held *pipe.Pipe
}

// With more pipes than fqListAbove the ready ones are listed; with fewer
// than fqScanBelow they are scanned again.
const (
	fqListAbove = 16
	fqScanBelow = 8
)

func (f *fq) add(p *pipe.Pipe) {
	f.pipes = append(f.pipes, p)
	switch {
	case f.listed:
		p.In.SetList(&f.ready, p)
	case len(f.pipes) > fqListAbove:
		f.useList(true)
	}
}

// useList switches between scanning and listing.
func (f *fq) useList(on bool) {
	if on {
		f.listed = true
		for _, p := range f.pipes {
			p.In.SetList(&f.ready, p) // one that is ready joins at once
		}
		return
	}
	for _, p := range f.pipes {
		p.In.SetList(nil, nil)
	}
	for f.ready.Next() != nil {
	}
	f.listed, f.held, f.next = false, nil, 0
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
	delete(f.gone, p)
	if i < 0 {
		return
	}
	if !f.listed {
		if i < f.next {
			f.next--
		}
		return
	}
	p.In.SetList(nil, nil)
	f.ready.Drop(p)
	if f.held == p {
		f.held = nil
	}
	if len(f.pipes) < fqScanBelow {
		f.useList(false)
	}
}

// pop takes the next message in turn. ok is false when no pipe has one.
// Pipes closed and drained, and detached pipes drained, are dropped.
func (f *fq) pop() (m pipe.Msg, from *pipe.Pipe, ok bool) {
	if f.listed {
		return f.popListed()
	}
	for tries := len(f.pipes); tries > 0 && len(f.pipes) > 0; tries-- {
		if f.next >= len(f.pipes) {
			f.next = 0
		}
		p := f.pipes[f.next]
		if !p.In.Ready() && len(f.gone) == 0 {
			// Nothing there (and not closed): skip it without its lock.
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

func (f *fq) popListed() (m pipe.Msg, from *pipe.Pipe, ok bool) {
	for f.listed {
		p := f.held
		if p == nil || f.ready.Waiting() {
			if p != nil {
				f.ready.Requeue(p) // its turn is over
			}
			if p = f.ready.Next(); p == nil {
				f.held = nil
				return pipe.Msg{}, nil, false
			}
		}
		f.held = nil
		m, ok, closed, more := p.In.TryPopListed()
		_, detached := f.gone[p]
		if ok {
			if more {
				f.held = p
			} else if detached {
				f.remove(p)
			}
			return m, p, true
		}
		if closed || detached {
			f.remove(p) // may go back to scanning
		}
	}
	return f.pop()
}
