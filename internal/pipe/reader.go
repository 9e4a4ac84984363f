package pipe

import (
	"context"
	"sync/atomic"
)

// Reader is a link whose connection a receiver may read itself, from its
// own goroutine, when the link's reader goroutine has lent it: the
// network then wakes the receiver, instead of a goroutine that hands the
// message over, which is about half of a round trip's cost for a socket
// with one peer (REQ, REP, a DEALER or PULL talking to one server).
type Reader interface {
	// ReadNow waits for bytes from the peer, decodes the whole messages
	// among them into q, at most room of them, and reports true; it
	// reports true too when Interrupt or ctx ended the wait. It reports
	// false at once when it cannot read now: the link's own reader is at
	// work (it lends the connection once it has handed over what it
	// has), or the connection is over.
	ReadNow(ctx context.Context, q *Queue, room int) bool
	// Interrupt ends a ReadNow's wait.
	Interrupt()
}

type readerBox struct{ r Reader }

// SetReader gives the queue the link that fills it, when a receiver may
// read that link itself (nil removes it).
func (q *Queue) SetReader(r Reader) {
	if r == nil {
		q.reader.Store(nil)
		return
	}
	q.reader.Store(&readerBox{r})
}

// readerLink is the Queue's reading-side shortcut (nil: none).
type readerLink = atomic.Pointer[readerBox]

// ReadNow has the queue's link read and decode into the queue from the
// caller's goroutine (see Reader), and reports whether it did (or was
// interrupted); false when the queue has no such link or it cannot read
// now, and the caller waits as usual.
func (q *Queue) ReadNow(ctx context.Context) bool {
	b := q.reader.Load()
	if b == nil {
		return false
	}
	room := q.room()
	if room <= 0 {
		return false
	}
	if !b.r.ReadNow(ctx, q, room) {
		return false
	}
	q.readNows.Add(1)
	return true
}

// ReadNows counts the ReadNow calls that read (or were interrupted): how
// often a receiver read the connection itself.
func (q *Queue) ReadNows() uint64 { return q.readNows.Load() }

// Interrupt ends the wait of a ReadNow in progress on the queue's link.
func (q *Queue) Interrupt() {
	if b := q.reader.Load(); b != nil {
		b.r.Interrupt()
	}
}

// maxReadNow bounds the messages one ReadNow decodes.
const maxReadNow = 255

// room is how many messages a push may add now without waiting, at most
// maxReadNow; 0 when closed.
func (q *Queue) room() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return 0
	case q.hwm <= 0 || q.conflate:
		return maxReadNow
	}
	return min(q.hwm-q.n, maxReadNow)
}
