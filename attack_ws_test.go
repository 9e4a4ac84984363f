package azmq

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/azmq/azmq/internal/engine"
	"github.com/azmq/azmq/internal/transport"
	"github.com/azmq/azmq/internal/wire"
)

// The attack tests of attack_test.go over ws: the hostile peer dials the
// socket's ws endpoint with github.com/coder/websocket, completes the
// ZWS 2.0 NULL handshake by hand and sends ZWS messages ([flags][body],
// one per ZMTP frame). The checks are the same three: the process stays
// up, a legitimate ws peer is served within maxServeDelay during and
// after, and the memory kept stays under the stated bound.

// wsRaw is a ZWS 2.0 peer driven by hand.
type wsRaw struct {
	t *testing.T
	c *websocket.Conn
}

// dialWSRaw upgrades a connection to url offering "ZWS2.0/NULL"; it is
// closed when the test ends.
func dialWSRaw(t *testing.T, url string) *wsRaw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rawIOTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"ZWS2.0/NULL"}})
	if err != nil {
		t.Fatalf("ws raw peer: dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsRaw{t: t, c: c}
}

// zwsMsg is the ZWS message of a ZMTP frame built by internal/wire: the
// frame's header becomes the flags byte (MORE 0x01, COMMAND 0x02).
func zwsMsg(frame []byte) []byte {
	h, n, err := wire.ParseFrameHeader(frame)
	if err != nil {
		panic(err)
	}
	var f byte
	if h.Flags&wire.FlagMore != 0 {
		f |= 0x01
	}
	if h.Flags&wire.FlagCommand != 0 {
		f |= 0x02
	}
	return append([]byte{f}, frame[n:]...)
}

// send writes one message within d.
func (w *wsRaw) send(msg []byte, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return w.c.Write(ctx, websocket.MessageBinary, msg)
}

// handshake sends a READY with md and reads azmq's READY.
func (w *wsRaw) handshake(md wire.Metadata) {
	w.t.Helper()
	if err := w.send(zwsMsg(wire.AppendReady(nil, md)), rawIOTimeout); err != nil {
		w.t.Fatalf("ws raw peer: send READY: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rawIOTimeout)
	defer cancel()
	typ, m, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("ws raw peer: read READY: %v", err)
	}
	if typ != websocket.MessageBinary || len(m) == 0 || m[0] != 0x02 {
		w.t.Fatalf("ws raw peer: got %q where READY was due", m)
	}
	if name, _, err := wire.ParseCommand(m[1:]); err != nil || string(name) != wire.CmdReady {
		w.t.Fatalf("ws raw peer: got %q where READY was due", m)
	}
}

// attackPullWS is attackPull over ws: a PULL bound on a loopback ws
// endpoint, a legitimate PUSH connected over ws, the probe running.
func attackPullWS(t *testing.T, opts ...SocketOption) (*Socket, *eventLog, *probe) {
	t.Helper()
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	pull := newSock(t, z, PULL, opts...)
	log := logEvents(t, pull)
	if err := pull.Bind("ws://127.0.0.1:*/zmq"); err != nil {
		t.Fatal(err)
	}
	push := newSock(t, z, PUSH)
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, push, "warm-up")
	mustRecv(t, ctx, pull, "warm-up")
	return pull, log, startProbe(t, pushPullExchange(push, pull))
}

// failedWith matches any event whose error is target.
func failedWith(target error) func(Event) bool {
	return func(e Event) bool { return e.Err != nil && errors.Is(e.Err, target) }
}

const (
	// wsPingFloodCount is how many PING messages the ws flood sends: each
	// is one ws message of 23 bytes (fewer than over tcp: each costs a
	// WebSocket write here).
	wsPingFloodCount = 100_000
	// wsPingFloodBound is pingFloodBound: one pending answer at most, the
	// connection's buffers, what the legitimate peer has in flight.
	wsPingFloodBound = 4 << 20
)

// TestAttackWSPingFlood: a ws peer completes the handshake, then sends
// PING commands as ws messages as fast as they go and never reads. On ws
// the engine runs the peer as ZMTP 3.0, whichever way it takes a PING
// (answered, ignored, or the connection dropped), the memory stays bounded.
func TestAttackWSPingFlood(t *testing.T) {
	pull, log, pr := attackPullWS(t)
	raw := dialWSRaw(t, pull.LastEndpoint())
	raw.handshake(socketType("PUSH"))

	ping := zwsMsg(wire.AppendPing(nil, 0, []byte("0123456789abcdef")))
	guard := newMemGuard(wsPingFloodBound)
	sent := 0
	var werr error
	start := time.Now()
	for sent < wsPingFloodCount && !guard.over() {
		if werr = raw.send(ping, 30*time.Second); werr != nil {
			break
		}
		sent++
	}
	elapsed := time.Since(start)
	for range 3 {
		time.Sleep(200 * time.Millisecond)
		guard.sample()
	}
	t.Logf("%d ws PING messages sent in %v (write error: %v); the process grew by at most %s (bound %s)%s",
		sent, elapsed.Round(time.Millisecond), werr, mib(guard.peak), mib(wsPingFloodBound), rssChange(guard.base, measureMem()))
	if guard.peak > wsPingFloodBound {
		t.Errorf("a ws PING flood made the process keep %s more, bound %s", mib(guard.peak), mib(wsPingFloodBound))
	}
	if sent < wsPingFloodCount && werr == nil {
		t.Errorf("the flood stopped after %d of %d PINGs: memory past twice the bound", sent, wsPingFloodCount)
	}
	if n := log.count(kindAt(EventDisconnected, "")); n > 0 {
		e, _ := log.first(kindAt(EventDisconnected, ""))
		t.Logf("azmq dropped the flooding connection: %v", e.Err)
	} else {
		t.Logf("the flooding connection stayed open")
	}
	raw.c.CloseNow()
	pr.waitMore(t, 5)
	pr.stop(t)
}

// wsEmptyFloodFrames is how many empty MORE messages the ws flood may
// send: ten times what the limit allows.
const wsEmptyFloodFrames = 10 * emptyFramesAllowed

// TestAttackWSEmptyFrames: a ws peer sends one unfinished message of empty
// MORE frames ([0x01], a flags byte and no body) to a PULL with
// WithMaxMsgSize(1 MiB). As over tcp, each counts engine.FrameOverhead:
// the connection is dropped with ErrTooLarge after emptyFramesAllowed.
func TestAttackWSEmptyFrames(t *testing.T) {
	pull, log, pr := attackPullWS(t, WithMaxMsgSize(emptyFramesMaxMsg))
	raw := dialWSRaw(t, pull.LastEndpoint())
	raw.handshake(socketType("PUSH"))
	more := []byte{0x01}

	guard := newMemGuard(emptyFloodBound)
	for i := range emptyFramesAllowed {
		if err := raw.send(more, rawIOTimeout); err != nil {
			t.Fatalf("empty frame %d of %d: %v", i, emptyFramesAllowed, err)
		}
	}
	if e, ok := log.wait(failedWith(ErrTooLarge), 300*time.Millisecond); ok {
		t.Errorf("%d empty frames (%d bytes counted, limit %d) dropped the connection: %v",
			emptyFramesAllowed, (emptyFramesAllowed-1)*engine.FrameOverhead, emptyFramesMaxMsg, e.Err)
	}
	atLimit := guard.sample()
	t.Logf("an unfinished message of %d empty ws frames keeps %s", emptyFramesAllowed, kib(atLimit))

	sent := emptyFramesAllowed
	var werr error
	start := time.Now()
	for sent < wsEmptyFloodFrames && !guard.over() {
		if werr = raw.send(more, 10*time.Second); werr != nil {
			break
		}
		sent++
		if sent%4096 == 0 && log.count(failedWith(ErrTooLarge)) > 0 {
			break // dropped: the writes may go on into the socket buffers a while
		}
	}
	elapsed := time.Since(start)
	guard.sample()
	t.Logf("flood: %d empty ws frames written in %v (write error: %v); the process grew by at most %s (bound %s)",
		sent, elapsed.Round(time.Millisecond), werr, mib(guard.peak), mib(emptyFloodBound))
	if guard.peak > emptyFloodBound {
		t.Errorf("empty ws frames made the process keep %s more, bound %s", mib(guard.peak), mib(emptyFloodBound))
	}
	if e, ok := log.wait(failedWith(ErrTooLarge), 5*time.Second); !ok {
		t.Errorf("%d empty ws MORE frames did not drop the connection with ErrTooLarge; events: %s", sent, log.summary())
	} else {
		t.Logf("dropped: %v (%v)", e.Err, e.Kind)
	}
	raw.c.CloseNow()
	pr.waitMore(t, 5)
	pr.stop(t)
}

const (
	// wsPropFloodConns is how many ws connections send a flooding READY.
	wsPropFloodConns = 100
	// wsPropFloodBound is propFloodBound: refused connections keep
	// nothing; what remains is this process's client ends and garbage.
	wsPropFloodBound = 8 << 20
)

// TestAttackWSPropertyFlood: ws connections each send a 64 KiB READY of
// ~10,900 empty properties (wire.MaxProperties is 128); each is refused as
// malformed and the process keeps nothing for it.
func TestAttackWSPropertyFlood(t *testing.T) {
	pull, log, pr := attackPullWS(t)
	ready := zwsMsg(wire.AppendReady(nil, floodReady()))
	refused := func(e Event) bool { return e.Kind == EventHandshakeFailed && errors.Is(e.Err, wire.ErrMalformed) }
	guard := newMemGuard(wsPropFloodBound)
	var conns []*wsRaw
	for len(conns) < wsPropFloodConns && !guard.over() {
		for range propFloodBatch {
			w := dialWSRaw(t, pull.LastEndpoint())
			// azmq may close before it has read it all: the event tells.
			w.send(ready, rawIOTimeout)
			conns = append(conns, w)
		}
		if got := log.waitCount(refused, len(conns), 30*time.Second); got < len(conns) {
			t.Fatalf("%d of %d flooding READYs were refused as malformed within 30 s; events: %s", got, len(conns), log.summary())
		}
	}
	guard.sample()
	t.Logf("%d ws connections, each a %d-byte READY: %d refused as malformed, %d accepted; the process keeps %s more (bound %s)%s",
		len(conns), len(ready), log.count(refused), log.count(kindAt(EventHandshakeSucceeded, ""))-1,
		mib(guard.peak), mib(wsPropFloodBound), rssChange(guard.base, measureMem()))
	if n := log.count(refused); n != wsPropFloodConns {
		t.Errorf("%d of %d flooding READYs were refused; events: %s", n, wsPropFloodConns, log.summary())
	}
	if guard.peak > wsPropFloodBound {
		t.Errorf("the property flood made the process keep %s more, bound %s", mib(guard.peak), mib(wsPropFloodBound))
	}
	for _, w := range conns {
		w.c.CloseNow()
	}
	pr.waitMore(t, 5)
	pr.stop(t)
}

const (
	// wsSlowMsgSize is the message the slow sender announces (a ws message
	// has no length up front: it is written in fragments).
	wsSlowMsgSize = 32 << 20
	// wsSlowPiece is one fragment, written every wsSlowEvery.
	wsSlowPiece = 64 << 10
	wsSlowEvery = 5 * time.Millisecond
	// wsSlowBound bounds what the process keeps: the message buffer grows
	// by doubling to one byte past the limit (1 MiB + 257), plus the
	// copy made while growing and the connections' buffers.
	wsSlowBound = 4 << 20
)

// TestAttackWSSlowLargeMessage: a ws peer writes one message of up to
// 32 MiB in 64 KiB fragments, slowly, to a PULL with WithMaxMsgSize(1 MiB).
// The connection is dropped with ErrWSTooLarge once past the limit, and
// the memory kept stays near the limit, not 32 MiB.
func TestAttackWSSlowLargeMessage(t *testing.T) {
	pull, log, pr := attackPullWS(t, WithMaxMsgSize(1<<20))
	raw := dialWSRaw(t, pull.LastEndpoint())
	raw.handshake(socketType("PUSH"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wr, err := raw.c.Writer(ctx, websocket.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	piece := bytes.Repeat([]byte{'x'}, wsSlowPiece)
	piece[0] = 0 // the flags byte: a last frame
	guard := newMemGuard(wsSlowBound)
	sent := 0
	var werr error
	start := time.Now()
	for sent < wsSlowMsgSize && !guard.over() {
		if _, werr = wr.Write(piece); werr != nil {
			break
		}
		piece[0] = 'x'
		sent += len(piece)
		if log.count(failedWith(transport.ErrWSTooLarge)) > 0 {
			break
		}
		time.Sleep(wsSlowEvery)
	}
	elapsed := time.Since(start)
	guard.sample()
	t.Logf("%s of a %s message written in %v (write error: %v); the process grew by at most %s (bound %s)",
		mib(uint64(sent)), mib(wsSlowMsgSize), elapsed.Round(time.Millisecond), werr, mib(guard.peak), mib(wsSlowBound))
	if e, ok := log.wait(failedWith(transport.ErrWSTooLarge), 5*time.Second); !ok {
		t.Errorf("a %s ws message did not drop the connection with ErrWSTooLarge; events: %s", mib(uint64(sent)), log.summary())
	} else {
		t.Logf("dropped: %v (%v)", e.Err, e.Kind)
	}
	if sent > 4<<20 {
		t.Errorf("the connection was dropped only after %s, limit 1 MiB", mib(uint64(sent)))
	}
	if guard.peak > wsSlowBound {
		t.Errorf("a slow large ws message made the process keep %s more, bound %s", mib(guard.peak), mib(wsSlowBound))
	}
	raw.c.CloseNow()
	pr.waitMore(t, 5)
	pr.stop(t)
}

const (
	// wsManyConns is how many ws connections each send an unfinished
	// 60 KB message, slowly.
	wsManyConns = 300
	// wsManySize is each connection's unfinished message, written in
	// wsManyPiece fragments, one per connection a round.
	wsManySize  = 60_000
	wsManyPiece = 4_000
	// wsManyPerConn bounds what one such connection makes the process
	// keep, both ends (this process dials them too): azmq's message
	// buffer, grown by doubling to 64 KiB, the WebSocket and HTTP
	// buffers and the goroutines of each end.
	wsManyPerConn = 256 << 10
)

// TestAttackWSManySlowMessages: 300 ws connections each complete the
// handshake and write 60 KB of one message in 4 KB fragments, a round of
// fragments at a time, and never finish it. Each keeps about its message
// and its buffers; the legitimate peer is served throughout.
func TestAttackWSManySlowMessages(t *testing.T) {
	pull, log, pr := attackPullWS(t)
	base := measureMem()
	guard := newMemGuard(wsManyConns * wsManyPerConn)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ws []interface {
		Write([]byte) (int, error)
	}
	for len(ws) < wsManyConns && !guard.over() {
		w := dialWSRaw(t, pull.LastEndpoint())
		w.handshake(socketType("PUSH"))
		wr, err := w.c.Writer(ctx, websocket.MessageBinary)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, wr)
	}
	opened := measureMem()
	piece := bytes.Repeat([]byte{'x'}, wsManyPiece)
	start := time.Now()
	for sent := 0; sent < wsManySize && !guard.over(); sent += len(piece) {
		for i, wr := range ws {
			p := piece
			if sent == 0 {
				p = append([]byte{0}, piece[1:]...) // the flags byte
			}
			if _, err := wr.Write(p); err != nil {
				t.Fatalf("connection %d after %d bytes: %v", i, sent, err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // the last fragments read
	guard.sample()
	n := uint64(len(ws))
	perConn := growth(base, measureMem()) / n
	t.Logf("%d ws connections opened (%s each with nothing sent); each wrote %d bytes of a message in %v: %s each (bound %s), %s in all (peak %s)%s",
		n, kib(growth(base, opened)/n), wsManySize, elapsed.Round(time.Millisecond), kib(perConn), kib(wsManyPerConn),
		mib(growth(base, measureMem())), mib(guard.peak), rssChange(base, measureMem()))
	if got := log.count(kindAt(EventHandshakeSucceeded, "")) - 1; got != wsManyConns {
		t.Errorf("%d of %d handshakes succeeded; events: %s", got, wsManyConns, log.summary())
	}
	if n := log.count(kindAt(EventDisconnected, "")); n > 0 {
		t.Errorf("%d connections were dropped; events: %s", n, log.summary())
	}
	if guard.peak > wsManyConns*wsManyPerConn {
		t.Errorf("%d unfinished 60 KB ws messages made the process keep %s more, bound %s", wsManyConns, mib(guard.peak), mib(wsManyConns*wsManyPerConn))
	}
	pr.waitMore(t, 5)
	pr.stop(t)
}
