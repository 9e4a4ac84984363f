package pattern

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/azmq/azmq/internal/pipe"
)

// server gives each connection a 32-bit routing id, fair-queues what they
// send and sends each reply to the connection its id names (libzmq
// server.cpp). PEER is the same strategy on both sides of a connection
// (libzmq peer.cpp derives from server).
type server struct {
	base
	fq   fq
	byID map[uint32]*pipe.Pipe
	ids  map[*pipe.Pipe]uint32
	next uint32
}

func newServer() *server {
	s := &server{
		byID: make(map[uint32]*pipe.Pipe),
		ids:  make(map[*pipe.Pipe]uint32),
		next: rand.Uint32(), // as libzmq: ids do not repeat across runs
	}
	s.init()
	return s
}

// Attach gives p the next free non-zero id.
func (s *server) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	for {
		id := s.next
		s.next++
		if _, taken := s.byID[id]; id != 0 && !taken {
			s.byID[id] = p
			s.ids[p] = id
			break
		}
	}
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets p's id; what it sent before is still delivered, with it.
func (s *server) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	if id, ok := s.ids[p]; ok {
		delete(s.byID, id)
		delete(s.ids, p)
	}
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// ID returns the routing id of p.
func (s *server) ID(p *pipe.Pipe) (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.ids[p]
	return id, ok
}

// Send needs an address: SendAddr.
func (s *server) Send(context.Context, pipe.Msg) error { return ErrNotSupported }

// Recv is RecvAddr without the address.
func (s *server) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	m, _, p, err := s.RecvAddr(ctx)
	return m, p, err
}

// SendAddr queues m for the connection a.ID names, waiting while its
// queue is full. An id no connection has is ErrHostUnreachable.
func (s *server) SendAddr(ctx context.Context, a Addr, m pipe.Msg) error {
	if len(m.Frames) != 1 {
		return ErrMultipart
	}
	return s.block(ctx, &s.writable, func() (bool, error) {
		s.mu.Lock()
		p := s.byID[a.ID]
		s.mu.Unlock()
		if p == nil {
			return false, fmt.Errorf("routing id %d: %w", a.ID, ErrHostUnreachable)
		}
		ok, err := p.Out.TryPush(m)
		if err != nil {
			// Closing: the connection is as good as gone.
			return false, fmt.Errorf("routing id %d: %w", a.ID, ErrHostUnreachable)
		}
		return ok, nil
	})
}

// RecvAddr takes the next single-frame message and the id of the
// connection it came from. Multipart messages are dropped, as libzmq does.
func (s *server) RecvAddr(ctx context.Context) (pipe.Msg, Addr, *pipe.Peer, error) {
	var id uint32
	m, p, err := s.recvFQ(ctx, &s.fq, func(m pipe.Msg, p *pipe.Pipe) (pipe.Msg, bool) {
		if len(m.Frames) != 1 || m.Flags()&(pipe.Join|pipe.Leave|pipe.Subscribe|pipe.Cancel) != 0 {
			return m, false
		}
		id = s.ids[p] // 0 once detached: the reply has nowhere to go
		return m, true
	})
	return m, Addr{ID: id}, peerOf(p), err
}
