package engine

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// Who reads the connection (lending.state). The reader goroutine owns it;
// when a receiver waits on an empty queue of a socket with one peer, the
// reader lends it once it has nothing buffered, and the receiver reads
// and decodes in its own goroutine (ReadNow). The network then wakes the
// receiver itself: the hand-over from the reader goroutine, with the
// runtime waking a second thread for it, was half of a round trip.
const (
	readOwn    int32 = iota // the reader goroutine reads
	readLent                // nobody reads; a receiver may
	readDirect              // a receiver reads, in ReadNow
	readOver                // the reader goroutine has returned
)

// lendIdle: a connection lent and not read for this long goes back to the
// reader goroutine, which answers PINGs and reads ahead when the receiver
// stopped receiving.
const lendIdle = 5 * time.Millisecond

var (
	errNeedBytes = errors.New("engine: the next frame is not whole in the buffer")
	errTooLong   = errors.New("engine: the next frame does not fit the buffer")
	errLend      = errors.New("engine: a receiver asks for the connection")
)

// aLongTimeAgo is a read deadline that ends a wait at once.
var aLongTimeAgo = time.Unix(1, 0)

type lending struct {
	state  atomic.Int32
	wanted atomic.Bool   // a receiver asked: lend when nothing is buffered
	reads  atomic.Uint64 // ReadNow calls that read, for the idle check
	// back is how a receiver gives the connection back before it is idle:
	// with the error that ends it, or nil for a frame it cannot read
	// whole (the reader goroutine reads large bodies straight into them).
	back  chan error
	idle  time.Duration // lendIdle; tests make it longer
	timer *time.Timer
	out   *pipe.Queue // the engine's outgoing queue (PONGs), set by Run

	// The reader goroutine's, in pollLoop.
	in    *pipe.Queue
	inErr error // what ended its callback
	poll  func(fd uintptr) bool

	// The receiver's, while it reads.
	q    *pipe.Queue
	room int   // messages it may decode, at most
	err  error // what ended its read
	step func(fd uintptr) bool
	// The context whose end interrupts a read: registered with
	// context.AfterFunc (which allocates) when a receiver first passes it,
	// and kept while receivers pass the same one; undone when another
	// comes, or when the reader goroutine returns (unwatch).
	// watchGen numbers the registrations (0: none), so that a callback
	// that runs late, for a context no longer watched, interrupts
	// nothing.
	watchDone <-chan struct{}
	watchStop func() bool
	watchGen  uint64
	gens      uint64

	testEnd func() // tests: called as a ReadNow gives the connection back

	// Under Engine.hbMu, as the read deadline they move is.
	active      bool   // a ReadNow is reading
	activeGen   uint64 // ... under this watch
	interrupted bool   // ... and was interrupted: the deadline is in the past
}

func (e *Engine) initLending() {
	e.rd.back = make(chan error, 1)
	e.rd.idle = lendIdle
	e.rd.step = e.readStep
	e.rd.poll = e.pollStep
}

// lend hands what was decoded over and lends the connection until a
// receiver gives it back, or it was not read for lendIdle, or the engine
// closes. The reader goroutine calls it with nothing buffered.
func (e *Engine) lend(in *pipe.Queue) error {
	if err := e.flushIn(in); err != nil {
		return err
	}
	d := &e.rd
	seen := d.reads.Load()
	if d.timer == nil {
		d.timer = time.NewTimer(d.idle)
	} else {
		d.timer.Reset(d.idle)
	}
	d.state.Store(readLent)
	d.wanted.Store(false)
	// A receiver that asked waits on the queue's signal, with or without
	// a message just handed over: it looks again, and reads.
	in.Readable().Notify()
	for {
		select {
		case err := <-d.back:
			d.timer.Stop()
			return err
		case <-d.timer.C:
			n := d.reads.Load()
			if n == seen && d.state.CompareAndSwap(readLent, readOwn) {
				return nil
			}
			seen = n
			d.timer.Reset(d.idle)
		case <-e.done:
			d.timer.Stop()
			if d.state.CompareAndSwap(readLent, readOwn) {
				return net.ErrClosed
			}
			// A receiver is reading: the closed connection ends its read,
			// and it gives the connection back.
			if err := <-d.back; err != nil {
				return err
			}
			return net.ErrClosed
		}
	}
}

// ReadNow implements pipe.Reader.
func (e *Engine) ReadNow(ctx context.Context, q *pipe.Queue, room int) bool {
	d := &e.rd
	if e.dw.rc == nil {
		return false
	}
	for !d.state.CompareAndSwap(readLent, readDirect) {
		switch d.state.Load() {
		case readLent:
			continue
		case readOwn:
			d.wanted.Store(true)
			// Lent meanwhile: take it. Otherwise lend wakes the caller
			// once it has.
			if d.state.Load() == readLent {
				continue
			}
		}
		return false
	}
	d.reads.Add(1)
	d.q, d.room, d.err = q, min(room, maxBatch-1), nil
	e.watch(ctx)
	e.hbMu.Lock()
	d.active, d.activeGen = true, d.watchGen
	e.hbMu.Unlock()
	if ctx.Err() != nil {
		// Ended before the read began: the watch may have fired with no
		// read to interrupt.
		e.Interrupt()
	}
	err := e.dw.rc.Read(d.step)
	interrupted := e.endDirect()
	if err != nil && d.err == nil && !(interrupted && errors.Is(err, os.ErrDeadlineExceeded)) {
		d.err = e.readErr(err)
	}
	// The decoded messages fit q's room: this never waits.
	if ferr := e.flushIn(q); ferr != nil && d.err == nil {
		d.err = ferr
	}
	d.q = nil
	switch {
	case errors.Is(d.err, errTooLong):
		d.state.Store(readOwn)
		d.back <- nil
	case d.err != nil || e.closed():
		d.state.Store(readOwn)
		d.back <- d.err
	default:
		if d.testEnd != nil {
			d.testEnd()
		}
		d.state.Store(readLent)
		// Close came after the check above, and lend may have found the
		// connection read then: it waits for it back.
		if e.closed() && d.state.CompareAndSwap(readLent, readOwn) {
			d.back <- nil
		}
	}
	return true
}

// Interrupt implements pipe.Reader: a ReadNow in progress returns.
func (e *Engine) Interrupt() {
	e.hbMu.Lock()
	e.interruptLocked()
	e.hbMu.Unlock()
}

func (e *Engine) interruptLocked() {
	if e.rd.active && !e.rd.interrupted {
		e.rd.interrupted = true
		e.conn.SetReadDeadline(aLongTimeAgo)
	}
}

// endDirect ends ReadNow's read and reports whether it was interrupted;
// the read deadline is then the heartbeat's again.
func (e *Engine) endDirect() bool {
	e.hbMu.Lock()
	defer e.hbMu.Unlock()
	e.rd.active, e.rd.activeGen = false, 0
	was := e.rd.interrupted
	if was {
		e.rd.interrupted = false
		e.applyDeadline()
	}
	return was
}

// watch makes the end of ctx interrupt this connection's reads from now
// on (while none is active, it does nothing). Only the receiver that
// reads (readDirect) calls it.
func (e *Engine) watch(ctx context.Context) {
	d := &e.rd
	done := ctx.Done()
	if done == d.watchDone {
		return
	}
	d.unwatch()
	if done != nil {
		d.gens++
		gen := d.gens
		d.watchStop = context.AfterFunc(ctx, func() { e.interruptWatched(gen) })
		d.watchDone, d.watchGen = done, gen
	}
}

// interruptWatched is Interrupt for the end of the context of watch gen.
func (e *Engine) interruptWatched(gen uint64) {
	e.hbMu.Lock()
	if e.rd.activeGen == gen {
		e.interruptLocked()
	}
	e.hbMu.Unlock()
}

// unwatch undoes watch: the context no longer holds the engine.
func (d *lending) unwatch() {
	if d.watchStop != nil {
		d.watchStop()
	}
	d.watchStop, d.watchDone, d.watchGen = nil, nil, 0
}

func (e *Engine) closed() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// pollLoop is the reader goroutine where the connection has a descriptor.
// It reads and decodes in RawConn.Read's callback, with the decoder
// ReadNow uses (decodeWhole), and lends the connection from there. A
// frame too large for the buffer is read by decode (decodeOne), straight
// into its body.
func (e *Engine) pollLoop(in, out *pipe.Queue) error {
	d := &e.rd
	d.in = in
	for {
		d.inErr, d.room = nil, math.MaxInt
		if err := e.dw.rc.Read(d.poll); err != nil {
			return e.readErr(err)
		}
		switch err := d.inErr; {
		case errors.Is(err, errLend):
			if err := e.lend(in); err != nil {
				return err
			}
		case errors.Is(err, errTooLong):
			if err := e.decode(in, out, decodeOne); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// readStep is ReadNow's RawConn.Read callback, and pollStep pollLoop's:
// each decodes what is buffered and reads more, and returns false to
// wait for the peer in the poller (never blocking in a read).
func (e *Engine) readStep(fd uintptr) bool {
	done, err := e.step(fd, e.rd.q, true)
	e.rd.err = err
	return done
}

func (e *Engine) pollStep(fd uintptr) bool {
	done, err := e.step(fd, e.rd.in, false)
	e.rd.inErr = err
	return done
}

// step decodes into q until a receiver (direct) has a message, or the
// reader goroutine has something for pollLoop to do (err says what), or
// the socket is empty (false). The reader hands what it decoded over
// before each read.
func (e *Engine) step(fd uintptr, q *pipe.Queue, direct bool) (bool, error) {
	r := &e.r
	for {
		err := e.decode(q, e.rd.out, decodeWhole)
		if !errors.Is(err, errNeedBytes) {
			return true, err
		}
		if direct {
			if len(e.pending) > 0 {
				return true, nil
			}
		} else {
			if r.r == r.w && len(e.msg.frames) == 0 && e.rd.wanted.Load() {
				return true, errLend
			}
			if err := e.flushIn(q); err != nil {
				return true, err
			}
		}
		// Read until the socket says it is empty, even after a short read:
		// the peer's close may wait behind the bytes a short read took,
		// and its readiness came before that read, so the poller would
		// not report it again.
		switch err := e.readMore(fd); {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false, nil
		case err != nil:
			return true, err
		}
	}
}

// readMore makes room in the buffer and reads into it once. A read of
// nothing is the peer's close (io.EOF, or io.ErrUnexpectedEOF within a
// frame); EINTR and EAGAIN come as they are.
func (e *Engine) readMore(fd uintptr) error {
	r := &e.r
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) {
		r.grow(2 * len(r.buf)) // whole saw that the frame fits
	}
	if r.w == len(r.buf) {
		// Cannot happen (a full buffer holds a whole frame), but a read
		// into nothing would pass for the peer's close.
		return errTooLong
	}
	k, err := rawRead(fd, r.buf[r.w:])
	switch {
	case err == syscall.EINTR || err == syscall.EAGAIN:
		return err
	case err != nil:
		return os.NewSyscallError("read", err)
	case k == 0:
		if r.w > r.r {
			return io.ErrUnexpectedEOF
		}
		return io.EOF
	}
	r.w += k
	if r.w == len(r.buf) && len(r.buf) < readBufSize {
		// The read filled the buffer: more is coming, so read more at
		// a time (as fill does).
		r.grow(2 * len(r.buf))
	}
	e.onRead()
	return nil
}
