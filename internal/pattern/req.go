package pattern

import (
	"context"
	"fmt"

	"github.com/azmq/azmq/internal/pipe"
)

// req sends a request to one peer chosen round-robin, then takes only that
// peer's reply (libzmq req.cpp): strict send/recv alternation.
//
// When the peer the request went to is detached, or its connection ends
// (a connecting REQ keeps the pipe for the next connection) before the
// reply came, the request is lost: Recv, blocked or not, returns
// errRequestLost (an ErrState) and the REQ is back in the send state, so
// the application can send again (libzmq would wait forever).
type req struct {
	base
	lb lb
	fq fq

	waiting bool       // a request is out; only Recv is allowed
	lost    bool       // the last request's peer left without replying
	replyTo *pipe.Pipe // the pipe the request went to (nil once detached)
}

// errRequestLost is what Recv returns once the request's peer is gone.
var errRequestLost = fmt.Errorf("%w: the peer holding the request went away before replying; send it again", ErrState)

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
		s.waiting, s.lost, s.replyTo = false, true, nil
	}
	s.mu.Unlock()
	s.wake()
}

// Hangup: the connection the request went to ended without the reply,
// which the next connection's peer will never send. A request still
// queued (never written) goes to the next connection, so it is still owed.
func (s *req) Hangup(p *pipe.Pipe) {
	s.mu.Lock()
	if s.waiting && s.replyTo == p && p.In.Len() == 0 && p.Out.Len() == 0 {
		s.waiting, s.lost, s.replyTo = false, true, nil
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
		s.waiting, s.lost, s.replyTo = true, false, p
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
	var (
		out  pipe.Msg
		from *pipe.Pipe
	)
	err := s.block(ctx, &s.readable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for {
			if !s.waiting {
				if s.lost {
					return false, errRequestLost
				}
				return false, ErrState
			}
			m, p, ok := s.fq.pop()
			if !ok {
				return false, nil
			}
			if p != s.replyTo || len(m.Frames) < 2 || len(m.Frames[0]) != 0 {
				continue
			}
			m.Frames = m.Frames[1:]
			s.waiting, s.replyTo = false, nil
			out, from = m, p
			return true, nil
		}
	})
	return out, peerOf(from), err
}
