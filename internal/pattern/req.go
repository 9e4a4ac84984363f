package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// req sends a request to one peer chosen round-robin, then takes only that
// peer's reply (libzmq req.cpp): strict send/recv alternation.
//
// When the peer the request went to is detached, the REQ goes back to the
// send state so the application can retry elsewhere (libzmq would wait
// forever). A Recv already blocked does not fail: it keeps waiting until
// its ctx ends, dropping whatever arrives meanwhile, or takes the reply to
// a new request sent from another goroutine.
type req struct {
	base
	lb lb
	fq fq

	waiting bool       // a request is out; only Recv is allowed
	replyTo *pipe.Pipe // the pipe the request went to (nil once detached)
}

func newReq() *req {
	s := &req{}
	s.init()
	return s
}

// Attach adds a peer.
func (s *req) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	s.lb.add(p)
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a peer; if it owed the reply and did not send it, Send is
// allowed again.
func (s *req) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.lb.remove(p)
	s.fq.detach(p)
	// A reply that arrived just before the peer left is still in p.In
	// (the caller closed it, so nothing more comes): Recv can take it.
	if s.waiting && s.replyTo == p && p.In.Len() == 0 {
		s.waiting, s.replyTo = false, nil
	}
	s.mu.Unlock()
	s.wake()
}

// Send puts the empty delimiter in front of m and queues it on one peer,
// waiting while none has room. A second Send before the reply is ErrState.
func (s *req) Send(ctx context.Context, m pipe.Msg) error {
	frames := make([][]byte, 0, len(m.Frames)+1)
	frames = append(frames, []byte{})
	m.Frames = append(frames, m.Frames...)
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.waiting {
			return false, ErrState
		}
		p := s.lb.send(m)
		if p == nil {
			return false, nil
		}
		s.waiting, s.replyTo = true, p
		return true, nil
	})
}

// Recv waits for the reply to the last request. Recv with no request out
// is ErrState. Messages from other peers, and replies that do not start
// with an empty delimiter followed by a body, are dropped.
func (s *req) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	if s.isClosed.Load() {
		return pipe.Msg{}, nil, ErrClosed
	}
	s.mu.Lock()
	waiting := s.waiting
	s.mu.Unlock()
	if !waiting {
		return pipe.Msg{}, nil, ErrState
	}
	m, p, err := s.recvFQ(ctx, &s.fq, func(m pipe.Msg, p *pipe.Pipe) (pipe.Msg, bool) {
		if !s.waiting || p != s.replyTo || len(m.Frames) < 2 || len(m.Frames[0]) != 0 {
			return m, false
		}
		m.Frames = m.Frames[1:]
		s.waiting, s.replyTo = false, nil
		return m, true
	})
	return m, peerOf(p), err
}
