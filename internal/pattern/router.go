package pattern

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"

	"github.com/azmq/azmq/internal/pipe"
)

// router prefixes what it receives with the sender's routing id and sends
// each message to the peer its first frame names (libzmq router.cpp).
type router struct {
	base
	mandatory bool
	fq        fq

	byID    map[string]*pipe.Pipe   // addressable peers
	ignored map[*pipe.Pipe]struct{} // duplicate ids: read and dropped
	anon    map[*pipe.Pipe]struct{} // no Peer yet: id not known
	nextID  uint32                  // next generated id
}

func newRouter(o Options) *router {
	s := &router{
		mandatory: o.RouterMandatory,
		byID:      make(map[string]*pipe.Pipe),
		ignored:   make(map[*pipe.Pipe]struct{}),
		anon:      make(map[*pipe.Pipe]struct{}),
		nextID:    rand.Uint32(), // as libzmq: ids do not repeat across runs
	}
	s.init()
	return s
}

// identify gives p its routing id: the peer's Identity, or a generated
// 5-byte id 00+u32. A pipe whose id is taken stays attached but ignored,
// libzmq's default without ROUTER_HANDOVER. A pipe whose Peer is not known
// yet (a connect-side pipe before its connection) waits in anon.
func (s *router) identify(p *pipe.Pipe) {
	peer := p.Peer()
	if peer == nil {
		s.anon[p] = struct{}{}
		return
	}
	delete(s.anon, p)
	id := bytes.Clone(peer.RoutingID)
	if len(id) == 0 {
		id = make([]byte, 5)
		for {
			binary.BigEndian.PutUint32(id[1:], s.nextID)
			s.nextID++
			if _, taken := s.byID[string(id)]; !taken {
				break
			}
		}
	}
	p.ID = id
	if _, taken := s.byID[string(id)]; taken {
		s.ignored[p] = struct{}{}
		return
	}
	s.byID[string(id)] = p
}

// forget makes p unaddressable.
func (s *router) forget(p *pipe.Pipe) {
	if q, ok := s.byID[string(p.ID)]; ok && q == p {
		delete(s.byID, string(p.ID))
	}
	delete(s.ignored, p)
	delete(s.anon, p)
}

// identifyAnon identifies the pipes whose connection has come since.
func (s *router) identifyAnon() {
	for p := range s.anon {
		if p.Peer() != nil {
			s.identify(p)
		}
	}
}

// Attach adds a peer under its routing id.
func (s *router) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	s.identify(p)
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a peer. What it sent before is still delivered.
func (s *router) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.forget(p)
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Hiccup identifies the pipe again: the new connection may announce
// another Identity.
func (s *router) Hiccup(p *pipe.Pipe) {
	s.mu.Lock()
	_, ignored := s.ignored[p]
	_, anon := s.anon[p]
	if !ignored && !anon && s.byID[string(p.ID)] != p {
		s.mu.Unlock()
		return // not attached
	}
	s.forget(p)
	s.identify(p)
	s.mu.Unlock()
	s.wake()
}

// Recv returns [routing id, frames...]. Messages from ignored pipes are
// dropped.
func (s *router) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	m, p, err := s.recvFQ(ctx, &s.fq, func(m pipe.Msg, p *pipe.Pipe) (pipe.Msg, bool) {
		if _, ok := s.anon[p]; ok {
			s.identify(p)
		}
		if _, ok := s.ignored[p]; ok {
			return m, false
		}
		frames := make([][]byte, 0, len(m.Frames)+1)
		frames = append(frames, bytes.Clone(p.ID)) // the caller owns it
		m.Frames = append(frames, m.Frames...)
		return m, true
	})
	return m, peerOf(p), err
}

// Send routes m to the peer named by its first frame, which is stripped.
// A message with no body, an unknown id or a full pipe is dropped; with
// RouterMandatory, an unknown id is ErrHostUnreachable and a full pipe
// blocks until it has room.
func (s *router) Send(ctx context.Context, m pipe.Msg) error {
	if len(m.Frames) < 2 {
		if s.isClosed.Load() {
			return ErrClosed
		}
		s.dropped.Add(1)
		return nil
	}
	id := m.Frames[0]
	body := pipe.Msg{Frames: m.Frames[1:], Flags: m.Flags}
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		if len(s.anon) > 0 {
			s.identifyAnon()
		}
		p := s.byID[string(id)]
		s.mu.Unlock()
		if p != nil {
			ok, err := p.Out.TryPush(body)
			if ok {
				return true, nil
			}
			if err == nil && s.mandatory {
				return false, nil // full: wait for room
			}
			if err == nil {
				s.dropped.Add(1) // full: dropped
				return true, nil
			}
			// Closing: the peer is as good as gone.
		}
		if s.mandatory {
			return false, ErrHostUnreachable
		}
		s.dropped.Add(1)
		return true, nil
	})
}
