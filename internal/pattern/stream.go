package pattern

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/azmq/azmq/internal/pipe"
)

// stream routes raw connections (libzmq stream.cpp): every connection gets
// a generated routing id, 00 + a 32-bit counter. Recv returns [id, data];
// a connection that comes, and one that goes, shows as [id, ""] (libzmq's
// ZMQ_STREAM_NOTIFY, on by default). Send takes [id, data] and queues data
// for that connection; [id, ""] closes it after what was queued before.
type stream struct {
	base
	fq fq

	byID    map[string]*pipe.Pipe   // open connections
	hungUp  map[*pipe.Pipe]struct{} // closed by Send: no notification when they go
	leaving map[*pipe.Pipe]struct{} // gone, told once their data is read
	notes   notes                   // notifications not yet received
	nextID  uint32
}

// note is a notification: the connection of id came or went.
type note struct {
	id   []byte
	peer *pipe.Peer
}

// notes are the notifications not yet received, oldest first (STREAM,
// and ROUTER with Notify).
type notes []note

// pop takes the oldest notification as the message [id, ""].
func (q *notes) pop() (pipe.Msg, *pipe.Peer, bool) {
	if len(*q) == 0 {
		return pipe.Msg{}, nil, false
	}
	n := (*q)[0]
	(*q)[0] = note{}
	*q = (*q)[1:]
	return pipe.Msg{Frames: [][]byte{n.id, {}}}, n.peer, true
}

func newStream() *stream {
	s := &stream{
		byID:    make(map[string]*pipe.Pipe),
		hungUp:  make(map[*pipe.Pipe]struct{}),
		leaving: make(map[*pipe.Pipe]struct{}),
		nextID:  rand.Uint32(), // as libzmq: ids do not repeat across runs
	}
	s.init()
	return s
}

// Attach gives a new connection its id and tells Recv it came.
func (s *stream) Attach(p *pipe.Pipe) error {
	return s.attach(p, nil)
}

// AttachID is Attach under the routing id id (IDAttacher).
func (s *stream) AttachID(p *pipe.Pipe, id []byte) error {
	return s.attach(p, bytes.Clone(id))
}

// IDInUse reports whether a connection has the routing id id.
func (s *stream) IDInUse(id []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, taken := s.byID[string(id)]
	return taken
}

// attach gives p the id id, or a generated one when id is nil.
func (s *stream) attach(p *pipe.Pipe, id []byte) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if id == nil {
		id = make([]byte, 5)
		for {
			binary.BigEndian.PutUint32(id[1:], s.nextID)
			s.nextID++
			if _, taken := s.byID[string(id)]; !taken {
				break
			}
		}
	} else if _, taken := s.byID[string(id)]; taken {
		s.mu.Unlock()
		return fmt.Errorf("%w: %x", ErrIDInUse, id)
	}
	p.ID = id
	s.byID[string(id)] = p
	s.notes = append(s.notes, note{id: id, peer: p.Peer()})
	s.fq.add(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// Detach forgets a connection and tells Recv it went, after the data it
// sent before; unless Send closed it, as libzmq tells nothing then.
func (s *stream) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	_, hung := s.hungUp[p]
	delete(s.hungUp, p)
	attached := s.byID[string(p.ID)] == p
	if attached {
		delete(s.byID, string(p.ID))
	}
	if attached && !hung {
		// The pipe's In is closed: its length only falls from here.
		if p.In.Len() == 0 {
			s.notes = append(s.notes, note{id: p.ID, peer: p.Peer()})
		} else {
			s.leaving[p] = struct{}{}
		}
	}
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Recv returns the next notification, or else [id, data] fair-queued from
// the connections.
func (s *stream) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	var (
		out  pipe.Msg
		peer *pipe.Peer
	)
	err := s.block(ctx, &s.readable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if m, p, ok := s.notes.pop(); ok {
			m.Frames[0] = bytes.Clone(m.Frames[0]) // the id stays the connection's
			out, peer = m, p
			return true, nil
		}
		m, p, ok := s.fq.pop()
		if !ok {
			return false, nil
		}
		if _, ok := s.leaving[p]; ok && p.In.Len() == 0 {
			// Its last data: the notification that it went is next.
			delete(s.leaving, p)
			s.notes = append(s.notes, note{id: p.ID, peer: p.Peer()})
		}
		frames := make([][]byte, 0, 1+len(m.Frames))
		frames = append(frames, bytes.Clone(p.ID)) // the caller owns it
		out = pipe.Msg{Frames: append(frames, m.Frames...)}
		peer = p.Peer()
		return true, nil
	})
	return out, peer, err
}

// Send queues data for the connection m's first frame names, waiting while
// its queue is full; an empty data frame closes that connection. libzmq
// takes exactly one data frame after the id (a further one would be the
// id of the next message), so any other count is an error here.
func (s *stream) Send(ctx context.Context, m pipe.Msg) error {
	if len(m.Frames) != 2 {
		if s.isClosed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("%w: a STREAM message is [routing id, data], not %d frame(s)", ErrNotSupported, len(m.Frames))
	}
	id := m.Frames[0]
	body := pipe.Msg{Frames: m.Frames[1:], Tag: m.Tag}
	hangup := len(m.Frames[1]) == 0
	return s.block(ctx, &s.writable, func() (bool, error) {
		// The mutex is held across the push, so that nothing is queued
		// for a connection after the message that closes it.
		s.mu.Lock()
		defer s.mu.Unlock()
		p := s.byID[string(id)]
		if p == nil {
			return false, fmt.Errorf("%w: no STREAM connection has routing id %x", ErrHostUnreachable, id)
		}
		ok, err := p.Out.TryPush(body)
		if err != nil {
			// Closing: the connection is as good as gone.
			return false, fmt.Errorf("%w: the STREAM connection of routing id %x is closing", ErrHostUnreachable, id)
		}
		if !ok {
			return false, nil // full: wait for room, as libzmq (EAGAIN)
		}
		if hangup {
			delete(s.byID, string(id))
			s.hungUp[p] = struct{}{}
		}
		return true, nil
	})
}
