// Package pipe is the bounded, context-aware message queue between a socket
// and one peer: the high-water mark lives here. A Pipe is a pair of Queues,
// one per direction; an inproc connection shares its two Queues between the
// two sockets, so messages pass without encoding or copying.
package pipe

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by operations on a closed queue or socket.
var ErrClosed = errors.New("azmq: closed")

// Flags mark messages that are not plain data.
type Flags uint8

const (
	// Subscribe marks a subscription made by SUB/XSUB: Frames[0] is 0x01+topic.
	// The engine sends it as a SUBSCRIBE command to a ZMTP 3.1 peer and as the
	// data frame itself to a 3.0 peer.
	Subscribe Flags = 1 << iota
	// Cancel marks an unsubscription: Frames[0] is 0x00+topic.
	Cancel
	// Owned marks frames that are azmq's own copy (Send's), which nothing
	// outside azmq holds: whoever is the last to use them may give their
	// memory back (bufpool.PutOwn). A fan-out, which hands the same frames
	// to several pipes, must clear it.
	Owned
	// Join marks a DISH's joining of a group: Frames[0] is the group. The
	// engine sends it as a JOIN command; a udp path ignores it.
	Join
	// Leave marks a DISH's leaving of a group: Frames[0] is the group.
	Leave

	allFlags = Subscribe | Cancel | Owned | Join | Leave
)

// Msg is one whole message: ZeroMQ delivers all its frames or none.
type Msg struct {
	Frames [][]byte
	// Tag holds the flags, and what a small Send copy was cut from; nil
	// for plain data. A pointer, not the fields, so that a Msg stays four
	// words, which the compiler keeps in registers: a Msg of five words
	// is copied through memory, with write barriers, at every hand-over.
	Tag *Tag
}

// Tag is what a message carries besides its frames.
type Tag struct {
	Flags Flags
	// Chunk, when not nil, is what a small Send copy (or SendNoCopy's
	// frame list) was cut from. The copy's last user, when that is azmq
	// (an engine's writer, once the bytes are in its batch buffer),
	// releases it with Done(1), or Done(n) for n such messages at once,
	// so that the chunk's memory is used again. Like Owned, a fan-out,
	// or anything that keeps the frames, must drop it (Without).
	Chunk interface{ Done(n int) }
}

// Refs counts the messages cut from a chunk (Tag.Chunk) that are still in
// use. Releases subtract as they come; the count of messages cut is added
// once, when the chunk is used up (Retire). So the count reaches zero
// exactly once, after the last release, and whichever call brings it there
// reports true: the chunk may then carry new messages. It sits on a cache
// line of its own, away from the cutting side's fields.
type Refs struct {
	_ [64]byte
	n atomic.Int64
	_ [56]byte
}

// Retire adds the messages cut, once the chunk is used up, and reports
// whether all of them were released already.
func (r *Refs) Retire(cut int64) bool { return r.n.Add(cut) == 0 }

// Release subtracts n released messages and reports whether they were the
// last of a retired chunk.
func (r *Refs) Release(n int) bool { return r.n.Add(-int64(n)) == 0 }

// flagTags holds a Tag without a chunk for each combination of flags.
var flagTags [allFlags + 1]Tag

func init() {
	for i := range flagTags {
		flagTags[i].Flags = Flags(i)
	}
}

// TagOf returns the Tag of a message with flags f and no chunk (nil for
// none).
func TagOf(f Flags) *Tag {
	if f == 0 {
		return nil
	}
	return &flagTags[f&allFlags]
}

// Flags returns the message's flags.
func (m Msg) Flags() Flags {
	if m.Tag == nil {
		return 0
	}
	return m.Tag.Flags
}

// Without clears flags f, and drops the chunk: whoever clears Owned is
// not the frames' last user.
func (m *Msg) Without(f Flags) {
	m.Tag = TagOf(m.Flags() &^ f)
}

// Queue is a FIFO of whole messages bounded by a high-water mark counted in
// messages (0 = unbounded). It has one reading end and one writing end; each
// end has a Signal it waits on, which may be shared by many queues (a socket
// waits for any of its pipes).
type Queue struct {
	mu     sync.Mutex
	buf    []Msg // ring buffer
	head   int
	n      int
	hwm    int
	closed bool
	// conflate keeps only the newest message: a push to a queue that
	// holds one replaces it (libzmq's ZMQ_CONFLATE, ypipe_conflate).
	conflate bool

	readable *Signal // notified when a message arrives or the queue closes
	writable *Signal // notified when room appears or the queue closes

	// ready mirrors "a message to pop, or closed" for Ready, which reads
	// it without the lock; readyNow is its copy under the lock, so that
	// the atomic is written only when the answer changes.
	ready    atomic.Bool
	readyNow bool

	// The reader's ReadyList, which the queue joins when it becomes
	// ready (SetList); listed says it is there or being popped.
	list   *ReadyList
	owner  *Pipe
	listed bool

	direct direct     // a link that writes at once (TryPushDirect)
	reader readerLink // a link a receiver may read itself (ReadNow)
	// readNows counts ReadNow's reads (ReadNows).
	readNows atomic.Uint64
}

// syncReady updates ready after the queue changed. Called with the mutex
// held.
func (q *Queue) syncReady() {
	if r := q.n > 0 || q.closed; r != q.readyNow {
		q.readyNow = r
		q.ready.Store(r)
		q.syncList()
	}
}

// Ready reports, without taking the lock, whether TryPop would find a
// message or the queue closed. It is a hint for a reader scanning many
// queues (a ROUTER's thousand peers): a push after it said false notifies
// the readable Signal, so a reader that armed its Signal first and then
// found no queue Ready misses nothing.
func (q *Queue) Ready() bool { return q.ready.Load() }

// SetReadable replaces the Signal of the reading end: an inproc pipe made by
// a connect before the bind gets its reader only when the bind comes.
func (q *Queue) SetReadable(s *Signal) {
	q.mu.Lock()
	q.readable = s
	q.mu.Unlock()
	s.Notify()
}

// SetWritable replaces the Signal of the writing end.
func (q *Queue) SetWritable(s *Signal) {
	q.mu.Lock()
	q.writable = s
	q.mu.Unlock()
	s.Notify()
}

// SetHWM changes the high-water mark (0 = unbounded). A conflating queue
// keeps its mark of 1.
func (q *Queue) SetHWM(hwm int) {
	q.mu.Lock()
	if !q.conflate {
		q.hwm = hwm
	}
	w := q.writable
	q.mu.Unlock()
	w.Notify()
}

// SetConflate makes the queue keep only the newest message: a push never
// waits nor fails for room, it replaces what is queued. Messages already
// queued beyond the newest are dropped.
func (q *Queue) SetConflate() {
	q.mu.Lock()
	q.conflate = true
	q.hwm = 1
	if q.n > 1 {
		last := q.buf[(q.head+q.n-1)%len(q.buf)]
		clear(q.buf)
		q.buf[0], q.head, q.n = last, 0, 1
	}
	q.syncReady()
	q.mu.Unlock()
}

// replace makes m the only queued message of a conflating queue. Called
// with the mutex held, the queue full (it holds one message).
func (q *Queue) replace(m Msg) {
	q.buf[q.head] = m
}

// Full reports whether a push would find no room now: the queue is at its
// high-water mark and does not conflate. A closed queue is not full (a
// push fails at once).
func (q *Queue) Full() bool {
	q.mu.Lock()
	full := q.hwm > 0 && q.n >= q.hwm && !q.conflate && !q.closed
	q.mu.Unlock()
	return full
}

// NewQueue makes a queue. readable is notified for the reading end,
// writable for the writing end; nil makes a private Signal.
func NewQueue(hwm int, readable, writable *Signal) *Queue {
	if readable == nil {
		readable = new(Signal)
	}
	if writable == nil {
		writable = new(Signal)
	}
	c := 16
	if hwm > 0 && hwm < c {
		c = hwm
	}
	return &Queue{buf: make([]Msg, c), hwm: hwm, readable: readable, writable: writable}
}

// Readable is the Signal of the reading end.
func (q *Queue) Readable() *Signal {
	q.mu.Lock()
	s := q.readable
	q.mu.Unlock()
	return s
}

// Writable is the Signal of the writing end.
func (q *Queue) Writable() *Signal {
	q.mu.Lock()
	s := q.writable
	q.mu.Unlock()
	return s
}

// Len is the number of messages queued.
func (q *Queue) Len() int {
	q.mu.Lock()
	n := q.n
	q.mu.Unlock()
	return n
}

// Closed reports whether Close was called.
func (q *Queue) Closed() bool {
	q.mu.Lock()
	c := q.closed
	q.mu.Unlock()
	return c
}

// grow doubles the ring until it has room for need more messages. Two
// copies, not a loop over the messages: a thousand subscribers' queues
// filling to a HWM of 10,000 spent an eighth of their process's time in
// the loop.
func (q *Queue) grow(need int) {
	size := 2 * len(q.buf)
	for size-q.n < need {
		size *= 2
	}
	nb := make([]Msg, size)
	if k := len(q.buf) - q.head; k < q.n {
		copy(nb, q.buf[q.head:])
		copy(nb[k:], q.buf[:q.n-k])
	} else {
		copy(nb, q.buf[q.head:q.head+q.n])
	}
	q.buf = nb
	q.head = 0
}

// tail is the slot after the newest message. Not a modulo: that is a
// division on every push.
func (q *Queue) tail() int {
	t := q.head + q.n
	if t >= len(q.buf) {
		t -= len(q.buf)
	}
	return t
}

// advance moves the head past the oldest message.
func (q *Queue) advance() {
	q.head++
	if q.head == len(q.buf) {
		q.head = 0
	}
}

// TryPush appends m unless the queue is full (false, nil) or closed
// (false, ErrClosed).
func (q *Queue) TryPush(m Msg) (bool, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, ErrClosed
	}
	if q.hwm > 0 && q.n >= q.hwm {
		if q.conflate {
			// Already readable: the reader was told when it filled.
			q.replace(m)
			q.mu.Unlock()
			return true, nil
		}
		q.mu.Unlock()
		return false, nil
	}
	if q.n == len(q.buf) {
		q.grow(1)
	}
	q.buf[q.tail()] = m
	q.n++
	wasEmpty := q.n == 1
	q.syncReady()
	r := q.readable
	q.mu.Unlock()
	if wasEmpty {
		r.Notify()
	}
	return true, nil
}

// Push appends m, waiting for room until ctx ends or stop is closed (then
// ErrClosed). A Push that returns an error queued nothing.
func (q *Queue) Push(ctx context.Context, m Msg, stop <-chan struct{}) error {
	for {
		w := q.Writable().C()
		ok, err := q.TryPush(m)
		if ok || err != nil {
			return err
		}
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrClosed
		}
	}
}

// TryPop takes the oldest message. ok is false when the queue is empty;
// closed is then true if no message will ever come again.
func (q *Queue) TryPop() (m Msg, ok, closed bool) {
	q.mu.Lock()
	if q.n == 0 {
		c := q.closed
		q.mu.Unlock()
		return Msg{}, false, c
	}
	m, wasFull := q.popHead()
	w := q.writable
	q.mu.Unlock()
	if wasFull {
		w.Notify()
	}
	return m, true, false
}

// popHead takes the oldest message, with the mutex held and the queue not
// empty, and reports whether the queue was full before.
func (q *Queue) popHead() (Msg, bool) {
	m := q.buf[q.head]
	q.buf[q.head] = Msg{}
	q.advance()
	q.n--
	wasFull := q.hwm > 0 && q.n == q.hwm-1
	q.syncReady()
	return m, wasFull
}

// popBatchBytes bounds a batch of PopBatch: once the messages taken hold
// this many frame bytes, it takes no more. A popped message no longer
// counts against the HWM, yet its owner (an engine's writer) holds it
// until it is written; a batch bounded in bytes keeps that extra at most
// one message plus popBatchBytes, where a count alone (256 messages of
// 1 MiB) let the sending side hold hundreds of MiB past HWM × size.
const popBatchBytes = 1 << 20

// PopBatch appends to dst up to max queued messages, and no more once they
// hold popBatchBytes, in one lock; max <= 0 takes all of them, whatever
// their size. closed reports a closed queue that is now empty.
func (q *Queue) PopBatch(dst []Msg, max int) (out []Msg, closed bool) {
	q.mu.Lock()
	k := q.n
	if max > 0 && k > max {
		k = max
	}
	wasFull := q.hwm > 0 && q.n >= q.hwm
	taken, size := 0, 0
	for taken < k {
		m := q.buf[q.head]
		dst = append(dst, m)
		q.buf[q.head] = Msg{}
		q.advance()
		taken++
		if max > 0 {
			for _, f := range m.Frames {
				size += len(f)
			}
			if size >= popBatchBytes {
				break
			}
		}
	}
	k = taken
	q.n -= k
	closed = q.closed && q.n == 0
	q.syncReady()
	w := q.writable
	q.mu.Unlock()
	if wasFull && k > 0 {
		w.Notify()
	}
	return dst, closed
}

// Pop waits for a message until ctx ends or stop is closed (ErrClosed), or
// the queue is closed and drained (ErrClosed).
func (q *Queue) Pop(ctx context.Context, stop <-chan struct{}) (Msg, error) {
	for {
		r := q.Readable().C()
		m, ok, closed := q.TryPop()
		if ok {
			return m, nil
		}
		if closed {
			return Msg{}, ErrClosed
		}
		select {
		case <-r:
		case <-ctx.Done():
			return Msg{}, ctx.Err()
		case <-stop:
			return Msg{}, ErrClosed
		}
	}
}

// Close stops further pushes. Messages already queued can still be popped.
func (q *Queue) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.syncReady()
	r, w := q.readable, q.writable
	q.mu.Unlock()
	r.Notify()
	w.Notify()
}

// Discard drops every queued message and closes the queue.
func (q *Queue) Discard() {
	q.mu.Lock()
	for i := range q.buf {
		q.buf[i] = Msg{}
	}
	q.n, q.head = 0, 0
	q.closed = true
	q.syncReady()
	r, w := q.readable, q.writable
	q.mu.Unlock()
	r.Notify()
	w.Notify()
}

// PushBatch appends every message of ms in order, waiting for room as
// needed, until ctx ends or stop is closed (ErrClosed). On error a prefix
// of ms may have been queued. One lock and one wake-up cover many
// messages: the engine's reader hands over all it decoded at once.
func (q *Queue) PushBatch(ctx context.Context, ms []Msg, stop <-chan struct{}) error {
	// First without arming Writable: a queue with room stays unarmed, and
	// its pops notify no one.
	n, err := q.tryPushMany(ms)
	if err != nil || n == len(ms) {
		return err
	}
	ms = ms[n:]
	for len(ms) > 0 {
		var err error
		if ms, err = q.pushOrWait(ctx, ms, stop); err != nil {
			return err
		}
	}
	return nil
}

// pushOrWait is one turn of PushBatch's wait for room: it pushes what
// fits, or waits for the next pop, and returns what is left.
func (q *Queue) pushOrWait(ctx context.Context, ms []Msg, stop <-chan struct{}) ([]Msg, error) {
	sig := q.Writable()
	w := sig.Enter()
	defer sig.Leave(w)
	n, err := q.tryPushMany(ms)
	if err != nil || n > 0 {
		return ms[n:], err
	}
	select {
	case <-w:
		return ms, nil
	case <-ctx.Done():
		return ms, ctx.Err()
	case <-stop:
		return ms, ErrClosed
	}
}

func (q *Queue) tryPushMany(ms []Msg) (int, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, ErrClosed
	}
	k := len(ms)
	if q.hwm > 0 && q.hwm-q.n < k {
		k = q.hwm - q.n
	}
	if k <= 0 {
		if q.conflate {
			q.replace(ms[len(ms)-1])
			q.mu.Unlock()
			return len(ms), nil
		}
		q.mu.Unlock()
		return 0, nil
	}
	wasEmpty := q.n == 0
	if len(q.buf)-q.n < k {
		q.grow(k)
	}
	// At most two copies: up to the end of the ring, then from its start.
	c := copy(q.buf[q.tail():], ms[:k])
	copy(q.buf, ms[c:k])
	q.n += k
	q.syncReady()
	r := q.readable
	q.mu.Unlock()
	if wasEmpty {
		r.Notify()
	}
	return k, nil
}
