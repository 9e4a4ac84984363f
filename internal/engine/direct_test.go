package engine

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

// writeNow retries WriteNow while the writer goroutine has not yet gone
// idle (it holds the connection at first), a bounded number of times.
func writeNow(t *testing.T, e *Engine, q *pipe.Queue, m pipe.Msg) {
	t.Helper()
	for range 1000 {
		if e.WriteNow(q, m) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("WriteNow never took the message")
}

// TestWriteNow: an idle engine writes a small message from the caller's
// goroutine, byte for byte what the writer would have sent, in order
// with what was queued before; what it must not take, it leaves.
func TestWriteNow(t *testing.T) {
	if !canWriteNow {
		t.Skip("no non-blocking write on this platform: every message goes through the writer")
	}
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	p := newPipe(16)
	res := run(t, c.e, p)

	writeNow(t, c.e, p.Out, msg("", "hello"))
	if got := c.raw.read(len(vecReqHello)); !bytes.Equal(got, vecReqHello) {
		t.Fatalf("direct: % x, want % x", got, vecReqHello)
	}
	// Queued first, then pushed through TryPushDirect: the order holds.
	p.Out.SetDirect(c.e)
	push(t, p.Out, msg("a"))
	if ok, err := p.Out.TryPushDirect(msg("b")); !ok || err != nil {
		t.Fatalf("TryPushDirect = %v, %v", ok, err)
	}
	if got, want := c.raw.read(6), append(encode([]byte("a")), encode([]byte("b"))...); !bytes.Equal(got, want) {
		t.Fatalf("order: % x", got)
	}

	for _, tc := range []struct {
		name string
		m    pipe.Msg
	}{
		{"large frame", pipe.Msg{Frames: [][]byte{make([]byte, zeroCopyAt)}}},
		{"large message", pipe.Msg{Frames: [][]byte{make([]byte, 3000), make([]byte, 3000)}}},
		{"subscription", pipe.Msg{Frames: [][]byte{[]byte("\x01A")}, Tag: pipe.TagOf(pipe.Subscribe)}},
	} {
		if c.e.WriteNow(p.Out, tc.m) {
			t.Errorf("%s: WriteNow took it", tc.name)
		}
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}

// TestWriteNowWouldBlock: when the peer stops reading, WriteNow does not
// wait: what the kernel did not take is left to the writer goroutine, and
// every message arrives whole and in order once the peer reads again.
func TestWriteNowWouldBlock(t *testing.T) {
	if !canWriteNow {
		t.Skip("no non-blocking write on this platform: every message goes through the writer")
	}
	const size = 4 << 10
	c := handshake(t, dealerCfg(), 1, "ROUTER")
	// Small kernel buffers fill soon; tiny ones would make loopback TCP
	// crawl on window probes once the peer reads again.
	c.e.conn.(*net.TCPConn).SetWriteBuffer(64 << 10)
	c.raw.c.(*net.TCPConn).SetReadBuffer(64 << 10)
	p := newPipe(0)
	res := run(t, c.e, p)
	mk := func(i int) []byte {
		b := make([]byte, size)
		binary.BigEndian.PutUint32(b, uint32(i))
		return b
	}
	// The writer has started and gone idle once a queued message is out
	// and WriteNow takes the next.
	push(t, p.Out, pipe.Msg{Frames: [][]byte{[]byte("start")}})
	if f := c.raw.readFrame(); string(f[2:]) != "start" {
		t.Fatalf("first frame % x", f)
	}
	writeNow(t, c.e, p.Out, pipe.Msg{Frames: [][]byte{mk(0)}})
	// As TryPushDirect does: WriteNow while it takes the messages (the
	// queue empty, the writer idle), else queue them. Each call returns
	// at once, the kernel full or not: the test would hang here otherwise.
	const n = 2000
	direct := 1
	start := time.Now()
	for i := 1; i < n; i++ {
		m := pipe.Msg{Frames: [][]byte{mk(i)}}
		if c.e.WriteNow(p.Out, m) {
			direct++
			continue
		}
		if ok, err := p.Out.TryPush(m); !ok || err != nil {
			t.Fatalf("push %d: %v, %v", i, ok, err)
		}
	}
	if direct == n {
		t.Fatalf("all %d messages of %d B written at once: the peer's window never filled", n, size)
	}
	t.Logf("%d messages taken by WriteNow, the rest queued, in %v", direct, time.Since(start))
	for i := range n {
		f := c.raw.readFrame()
		if body := f[len(f)-size:]; !bytes.Equal(body, mk(i)) {
			t.Fatalf("message %d: wrong body (starts % x)", i, body[:8])
		}
	}
	// All read: the writer is idle again and lets go of the connection.
	c.e.wmu.Lock()
	left := c.e.dw.left
	c.e.wmu.Unlock()
	if left == 0 {
		t.Error("no write was cut short: the would-block path went untested")
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}
