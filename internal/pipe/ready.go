package pipe

import (
	"sync"
	"sync/atomic"
)

// ReadyList holds the pipes of one reader whose In queue has a message to
// pop or has closed, in the order they became so. A socket with many
// pipes (a ROUTER with a thousand clients) takes the next message in turn
// without looking at the pipes that have none, as libzmq's fair queue
// keeps its active pipes apart from the rest.
//
// A queue joins its list when it becomes ready (Queue.SetList); the reader
// takes the first pipe (Next), pops from it with TryPopListed, and holds
// it while it has more: it puts it back at the end (Requeue) once another
// pipe waits. So the pipes take turns, one message each, and a pipe alone
// in talking costs no list operation.
type ReadyList struct {
	mu      sync.Mutex
	ring    []*Pipe
	head    int
	n       int
	waiting atomic.Bool // n > 0, read without the lock
}

// push appends p. The list's mutex is taken last: a queue lists itself
// with its own mutex held.
func (l *ReadyList) push(p *Pipe) {
	l.mu.Lock()
	if l.n == len(l.ring) {
		nr := make([]*Pipe, max(16, 2*len(l.ring)))
		k := copy(nr, l.ring[l.head:])
		copy(nr[k:], l.ring[:l.head])
		l.ring, l.head = nr, 0
	}
	l.ring[(l.head+l.n)%len(l.ring)] = p
	l.n++
	if l.n == 1 {
		l.waiting.Store(true)
	}
	l.mu.Unlock()
}

// Requeue puts p, which the reader took with Next and still has messages,
// back at the end of the list.
func (l *ReadyList) Requeue(p *Pipe) { l.push(p) }

// Waiting reports whether a pipe is listed, without the lock: a hint for
// a reader that holds a pipe, whether another one waits for its turn.
func (l *ReadyList) Waiting() bool { return l.waiting.Load() }

// Next takes the pipe that has waited longest, or nil when none is ready.
func (l *ReadyList) Next() *Pipe {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return nil
	}
	p := l.ring[l.head]
	l.ring[l.head] = nil
	l.head = (l.head + 1) % len(l.ring)
	l.n--
	if l.n == 0 {
		l.waiting.Store(false)
	}
	return p
}

// Len is the number of pipes listed.
func (l *ReadyList) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Drop removes p from the list (a pipe the reader forgets).
func (l *ReadyList) Drop(p *Pipe) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := 0
	for i := 0; i < l.n; i++ {
		q := l.ring[(l.head+i)%len(l.ring)]
		if q != p {
			l.ring[(l.head+k)%len(l.ring)] = q
			k++
		}
	}
	for i := k; i < l.n; i++ {
		l.ring[(l.head+i)%len(l.ring)] = nil
	}
	l.n = k
	l.waiting.Store(k > 0)
}

// SetList makes the queue, p's In, join l whenever it becomes ready (nil:
// no list). A queue ready now joins at once.
func (q *Queue) SetList(l *ReadyList, p *Pipe) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.list, q.owner, q.listed = l, p, false
	q.syncList()
}

// syncList lists the queue if it became ready. Called with the mutex
// held, after syncReady.
func (q *Queue) syncList() {
	if q.readyNow && !q.listed && q.list != nil {
		q.listed = true
		q.list.push(q.owner)
	}
}

// TryPopListed is TryPop for a queue whose pipe the reader took from its
// ReadyList. more reports a message left, or the close, to pop: the
// reader then holds the pipe, or requeues it; otherwise the queue's next
// message lists it again. A queue closed and drained leaves the list for
// good.
func (q *Queue) TryPopListed() (m Msg, ok, closed, more bool) {
	q.mu.Lock()
	if q.n == 0 {
		c := q.closed
		// Closed: never listed again (listed stays set). Otherwise the
		// next message lists it.
		q.listed = c
		q.mu.Unlock()
		return Msg{}, false, c, false
	}
	m, wasFull := q.popHead()
	more = q.readyNow
	if !more {
		q.listed = false
	}
	w := q.writable
	q.mu.Unlock()
	if wasFull {
		w.Notify()
	}
	return m, true, false, more
}
