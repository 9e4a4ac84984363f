package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// pair talks to exactly one peer (libzmq pair.cpp). Send blocks while
// there is no peer or its pipe is full.
type pair struct {
	base
	p  *pipe.Pipe
	fq fq // one live pipe, plus a detached one still being drained
}

func newPair() *pair {
	s := &pair{}
	s.init()
	return s
}

// Attach takes the peer, or refuses a second one.
func (s *pair) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if s.p != nil {
		s.mu.Unlock()
		return ErrPeerRefused
	}
	s.p = p
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach frees the place for a new peer.
func (s *pair) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	if s.p == p {
		s.p = nil
		s.fq.detach(p)
	}
	s.mu.Unlock()
	s.wake()
}

// Send queues m for the peer, waiting for one and for room.
func (s *pair) Send(ctx context.Context, m pipe.Msg) error {
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		p := s.p
		s.mu.Unlock()
		if p == nil {
			return false, nil
		}
		ok, _ := p.Out.TryPush(m)
		return ok, nil
	})
}

// Recv takes the next message from the peer.
func (s *pair) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	m, p, err := s.recvFQ(ctx, &s.fq, nil)
	return m, peerOf(p), err
}
