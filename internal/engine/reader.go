package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

const (
	readBufSize = 64 << 10
	// readBufInit is where a connection's read buffer starts: an idle
	// connection costs little, a busy one grows to readBufSize.
	readBufInit = 8 << 10
	// maxCommand bounds a command frame: commands are decoded from the read
	// buffer, and none of ZMTP's needs more.
	maxCommand = readBufSize
	// FrameOverhead is what a received frame costs beyond its body (its
	// place in the message's frame list, with room to grow), counted
	// toward Config.MaxMsgSize for every frame after a message's first.
	FrameOverhead = 64
	// A body is allocated whole at once up to the largest body this
	// connection has already delivered, at least eagerInit and at most
	// eagerAlloc; past that it grows as its bytes arrive. So a peer that
	// declares a huge frame and sends nothing costs at most eagerInit, or
	// as much as it has sent before, and a connection that carries large
	// messages allocates each one once.
	eagerInit  = 64 << 10
	eagerAlloc = 4 << 20
)

// reader decodes frames from one large buffer.
type reader struct {
	conn   net.Conn
	buf    []byte
	r, w   int
	max    int64
	onRead func()
	// beforeRead runs before every read from the connection: the decoded
	// messages are handed over before waiting for more bytes.
	beforeRead func() error
	slab       slab
	eager      int // see eagerInit
}

func (r *reader) read(b []byte) (int, error) {
	if r.beforeRead != nil {
		if err := r.beforeRead(); err != nil {
			return 0, err
		}
	}
	return r.conn.Read(b)
}

func (r *reader) init(c net.Conn, max int64) {
	r.conn = c
	r.buf = make([]byte, readBufInit)
	r.max = max
	r.eager = eagerInit
}

func (r *reader) avail() []byte { return r.buf[r.r:r.w] }

// fill makes at least n bytes available (n <= len(buf)).
func (r *reader) fill(n int) error {
	if r.w-r.r >= n {
		return nil
	}
	if n > len(r.buf) {
		r.grow(n)
	}
	if r.r > 0 && len(r.buf)-r.r < n {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	for r.w-r.r < n {
		k, err := r.read(r.buf[r.w:])
		r.w += k
		if r.w == len(r.buf) && len(r.buf) < readBufSize {
			// The read filled the buffer: more is coming, so read more
			// at a time.
			r.grow(2 * len(r.buf))
		}
		if k > 0 && r.onRead != nil {
			r.onRead()
		}
		if err != nil {
			if r.w-r.r >= n {
				return nil
			}
			if errors.Is(err, io.EOF) && r.w > r.r {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// grow moves the unread bytes to a buffer of size bytes (at most
// readBufSize).
func (r *reader) grow(size int) {
	if size > readBufSize {
		size = readBufSize
	}
	nb := make([]byte, size)
	r.w = copy(nb, r.buf[r.r:r.w])
	r.r = 0
	r.buf = nb
}

func (r *reader) peek(n int) []byte { return r.buf[r.r : r.r+n] }
func (r *reader) consume(n int)     { r.r += n }

// header decodes the next frame header.
func (r *reader) header() (wire.FrameHeader, error) {
	for need := 2; ; need++ {
		if err := r.fill(need); err != nil {
			return wire.FrameHeader{}, err
		}
		h, n, err := wire.ParseFrameHeader(r.avail())
		if errors.Is(err, wire.ErrShort) {
			continue
		}
		if err != nil {
			return h, err
		}
		r.consume(n)
		return h, nil
	}
}

// frame returns the next whole frame as long as it fits the buffer (the
// handshake's commands); the body is valid until the next read.
func (r *reader) frame() (wire.FrameHeader, []byte, error) {
	h, err := r.header()
	if err != nil {
		return h, nil, err
	}
	if h.Size > maxCommand {
		return h, nil, fmt.Errorf("%w: %d-byte frame during the handshake", wire.ErrMalformed, h.Size)
	}
	n := int(h.Size)
	if err := r.fill(n); err != nil {
		return h, nil, err
	}
	b := r.peek(n)
	r.consume(n)
	return h, b, nil
}

// body reads a data frame body into a new slice the user will own.
func (r *reader) body(size uint64) ([]byte, error) {
	have := uint64(r.w - r.r)
	if size <= have {
		b := r.slab.body(int(size))
		copy(b, r.buf[r.r:])
		r.consume(int(size))
		return b, nil
	}
	initial := min(size, uint64(r.eager))
	b := bufpool.Get(int(initial))[:have]
	copy(b, r.buf[r.r:r.w])
	r.r, r.w = 0, 0
	for uint64(len(b)) < size {
		if len(b) == cap(b) {
			b = growBody(b, size)
		}
		want := cap(b)
		if uint64(want) > size {
			want = int(size)
		}
		k, err := r.read(b[len(b):want])
		b = b[:len(b)+k]
		if k > 0 && r.onRead != nil {
			r.onRead()
		}
		if err != nil && uint64(len(b)) < size {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	if size > uint64(r.eager) {
		r.eager = int(min(size, eagerAlloc))
	}
	return b, nil
}

// growBody moves a partly read body of size bytes to a buffer twice as
// large (or of size bytes, if that is less).
func growBody(b []byte, size uint64) []byte {
	n := min(2*uint64(cap(b)), size)
	nb := bufpool.Get(int(n))[:len(b)]
	copy(nb, b)
	bufpool.Put(b) // taken back only if it came from the pool
	return nb
}

// readLoop decodes messages and pushes them to in until an error.
func (e *Engine) readLoop(in, out *pipe.Queue) error {
	err := e.decodeLoop(in, out)
	// Owned by this goroutine: no receiver reads from here on.
	e.rd.state.Store(readOver)
	e.rd.unwatch()
	if !errors.Is(err, pipe.ErrClosed) {
		// Messages decoded whole before the failure are delivered, as
		// libzmq does.
		if ferr := e.flushIn(in); ferr != nil && errors.Is(ferr, pipe.ErrClosed) {
			return ferr
		}
	}
	return err
}

func (e *Engine) decodeLoop(in, out *pipe.Queue) error {
	r := &e.r
	r.onRead = e.onRead
	r.beforeRead = func() error { return e.flushIn(in) }
	e.msg.frames, e.msg.small = r.slab.start(), true
	if e.dw.rc == nil {
		return e.decode(in, out, decodePull)
	}
	return e.pollLoop(in, out)
}

// msgState is the message being decoded, kept between calls of decode.
type msgState struct {
	frames [][]byte
	small  bool  // every frame so far fits the slab
	total  int64 // counted toward MaxMsgSize so far
}

// How decode gets its bytes.
type decodeMode int

const (
	// decodePull reads as it needs, until the connection ends, and lends
	// the connection whenever a receiver asks and nothing is buffered:
	// the reader goroutine where there is no descriptor to poll.
	decodePull decodeMode = iota
	// decodeWhole decodes only the frames whole in the buffer: it returns
	// errNeedBytes before one that is not, or once e.rd.room messages
	// wait to be handed over, and errTooLong before one that cannot be
	// whole there (larger than the buffer can grow). The reader
	// goroutine's poller callback and ReadNow's.
	decodeWhole
	// decodeOne is decodePull for one frame: one too large for the
	// buffer, read straight into its body.
	decodeOne
)

// decode decodes frames and delivers whole messages, as mode says.
func (e *Engine) decode(in, out *pipe.Queue, mode decodeMode) error {
	r := &e.r
	frames, small, total := e.msg.frames, e.msg.small, e.msg.total
	one := false
	for {
		switch mode {
		case decodeWhole:
			err := r.whole()
			if err == nil && len(frames) == 0 && len(e.pending) >= e.rd.room {
				err = errNeedBytes
			}
			if err != nil {
				e.msg = msgState{frames, small, total}
				return err
			}
		case decodePull:
			if r.r == r.w && len(frames) == 0 && e.rd.wanted.Load() {
				e.msg = msgState{frames, small, total}
				if err := e.lend(in); err != nil {
					return err
				}
				frames, small, total = e.msg.frames, e.msg.small, e.msg.total
				continue
			}
		case decodeOne:
			if one {
				e.msg = msgState{frames, small, total}
				return nil
			}
			one = true
		}
		h, err := r.header()
		if err != nil {
			return e.readErr(err)
		}
		// A 2.0 peer has no commands: bit 2 is reserved there, and the
		// frame is data. (Tested second, it costs data frames nothing.)
		if h.Command() && e.codec == nil && !e.v2 {
			if h.Size > maxCommand {
				return fmt.Errorf("%w: %d-byte command", wire.ErrMalformed, h.Size)
			}
			if err := r.fill(int(h.Size)); err != nil {
				return e.readErr(err)
			}
			body := r.peek(int(h.Size))
			r.consume(int(h.Size))
			if err := e.command(body, in, out); err != nil {
				return err
			}
			continue
		}
		// The first frame counts its size, every further one FrameOverhead
		// more: the frame list, not the bodies, is what a peer grows with
		// empty frames. (h.Size is checked alone first: total could
		// overflow.)
		cost := int64(h.Size)
		if len(frames) > 0 {
			cost += FrameOverhead
		}
		total += cost
		if e.r.max >= 0 && (h.Size > uint64(e.r.max) || total > e.r.max) {
			return fmt.Errorf("%w (%d bytes, %d more per frame after the first)", ErrTooLarge, e.r.max, FrameOverhead)
		}
		b, err := r.body(h.Size)
		if err != nil {
			return e.readErr(err)
		}
		more := h.More()
		if e.codec != nil {
			flags, data, err := e.codec.Open(h.Flags, b)
			if err != nil {
				return err
			}
			if flags&wire.FlagCommand != 0 {
				if len(data) > maxCommand {
					return fmt.Errorf("%w: %d-byte command", wire.ErrMalformed, len(data))
				}
				if err := e.command(data, in, out); err != nil {
					return err
				}
				total -= cost
				continue
			}
			if len(b) >= bufpool.MinSize {
				// The plaintext is a part of b: Release will find it there.
				bufpool.Rebase(b, data)
			}
			b, more = data, flags&wire.FlagMore != 0
		}
		frames = append(frames, b)
		// A codec opens in place (or into something no larger), so a
		// small decrypted body pins no more than a small plain one.
		small = small && len(b) <= slabMaxBody
		if more {
			continue
		}
		if err := e.deliver(in, r.slab.finish(frames, small)); err != nil {
			return err
		}
		frames, small, total = r.slab.start(), true, 0
	}
}

// whole returns nil when the next frame is whole in the buffer, else
// errNeedBytes, or errTooLong when it cannot be: it is larger than the
// buffer can grow.
func (r *reader) whole() error {
	h, n, err := wire.ParseFrameHeader(r.avail())
	if err != nil {
		if errors.Is(err, wire.ErrShort) {
			return errNeedBytes
		}
		return nil // header reports it
	}
	switch {
	case uint64(r.w-r.r-n) >= h.Size:
		return nil
	case h.Size > uint64(readBufSize-n):
		return errTooLong
	}
	return errNeedBytes
}

// maxBatch bounds the messages decoded before they are handed over.
const maxBatch = 256

// deliver queues a decoded message for the socket; flushIn hands the
// queued ones over in one go, before the next read from the connection.
func (e *Engine) deliver(in *pipe.Queue, m pipe.Msg) error {
	e.pending = append(e.pending, m)
	if len(e.pending) >= maxBatch {
		return e.flushIn(in)
	}
	return nil
}

func (e *Engine) flushIn(in *pipe.Queue) error {
	if len(e.pending) == 0 {
		return nil
	}
	err := in.PushBatch(context.Background(), e.pending, e.done)
	clear(e.pending)
	e.pending = e.pending[:0]
	return err
}

func (e *Engine) readErr(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return ErrHeartbeat
	}
	return err
}

// command handles a command frame after the handshake. Commands may come
// between the frames of a message; they never disturb it.
func (e *Engine) command(body []byte, in, out *pipe.Queue) error {
	name, data, err := wire.ParseCommand(body)
	if err != nil {
		return err
	}
	switch string(name) {
	case wire.CmdPing:
		if ctx, ok := e.gotPing(data); ok {
			e.sendPong(ctx, out)
		}
	case wire.CmdSubscribe, wire.CmdCancel:
		f := pipe.Subscribe
		m := make([]byte, 1+len(data))
		if string(name) == wire.CmdSubscribe {
			m[0] = 1
		} else {
			f, m[0] = pipe.Cancel, 0
		}
		copy(m[1:], data)
		return e.deliver(in, pipe.Msg{Frames: [][]byte{m}, Tag: pipe.TagOf(f)})
	case wire.CmdJoin, wire.CmdLeave:
		// The RADIO decides what a group may be; the engine only carries
		// it (libzmq radio_session: "\4JOIN"+group).
		f := pipe.Join
		if string(name) == wire.CmdLeave {
			f = pipe.Leave
		}
		return e.deliver(in, pipe.Msg{Frames: [][]byte{bytes.Clone(data)}, Tag: pipe.TagOf(f)})
	case wire.CmdError:
		reason, _ := wire.ParseError(data)
		return &security.PeerError{Reason: reason}
	}
	// PONG and commands we do not know are ignored, as libzmq does.
	return nil
}
