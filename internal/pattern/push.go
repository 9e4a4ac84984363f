package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// push load-balances to its PULL peers and blocks while none can take a
// message (libzmq push.cpp).
type push struct {
	base
	lb lb
	// conflate keeps only the newest message queued for each peer.
	conflate bool
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
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a peer.
func (s *push) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.lb.remove(p)
	s.mu.Unlock()
	s.wake()
}

// Send queues m on the next peer with room, waiting while there is none.
func (s *push) Send(ctx context.Context, m pipe.Msg) error {
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
