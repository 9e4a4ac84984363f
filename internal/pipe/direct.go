package pipe

import "sync/atomic"

// Direct is a link that can write a message to its peer at once, from the
// sender's goroutine, when nothing is queued before it: an engine whose
// writer is idle. The writer's wake-up is then not on the message's path,
// which is most of a round trip's cost for a socket that never has two
// messages in flight on a connection (REQ, REP).
type Direct interface {
	// WriteNow writes m, or at least takes it, and reports true; false
	// means it took nothing and m must be queued. q is the queue m would
	// have gone to: WriteNow keeps the order by taking m only while q is
	// empty.
	// m comes by value: through an interface, a pointer would make every
	// message pushed escape to the heap.
	WriteNow(q *Queue, m Msg) bool
}

type directBox struct{ d Direct }

// direct is the Queue's writer-side shortcut (nil: none).
type direct = atomic.Pointer[directBox]

// SetDirect gives the queue a link that may write pushed messages at once
// (nil removes it). Only TryPushDirect uses it.
func (q *Queue) SetDirect(d Direct) {
	if d == nil {
		q.direct.Store(nil)
		return
	}
	q.direct.Store(&directBox{d})
}

// TryPushDirect is TryPush, except that the message is written at once
// when the queue is empty and its link can (SetDirect). Callers must not
// push to q from two goroutines at once (the socket's lock is held), so
// that nothing slips in before the message written.
func (q *Queue) TryPushDirect(m Msg) (bool, error) {
	if b := q.direct.Load(); b != nil && !q.ready.Load() && b.d.WriteNow(q, m) {
		return true, nil
	}
	return q.TryPush(m)
}

// Idle reports whether the queue is empty and open: a Direct link may
// then write past it.
func (q *Queue) Idle() bool {
	q.mu.Lock()
	idle := q.n == 0 && !q.closed
	q.mu.Unlock()
	return idle
}
