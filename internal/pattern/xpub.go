package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// maxPending bounds what XPUB keeps for an application that does not call
// Recv: beyond it the oldest entries are dropped, so subscribers cannot
// grow memory without bound.
const maxPending = 100000

// xpub is a PUB whose Recv hands the application the subscription changes
// (01T when the first pipe subscribes to T, 00T when the last leaves it)
// and any other message the subscribers send (libzmq xpub.cpp, without
// the VERBOSE/MANUAL/NODROP options).
type xpub struct {
	*pub
}

// Recv returns the next subscription change or upstream message.
func (s *xpub) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	var (
		out  pipe.Msg
		peer *pipe.Peer
	)
	err := s.block(ctx, &s.readable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.process()
		var ok bool
		out, peer, ok = s.x.pop()
		return ok, nil
	})
	return out, peer, err
}

// pending is a bounded FIFO of what XPUB's Recv will return.
type pending struct {
	items []pendingMsg
	head  int
	max   int
}

type pendingMsg struct {
	m    pipe.Msg
	peer *pipe.Peer
}

func (q *pending) push(m pipe.Msg, peer *pipe.Peer) {
	if len(q.items)-q.head >= q.max {
		q.items[q.head] = pendingMsg{}
		q.head++
	}
	if q.head > 0 && q.head >= len(q.items)/2 {
		// Reclaim the consumed front so the slice does not creep.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	q.items = append(q.items, pendingMsg{m, peer})
}

func (q *pending) pop() (pipe.Msg, *pipe.Peer, bool) {
	if q.head == len(q.items) {
		return pipe.Msg{}, nil, false
	}
	e := q.items[q.head]
	q.items[q.head] = pendingMsg{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return e.m, e.peer, true
}

func (q *pending) len() int { return len(q.items) - q.head }
