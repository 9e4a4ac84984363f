package azmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/engine"
	"github.com/azmq/azmq/internal/wire"
)

// The attack tests: each one is a hostile peer speaking ZMTP by hand over
// a real tcp connection, and each checks the three things a bound must
// give (DESIGN.md, "Bad input"; STYLE.md §8): the process stays up and the
// attacked socket keeps working, a legitimate peer of the same socket is
// served within maxServeDelay during the attack and after it, and the
// memory the process keeps stays under a stated bound. They are not
// parallel: the memory figures need the process to themselves.

// attackPull is a PULL bound on loopback tcp with a legitimate PUSH
// connected, the probe running through them, and the PULL's events logged.
func attackPull(t *testing.T, opts ...SocketOption) (*Socket, *eventLog, *probe) {
	t.Helper()
	return attackPullAt(t, "tcp://127.0.0.1:*", opts...)
}

// attackPullAt is attackPull with the PULL bound on ep.
func attackPullAt(t *testing.T, ep string, opts ...SocketOption) (*Socket, *eventLog, *probe) {
	t.Helper()
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	pull := newSock(t, z, PULL, opts...)
	log := logEvents(t, pull)
	if err := pull.Bind(ep); err != nil {
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

const (
	// pingFloodCount is how many PINGs the flood sends: 25 MB on the wire.
	// Code that queues a PONG per PING keeps ~23 bytes for each one that
	// cannot be written, tens of MB here.
	pingFloodCount = 1 << 20
	// pingFloodBound bounds what the process may keep during the flood.
	// One pending PONG is 23 bytes; the rest is the connection's buffers
	// and what the legitimate peer has in flight, well under 4 MiB.
	pingFloodBound = 4 << 20
)

// TestAttackPingFlood: a peer completes the NULL handshake, then sends
// PINGs (TTL 0, a 16-byte context each) as fast as tcp takes them and
// never reads. azmq keeps one pending PONG, not one per PING.
func TestAttackPingFlood(t *testing.T) {
	pull, log, pr := attackPull(t)
	raw := dialRaw(t, pull)
	raw.handshake(socketType("PUSH"))

	ping := wire.AppendPing(nil, 0, []byte("0123456789abcdef"))
	perChunk := (64 << 10) / len(ping)
	chunk := make([]byte, 0, perChunk*len(ping))
	for range perChunk {
		chunk = append(chunk, ping...)
	}
	guard := newMemGuard(pingFloodBound)
	sent := 0
	var werr error
	start := time.Now()
	for sent < pingFloodCount && !guard.over() {
		if werr = raw.write(chunk, 30*time.Second); werr != nil {
			break // azmq may close the connection: that bounds it too
		}
		sent += perChunk
	}
	elapsed := time.Since(start)
	// The last PINGs may still sit in the socket buffers: measure a few
	// times while azmq reads them.
	for range 3 {
		time.Sleep(200 * time.Millisecond)
		guard.sample()
	}
	t.Logf("%d PINGs (%d bytes) sent in %v (write error: %v); the process grew by at most %s (bound %s)%s",
		sent, sent*len(ping), elapsed.Round(time.Millisecond), werr, mib(guard.peak), mib(pingFloodBound), rssChange(guard.base, measureMem()))
	if guard.peak > pingFloodBound {
		t.Errorf("a PING flood made the process keep %s more, bound %s: PONGs are queued, not coalesced", mib(guard.peak), mib(pingFloodBound))
	}
	if sent < pingFloodCount && werr == nil {
		t.Errorf("the flood stopped after %d of %d PINGs: memory past twice the bound", sent, pingFloodCount)
	}
	if e, ok := log.first(kindAt(EventDisconnected, raw.addr())); ok {
		t.Logf("azmq dropped the flooding connection: %v", e.Err)
	} else {
		t.Logf("the flooding connection stayed open")
	}
	raw.c.Close()
	pr.waitMore(t, 5)
	pr.stop(t)
}

const (
	// emptyFramesMaxMsg is the attacked socket's WithMaxMsgSize.
	emptyFramesMaxMsg = 1 << 20
	// emptyFramesAllowed is how many empty frames of one message fit in
	// emptyFramesMaxMsg when each counts engine.FrameOverhead (64 bytes):
	// 16,384. Two more drop the connection, whether or not the first
	// frame counts the overhead.
	emptyFramesAllowed = emptyFramesMaxMsg / engine.FrameOverhead
	// emptyFloodFrames is how many empty MORE frames the flood may send
	// (2 bytes each on the wire, 8 MB): far more than the limit allows.
	emptyFloodFrames = 4 << 20
	// emptyFloodBound bounds what the process may keep during the flood.
	// The limit lets one message of at most 16,384 empty frames be
	// assembled (a few dozen bytes each, under 1 MiB) before the drop;
	// code that counts only the bytes of the bodies keeps every frame of
	// the flood, tens of MB before the test gives up.
	emptyFloodBound = 4 << 20
)

// TestAttackEmptyFrames: a peer sends one unfinished message of empty MORE
// frames to a PULL with WithMaxMsgSize(1 MiB). Each frame counts its size
// plus engine.FrameOverhead toward the limit, so the connection is dropped
// with ErrTooLarge after about emptyFramesAllowed frames, however small
// they are.
func TestAttackEmptyFrames(t *testing.T) {
	pull, log, pr := attackPull(t, WithMaxMsgSize(emptyFramesMaxMsg))
	more := wire.AppendFrame(nil, wire.FlagMore, nil)

	// Up to the limit: the message is still being assembled, and what it
	// keeps is what the limit lets any peer make azmq keep.
	raw := dialRaw(t, pull)
	raw.handshake(socketType("PUSH"))
	guard := newMemGuard(emptyFloodBound)
	if err := raw.write(bytes.Repeat(more, emptyFramesAllowed), rawIOTimeout); err != nil {
		t.Fatalf("sending %d empty frames: %v", emptyFramesAllowed, err)
	}
	if e, ok := log.wait(kindAt(EventDisconnected, raw.addr()), 300*time.Millisecond); ok {
		t.Errorf("%d empty frames (%d bytes counted, limit %d) dropped the connection: %v",
			emptyFramesAllowed, (emptyFramesAllowed-1)*engine.FrameOverhead, emptyFramesMaxMsg, e.Err)
	}
	atLimit := guard.sample()
	t.Logf("an unfinished message of %d empty frames keeps %s (%d bytes a frame)", emptyFramesAllowed, kib(atLimit), atLimit/emptyFramesAllowed)
	// Two frames more pass the limit however the first frame is counted.
	if err := raw.write(bytes.Repeat(more, 2), rawIOTimeout); err != nil {
		t.Fatalf("sending 2 more empty frames: %v", err)
	}
	if _, ok := log.wait(droppedFor(raw.addr(), ErrTooLarge), 5*time.Second); !ok {
		t.Errorf("%d empty MORE frames (limit %d bytes, %d per frame) did not drop the connection with ErrTooLarge; events: %s",
			emptyFramesAllowed+2, emptyFramesMaxMsg, engine.FrameOverhead, log.summary())
	}

	// The flood: far more, until azmq closes the connection.
	raw = dialRaw(t, pull)
	raw.handshake(socketType("PUSH"))
	chunk := bytes.Repeat(more, 32<<10)
	guard = newMemGuard(emptyFloodBound)
	sent := 0
	var werr error
	start := time.Now()
	for sent < emptyFloodFrames && !guard.over() {
		if werr = raw.write(chunk, 10*time.Second); werr != nil {
			break
		}
		sent += len(chunk) / len(more)
	}
	elapsed := time.Since(start)
	guard.sample()
	peak := max(guard.peak, atLimit)
	t.Logf("flood: %d empty frames written in %v before the write failed (%v); the process grew by at most %s (bound %s)",
		sent, elapsed.Round(time.Millisecond), werr, mib(peak), mib(emptyFloodBound))
	if peak > emptyFloodBound {
		t.Errorf("empty frames made the process keep %s more, bound %s: frames are not counted toward WithMaxMsgSize", mib(peak), mib(emptyFloodBound))
	}
	if e, ok := log.wait(droppedFor(raw.addr(), ErrTooLarge), 5*time.Second); !ok {
		t.Errorf("the flood of %d empty frames did not drop the connection with ErrTooLarge; events: %s", sent, log.summary())
	} else {
		t.Logf("dropped: %v", e.Err)
	}
	pr.waitMore(t, 5)
	pr.stop(t)
}

const (
	// propFloodConns is how many connections each part of the property
	// flood opens (and holds, when azmq accepts them).
	propFloodConns = 500
	// propFloodBatch is how many connections are dialled before waiting
	// for their handshakes: their events (two or three each) must fit the
	// monitor's channel (MonitorBuffer) even when the reader lags.
	propFloodBatch = 20
	// propFloodBound bounds what the process may keep after the refused
	// connections: they hold nothing once refused, so what remains is
	// the client ends of the connections (this process dials them) and
	// the garbage of the last handshakes. Code that accepts the READY
	// keeps ~470 KiB of heap per connection, over 200 MiB for 500.
	propFloodBound = 8 << 20
	// propKeptFactor bounds what an accepted connection keeps for a READY
	// within the caps: at most this many times the READY's size, plus what
	// a connection with a small READY keeps (measured first).
	propKeptFactor = 3
)

// floodReady is a READY of empty 1-byte-named properties filling a whole
// command frame (a 64 KiB body): ~10,900 of them, where a READY may have
// wire.MaxProperties.
func floodReady() wire.Metadata {
	const body = 64 << 10
	md := socketType("PUSH")
	for n := 1 + len(wire.CmdReady) + wire.MetadataLen(md); n+6 <= body; n += 6 {
		md = append(md, wire.Property{Name: string(rune('a' + len(md)%26)), Value: []byte{}})
	}
	return md
}

// bigReady is a READY within the caps (wire.MaxProperties,
// wire.MaxPropertyValue) and nearly as large as a command frame may be:
// 100 properties whose values add up to ~60 KiB.
func bigReady() wire.Metadata {
	const propCount = 100
	md := socketType("PUSH")
	for i := range propCount {
		md = append(md, wire.Property{Name: fmt.Sprintf("X-Attack-%03d", i), Value: bytes.Repeat([]byte{byte(i)}, 600)})
	}
	return md
}

// openRaw opens n raw connections to s, each sending greeting+READY with
// md in one write, in batches, waiting after each batch until azmq has
// finished each handshake (succeeded or failed). It stops early if guard
// reports the memory past its bound. It returns the connections, open.
func openRaw(t *testing.T, s *Socket, log *eventLog, n int, md wire.Metadata, guard *memGuard) []*rawPeer {
	t.Helper()
	hello := nullGreeting(md)
	done := func(e Event) bool { return e.Kind == EventHandshakeSucceeded || e.Kind == EventHandshakeFailed }
	start := log.count(done)
	var conns []*rawPeer
	for len(conns) < n {
		for range min(propFloodBatch, n-len(conns)) {
			p := dialRaw(t, s)
			if err := p.write(hello, rawIOTimeout); err != nil {
				t.Fatalf("connection %d: send greeting and READY: %v", len(conns), err)
			}
			conns = append(conns, p)
		}
		// Generous: CI runs other packages' tests beside this one.
		if got := log.waitCount(done, start+len(conns), 30*time.Second); got < start+len(conns) {
			t.Fatalf("%d of %d handshakes ended within 30 s; events: %s", got-start, len(conns), log.summary())
		}
		if guard != nil && guard.over() {
			t.Errorf("stopped after %d connections: the process keeps %s more, past twice the bound %s", len(conns), mib(guard.peak), mib(guard.bound))
			break
		}
	}
	return conns
}

// TestAttackPropertyFlood: 500 connections each send a 64 KiB READY of
// ~10,900 empty properties; each is refused as malformed (more than 128
// properties, and repeated names), and the process keeps nothing for them.
// Then 500 connections each send a READY within the caps but large
// (100 properties, ~60 KiB), and are held open: each keeps about what it
// sent.
func TestAttackPropertyFlood(t *testing.T) {
	pull, log, pr := attackPull(t)
	md := floodReady()
	count := len(md)
	readySize := len(wire.AppendReady(nil, md))
	refused := func(e Event) bool { return e.Kind == EventHandshakeFailed && errors.Is(e.Err, wire.ErrMalformed) }
	accepted := kindAt(EventHandshakeSucceeded, "")

	guard := newMemGuard(propFloodBound)
	conns := openRaw(t, pull, log, propFloodConns, md, guard)
	guard.sample()
	t.Logf("flood: %d connections, each a %d-byte READY of %d properties: %d refused as malformed, %d accepted; the process keeps %s more (bound %s, %s a connection)%s",
		len(conns), readySize, count, log.count(refused), log.count(accepted)-1, mib(guard.peak), mib(propFloodBound),
		kib(guard.peak/uint64(max(len(conns), 1))), rssChange(guard.base, measureMem()))
	if n := log.count(refused); n != propFloodConns {
		t.Errorf("%d of %d READYs of %d properties were refused as malformed; events: %s", n, propFloodConns, count, log.summary())
	}
	if guard.peak > propFloodBound {
		t.Errorf("%d connections with a flood of properties made the process keep %s more, bound %s", len(conns), mib(guard.peak), mib(propFloodBound))
	}
	for _, c := range conns {
		c.c.Close()
	}
	if t.Failed() {
		pr.stop(t)
		return
	}

	// Within the caps: what a connection keeps is about what it sent.
	keep := func(md wire.Metadata) uint64 {
		t.Helper()
		gone := kindAt(EventDisconnected, "")
		base := measureMem()
		ok := log.count(accepted)
		conns := openRaw(t, pull, log, propFloodConns, md, nil)
		m := measureMem()
		if n := log.count(accepted) - ok; n != len(conns) {
			t.Fatalf("%d of %d READYs of %d properties (%d bytes) within the caps were accepted; events: %s",
				n, len(conns), len(md), len(wire.AppendReady(nil, md)), log.summary())
		}
		n := uint64(len(conns))
		// Closed in batches, so their events fit the monitor's channel.
		for len(conns) > 0 {
			batch := conns[:min(propFloodBatch, len(conns))]
			conns = conns[len(batch):]
			before := log.count(gone)
			for _, c := range batch {
				c.c.Close()
			}
			if got := log.waitCount(gone, before+len(batch), 30*time.Second); got < before+len(batch) {
				t.Fatalf("%d of %d connections ended within 30 s of their close; events: %s", got-before, len(batch), log.summary())
			}
		}
		return growth(base, m) / n
	}
	fixed := keep(socketType("PUSH"))
	big := bigReady()
	bigSize := uint64(len(wire.AppendReady(nil, big)))
	perConn := keep(big)
	bound := fixed + propKeptFactor*bigSize
	t.Logf("within the caps: a connection with a small READY keeps %s; with a %d-byte READY of %d properties %s (bound %s)",
		kib(fixed), bigSize, len(big), kib(perConn), kib(bound))
	if perConn > bound {
		t.Errorf("a connection with a %d-byte READY keeps %s, more than %d times its READY plus %s", bigSize, kib(perConn), propKeptFactor, kib(fixed))
	}
	pr.waitMore(t, 5)
	pr.stop(t)
}

// attackRouter is a ROUTER bound on loopback tcp whose application echoes
// what the legitimate DEALERs send (routing ids "legit" and "fast") and
// hands every other message to others. The probe runs through "legit".
type attackRouter struct {
	router  *Socket
	log     *eventLog
	probe   *probe
	fast    *Socket // a legitimate DEALER for the throughput measurement
	others  chan [][]byte
	foreign atomic.Int64 // messages from other peers (others may drop some)
}

func newAttackRouter(t *testing.T) *attackRouter {
	t.Helper()
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	a := &attackRouter{others: make(chan [][]byte, 16)}
	a.router = newSock(t, z, ROUTER)
	a.log = logEvents(t, a.router)
	if err := a.router.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	legit := newSock(t, z, DEALER, WithRoutingID([]byte("legit")))
	a.fast = newSock(t, z, DEALER, WithRoutingID([]byte("fast")))
	for _, d := range []*Socket{legit, a.fast} {
		if err := d.Connect(a.router.LastEndpoint()); err != nil {
			t.Fatal(err)
		}
	}
	echoCtx, stop := context.WithCancel(context.Background())
	echoDone := make(chan struct{})
	go func() {
		defer close(echoDone)
		for range 10_000_000 {
			m, err := a.router.Recv(echoCtx)
			if err != nil {
				return
			}
			if id := string(m[0]); id == "legit" || id == "fast" {
				a.router.Send(echoCtx, m...)
				continue
			}
			a.foreign.Add(1)
			select {
			case a.others <- m:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		<-echoDone
	})
	for _, d := range []*Socket{legit, a.fast} {
		mustSend(t, ctx, d, "warm-up")
		mustRecv(t, ctx, d, "warm-up")
	}
	a.probe = startProbe(t, func(ctx context.Context, i int) error {
		want := []byte("legit-" + strconv.Itoa(i))
		if err := legit.Send(ctx, want); err != nil {
			return err
		}
		got, err := legit.Recv(ctx)
		if err != nil {
			return err
		}
		if len(got) != 1 || !bytes.Equal(got[0], want) {
			return fmt.Errorf("DEALER received %q, want %q", got, want)
		}
		return nil
	})
	return a
}

// roundTrips times n sequential round trips of the "fast" DEALER and
// returns them per second.
func (a *attackRouter) roundTrips(t *testing.T, n int) float64 {
	t.Helper()
	ctx := testCtx(t)
	start := time.Now()
	for range n {
		mustSend(t, ctx, a.fast, "rt")
		mustRecv(t, ctx, a.fast, "rt")
	}
	return float64(n) / time.Since(start).Seconds()
}

const (
	// longIDConns is how many connections ask for a 65,000-byte routing id.
	longIDConns = 100
	// longIDBound bounds what the process may keep once they are refused:
	// nothing of theirs. Code that accepts them keeps each id several times
	// over (the routing table, the pipe, the peer's properties) and the
	// messages they send, tens of MB here.
	longIDBound = 8 << 20
	// longIDRoundTrips is the length of each throughput measurement.
	longIDRoundTrips = 300
	// longIDMinSpeed is the least fraction of its speed before the attack
	// the legitimate DEALER must keep during it. The refused peers cost
	// nothing once refused; code that accepts them copies a 65,000-byte
	// id into every message they send, and the legitimate DEALER waits
	// its turn behind them.
	longIDMinSpeed = 0.25
)

// TestAttackLongIdentity: peers connect to a ROUTER asking for routing ids
// longer than 255 bytes (65,000 bytes still fit a READY); each handshake
// fails as malformed, and the ROUTER keeps serving a legitimate DEALER at
// its speed before the attack while they send messages. An id of 255 bytes
// is accepted and routable.
func TestAttackLongIdentity(t *testing.T) {
	a := newAttackRouter(t)
	ready := func(idLen int) wire.Metadata {
		return wire.Metadata{
			{Name: wire.PropSocketType, Value: []byte("DEALER")},
			{Name: wire.PropIdentity, Value: bytes.Repeat([]byte{'i'}, idLen)},
		}
	}
	refused := func(addr string) func(Event) bool {
		return func(e Event) bool {
			return e.Kind == EventHandshakeFailed && e.Endpoint == addr && errors.Is(e.Err, wire.ErrMalformed)
		}
	}

	t.Run("65000", func(t *testing.T) {
		before := a.roundTrips(t, longIDRoundTrips)
		guard := newMemGuard(longIDBound)
		conns := openRaw(t, a.router, a.log, longIDConns, ready(65000), guard)
		n := 0
		for _, c := range conns {
			if _, ok := a.log.first(refused(c.addr())); ok {
				n++
			}
		}
		if n != len(conns) {
			t.Errorf("%d of %d READYs with a 65,000-byte Identity were refused as malformed; events: %s", n, len(conns), a.log.summary())
		}
		// Each sends messages anyway (a write to a closed connection may
		// fail or vanish: either is fine), while the DEALER is timed.
		msgs := bytes.Repeat(wire.AppendFrame(nil, 0, []byte("x")), (64<<10)/3)
		for _, c := range conns {
			c.write(msgs, 100*time.Millisecond)
		}
		during := a.roundTrips(t, longIDRoundTrips)
		guard.sample()
		t.Logf("%d connections with a 65,000-byte Identity: %d refused; the ROUTER received %d of their messages; the process keeps %s more (bound %s); DEALER round trips %.0f/s before, %.0f/s during",
			len(conns), n, a.foreign.Load(), mib(guard.peak), mib(longIDBound), before, during)
		if during < longIDMinSpeed*before {
			t.Errorf("the legitimate DEALER slowed from %.0f to %.0f round trips/s", before, during)
		}
		if guard.peak > longIDBound {
			t.Errorf("the long ids made the process keep %s more, bound %s", mib(guard.peak), mib(longIDBound))
		}
	})

	t.Run("256", func(t *testing.T) {
		raw := dialRaw(t, a.router)
		if err := raw.write(nullGreeting(ready(wire.MaxIdentity+1)), rawIOTimeout); err != nil {
			t.Fatal(err)
		}
		if _, ok := a.log.wait(refused(raw.addr()), 5*time.Second); !ok {
			t.Errorf("a READY with a %d-byte Identity was not refused as malformed; events: %s", wire.MaxIdentity+1, a.log.summary())
		}
		if !raw.closedByPeer(5 * time.Second) {
			t.Errorf("the connection with a %d-byte Identity is still open", wire.MaxIdentity+1)
		}
	})

	t.Run("255", func(t *testing.T) {
		ctx := testCtx(t)
		md := ready(wire.MaxIdentity)
		id, _ := md.Get(wire.PropIdentity)
		raw := dialRaw(t, a.router)
		raw.handshake(md)
		if err := raw.write(wire.AppendFrame(nil, 0, []byte("from-255")), rawIOTimeout); err != nil {
			t.Fatal(err)
		}
		// Wait for its message; any other peer's are not the point here.
		deadline := time.After(5 * time.Second)
		for got := false; !got; {
			select {
			case m := <-a.others:
				if len(m) != 2 || len(m[0]) != len(id) {
					continue
				}
				if !bytes.Equal(m[0], id) || string(m[1]) != "from-255" {
					t.Fatalf("ROUTER received [%q, %q], want [the 255-byte id, \"from-255\"]", m[0], m[1])
				}
				got = true
			case <-deadline:
				t.Fatal("the ROUTER received nothing from the peer with a 255-byte id")
			}
		}
		if err := a.router.Send(ctx, id, []byte("to-255")); err != nil {
			t.Fatal(err)
		}
		if _, body, err := raw.readFrame(); err != nil || string(body) != "to-255" {
			t.Fatalf("the peer with a 255-byte id read %q, %v; want \"to-255\"", body, err)
		}
	})

	a.probe.waitMore(t, 5)
	a.probe.stop(t)
}

const (
	// subFloodCap is the attacked PUB's WithMaxSubscriptionBytes.
	subFloodCap = 1 << 20
	// subTopicSize is the size of each topic the attacker subscribes to.
	subTopicSize = 1 << 10
	// subTopicCost is what each distinct topic counts toward the cap:
	// 256 bytes of bookkeeping plus twice its length (WithMaxSubscriptionBytes).
	subTopicCost = 256 + 2*subTopicSize
	// subAtCap is how many such topics fit the cap: 455.
	subAtCap = subFloodCap / subTopicCost
	// subFloodTopics is how many distinct topics the attacker may send
	// (32 MB): seventy times what the cap allows (455).
	subFloodTopics = 32 << 10
	// subFloodBound bounds what the process may keep during the flood:
	// the topics the cap lets one connection hold (1 MiB counted), the
	// subscriptions queued on their way to the PUB (at most the receive
	// HWM, 1000 of 1 KiB), buffers. Code without the cap keeps every
	// topic, tens of MB before the test gives up.
	subFloodBound = 4 << 20
)

// TestAttackSubscriptionFlood: a raw SUB subscribes to ever more distinct
// 1 KiB topics on a PUB bound with WithMaxSubscriptionBytes(1 MiB), while
// the PUB keeps publishing to a legitimate SUB. The attacker's connection
// is dropped once its topics pass the cap, with ErrTooManySubscriptions,
// and the legitimate SUB keeps receiving.
func TestAttackSubscriptionFlood(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	t.Cleanup(func() { z.Close() })
	pub := newSock(t, z, PUB, WithMaxSubscriptionBytes(subFloodCap))
	log := logEvents(t, pub)
	if err := pub.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	sub := newSock(t, z, SUB)
	if err := sub.Subscribe([]byte("legit")); err != nil {
		t.Fatal(err)
	}
	if err := sub.Connect(pub.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	publishUntilReceived(t, ctx, pub, sub, []string{"noise"}, []string{"legit", "warm-up"})
	// The PUB keeps publishing (subscriptions are applied as it does)...
	stopNoise := make(chan struct{})
	noiseDone := make(chan struct{})
	go func() {
		defer close(noiseDone)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for range 1_000_000 {
			select {
			case <-tick.C:
				pub.Send(ctx, []byte("noise"))
			case <-stopNoise:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stopNoise)
		<-noiseDone
	})
	// ...and the legitimate SUB receives each numbered message.
	pr := startProbe(t, func(ctx context.Context, i int) error {
		want := strconv.Itoa(i)
		if err := pub.Send(ctx, []byte("legit"), []byte(want)); err != nil {
			return err
		}
		for range 1000 { // skips what an earlier, slow exchange left
			m, err := sub.Recv(ctx)
			if err != nil {
				return err
			}
			if len(m) == 2 && string(m[1]) == want {
				return nil
			}
		}
		return fmt.Errorf("message %s not received", want)
	})

	// Up to the cap: the PUB holds every topic, and what they take is what
	// the cap lets one subscriber make azmq keep.
	raw := dialRaw(t, pub)
	raw.handshake(socketType("SUB"))
	guard := newMemGuard(subFloodBound)
	var subs []byte
	for i := range subAtCap {
		subs = wire.AppendSubscribe(subs, attackTopic(i))
	}
	if err := raw.write(subs, rawIOTimeout); err != nil {
		t.Fatalf("subscribing to %d topics: %v", subAtCap, err)
	}
	// The last topic reaches the raw SUB once the PUB has applied them all.
	last := attackTopic(subAtCap - 1)
	got := make(chan error, 1)
	go func() {
		_, body, err := raw.readFrame()
		if err == nil && !bytes.Equal(body, last) {
			err = fmt.Errorf("it received %d bytes that are not its last topic", len(body))
		}
		got <- err
	}()
	var err error
	for i := range 1000 { // readFrame gives up after rawIOTimeout
		if i > 0 {
			pub.Send(ctx, last)
		}
		select {
		case err = <-got:
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	if err != nil {
		t.Fatalf("the raw SUB holding %d topics did not receive a message on the last one: %v; events: %s", subAtCap, err, log.summary())
	}
	atCap := guard.sample()
	t.Logf("a subscriber holding %d distinct %d-byte topics (%d bytes counted, cap %d) makes the process keep %s more",
		subAtCap, subTopicSize, subAtCap*subTopicCost, subFloodCap, kib(atCap))
	if e, ok := log.first(kindAt(EventDisconnected, raw.addr())); ok {
		t.Fatalf("the subscriber within the cap was dropped: %v", e.Err)
	}
	// One topic more goes over.
	if err := raw.write(wire.AppendSubscribe(nil, attackTopic(subAtCap)), rawIOTimeout); err != nil {
		t.Fatalf("subscribing to one more topic: %v", err)
	}
	if _, ok := log.wait(droppedFor(raw.addr(), ErrTooManySubscriptions), 5*time.Second); !ok {
		t.Errorf("topic %d (%d bytes counted, cap %d) did not drop the subscriber with ErrTooManySubscriptions; events: %s",
			subAtCap+1, (subAtCap+1)*subTopicCost, subFloodCap, log.summary())
	}

	// The flood: ever more topics, until azmq closes the connection.
	raw = dialRaw(t, pub)
	raw.handshake(socketType("SUB"))
	perChunk := (64 << 10) / len(wire.AppendSubscribe(nil, last))
	guard = newMemGuard(subFloodBound)
	sent := 0
	var werr error
	start := time.Now()
	for sent < subFloodTopics && werr == nil && !guard.over() {
		var chunk []byte
		for range perChunk {
			chunk = wire.AppendSubscribe(chunk, attackTopic(sent))
			sent++
		}
		werr = raw.write(chunk, 10*time.Second)
	}
	elapsed := time.Since(start)
	guard.sample()
	peak := max(guard.peak, atCap)
	t.Logf("flood: %d distinct topics written in %v (write error: %v); the process grew by at most %s (bound %s)",
		sent, elapsed.Round(time.Millisecond), werr, mib(peak), mib(subFloodBound))
	if peak > subFloodBound {
		t.Errorf("subscriptions made the process keep %s more, bound %s", mib(peak), mib(subFloodBound))
	}
	if e, ok := log.wait(droppedFor(raw.addr(), ErrTooManySubscriptions), 5*time.Second); !ok {
		t.Errorf("%d distinct topics (%d bytes counted each, cap %d) did not drop the subscriber with ErrTooManySubscriptions; events: %s",
			sent, subTopicCost, subFloodCap, log.summary())
	} else {
		t.Logf("dropped: %v", e.Err)
	}
	pr.waitMore(t, 5)
	pr.stop(t)
}

// attackTopic is the i-th distinct topic of the subscription flood:
// subTopicSize bytes, distinct in their first bytes.
func attackTopic(i int) []byte {
	t := bytes.Repeat([]byte{'t'}, subTopicSize)
	copy(t, fmt.Sprintf("attack-%08d-", i))
	return t
}
