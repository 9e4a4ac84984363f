package pattern

import (
	"context"

	"github.com/azmq/azmq/internal/pipe"
)

// maxPending and maxPendingBytes bound what XPUB keeps for an application
// that does not call Recv: beyond either the oldest entries are dropped, so
// subscribers cannot grow memory without bound, even with VerboseSubs,
// where every repeated subscription is an entry.
const (
	maxPending      = 100000
	maxPendingBytes = 16 << 20
)

// xpub is a PUB whose Recv hands the application the subscription changes
// (01T when the first pipe subscribes to T, 00T when the last leaves it;
// every one with the verbose options or Manual) and any other message the
// subscribers send (libzmq xpub.cpp).
type xpub struct {
	*pub
}

// Recv returns the next subscription change or upstream message. With
// Manual, a (un)subscription makes its subscriber the one Subscribe and
// Unsubscribe apply to.
func (s *xpub) Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error) {
	var (
		out  pipe.Msg
		peer *pipe.Peer
	)
	err := s.block(ctx, &s.readable, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.process()
		e, ok := s.x.pop()
		if !ok {
			return false, nil
		}
		if s.o.Manual && e.notice {
			// A subscriber gone since cannot be subscribed (libzmq checks
			// the distributor still has the pipe).
			s.lastPipe = nil
			if e.sp != nil && s.byP[e.sp.p] == e.sp {
				s.lastPipe = e.sp
			}
		}
		out, peer = e.m, e.peer
		return true, nil
	})
	return out, peer, err
}

// Subscribe (Manual only) subscribes the subscriber whose (un)subscription
// Recv returned last to topic, as libzmq's ZMQ_SUBSCRIBE on an XPUB with
// ZMQ_XPUB_MANUAL. With no such subscriber (none yet, or it left) it does
// nothing, as libzmq.
func (s *xpub) Subscribe(topic []byte) error {
	return s.manualApply(topic, true)
}

// Unsubscribe (Manual only) cancels that subscriber's topic.
func (s *xpub) Unsubscribe(topic []byte) error {
	return s.manualApply(topic, false)
}

func (s *xpub) manualApply(topic []byte, on bool) error {
	if !s.o.Manual {
		return ErrNotSupported
	}
	if s.isClosed.Load() {
		return ErrClosed
	}
	s.mu.Lock()
	if sp := s.lastPipe; sp != nil {
		if on {
			s.subs.add(sp, topic)
		} else {
			s.subs.rm(sp, topic)
		}
	}
	s.mu.Unlock()
	return nil
}

// pending is a bounded FIFO of what XPUB's Recv will return.
type pending struct {
	items    []pendingMsg
	head     int
	max      int
	maxBytes int
	bytes    int // frame bytes of the entries held
}

type pendingMsg struct {
	m      pipe.Msg
	peer   *pipe.Peer
	sp     *subPipe // who sent it (nil: a subscriber that left)
	notice bool     // a 01T/00T subscription change
}

func msgBytes(m pipe.Msg) int {
	n := 0
	for _, f := range m.Frames {
		n += len(f)
	}
	return n
}

func (q *pending) push(m pipe.Msg, peer *pipe.Peer, sp *subPipe, notice bool) {
	size := msgBytes(m)
	for q.len() > 0 && (q.len() >= q.max || q.maxBytes > 0 && q.bytes+size > q.maxBytes) {
		q.bytes -= msgBytes(q.items[q.head].m)
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
	q.items = append(q.items, pendingMsg{m, peer, sp, notice})
	q.bytes += size
}

func (q *pending) pop() (pendingMsg, bool) {
	if q.head == len(q.items) {
		return pendingMsg{}, false
	}
	e := q.items[q.head]
	q.items[q.head] = pendingMsg{}
	q.head++
	q.bytes -= msgBytes(e.m)
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return e, true
}

func (q *pending) len() int { return len(q.items) - q.head }
