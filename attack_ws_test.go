package azmq

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
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
	return attackPullAt(t, "ws://127.0.0.1:*/zmq", opts...)
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
// the engine runs the peer as ZMTP 3.0 but still answers a PING with a
// PONG (checked first); with a peer that never reads, the PONGs pile up
// nowhere: the memory stays bounded.
func TestAttackWSPingFlood(t *testing.T) {
	pull, log, pr := attackPullWS(t)
	raw := dialWSRaw(t, pull.LastEndpoint())
	raw.handshake(socketType("PUSH"))

	// The engine answers a PING on ws as on tcp (engine.command): the
	// flood's PONGs are written to a peer that never reads.
	if err := raw.send(zwsMsg(wire.AppendPing(nil, 0, []byte("first"))), rawIOTimeout); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(context.Background(), rawIOTimeout)
	_, m, err := raw.c.Read(rctx)
	cancel()
	if err != nil || !bytes.Equal(m, zwsMsg(wire.AppendPong(nil, []byte("first")))) {
		t.Fatalf("a PING over ws: got %q (%v), want a PONG", m, err)
	}

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

// reqRepExchange is the probe's exchange through a REP: the legitimate
// REQ sends a numbered request and gets it back.
func reqRepExchange(req, rep *Socket) func(context.Context, int) error {
	return func(ctx context.Context, i int) error {
		want := []byte("legit-" + string(rune('a'+i%26)))
		if err := req.Send(ctx, want); err != nil {
			return err
		}
		got, err := rep.Recv(ctx)
		if err != nil {
			return err
		}
		if err := rep.Send(ctx, got...); err != nil {
			return err
		}
		back, err := req.Recv(ctx)
		if err != nil {
			return err
		}
		if len(back) != 1 || !bytes.Equal(back[0], want) {
			return errors.New("REQ received " + string(bytes.Join(back, []byte("|"))) + ", want " + string(want))
		}
		return nil
	}
}

const (
	// slowlorisConns is how many connections send half an upgrade request.
	slowlorisConns = 100
	// slowlorisHeaderTimeout is internal/transport's wsHeaderTimeout (10 s),
	// the listener's ReadHeaderTimeout; there is no hook to shorten it, so
	// the test waits it out once for all the connections together.
	slowlorisHeaderTimeout = 10 * time.Second
	// slowlorisSlack is how much later than the timeout a stalled
	// connection may be closed.
	slowlorisSlack = 5 * time.Second
)

// TestWSSlowloris: 100 tcp connections to a ws Bind each send half an
// HTTP upgrade request and stall. The listener closes each after its
// header timeout, not earlier than half of it and not much later, while a
// legitimate ws REQ keeps round-tripping through the same listener.
func TestWSSlowloris(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	rep := newSock(t, z, REP)
	if err := rep.Bind("ws://127.0.0.1:*/zmq"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(rep.LastEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	req := newSock(t, z, REQ)
	if err := req.Connect(rep.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, req, "warm-up")
	mustRecv(t, ctx, rep, "warm-up")
	mustSend(t, ctx, rep, "ok")
	mustRecv(t, ctx, req, "ok")
	pr := startProbe(t, reqRepExchange(req, rep))

	half := []byte("GET /zmq HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	base := measureMem()
	start := time.Now()
	conns := make([]net.Conn, 0, slowlorisConns)
	for range slowlorisConns {
		c, err := net.DialTimeout("tcp", u.Host, rawIOTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetWriteDeadline(time.Now().Add(rawIOTimeout))
		if _, err := c.Write(half); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	held := measureMem()
	// Each is read until the listener closes it, or the bound passes.
	end := start.Add(slowlorisHeaderTimeout + slowlorisSlack)
	var first, last time.Duration
	closed := 0
	for i, c := range conns {
		c.SetReadDeadline(end)
		_, err := io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("stalled connection %d still open %v after it was opened", i, time.Since(start).Round(time.Millisecond))
			break
		}
		d := time.Since(start)
		if closed == 0 {
			first = d
		}
		last = d
		closed++
	}
	t.Logf("%d stalled half-requests held %s; %d closed by the listener, the first after %v, the last after %v (header timeout %v)%s",
		len(conns), kib(growth(base, held)), closed, first.Round(time.Millisecond), last.Round(time.Millisecond),
		slowlorisHeaderTimeout, rssChange(base, held))
	if closed > 0 && first < slowlorisHeaderTimeout/2 {
		t.Errorf("a stalled connection was closed after %v, before half the header timeout %v: something else closed it", first, slowlorisHeaderTimeout)
	}
	pr.waitMore(t, 5)
	pr.stop(t)
}

const (
	// slowReaderMsgs bounds the messages the PUB publishes while one of
	// its ws subscribers never reads (1 KiB each), and slowReaderTime the
	// time it spends.
	slowReaderMsgs = 200_000
	slowReaderTime = 5 * time.Second
	// slowReaderBound bounds what the process keeps: the stalled pipe's
	// SNDHWM (1000 messages of 1 KiB) and the write side's buffers (the
	// frame being built, the WebSocket writer's), the rest in the
	// kernel's socket buffers; far less than the 200 MB published.
	slowReaderBound = 8 << 20
)

// TestWSSlowReader: a ws client completes the upgrade and the handshake,
// subscribes to everything, reads one message and then never reads while
// the PUB publishes 1 KiB messages. The memory stays bounded (the HWM and
// the write side's buffers) and another ws SUB keeps receiving.
func TestWSSlowReader(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	pub := newSock(t, z, PUB)
	if err := pub.Bind("ws://127.0.0.1:*/zmq"); err != nil {
		t.Fatal(err)
	}
	sub := newSock(t, z, SUB)
	if err := sub.Subscribe([]byte("legit")); err != nil {
		t.Fatal(err)
	}
	if err := sub.Connect(pub.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	// The subscription reaches the PUB asynchronously: publish until one
	// arrives.
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("the legitimate SUB received nothing in 100 tries")
		}
		mustSend(t, ctx, pub, "legit-warm-up")
		rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := sub.Recv(rctx)
		cancel()
		if err == nil {
			break
		}
	}
	pr := startProbe(t, func(ctx context.Context, i int) error {
		want := []byte("legit-" + string(rune('a'+i%26)))
		if err := pub.Send(ctx, want); err != nil {
			return err
		}
		got, err := sub.Recv(ctx)
		if err != nil {
			return err
		}
		if len(got) != 1 || !bytes.Equal(got[0], want) {
			return errors.New("SUB received " + string(bytes.Join(got, []byte("|"))) + ", want " + string(want))
		}
		return nil
	})

	// The stalled subscriber: a subscription to everything is a data
	// message [0x01] under ZMTP 3.0, so [flags 0][0x01] here.
	raw := dialWSRaw(t, pub.LastEndpoint())
	raw.handshake(socketType("SUB"))
	if err := raw.send([]byte{0, 1}, rawIOTimeout); err != nil {
		t.Fatal(err)
	}
	bulk := bytes.Repeat([]byte{'b'}, 1<<10)
	got := make(chan error, 1)
	go func() {
		rctx, cancel := context.WithTimeout(context.Background(), rawIOTimeout)
		defer cancel()
		_, _, err := raw.c.Read(rctx)
		got <- err
	}()
	for i := 0; ; i++ {
		if err := pub.Send(ctx, []byte("bulk"), bulk); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("the stalled subscriber's first read: %v", err)
			}
		case <-time.After(10 * time.Millisecond):
			if i == 100 {
				t.Fatal("the stalled subscriber received nothing in 100 tries")
			}
			continue
		}
		break
	}

	guard := newMemGuard(slowReaderBound)
	start := time.Now()
	sent := 0
	for sent < slowReaderMsgs && time.Since(start) < slowReaderTime && !guard.over() {
		if err := pub.Send(ctx, []byte("bulk"), bulk); err != nil {
			t.Fatalf("publish %d: %v", sent, err)
		}
		sent++
	}
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	guard.sample()
	t.Logf("%d messages of 1 KiB published in %v to a ws subscriber that never reads; the process grew by at most %s (bound %s)%s",
		sent, elapsed.Round(time.Millisecond), mib(guard.peak), mib(slowReaderBound), rssChange(guard.base, measureMem()))
	if guard.peak > slowReaderBound {
		t.Errorf("a ws subscriber that never reads made the process keep %s more, bound %s", mib(guard.peak), mib(slowReaderBound))
	}
	if sent < 10_000 {
		t.Errorf("only %d messages published in %v: the PUB is held up by the stalled subscriber", sent, elapsed)
	}
	pr.waitMore(t, 5)
	pr.stop(t)
	raw.c.CloseNow()
}
