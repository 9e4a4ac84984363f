package engine

import (
	"syscall"

	"github.com/azmq/azmq/internal/pipe"
)

// directMax bounds a message WriteNow takes: it must encode into the
// batch buffer without a flush (which could block the sender) and go out
// in one write that the kernel nearly always takes whole.
const directMax = 4<<10 + 512

// direct writes from a sender's goroutine with one non-blocking write(2):
// a write that would block, or fails, leaves its bytes to the writer
// goroutine, so the sender never waits on the network.
type direct struct {
	rc  syscall.RawConn // nil: the connection has no file descriptor
	b   []byte
	n   int
	err error
	f   func(fd uintptr) bool // write, bound once: no allocation per call
	// left counts the writes that left bytes to the writer goroutine.
	left int
}

// initDirect looks up the connection's descriptor, where there is one
// and the platform can write to it without blocking.
func (e *Engine) initDirect() {
	if !canWriteNow {
		return
	}
	sc, ok := e.conn.(syscall.Conn)
	if !ok {
		return // ws, wss, a test's pipe: always through the writer
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	e.dw.rc = rc
	e.dw.f = e.dw.write
}

// WriteNow implements pipe.Direct: when the writer goroutine is idle with
// nothing pending and nothing is queued, m is encoded and written here.
func (e *Engine) WriteNow(q *pipe.Queue, m pipe.Msg) bool {
	if e.dw.rc == nil || m.Flags() != 0 && m.Flags() != pipe.Owned || !fitsDirect(&m) {
		return false
	}
	if !e.wmu.TryLock() {
		return false // the writer is at work: queue behind what it has
	}
	defer e.wmu.Unlock()
	if e.w.pending() || !q.Idle() {
		return false
	}
	if err := e.encode(&m); err != nil {
		e.Abort(err)
		return true // lost with the connection, as a queued one would be
	}
	e.w.releaseNow()
	w := &e.w
	e.dw.b, e.dw.n, e.dw.err = w.buf, 0, nil
	if err := e.dw.rc.Write(e.dw.f); err != nil {
		e.dw.err = err
	}
	n := e.dw.n
	e.dw.b = nil
	if n == len(w.buf) {
		w.buf = w.buf[:0]
		return true
	}
	// Partly written, or not at all: the writer sends the rest, and meets
	// the error if there was one.
	w.buf = w.buf[:copy(w.buf, w.buf[n:])]
	e.dw.left++
	q.Readable().Notify()
	return true
}

// fitsDirect reports whether m encodes into the batch buffer with no
// flush and no frame sent from its own slice.
func fitsDirect(m *pipe.Msg) bool {
	size := 0
	for _, f := range m.Frames {
		if len(f) >= zeroCopyAt {
			return false
		}
		size += len(f) + sealOverhead
	}
	return size <= directMax
}
