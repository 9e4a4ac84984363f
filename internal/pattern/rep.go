package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// rep fair-queues requests and sends each reply back, with the request's
// envelope, to the peer it came from (libzmq rep.cpp).
type rep struct {
	base
	fq fq

	replying bool       // a request was taken; only Send is allowed
	env      [][]byte   // its envelope, up to and including the delimiter
	replyTo  *pipe.Pipe // nil once that peer is detached
}

func newRep() *rep {
	s := &rep{}
	s.init()
	return s
}

// Attach adds a peer.
func (s *rep) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a peer; a reply still owed to it will be dropped.
func (s *rep) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.fq.detach(p)
	if s.replyTo == p {
		s.replyTo = nil
	}
	s.mu.Unlock()
	s.wake()
}

// delimiter is the index of the empty frame that ends the envelope, or -1.
// The last frame cannot be it: the request needs a body (libzmq requires
// MORE on the delimiter).
func delimiter(frames [][]byte) int {
	for i := 0; i < len(frames)-1; i++ {
		if len(frames[i]) == 0 {
			return i
		}
	}
	return -1
}

// Recv takes the next request, keeps its envelope and returns its body.
// A request with no delimiter is dropped. Recv while a reply is owed is
// ErrState.
func (s *rep) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	var (
		out  pipe.Msg
		from *pipe.Pipe
	)
	err := s.block(ctx, &s.readable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.replying {
			return false, ErrState
		}
		for {
			m, p, ok := s.fq.pop()
			if !ok {
				return false, nil
			}
			i := delimiter(m.Frames)
			if i < 0 {
				continue
			}
			s.replying, s.env, s.replyTo = true, m.Frames[:i+1:i+1], p
			m.Frames = m.Frames[i+1:]
			out, from = m, p
			return true, nil
		}
	})
	return out, peerOf(from), err
}

// Send returns m, behind the stored envelope, to the peer the request came
// from. It never blocks: if that peer is gone or full the reply is
// dropped, as in libzmq. Send with no request taken is ErrState.
func (s *rep) Send(_ context.Context, m pipe.Msg) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.replying {
		return ErrState
	}
	if s.replyTo != nil {
		frames := make([][]byte, 0, len(s.env)+len(m.Frames))
		frames = append(frames, s.env...)
		m.Frames = append(frames, m.Frames...)
		// The envelope is the request's, not the reply's own copy: the
		// message as a whole is no longer azmq's alone to give back.
		m.Without(pipe.Owned)
		// One reply per request: nothing to batch, so an idle writer
		// is bypassed (pipe.Direct).
		s.replyTo.Out.TryPushDirect(m)
	}
	s.replying, s.env, s.replyTo = false, nil, nil
	return nil
}
