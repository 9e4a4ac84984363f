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
	// ahead holds messages taken from the only peer's queue in one go and
	// not returned yet (ahead[next:]), from aheadOf: one lock of that
	// queue, which its writer also takes per message, then serves many
	// Recvs. Guarded by mu.
	ahead   []pipe.Msg
	next    int
	aheadOf *pipe.Pipe
}

// readAhead bounds the messages taken from a queue at once. What is taken
// no longer counts against that queue's high-water mark, as with libzmq,
// whose reader also takes messages ahead in batches (ypipe).
const readAhead = 64

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
	var (
		m    pipe.Msg
		from *pipe.Pipe
	)
	err := s.block(ctx, &s.readable, func() (bool, error) {
		s.mu.Lock()
		m, from = s.pop()
		s.mu.Unlock()
		return from != nil, nil
	})
	return m, peerOf(from), err
}

// pop takes the next message (nil pipe: none), with the mutex held. With
// one peer, it takes what that peer has queued in one go; with several,
// one message at a time in fair-queue order. A peer that comes while the
// only other one's batch is being served waits for the rest of that
// batch (fewer than readAhead messages), then they take turns.
func (s *pull) pop() (pipe.Msg, *pipe.Pipe) {
	if s.next < len(s.ahead) {
		m := s.ahead[s.next]
		s.ahead[s.next] = pipe.Msg{}
		s.next++
		return m, s.aheadOf
	}
	if len(s.fq.pipes) == 1 && len(s.fq.gone) == 0 && !s.conflate {
		p := s.fq.pipes[0]
		s.ahead, _ = p.In.PopBatch(s.ahead[:0], readAhead)
		s.next = 0
		if len(s.ahead) > 0 {
			s.aheadOf = p
			m := s.ahead[0]
			s.ahead[0] = pipe.Msg{}
			s.next = 1
			return m, p
		}
	}
	m, p, ok := s.fq.pop()
	if !ok {
		return pipe.Msg{}, nil
	}
	return m, p
}
