package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/wire"
)

// lent has the engine lend its connection, as a receiver on an empty
// queue does: ReadNow asks, and the reader goroutine lends once it has
// nothing buffered (before or after reading the message written here).
// The connection stays lent for the test unless idle says for how long.
func lent(t *testing.T, c *connected, p *pipe.Pipe, idle ...time.Duration) {
	t.Helper()
	c.e.rd.idle = time.Hour
	if len(idle) > 0 {
		c.e.rd.idle = idle[0]
	}
	if c.e.ReadNow(context.Background(), p.In, 16) {
		t.Fatal("ReadNow read while the reader goroutine owned the connection")
	}
	c.raw.write(encode([]byte("first")))
	got := false
	for range 1000 {
		if !got && p.In.Len() > 0 {
			if m := pop(t, p.In); string(m.Frames[0]) != "first" {
				t.Fatalf("got %q", m.Frames)
			}
			got = true
		}
		if c.e.rd.state.Load() == readLent {
			if got {
				return
			}
			// Lent before "first" was read: read it here.
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			c.e.ReadNow(ctx, p.In, 16)
			cancel()
			continue
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the reader goroutine never lent the connection (state %d)", c.e.rd.state.Load())
}

// lentEngine is an engine running on a pipe, its connection lent (see
// lent); it skips where a receiver cannot read a connection itself.
func lentEngine(t *testing.T, idle ...time.Duration) (*connected, *pipe.Pipe, *future[error]) {
	t.Helper()
	if !canWriteNow {
		// Not a missing feature: here a receiver never reads the
		// connection itself (ReadNow reports false at once), and every
		// message comes through the reader goroutine, as every other
		// engine test shows.
		t.Skip("receivers read the connection themselves only where it has a descriptor (Unix tcp and ipc)")
	}
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(16)
	res := run(t, c.e, p)
	lent(t, c, p, idle...)
	return c, p, res
}

func readNow(e *Engine, ctx context.Context, q *pipe.Queue) *future[bool] {
	return goFuture(func() bool { return e.ReadNow(ctx, q, 16) })
}

func mustReadNow(t *testing.T, f *future[bool]) {
	t.Helper()
	ok, done := f.wait(waitFor)
	if !done || !ok {
		t.Fatalf("ReadNow: returned %v, read %v", done, ok)
	}
}

// TestReadNow: a receiver reads and decodes the connection itself once it
// is lent: whole messages only, however the bytes are cut, in order, with
// commands handled on the way (a PING is answered).
func TestReadNow(t *testing.T) {
	c, p, res := lentEngine(t)

	reads := c.e.rd.reads.Load()
	f := readNow(c.e, context.Background(), p.In)
	two := encode([]byte("a"), []byte("bcd"))
	c.raw.write(two[:3]) // the first frame and part of the next header
	time.Sleep(20 * time.Millisecond)
	if f.finished() {
		t.Fatal("ReadNow returned before a message was whole")
	}
	c.raw.write(wire.AppendPing(nil, 0, []byte("ctx")))
	// The PONG goes out while the message is still incomplete.
	if got, want := c.raw.readFrame(), wire.AppendPong(nil, []byte("ctx")); !bytes.Equal(got, want) {
		t.Fatalf("PONG: % x, want % x", got, want)
	}
	c.raw.write(two[3:], encode([]byte("next")))
	mustReadNow(t, f)
	for _, want := range [][][]byte{{[]byte("a"), []byte("bcd")}, {[]byte("next")}} {
		if p.In.Len() == 0 { // "next" came in a read of its own
			mustReadNow(t, readNow(c.e, context.Background(), p.In))
		}
		if got := pop(t, p.In).Frames; !sameFrames(got, want) {
			t.Fatalf("got %s, want %s", short(got), short(want))
		}
	}
	if c.e.rd.reads.Load() == reads {
		t.Fatal("no direct read counted")
	}
	if s := c.e.rd.state.Load(); s != readLent {
		t.Fatalf("state %d after ReadNow, want lent", s)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}

// TestReadNowRoom: a ReadNow decodes no more messages than it has room
// for; the rest stay buffered for the next one.
func TestReadNowRoom(t *testing.T) {
	c, p, _ := lentEngine(t)
	var all []byte
	for i := range 10 {
		all = append(all, encode([]byte{byte('0' + i)})...)
	}
	c.raw.write(all)
	got := ""
	for range 4 {
		ok := c.e.ReadNow(context.Background(), p.In, 3)
		if !ok {
			t.Fatal("ReadNow did not read")
		}
		if n := p.In.Len(); n > 3 {
			t.Fatalf("%d messages decoded for a room of 3", n)
		}
		for p.In.Len() > 0 {
			got += string(pop(t, p.In).Frames[0])
		}
	}
	if got != "0123456789" {
		t.Fatalf("got %q", got)
	}
}

// TestReadNowLargeFrame: a frame larger than the read buffer goes back to
// the reader goroutine, which reads it straight into its body and lends
// the connection again when asked.
func TestReadNowLargeFrame(t *testing.T) {
	c, p, res := lentEngine(t)
	big := pattern(3 * readBufSize)
	f := readNow(c.e, context.Background(), p.In)
	c.raw.write(encode(big))
	mustReadNow(t, f)
	if m := pop(t, p.In); !bytes.Equal(m.Frames[0], big) {
		t.Fatalf("large frame: %d bytes, corrupt or short", len(m.Frames[0]))
	}
	lent(t, c, p)
	f = readNow(c.e, context.Background(), p.In)
	c.raw.write(encode([]byte("small")))
	mustReadNow(t, f)
	if m := pop(t, p.In); string(m.Frames[0]) != "small" {
		t.Fatalf("got %q", m.Frames)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}

// TestReadNowInterrupt: Interrupt and a cancelled ctx end a ReadNow's
// wait, and leave the connection as it was: the next message arrives,
// and no deadline is left behind to pass for a heartbeat failure.
func TestReadNowInterrupt(t *testing.T) {
	c, p, res := lentEngine(t)

	f := readNow(c.e, context.Background(), p.In)
	time.Sleep(20 * time.Millisecond)
	c.e.Interrupt()
	mustReadNow(t, f)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	mustReadNow(t, readNow(c.e, ctx, p.In))
	if p.In.Len() != 0 {
		t.Fatal("a message from nowhere")
	}

	f = readNow(c.e, context.Background(), p.In)
	c.raw.write(encode([]byte("after")))
	mustReadNow(t, f)
	if m := pop(t, p.In); string(m.Frames[0]) != "after" {
		t.Fatalf("got %q", m.Frames)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}

// TestReadNowWatch: the end of a context passed to ReadNow interrupts the
// read of a later ReadNow with the same context (registered once, kept),
// also when it ended between the reads; another context takes its place;
// the connection's end lets go of it.
func TestReadNowWatch(t *testing.T) {
	c, p, res := lentEngine(t)

	ctx1, cancel1 := context.WithCancel(context.Background())
	f := readNow(c.e, ctx1, p.In)
	c.raw.write(encode([]byte("one")))
	mustReadNow(t, f)
	if m := pop(t, p.In); string(m.Frames[0]) != "one" {
		t.Fatalf("got %q", m.Frames)
	}
	f = readNow(c.e, ctx1, p.In)
	time.Sleep(20 * time.Millisecond)
	if f.finished() {
		t.Fatal("ReadNow returned with nothing to read")
	}
	cancel1() // interrupts through the first call's registration
	mustReadNow(t, f)
	// Ended before this read begins: it ends at once, with nothing.
	mustReadNow(t, readNow(c.e, ctx1, p.In))
	if p.In.Len() != 0 {
		t.Fatal("a message from nowhere")
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	f = readNow(c.e, ctx2, p.In)
	c.raw.write(encode([]byte("two")))
	mustReadNow(t, f)
	if m := pop(t, p.In); string(m.Frames[0]) != "two" {
		t.Fatalf("got %q", m.Frames)
	}
	if c.e.rd.watchDone != ctx2.Done() {
		t.Fatal("ReadNow does not watch the context it was given last")
	}
	f = readNow(c.e, ctx2, p.In)
	time.Sleep(10 * time.Millisecond)
	c.raw.c.Close()
	mustReadNow(t, f)
	if err := waitRun(t, res, waitFor); !isPeerGone(err) {
		t.Fatalf("Run: %v", err)
	}
	// Run has returned: the engine's goroutines are done with rd.
	if c.e.rd.watchDone != nil || c.e.rd.watchStop != nil {
		t.Fatal("the ended connection still watches a context")
	}
}

// TestReadNowEnds: the connection's end met by a receiver ends Run with
// it, as it would have met the reader goroutine: the peer's close, a
// protocol error, Close.
func TestReadNowEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(c *connected)
		want func(error) bool
	}{
		{"peer closes", func(c *connected) { c.raw.c.Close() }, isPeerGone},
		{"malformed", func(c *connected) { c.raw.write([]byte{wire.FlagCommand, 1, 5}) }, func(err error) bool {
			return errors.Is(err, wire.ErrMalformed)
		}},
		{"Close", func(c *connected) { c.e.Close() }, func(err error) bool { return err == nil || isClosedErr(err) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p, res := lentEngine(t)
			f := readNow(c.e, context.Background(), p.In)
			time.Sleep(10 * time.Millisecond)
			tc.end(c)
			mustReadNow(t, f)
			if err := waitRun(t, res, waitFor); !tc.want(err) {
				t.Fatalf("Run: %v", err)
			}
			if c.e.ReadNow(context.Background(), p.In, 16) {
				t.Fatal("ReadNow read after the connection ended")
			}
		})
	}
}

// TestReadNowCloseAtEnd: Close between a read's end and its giving the
// connection back (lend then finds the connection read, and waits for
// it) ends Run all the same.
func TestReadNowCloseAtEnd(t *testing.T) {
	c, p, res := lentEngine(t)
	c.e.rd.testEnd = func() {
		c.e.Close()
		time.Sleep(20 * time.Millisecond) // lend meets the close
	}
	f := readNow(c.e, context.Background(), p.In)
	c.raw.write(encode([]byte("last")))
	mustReadNow(t, f)
	if err := waitRun(t, res, waitFor); err != nil && !isClosedErr(err) {
		t.Fatalf("Run: %v", err)
	}
}

// TestReadNowIdle: a connection lent and not read goes back to the
// reader goroutine, which delivers with no receiver reading.
func TestReadNowIdle(t *testing.T) {
	c, p, _ := lentEngine(t, 5*time.Millisecond)
	deadline := time.Now().Add(waitFor)
	for c.e.rd.state.Load() != readOwn {
		if time.Now().After(deadline) {
			t.Fatal("the lent connection never went back to the reader goroutine")
		}
		time.Sleep(time.Millisecond)
	}
	c.raw.write(encode([]byte("later")))
	if m := pop(t, p.In); string(m.Frames[0]) != "later" {
		t.Fatalf("got %q", m.Frames)
	}
}

// TestPollBufferGrows: a stream that fills the read buffer makes it grow
// to readBufSize, so that a read carries up to 64 KiB, in the reader's
// poller callback as in conn.Read's loop.
func TestPollBufferGrows(t *testing.T) {
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(0)
	run(t, c.e, p)
	body := pattern(4 << 10)
	var all []byte
	for range 256 {
		all = append(all, encode(body)...)
	}
	c.raw.write(all)
	for range 256 {
		if m := pop(t, p.In); !bytes.Equal(m.Frames[0], body) {
			t.Fatal("a message arrived corrupt")
		}
	}
	// The last pop happened after the reader handed it over, after any
	// growth: the queue's lock orders them.
	if n := len(c.e.r.buf); n != readBufSize {
		t.Fatalf("read buffer of %d bytes after 1 MiB streamed, want %d", n, readBufSize)
	}
}

// TestPeerCloseBehindData: a peer that sends its last message and closes
// at once has its close seen, by the reader goroutine and by a receiver
// reading the connection itself, though the close came before the read
// that took the message (the poller does not report it again).
func TestPeerCloseBehindData(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			for range 30 {
				var c *connected
				var p *pipe.Pipe
				var res *future[error]
				if direct {
					c, p, res = lentEngine(t)
				} else {
					c = handshake(t, dealerCfg(), 1, "ROUTER")
					p = newPipe(16)
					res = run(t, c.e, p)
				}
				c.raw.c.(*net.TCPConn).SetNoDelay(true)
				c.raw.write(encode([]byte("last")))
				c.raw.c.(*net.TCPConn).CloseWrite()
				if direct {
					for range 3 {
						ctx, cancel := context.WithTimeout(context.Background(), waitFor)
						c.e.ReadNow(ctx, p.In, 16)
						cancel()
						if !running(res) {
							break
						}
					}
				}
				if m := pop(t, p.In); string(m.Frames[0]) != "last" {
					t.Fatalf("got %q", m.Frames)
				}
				if err := waitRun(t, res, waitFor); !isPeerGone(err) {
					t.Fatalf("Run: %v", err)
				}
			}
		})
	}
}
