package azmq

import (
	"context"
	"fmt"

	"github.com/azmq/azmq/internal/pattern"
	"github.com/azmq/azmq/internal/pipe"
)

// The draft types address their messages: a SERVER or a PEER replies to
// a connection by its routing id (SendTo, Msg.RoutingID), a RADIO sends
// to a group (SendGroup) and a DISH receives the groups it joined (Join,
// Leave, Msg.Group). Their messages are a single frame.

// SendTo sends data to the connection routingID names, on a SERVER (the
// id RecvMsg gave with a CLIENT's message) or a PEER (the id ConnectPeer
// returned, or RecvMsg gave). It waits while that connection's queue is
// full; an id no connection has is ErrHostUnreachable. Like Send, it
// copies data.
func (s *Socket) SendTo(ctx context.Context, routingID uint32, data []byte) error {
	if s.typ != SERVER && s.typ != PEER {
		return fmt.Errorf("azmq: SendTo on %s: %w", s.typ, ErrNotSupported)
	}
	if err := s.sendAddr(ctx, pattern.Addr{ID: routingID}, data); err != nil {
		return fmt.Errorf("azmq: SendTo: %w", err)
	}
	return nil
}

// SendGroup sends data to every DISH that joined group, on a RADIO. Like
// PUB, it never waits: a DISH whose queue is full misses the message.
// Like Send, it copies data.
func (s *Socket) SendGroup(ctx context.Context, group string, data []byte) error {
	if s.typ != RADIO {
		return fmt.Errorf("azmq: SendGroup on %s: %w", s.typ, ErrNotSupported)
	}
	if err := s.sendAddr(ctx, pattern.Addr{Group: group}, data); err != nil {
		return fmt.Errorf("azmq: SendGroup %q: %w", group, err)
	}
	return nil
}

func (s *Socket) sendAddr(ctx context.Context, a pattern.Addr, data []byte) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// Never nil: Send's one-frame copy keeps the Owned contract.
	frames, tag := s.cp.Copy([][]byte{data})
	if err := s.pat.(pattern.Addressed).SendAddr(ctx, a, pipe.Msg{Frames: frames, Tag: tag}); err != nil {
		return err
	}
	s.st.out.add(uint64(len(data)))
	return nil
}

// MaxGroupLen is the longest group name, in bytes (libzmq's
// ZMQ_GROUP_MAX_LENGTH).
const MaxGroupLen = pattern.MaxGroup

// Join makes a DISH receive the messages RADIOs send to group (at most
// 255 bytes). Joining a group twice is ErrState, as in libzmq.
func (s *Socket) Join(group string) error {
	j, ok := s.pat.(pattern.Joiner)
	if !ok {
		return fmt.Errorf("azmq: Join on %s: %w", s.typ, ErrNotSupported)
	}
	if err := j.Join(group); err != nil {
		return fmt.Errorf("azmq: Join %q: %w", group, err)
	}
	return nil
}

// Leave undoes a Join. Leaving a group not joined is ErrState.
func (s *Socket) Leave(group string) error {
	j, ok := s.pat.(pattern.Joiner)
	if !ok {
		return fmt.Errorf("azmq: Leave on %s: %w", s.typ, ErrNotSupported)
	}
	if err := j.Leave(group); err != nil {
		return fmt.Errorf("azmq: Leave %q: %w", group, err)
	}
	return nil
}

// ConnectPeer connects a PEER to endpoint, as Connect does, and returns
// the routing id to SendTo it. The id stays the same across reconnects.
// It does not work with WithImmediate(true), which gives a connection no
// id before it is up (libzmq refuses it too).
func (s *Socket) ConnectPeer(endpoint string) (uint32, error) {
	if s.typ != PEER {
		return 0, fmt.Errorf("azmq: ConnectPeer on %s: %w", s.typ, ErrNotSupported)
	}
	if s.cfg.immediate {
		return 0, fmt.Errorf("azmq: ConnectPeer %q: %w: not with WithImmediate(true)", endpoint, ErrNotSupported)
	}
	p, err := s.connect(endpoint)
	if err != nil {
		return 0, err
	}
	id, ok := s.pat.(pattern.Identifier).ID(p)
	if p == nil || !ok {
		return 0, fmt.Errorf("azmq: ConnectPeer %q: %w", endpoint, ErrClosed)
	}
	return id, nil
}
