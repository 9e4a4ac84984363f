package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// dealer load-balances what it sends and fair-queues what it receives,
// leaving the frames untouched (libzmq dealer.cpp).
type dealer struct {
	base
	lb lb
	fq fq
	// conflate keeps only the newest message in each direction of each
	// peer's pipe.
	conflate bool
}

func newDealer() *dealer {
	s := &dealer{}
	s.init()
	return s
}

// Attach adds a peer.
func (s *dealer) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if s.conflate {
		p.In.SetConflate()
		p.Out.SetConflate()
	}
	s.lb.add(p)
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a peer (its queued input is still delivered).
func (s *dealer) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.lb.remove(p)
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Send queues m on the next peer with room, waiting while there is none.
func (s *dealer) Send(ctx context.Context, m pipe.Msg) error {
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		p := s.lb.send(m)
		s.mu.Unlock()
		return p != nil, nil
	})
}

// Recv takes the next message in fair-queue order.
func (s *dealer) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	m, p, err := s.recvFQ(ctx, &s.fq, nil)
	return m, peerOf(p), err
}
