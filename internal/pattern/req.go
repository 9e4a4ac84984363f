package pattern

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

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
//
// With Relaxed, Send is allowed while a reply is owed, whatever became of
// its peer: the new request replaces the old, whose reply is dropped.
// With Correlate, each request carries a 4-byte request id in front of
// the delimiter and only a reply carrying the last one is taken, so that
// a late reply to an earlier request cannot pass for the new one.
type req struct {
	base
	lb lb
	fq fq

	waiting bool       // a request is out; only Recv is allowed
	lost    bool       // the last request's peer left without replying
	replyTo *pipe.Pipe // the pipe the request went to (nil once detached)

	probe     bool   // RoutingOptions.Probe
	relaxed   bool   // RoutingOptions.Relaxed
	correlate bool   // RoutingOptions.Correlate
	reqID     uint32 // the id of the last request sent, with correlate
}

// errRequestLost is what Recv returns once the request's peer is gone.
var errRequestLost = fmt.Errorf("%w: the peer holding the request went away before replying; send it again", ErrState)

func newReq(o RoutingOptions) *req {
	s := &req{probe: o.Probe, relaxed: o.Relaxed, correlate: o.Correlate}
	s.lb.direct = true
	if s.correlate {
		s.reqID = rand.Uint32() // as libzmq: ids do not repeat across runs
	}
	s.init()
	return s
}

// Attach adds a peer.
func (s *req) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if s.probe {
		sendProbe(p)
	}
	s.lb.add(p)
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Hiccup probes the new connection of a persistent pipe.
func (s *req) Hiccup(p *pipe.Pipe) {
	if s.probe {
		sendProbe(p)
	}
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

// Send puts the empty delimiter (and with Correlate the request id) in
// front of m and queues it on one peer, waiting while none has room. A
// second Send before the reply is ErrState, unless Relaxed.
func (s *req) Send(ctx context.Context, m pipe.Msg) error {
	if s.correlate {
		return s.sendCorrelated(ctx, m)
	}
	frames := make([][]byte, 0, len(m.Frames)+1)
	frames = append(frames, []byte{})
	m.Frames = append(frames, m.Frames...)
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.waiting && !s.relaxed {
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

// sendCorrelated is Send with a request id frame before the delimiter.
// The id is the one after the last request's, written under the mutex
// just before each attempt: a request that was not queued used none.
func (s *req) sendCorrelated(ctx context.Context, m pipe.Msg) error {
	frames := make([][]byte, 0, len(m.Frames)+2)
	frames = append(frames, make([]byte, 4), []byte{})
	m.Frames = append(frames, m.Frames...)
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.waiting && !s.relaxed {
			return false, ErrState
		}
		// Byte order is the sender's own business: only it compares the
		// id (libzmq copies its host's uint32).
		binary.LittleEndian.PutUint32(m.Frames[0], s.reqID+1)
		p := s.lb.send(m)
		if p == nil {
			return false, nil
		}
		s.reqID++
		s.waiting, s.lost, s.replyTo = true, false, p
		return true, nil
	})
}

// Recv waits for the reply to the last request. Recv with no request out
// is ErrState. Messages from other peers, and replies that do not start
// with an empty delimiter followed by a body (with Correlate: the last
// request's id, the delimiter and a body), are dropped.
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
			if p != s.replyTo {
				continue
			}
			if s.correlate {
				// [request id, "", body...]: a reply to an earlier
				// request, or none of ours, is dropped.
				if len(m.Frames) < 3 || len(m.Frames[0]) != 4 || binary.LittleEndian.Uint32(m.Frames[0]) != s.reqID {
					continue
				}
				m.Frames = m.Frames[1:]
			}
			if len(m.Frames) < 2 || len(m.Frames[0]) != 0 {
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
