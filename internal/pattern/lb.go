package pattern

import "github.com/azmq/azmq/internal/pipe"

// lb load-balances outgoing messages round-robin over its pipes, skipping
// the ones that are full or closing (libzmq lb.cpp). It is guarded by the
// owning socket's mutex.
type lb struct {
	pipes []*pipe.Pipe
	next  int // where the next round starts
	// direct lets a connection's idle writer be bypassed (REQ: one
	// message in flight, nothing to batch).
	direct bool
}

func (l *lb) add(p *pipe.Pipe) { l.pipes = append(l.pipes, p) }

func (l *lb) remove(p *pipe.Pipe) {
	var i int
	l.pipes, i = removePipe(l.pipes, p)
	if i >= 0 && i < l.next {
		l.next--
	}
}

// send pushes m to the next pipe that takes it and returns that pipe, or
// nil when none can take it now (the caller waits on Writable).
func (l *lb) send(m pipe.Msg) *pipe.Pipe {
	n := len(l.pipes)
	for i := 0; i < n; i++ {
		if l.next >= n {
			l.next = 0
		}
		p := l.pipes[l.next]
		l.next++
		// A closing pipe (error) is as good as gone: its Detach is coming.
		var ok bool
		if l.direct {
			ok, _ = p.Out.TryPushDirect(m)
		} else {
			ok, _ = p.Out.TryPush(m)
		}
		if ok {
			return p
		}
	}
	return nil
}
