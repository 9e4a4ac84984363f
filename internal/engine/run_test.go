package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

func newPipe(hwm int) *pipe.Pipe { return pipe.New(hwm, hwm, nil, nil, nil, nil) }

func msg(frames ...string) pipe.Msg {
	m := pipe.Msg{}
	for _, f := range frames {
		m.Frames = append(m.Frames, []byte(f))
	}
	return m
}

func frames(fs ...[]byte) [][]byte { return fs }

// TestRunRoundTrip sends messages both ways and checks the exact bytes.
func TestRunRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		frames [][]byte
		prefix []byte // libzmq's bytes (PROTOCOL §7.8), or the start of them
	}{
		{"empty-frame", frames([]byte{}), hx("00 00")},
		{"one-byte", frames([]byte("a")), hx("00 01 61")},
		{"req-hello", frames([]byte{}, []byte("hello")), vecReqHello},
		{"two-part", frames([]byte("a"), []byte("b")), vecTwoPartAB},
		{"three-empty", frames([]byte{}, []byte{}, []byte{}), hx("01 00 01 00 00 00")},
		{"255", frames(pattern(255)), append(hx("00 ff"), pattern(255)...)},
		{"256", frames(pattern(256)), append(hx("02 00 00 00 00 00 00 01 00"), pattern(256)...)},
		{"300", frames(pattern(300)), vecLong300},
		{"mixed", frames([]byte{}, pattern(1), pattern(255), pattern(256), []byte{}), hx("01 00 01 01 00")},
		{"zero-copy-edge", frames(pattern(zeroCopyAt-1), pattern(zeroCopyAt), pattern(zeroCopyAt+1)), nil},
		{"batch-edge", frames(pattern(flushAt-1), pattern(flushAt), pattern(flushAt+1)), nil},
		{"1MiB", frames(pattern(1 << 20)), hx("02 00 00 00 00 00 10 00 00")},
		{"1MiB-multipart", frames([]byte{}, pattern(1<<20), pattern(255), pattern(1<<20+1), []byte{}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, dealerCfg(), 1, "ROUTER")
			p := newPipe(16)
			res := run(t, c.e, p)
			want := encode(tt.frames...)
			if !bytes.HasPrefix(want, tt.prefix) {
				t.Fatalf("test vector mismatch: % x", want[:len(tt.prefix)])
			}

			// In: the peer writes, the socket side pops.
			c.raw.write(want)
			if m := pop(t, p.In); !sameFrames(m.Frames, tt.frames) || m.Flags() != 0 {
				t.Errorf("in: got %s flags %d, want %s", short(m.Frames), m.Flags(), short(tt.frames))
			}

			// Out: the socket side pushes, the peer reads the exact bytes;
			// a marker message after it proves nothing else was sent.
			push(t, p.Out, pipe.Msg{Frames: tt.frames})
			push(t, p.Out, msg("end"))
			got := c.raw.read(len(want) + 5)
			if !bytes.Equal(got[:len(want)], want) {
				t.Errorf("out: wrong bytes (%d), start % x", len(got), got[:min(len(got), 32)])
			}
			if end := got[len(want):]; !bytes.Equal(end, hx("00 03 65 6e 64")) {
				t.Errorf("out: marker % x", end)
			}
			if !running(res) {
				t.Fatalf("Run ended: %v", waitRun(t, res, 0))
			}
		})
	}
}

func running(f *future[error]) bool { return !f.finished() }

// TestRunLongFormSmall: a long header for a small body and reserved flag
// bits are accepted (libzmq does both).
func TestRunLongFormSmall(t *testing.T) {
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(16)
	run(t, c.e, p)
	c.raw.write(longHeader(wire.FlagMore, 3), []byte("abc"), []byte{0xf8, 1, 'z'})
	if m := pop(t, p.In); !sameFrames(m.Frames, frames([]byte("abc"), []byte("z"))) {
		t.Errorf("got %s", short(m.Frames))
	}
}

// TestRunTinyWrites: frames split across many writes of 1..3 bytes.
func TestRunTinyWrites(t *testing.T) {
	msgs := [][][]byte{
		frames(pattern(300), []byte("hello"), []byte{}),
		frames([]byte{}),
		frames(pattern(256)),
		frames([]byte("x"), pattern(1000)),
	}
	var all []byte
	for _, m := range msgs {
		all = append(all, encode(m...)...)
	}
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(16)
	run(t, c.e, p)
	for i, n := 0, 1; i < len(all); n = n%3 + 1 {
		j := min(i+n, len(all))
		c.raw.write(all[i:j])
		i = j
	}
	for i, want := range msgs {
		if m := pop(t, p.In); !sameFrames(m.Frames, want) {
			t.Errorf("message %d: got %s, want %s", i, short(m.Frames), short(want))
		}
	}
}

// TestRunManyMessages: many messages in one write in, many pushes out.
func TestRunManyMessages(t *testing.T) {
	const n = 2000
	mk := func(i int) [][]byte {
		id := binary.BigEndian.AppendUint32(nil, uint32(i))
		switch i % 4 {
		case 0:
			return frames(id)
		case 1:
			return frames(id, []byte{})
		case 2:
			return frames(id, pattern(i%600))
		default:
			return frames([]byte{}, id, pattern(3))
		}
	}
	var all []byte
	for i := range n {
		all = append(all, encode(mk(i)...)...)
	}
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(16)
	run(t, c.e, p)

	// The peer writes everything at once while we pop.
	wr := goFuture(func() error {
		c.raw.c.SetWriteDeadline(time.Now().Add(waitFor))
		_, err := c.raw.c.Write(all)
		return err
	})
	for i := range n {
		if m := pop(t, p.In); !sameFrames(m.Frames, mk(i)) {
			t.Fatalf("in message %d: got %s", i, short(m.Frames))
		}
	}
	if err, _ := wr.wait(waitFor); err != nil {
		t.Fatal(err)
	}

	// And back: pushes from a goroutine, the peer reads the same bytes.
	pu := goFuture(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		for i := range n {
			if err := p.Out.Push(ctx, pipe.Msg{Frames: mk(i)}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if got := c.raw.read(len(all)); !bytes.Equal(got, all) {
		t.Error("out: bytes differ")
	}
	if err, _ := pu.wait(waitFor); err != nil {
		t.Fatal(err)
	}
}

// TestRunCommandInsideMessage: commands between the frames of a multipart
// message are handled apart (G14); a PING is answered with a PONG echoing
// its context (at most 16 bytes).
func TestRunCommandInsideMessage(t *testing.T) {
	long := []byte("0123456789abcdefXYZ")
	tests := []struct {
		name     string
		cmd      []byte
		wantPong []byte
	}{
		{"ping-ctx", wire.AppendPing(nil, 0, []byte("ctx-123")), vecPongCtx},
		{"ping-no-ctx", wire.AppendPing(nil, 0, nil), vecPongEmpty},
		{"ping-long-ctx", wire.AppendCommand(nil, wire.CmdPing, []byte{0, 0}, long), wire.AppendPong(nil, long[:16])},
		{"ping-no-ttl-bytes", wire.AppendCommand(nil, wire.CmdPing), nil},
		{"pong", wire.AppendPong(nil, []byte("x")), nil},
		{"unknown", wire.AppendCommand(nil, "FROBNICATE", []byte("group")), nil},
	}
	for _, tt := range tests {
		for _, oneWrite := range []bool{true, false} {
			name := tt.name + "/separate-writes"
			if oneWrite {
				name = tt.name + "/one-write"
			}
			t.Run(name, func(t *testing.T) {
				c := handshake(t, dealerCfg(), 1, "ROUTER")
				p := newPipe(16)
				res := run(t, c.e, p)
				parts := [][]byte{
					wire.AppendFrame(nil, wire.FlagMore, []byte("part1")),
					tt.cmd,
					wire.AppendFrame(nil, wire.FlagMore, pattern(300)),
					tt.cmd,
					wire.AppendFrame(nil, 0, []byte("part3")),
				}
				if oneWrite {
					c.raw.write(bytes.Join(parts, nil))
				} else {
					c.raw.write(parts...)
				}
				if m := pop(t, p.In); !sameFrames(m.Frames, frames([]byte("part1"), pattern(300), []byte("part3"))) || m.Flags() != 0 {
					t.Errorf("got %s flags %d", short(m.Frames), m.Flags())
				}
				// Two PINGs get one or two PONGs: one still unsent when the
				// second PING comes is replaced by its answer.
				var got []byte
				if tt.wantPong != nil {
					if got = c.raw.readFrame(); !bytes.Equal(got, tt.wantPong) {
						t.Errorf("PONG % x, want % x", got, tt.wantPong)
					}
				}
				// Nothing else was sent, and nothing else arrived.
				push(t, p.Out, msg("end"))
				if got = c.raw.readFrame(); tt.wantPong != nil && bytes.Equal(got, tt.wantPong) {
					got = c.raw.readFrame()
				}
				if !bytes.Equal(got, hx("00 03 65 6e 64")) {
					t.Errorf("sent % x, want only the marker", got)
				}
				if n := p.In.Len(); n != 0 {
					t.Errorf("%d more messages in", n)
				}
				if !running(res) {
					t.Fatalf("Run ended: %v", waitRun(t, res, 0))
				}
			})
		}
	}
}

// TestRunSubscriptionsIn: SUBSCRIBE/CANCEL commands become flagged
// messages; legacy subscriptions stay data.
func TestRunSubscriptionsIn(t *testing.T) {
	tests := []struct {
		name  string
		wire  []byte
		flags pipe.Flags
		frame []byte
	}{
		{"subscribe", vecSubscribe, pipe.Subscribe, []byte("\x01AB")},
		{"cancel", vecCancel, pipe.Cancel, []byte("\x00AB")},
		{"subscribe-all", wire.AppendSubscribe(nil, nil), pipe.Subscribe, []byte{1}},
		{"cancel-all", wire.AppendCancel(nil, nil), pipe.Cancel, []byte{0}},
		{"subscribe-long", wire.AppendSubscribe(nil, pattern(300)), pipe.Subscribe, append([]byte{1}, pattern(300)...)},
		{"legacy-subscribe", vecLegacySubscribe, 0, []byte("\x01AB")},
		{"legacy-cancel", vecLegacyCancel, 0, []byte("\x00AB")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, Config{SocketType: "XPUB", MaxMsgSize: -1}, 1, "SUB")
			p := newPipe(16)
			run(t, c.e, p)
			c.raw.write(tt.wire)
			m := pop(t, p.In)
			if m.Flags() != tt.flags || !sameFrames(m.Frames, frames(tt.frame)) {
				t.Errorf("got %s flags %d, want %x flags %d", short(m.Frames), m.Flags(), tt.frame, tt.flags)
			}
		})
	}
}

// TestRunSubscriptionsOut: a flagged message goes out as a command to a
// 3.1 peer and as data to a 3.0 peer (§7.4).
func TestRunSubscriptionsOut(t *testing.T) {
	tests := []struct {
		name  string
		minor byte
		flags pipe.Flags
		frame string
		want  []byte
	}{
		{"3.1-subscribe", 1, pipe.Subscribe, "\x01AB", vecSubscribe},
		{"3.1-cancel", 1, pipe.Cancel, "\x00AB", vecCancel},
		{"3.1-subscribe-all", 1, pipe.Subscribe, "\x01", hx("04 0a 09 53 55 42 53 43 52 49 42 45")},
		{"3.1-subscribe-250", 1, pipe.Subscribe, "\x01" + string(pattern(250)), wire.AppendSubscribe(nil, pattern(250))},
		{"3.0-subscribe", 0, pipe.Subscribe, "\x01AB", vecLegacySubscribe},
		{"3.0-cancel", 0, pipe.Cancel, "\x00AB", vecLegacyCancel},
		{"3.0-subscribe-all", 0, pipe.Subscribe, "\x01", hx("00 01 01")},
		{"3.1-plain-data", 1, 0, "\x01AB", vecLegacySubscribe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, Config{SocketType: "SUB", MaxMsgSize: -1}, tt.minor, "PUB")
			if c.peer.Minor != tt.minor {
				t.Fatalf("peer minor %d", c.peer.Minor)
			}
			p := newPipe(16)
			run(t, c.e, p)
			push(t, p.Out, pipe.Msg{Frames: [][]byte{[]byte(tt.frame)}, Tag: pipe.TagOf(tt.flags)})
			if got := c.raw.readFrame(); !bytes.Equal(got, tt.want) {
				t.Errorf("sent % x, want % x", got, tt.want)
			}
		})
	}
}

// TestRunMaxMsgSize: the limit counts the frames of a message together,
// each one after the first with FrameOverhead more, so that empty frames
// cannot pile up without limit.
func TestRunMaxMsgSize(t *testing.T) {
	empties := func(n int) [][]byte {
		f := make([][]byte, n)
		for i := range f {
			f[i] = []byte{}
		}
		return f
	}
	tests := []struct {
		name   string
		max    int64
		frames [][]byte
		tooBig bool
	}{
		{"at-limit", 100, frames(pattern(100)), false},
		{"over-limit", 100, frames(pattern(101)), true},
		{"parts-at-limit", 100 + FrameOverhead, frames(pattern(50), pattern(50)), false},
		{"parts-over-limit", 100 + FrameOverhead, frames(pattern(60), pattern(41)), true},
		{"payload-at-limit-two-parts", 100, frames(pattern(50), pattern(50)), true},
		{"three-empty-at-limit", 2 * FrameOverhead, frames([]byte{}, []byte{}, []byte{}), false},
		{"three-empty-over-limit", 2*FrameOverhead - 1, frames([]byte{}, []byte{}, []byte{}), true},
		{"empty-frames-at-1MiB", 1 << 20, empties(1 + (1<<20)/FrameOverhead), false},
		{"empty-frames-over-1MiB", 1 << 20, empties(2 + (1<<20)/FrameOverhead), true},
		{"one-empty", 0, frames([]byte{}), false},
		{"zero-limit", 0, frames([]byte("a")), true},
		{"long-over-limit", 1000, frames(pattern(1001)), true},
		{"huge-declared", 1 << 20, [][]byte{nil}, true}, // header only, see below
		{"unlimited", -1, frames(pattern(100000)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := dealerCfg()
			cfg.MaxMsgSize = tt.max
			c := handshake(t, cfg, 1, "ROUTER")
			p := newPipe(16)
			res := run(t, c.e, p)
			data := encode(tt.frames...)
			if tt.frames[0] == nil {
				data = longHeader(0, 1<<62)
			}
			// The engine may drop the connection before reading it all.
			c.raw.c.SetWriteDeadline(time.Now().Add(waitFor))
			c.raw.c.Write(data)
			if tt.tooBig {
				if err := waitRun(t, res, waitFor); !errors.Is(err, ErrTooLarge) {
					t.Errorf("Run: %v, want ErrTooLarge", err)
				}
				c.raw.readToEOF()
				if n := p.In.Len(); n != 0 {
					t.Errorf("%d messages delivered", n)
				}
				return
			}
			if m := pop(t, p.In); !sameFrames(m.Frames, tt.frames) {
				t.Errorf("got %s", short(m.Frames))
			}
			// The count starts again with the next message.
			c.raw.write(data)
			if m := pop(t, p.In); !sameFrames(m.Frames, tt.frames) {
				t.Errorf("got %s", short(m.Frames))
			}
			if !running(res) {
				t.Fatalf("Run ended: %v", waitRun(t, res, 0))
			}
		})
	}
}

// TestRunHugeFrameHeader: a header declaring 2^62 bytes with no limit must
// not allocate them; the connection then ends.
func TestRunHugeFrameHeader(t *testing.T) {
	tests := []struct {
		name string
		size uint64
		body int // bytes actually sent
	}{
		{"2^62-nothing", 1 << 62, 0},
		{"2^62-some", 1 << 62, 100000},
		{"2^63-1", 1<<63 - 1, 10},
		{"64MiB-some", 64 << 20, 5 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, dealerCfg(), 1, "ROUTER")
			p := newPipe(16)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res := run(t, c.e, p)
			c.raw.write(longHeader(wire.FlagMore, tt.size), pattern(tt.body))
			time.Sleep(50 * time.Millisecond)
			if !running(res) {
				t.Fatalf("Run ended early: %v", waitRun(t, res, 0))
			}
			c.raw.c.(*net.TCPConn).CloseWrite()
			err := waitRun(t, res, waitFor)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Run: %v, want io.ErrUnexpectedEOF", err)
			}
			runtime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
				t.Errorf("allocated %d MiB", d>>20)
			}
		})
	}
}

// TestRunErrors: protocol violations after the handshake end Run with an
// error and a closed connection.
func TestRunErrors(t *testing.T) {
	tests := []struct {
		name   string
		send   []byte
		want   error
		wantAs func(error) bool
	}{
		{"size-top-bit", longHeader(0, 1<<63), wire.ErrMalformed, nil},
		{"size-all-ones", longHeader(wire.FlagMore, 1<<64-1), wire.ErrMalformed, nil},
		{"command-size-top-bit", longHeader(wire.FlagCommand, 1<<63|5), wire.ErrMalformed, nil},
		{"command-over-64KiB", longHeader(wire.FlagCommand, maxCommand+1), wire.ErrMalformed, nil},
		{"command-empty", []byte{0x04, 0x00}, wire.ErrMalformed, nil},
		{"command-bad-name", []byte{0x04, 0x03, 0x02, 'P', '1'}, wire.ErrMalformed, nil},
		{"command-name-too-long", []byte{0x04, 0x02, 0x09, 'P'}, wire.ErrMalformed, nil},
		{"peer-error", vecError400, nil, func(err error) bool {
			var pe *security.PeerError
			return errors.As(err, &pe) && pe.Reason == "400"
		}},
		{"peer-error-mid-message", append(wire.AppendFrame(nil, wire.FlagMore, []byte("x")), vecError400...), nil, func(err error) bool {
			var pe *security.PeerError
			return errors.As(err, &pe)
		}},
		{"eof", nil, io.EOF, nil},
		{"eof-mid-header", []byte{0x02, 0, 0}, io.ErrUnexpectedEOF, nil},
		{"eof-mid-body", []byte{0x00, 0x05, 'a'}, io.ErrUnexpectedEOF, nil},
		{"eof-mid-message", wire.AppendFrame(nil, wire.FlagMore, []byte("a")), io.EOF, nil},
		{"eof-mid-command", []byte{0x04, 0x07, 0x04, 'P'}, io.ErrUnexpectedEOF, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, dealerCfg(), 1, "ROUTER")
			p := newPipe(16)
			res := run(t, c.e, p)
			c.raw.write(tt.send)
			if tt.want == io.EOF || tt.want == io.ErrUnexpectedEOF {
				c.raw.c.(*net.TCPConn).CloseWrite()
			}
			err := waitRun(t, res, 2*time.Second)
			switch {
			case err == nil:
				t.Fatal("Run returned nil")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("Run: %v, want %v", err, tt.want)
			case tt.wantAs != nil && !tt.wantAs(err):
				t.Errorf("Run: %v (%T)", err, err)
			}
			if got := c.raw.readToEOF(); len(got) != 0 {
				t.Errorf("sent % x", got)
			}
			if n := p.In.Len(); n != 0 {
				t.Errorf("%d messages delivered", n)
			}
		})
	}
}

// TestRunLinger: closing p.Out makes Run send everything queued, close the
// connection and return nil, without the peer doing anything but read.
func TestRunLinger(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		closeIn   bool
		pushAfter bool // push once Run is running
		discard   bool
	}{
		{name: "out-only", n: 100},
		{name: "in-and-out", n: 100, closeIn: true},
		{name: "push-after-run", n: 300, pushAfter: true},
		{name: "push-after-run-in-and-out", n: 300, pushAfter: true, closeIn: true},
		{name: "empty", n: 0},
		{name: "discard", n: 0, discard: true, closeIn: true},
	}
	mk := func(i int) [][]byte {
		switch {
		case i == 7:
			return frames([]byte("big"), pattern(1<<20))
		case i%2 == 0:
			return frames(binary.BigEndian.AppendUint32(nil, uint32(i)))
		default:
			return frames([]byte{}, binary.BigEndian.AppendUint32(nil, uint32(i)), pattern(i))
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, dealerCfg(), 1, "ROUTER")
			p := newPipe(1000)
			var want []byte
			for i := range tt.n {
				want = append(want, encode(mk(i)...)...)
			}
			if !tt.pushAfter {
				for i := range tt.n {
					push(t, p.Out, pipe.Msg{Frames: mk(i)})
				}
			}
			res := run(t, c.e, p)
			if tt.pushAfter {
				for i := range tt.n {
					push(t, p.Out, pipe.Msg{Frames: mk(i)})
				}
			}
			if tt.closeIn {
				p.In.Close()
			}
			if tt.discard {
				p.Out.Discard()
			} else {
				p.Out.Close()
			}
			got := c.raw.readToEOF()
			if !bytes.Equal(got, want) {
				t.Errorf("peer got %d bytes, want %d", len(got), len(want))
			}
			if err := waitRun(t, res, time.Second); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
}

// TestRunClose: Engine.Close makes Run return promptly whatever it is
// doing.
func TestRunClose(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, c *connected, p *pipe.Pipe)
	}{
		{"idle", func(*testing.T, *connected, *pipe.Pipe) {}},
		{"reader-blocked-on-full-in", func(t *testing.T, c *connected, p *pipe.Pipe) {
			c.raw.write(encode([]byte("1")), encode([]byte("2")), encode([]byte("3")))
			deadline := time.Now().Add(waitFor)
			for p.In.Len() < 1 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}},
		{"writer-blocked-on-conn", func(t *testing.T, c *connected, p *pipe.Pipe) {
			// 64 MiB nobody reads: the writer blocks in Write.
			for range 64 {
				push(t, p.Out, pipe.Msg{Frames: [][]byte{make([]byte, 1<<20)}})
			}
			time.Sleep(50 * time.Millisecond)
		}},
		{"mid-message", func(t *testing.T, c *connected, p *pipe.Pipe) {
			c.raw.write(wire.AppendFrame(nil, wire.FlagMore, []byte("a")), longHeader(0, 1000), []byte("partial"))
			time.Sleep(20 * time.Millisecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handshake(t, dealerCfg(), 1, "ROUTER")
			p := pipe.New(0, 1, nil, nil, nil, nil)
			res := run(t, c.e, p)
			tt.setup(t, c, p)
			if !running(res) {
				t.Fatalf("Run ended: %v", waitRun(t, res, 0))
			}
			start := time.Now()
			c.e.Close()
			if err := waitRun(t, res, time.Second); err != nil {
				t.Errorf("Run: %v", err)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("Run took %v to return", d)
			}
			c.e.Close() // twice is fine
			c.raw.c.SetReadDeadline(time.Now().Add(waitFor))
			if _, err := io.Copy(io.Discard, c.raw.c); err != nil && !isReset(err) {
				t.Errorf("conn not closed: %v", err)
			}
		})
	}
}

// TestRunBackPressure: with nobody popping p.In the engine stops reading:
// the peer's writes block, memory stays bounded, and reading resumes when
// the socket pops.
func TestRunBackPressure(t *testing.T) {
	const size = 1 << 10
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := pipe.New(16, 2, nil, nil, nil, nil)
	res := run(t, c.e, p)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	mk := func(i int) []byte {
		b := make([]byte, size)
		binary.BigEndian.PutUint32(b, uint32(i))
		return b
	}
	var all []byte
	const n = 64 << 10 // 64 MiB in all
	for i := range n {
		all = append(all, encode(mk(i))...)
	}
	c.raw.c.SetWriteDeadline(time.Now().Add(time.Second))
	written, err := c.raw.c.Write(all)
	if err == nil {
		t.Fatalf("the peer wrote all %d bytes: no back-pressure", written)
	}
	if !errors.Is(err, errDeadline) {
		t.Fatalf("peer write: %v", err)
	}
	if got := p.In.Len(); got != 2 {
		t.Errorf("%d messages queued, want the HWM 2", got)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
	all = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if after.HeapAlloc > before.HeapAlloc+16<<20 {
		t.Errorf("heap grew from %d to %d MiB", before.HeapAlloc>>20, after.HeapAlloc>>20)
	}
	t.Logf("peer wrote %d KiB before blocking", written>>10)
	// Popping lets the engine read again, in order.
	for i := range written / (size + 9) {
		if m := pop(t, p.In); !bytes.Equal(m.Frames[0], mk(i)) {
			t.Fatalf("message %d wrong", i)
		}
	}
}

// TestRunDeclaredFrameCostsLittle: a peer that declares a huge frame and
// sends only its first bytes gets eagerInit bytes of memory, not the
// declared size or eagerAlloc; once it has delivered a large body, the
// next one of that size is allocated whole at once.
func TestRunDeclaredFrameCostsLittle(t *testing.T) {
	const conns = 8
	type open struct {
		c   *connected
		p   *pipe.Pipe
		res *future[error]
	}
	var all []open
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range conns {
		c := handshake(t, dealerCfg(), 1, "ROUTER")
		p := newPipe(16)
		res := run(t, c.e, p)
		c.raw.write(append(longHeader(0, 1<<30), pattern(10)...))
		all = append(all, open{c, p, res})
	}
	time.Sleep(200 * time.Millisecond) // the engines read what was sent
	runtime.GC()
	runtime.ReadMemStats(&after)
	// eagerInit each, and the connections' own buffers; allocated whole,
	// each would hold eagerAlloc (4 MiB): 32 MiB in all.
	const bound = conns * (eagerInit + 128<<10)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if grew > bound {
		t.Errorf("heap grew by %d KiB for %d declared 1 GiB frames; bound %d KiB", grew>>10, conns, bound>>10)
	}
	t.Logf("heap grew by %d KiB for %d connections", grew>>10, conns)
	for _, o := range all {
		if !running(o.res) {
			t.Fatalf("Run ended: %v", waitRun(t, o.res, 0))
		}
	}
	// A connection that delivered a 1 MiB body gets the next one's memory
	// at once.
	c2 := handshake(t, dealerCfg(), 1, "ROUTER")
	p2 := newPipe(16)
	run(t, c2.e, p2)
	c2.raw.write(encode(pattern(1 << 20)))
	if m := pop(t, p2.In); !bytes.Equal(m.Frames[0], pattern(1<<20)) {
		t.Fatal("1 MiB body wrong")
	}
	if c2.e.r.eager != 1<<20 {
		t.Errorf("eager = %d after a 1 MiB body, want %d", c2.e.r.eager, 1<<20)
	}
}

// TestRunJoinLeave: JOIN and LEAVE commands reach the pipe as flagged
// messages, and flagged messages leave as the commands (libzmq's
// "\4JOIN"+group, RFC 48).
func TestRunJoinLeave(t *testing.T) {
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(16)
	res := run(t, c.e, p)
	c.raw.write(wire.AppendJoin(nil, []byte("weather")), wire.AppendLeave(nil, []byte("news")))
	for _, want := range []struct {
		group string
		flags pipe.Flags
	}{{"weather", pipe.Join}, {"news", pipe.Leave}} {
		if m := pop(t, p.In); !sameFrames(m.Frames, frames([]byte(want.group))) || m.Flags() != want.flags {
			t.Errorf("got %s flags %d, want %s flags %d", short(m.Frames), m.Flags(), want.group, want.flags)
		}
	}
	push(t, p.Out, pipe.Msg{Frames: frames([]byte("sport")), Tag: pipe.TagOf(pipe.Join)})
	push(t, p.Out, pipe.Msg{Frames: frames([]byte("sport")), Tag: pipe.TagOf(pipe.Leave)})
	if got, want := c.raw.readFrame(), hx("04 0a 04 4a 4f 49 4e 73 70 6f 72 74"); !bytes.Equal(got, want) {
		t.Errorf("JOIN sent as % x, want % x", got, want)
	}
	if got, want := c.raw.readFrame(), hx("04 0b 05 4c 45 41 56 45 73 70 6f 72 74"); !bytes.Equal(got, want) {
		t.Errorf("LEAVE sent as % x, want % x", got, want)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}
