package engine

import (
	"errors"
	"net"
	"runtime"
	"time"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/wire"
)

const (
	// flushAt is the batch size that triggers a write.
	flushAt = 64 << 10
	// Frames at least this large go out by writev from the caller's slice
	// instead of being copied into the batch buffer.
	zeroCopyAt = 8 << 10
)

var errDrained = errors.New("engine: queue drained")

// writer batches frames: small ones are copied into buf, large ones are
// referenced in vec so one writev sends everything queued.
type writer struct {
	conn net.Conn
	buf  []byte // never grows past its capacity, so vec may point into it
	// limit is the batch size that triggers a write (grows to flushAt).
	limit int
	mark  int // start of the part of buf not yet in vec
	vec   net.Buffers
	msgs  []pipe.Msg
	// scratch holds sealed frames too large for buf.
	scratch []byte
	// owned holds frames of pipe.Owned messages that vec still refers to:
	// their memory goes back to bufpool once the batch is written.
	owned [][]byte
	// rel counts messages encoded from one chunk (pipe.Tag.Chunk) and not
	// yet released: one release per run of them, not one per message.
	relChunk interface{ Done(int) }
	relN     int
}

// release notes that m, encoded, is no longer used: its chunk, if it has
// one, is released with the run of messages it belongs to.
func (w *writer) release(m *pipe.Msg) {
	if m.Tag == nil || m.Tag.Chunk == nil {
		return
	}
	if c := m.Tag.Chunk; c != w.relChunk {
		w.releaseNow()
		w.relChunk = c
	}
	w.relN++
}

// releaseNow releases the run of messages release has noted.
func (w *writer) releaseNow() {
	if w.relN > 0 {
		w.relChunk.Done(w.relN)
	}
	w.relChunk, w.relN = nil, 0
}

// maxScratch bounds the sealing buffer kept between frames.
const maxScratch = 4 << 20

// writeBufInit is the batch size a connection starts with; batches that
// fill it make it grow, up to flushAt.
const writeBufInit = 8 << 10

func (w *writer) init(c net.Conn) {
	w.conn = c
	w.setSize(writeBufInit)
}

// setSize gives the writer an empty batch buffer that flushes at limit
// bytes and has room past it for one frame below zeroCopyAt. Only called
// with nothing pending, so no vec entry points into the old buffer.
func (w *writer) setSize(limit int) {
	w.limit = limit
	w.buf = make([]byte, 0, limit+zeroCopyAt+64)
}

// flushFull flushes a batch that reached its limit, and lets the next
// batches be larger.
func (w *writer) flushFull() error {
	err := w.flush()
	if w.limit < flushAt {
		w.setSize(2 * w.limit)
	}
	return err
}

func (w *writer) pending() bool { return len(w.buf) > 0 || len(w.vec) > 0 }

func (w *writer) flush() error {
	if len(w.vec) == 0 {
		_, err := w.conn.Write(w.buf)
		w.buf = w.buf[:0]
		return err
	}
	if w.mark < len(w.buf) {
		w.vec = append(w.vec, w.buf[w.mark:])
	}
	v := w.vec
	_, err := v.WriteTo(w.conn)
	for i := range w.vec {
		w.vec[i] = nil
	}
	w.vec = w.vec[:0]
	w.buf = w.buf[:0]
	w.mark = 0
	// Written, or never to be: nothing refers to these any more.
	for i, b := range w.owned {
		bufpool.PutOwn(b)
		w.owned[i] = nil
	}
	w.owned = w.owned[:0]
	return err
}

// frame adds one frame, flushing when the batch is full.
func (w *writer) frame(flags byte, body []byte) error {
	w.buf = wire.AppendFrameHeader(w.buf, flags, len(body))
	if len(body) >= zeroCopyAt {
		w.vec = append(w.vec, w.buf[w.mark:], body)
		w.mark = len(w.buf)
	} else {
		w.buf = append(w.buf, body...)
	}
	if len(w.buf) >= w.limit {
		return w.flushFull()
	}
	if len(w.vec) > 64 {
		return w.flush()
	}
	return nil
}

// raw adds bytes that are already framed (commands).
func (w *writer) raw(b []byte) error {
	if len(w.buf)+len(b) > cap(w.buf) {
		if err := w.flush(); err != nil {
			return err
		}
		if len(b) > cap(w.buf) {
			_, err := w.conn.Write(b)
			return err
		}
	}
	w.buf = append(w.buf, b...)
	return nil
}

// writeLoop drains out onto the connection until it is closed and empty.
func (e *Engine) writeLoop(out *pipe.Queue) error {
	w := &e.w
	var tick <-chan time.Time
	if iv := e.cfg.Heartbeat.Interval; iv > 0 && !e.v2 { // ZMTP 2.0 has no PING
		t := time.NewTicker(iv)
		defer t.Stop()
		tick = t.C
	}
	var pong []byte
	yielded := false // Gosched'ed since the last write
	e.wmu.Lock()
	defer e.wmu.Unlock()
	for {
		sig := out.Readable().C()
		if pong = e.takePong(pong[:0]); len(pong) > 0 {
			if err := e.commands(pong); err != nil {
				return err
			}
		}
		msgs, closed := out.PopBatch(w.msgs[:0], 256)
		for i := range msgs {
			if err := e.encode(&msgs[i]); err != nil {
				return err
			}
			msgs[i] = pipe.Msg{}
		}
		w.releaseNow()
		w.msgs = msgs[:0]
		if len(msgs) > 0 {
			// More may be queued: loop without waiting; flush when empty.
			if w.pending() && len(msgs) < 256 {
				if !yielded && out.Len() == 0 {
					// Let the senders run once before the write: a PUB
					// fanning out to many peers, or a busy sender, has
					// more for this connection by then, and one write
					// carries it all. Alone on its core this costs a
					// scheduler call, not a wait.
					yielded = true
					runtime.Gosched()
					continue
				}
				yielded = false
				if err := w.flush(); err != nil {
					return err
				}
			}
			continue
		}
		yielded = false
		if w.pending() {
			if err := w.flush(); err != nil {
				return err
			}
		}
		if closed {
			return errDrained
		}
		// Idle: a sender may write meanwhile (WriteNow).
		e.wmu.Unlock()
		select {
		case <-sig:
			e.wmu.Lock()
		case <-tick:
			e.wmu.Lock()
			if err := e.commands(e.pingFrame()); err != nil {
				return err
			}
			e.pinged()
		case <-e.done:
			e.wmu.Lock()
			return net.ErrClosed
		}
	}
}

// encode writes one message: subscriptions become commands for a 3.1
// peer and stay data (0x01/0x00 + topic) for a 3.0 peer.
func (e *Engine) encode(m *pipe.Msg) error {
	if m.Flags()&(pipe.Subscribe|pipe.Cancel) != 0 && e.peerMinor >= 1 && len(m.Frames) == 1 && len(m.Frames[0]) > 0 {
		topic := m.Frames[0][1:]
		var cmd []byte
		if m.Flags()&pipe.Subscribe != 0 {
			cmd = wire.AppendSubscribe(nil, topic)
		} else {
			cmd = wire.AppendCancel(nil, topic)
		}
		return e.commands(cmd)
	}
	if m.Flags()&(pipe.Join|pipe.Leave) != 0 && len(m.Frames) == 1 {
		if m.Flags()&pipe.Join != 0 {
			return e.commands(wire.AppendJoin(nil, m.Frames[0]))
		}
		return e.commands(wire.AppendLeave(nil, m.Frames[0]))
	}
	owned := m.Flags()&pipe.Owned != 0
	last := len(m.Frames) - 1
	for i, f := range m.Frames {
		var flags byte
		if i < last {
			flags = wire.FlagMore
		}
		var err error
		if e.codec != nil {
			err = e.sealed(flags, f)
		} else {
			err = e.w.frame(flags, f)
		}
		if err != nil {
			return err
		}
		if owned && len(f) >= bufpool.MinSize {
			// Send's own copy: sealed or copied into the batch, it is
			// free now; sent from where it is, once the batch is written.
			if e.codec == nil && len(f) >= zeroCopyAt {
				e.w.owned = append(e.w.owned, f)
			} else {
				bufpool.PutOwn(f)
			}
		}
	}
	// A chunk's message is small: every frame is in the batch buffer
	// (or sealed and written) now, so the writer was its last user.
	e.w.release(m)
	return nil
}

// commands sends whole command frames (PING, PONG, SUBSCRIBE, CANCEL).
// With a codec each one goes inside a box with the inner command flag, as
// CURVE requires (PROTOCOL §1.9, G15); a bare command frame would make the
// peer drop the connection.
func (e *Engine) commands(b []byte) error {
	if e.codec == nil {
		return e.w.raw(b)
	}
	for len(b) > 0 {
		h, n, err := wire.ParseFrameHeader(b)
		if err != nil {
			return err
		}
		end := n + int(h.Size)
		if err := e.sealed(wire.FlagCommand, b[n:end]); err != nil {
			return err
		}
		b = b[end:]
	}
	return nil
}

// sealOverhead bounds what a codec adds to a frame (CURVE: header 9,
// "\x07MESSAGE" 8, nonce 8, MAC 16, flags 1).
const sealOverhead = 64

// sealed boxes one frame with the mechanism's codec, straight into the
// batch buffer when it fits there, so sealing allocates nothing.
func (e *Engine) sealed(flags byte, body []byte) error {
	w := &e.w
	need := len(body) + sealOverhead
	if len(w.buf)+need > cap(w.buf) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if need <= cap(w.buf) {
		b, err := e.codec.Seal(w.buf, flags, body)
		if err != nil {
			return err
		}
		w.buf = b
		if len(w.buf) >= w.limit {
			return w.flushFull()
		}
		return nil
	}
	// Larger than the batch buffer: seal into a scratch buffer kept for the
	// next large frame (up to a bound, so one huge message is not pinned).
	b, err := e.codec.Seal(w.scratch[:0], flags, body)
	if err != nil {
		return err
	}
	_, err = w.conn.Write(b)
	if cap(b) <= maxScratch {
		w.scratch = b
	}
	return err
}
