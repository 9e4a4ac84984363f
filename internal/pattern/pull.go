package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// pull fair-queues from its PUSH peers (libzmq pull.cpp).
type pull struct {
	base
	fq fq
	// conflate keeps only the newest message from each peer.
	conflate bool
}

func newPull() *pull {
	s := &pull{}
	s.init()
	return s
}

// Attach adds a PUSH peer.
func (s *pull) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if s.conflate {
		p.In.SetConflate()
	}
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a peer once what it sent has been read.
func (s *pull) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Send is not allowed on PULL.
func (s *pull) Send(context.Context, pipe.Msg) error { return ErrNotSupported }

// Recv takes the next message in fair-queue order.
func (s *pull) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	m, p, err := s.recvFQ(ctx, &s.fq, nil)
	return m, peerOf(p), err
}
