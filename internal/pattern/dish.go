package pattern

import (
	"context"
	"fmt"

	"github.com/azmq/azmq/internal/pipe"
)

// dish joins groups, tells every radio, and fair-queues the messages of
// the groups it joined (libzmq dish.cpp). It filters what it receives too:
// a udp path sends every group.
type dish struct {
	base
	pipes  []*pipe.Pipe
	fq     fq
	groups map[string]struct{}
}

func newDish() *dish {
	s := &dish{groups: make(map[string]struct{})}
	s.init()
	return s
}

func groupMsg(g string, f pipe.Flags) pipe.Msg {
	return pipe.Msg{Frames: [][]byte{[]byte(g)}, Tag: pipe.TagOf(f)}
}

// Attach adds a radio and joins it to every group joined so far.
func (s *dish) Attach(p *pipe.Pipe) error {
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	s.pipes = append(s.pipes, p)
	s.fq.add(p)
	s.resend(p)
	s.mu.Unlock()
	s.wake()
	return nil
}

// resend offers p every joined group. Called with the mutex held.
func (s *dish) resend(p *pipe.Pipe) {
	for g := range s.groups {
		p.Out.TryPush(groupMsg(g, pipe.Join))
	}
}

// Detach forgets a radio.
func (s *dish) Detach(p *pipe.Pipe) {
	s.mu.Lock()
	s.pipes, _ = removePipe(s.pipes, p)
	s.fq.detach(p)
	s.mu.Unlock()
	s.wake()
}

// Hiccup joins the new connection behind p to every group.
func (s *dish) Hiccup(p *pipe.Pipe) {
	s.mu.Lock()
	for _, q := range s.pipes {
		if q == p {
			s.resend(p)
			break
		}
	}
	s.mu.Unlock()
}

// Join adds a group and tells every radio; a radio whose pipe is full
// misses it, as in libzmq. Joining a group twice is an error, as in libzmq.
func (s *dish) Join(group string) error { return s.change(group, true) }

// Leave drops a group and tells every radio. Leaving a group not joined
// is an error, as in libzmq.
func (s *dish) Leave(group string) error { return s.change(group, false) }

func (s *dish) change(group string, join bool) error {
	if len(group) > MaxGroup {
		return ErrGroupTooLong
	}
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, joined := s.groups[group]
	switch {
	case join && joined:
		return fmt.Errorf("group %q already joined: %w", group, ErrState)
	case !join && !joined:
		return fmt.Errorf("group %q not joined: %w", group, ErrState)
	case join:
		s.groups[group] = struct{}{}
		toAll(s.pipes, groupMsg(group, pipe.Join))
	default:
		delete(s.groups, group)
		toAll(s.pipes, groupMsg(group, pipe.Leave))
	}
	return nil
}

// Send is not allowed on DISH.
func (s *dish) Send(context.Context, pipe.Msg) error { return ErrNotSupported }

// SendAddr is not allowed on DISH.
func (s *dish) SendAddr(context.Context, Addr, pipe.Msg) error { return ErrNotSupported }

// Recv is RecvAddr without the group.
func (s *dish) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	m, _, p, err := s.RecvAddr(ctx)
	return m, p, err
}

// RecvAddr takes the next message of a joined group, and the group. A
// message that is not [group, body] is dropped (libzmq dish_session
// refuses it).
func (s *dish) RecvAddr(ctx context.Context) (pipe.Msg, Addr, *pipe.Peer, error) {
	var group string
	m, p, err := s.recvFQ(ctx, &s.fq, func(m pipe.Msg, _ *pipe.Pipe) (pipe.Msg, bool) {
		if len(m.Frames) != 2 || m.Flags()&(pipe.Join|pipe.Leave) != 0 || len(m.Frames[0]) > MaxGroup {
			return m, false
		}
		if _, ok := s.groups[string(m.Frames[0])]; !ok {
			return m, false
		}
		group = string(m.Frames[0])
		m.Frames = m.Frames[1:]
		return m, true
	})
	return m, Addr{Group: group}, peerOf(p), err
}
