package pattern

import (
	"context"
	"sync/atomic"

	"github.com/azmq/azmq/internal/pipe"
)

// push load-balances to its PULL peers and blocks while none can take a
// message (libzmq push.cpp).
type push struct {
	base
	lb lb
	// conflate keeps only the newest message queued for each peer.
	conflate bool
	// only is the peer while there is exactly one, else nil: Send tries
	// it without the mutex, which guards the round robin of several. (A
	// Send racing with the peer's Detach may still queue on it, as it
	// would have just before the Detach took the mutex; a pipe is closed
	// before it is detached, so then the push fails and Send looks again.)
	only atomic.Pointer[pipe.Pipe]
}

// setOnly publishes the lone peer, with the mutex held.
func (s *push) setOnly() {
	if len(s.lb.pipes) == 1 {
		s.only.Store(s.lb.pipes[0])
	} else {
		s.only.Store(nil)
	}
}

func newPush() *push {
	s := &push{}
	s.init()
	return s
}

// Attach adds a PULL peer.
func (s *push) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if s.conflate {
		p.Out.SetConflate()
	}
	s.lb.add(p)
	s.setOnly()
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a peer.
func (s *push) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.lb.remove(p)
	s.setOnly()
	s.mu.Unlock()
	s.wake()
}

// Send queues m on the next peer with room, waiting while there is none.
func (s *push) Send(ctx context.Context, m pipe.Msg) error {
	if p := s.only.Load(); p != nil && !s.isClosed.Load() {
		if ok, _ := p.Out.TryPush(m); ok {
			return nil
		}
	}
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		p := s.lb.send(m)
		s.mu.Unlock()
		return p != nil, nil
	})
}

// Recv is not allowed on PUSH.
func (s *push) Recv(context.Context) (pipe.Msg, *pipe.Peer, error) {
	return pipe.Msg{}, nil, ErrNotSupported
}
