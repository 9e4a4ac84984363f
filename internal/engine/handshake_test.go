package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

// TestHandshakeSuccess drives the greeting and READY exchange in the ways a
// libzmq peer (or an RFC peer) may stage it.
func TestHandshakeSuccess(t *testing.T) {
	peerReady := ready("Socket-Type", "ROUTER", "Identity", "peer-id", "X-App", "v1")
	type stage func(p *rawPeer, g []byte)
	// Greeting exchanges; each returns after our whole greeting was read
	// and checked.
	staged := func(p *rawPeer, g []byte) {
		// PROTOCOL G1: 10 bytes, wait for ours, 1 byte, wait, the rest.
		p.write(g[:10])
		got := p.read(10)
		p.write(g[10:11])
		got = append(got, p.read(1)...)
		p.write(g[11:])
		got = append(got, p.read(wire.GreetingSize-11)...)
		if !bytes.Equal(got, vecGreetingNull) {
			p.t.Fatalf("our greeting\n% x\nwant\n% x", got, vecGreetingNull)
		}
	}
	whole := func(p *rawPeer, g []byte) {
		p.write(g)
		if got := p.read(wire.GreetingSize); !bytes.Equal(got, vecGreetingNull) {
			p.t.Fatalf("our greeting\n% x\nwant\n% x", got, vecGreetingNull)
		}
	}
	readFirst := func(p *rawPeer, g []byte) {
		// The peer waits for as much of ours as comes unprompted (the
		// signature and major: the rest waits for the peer's major, as
		// in libzmq) before sending anything.
		got := p.read(wire.SignatureSize + 1)
		p.write(g)
		got = append(got, p.read(wire.GreetingSize-wire.SignatureSize-1)...)
		if !bytes.Equal(got, vecGreetingNull) {
			p.t.Fatalf("our greeting\n% x\nwant\n% x", got, vecGreetingNull)
		}
	}
	byteByByte := func(p *rawPeer, g []byte) {
		for i := range g {
			p.write(g[i : i+1])
		}
		p.read(wire.GreetingSize)
	}
	greetings := []struct {
		name string
		do   stage
	}{
		{"staged", staged},
		{"whole", whole},
		{"read-first", readFirst},
		{"byte-by-byte", byteByByte},
	}
	versions := []struct {
		major, minor byte
		want         byte
	}{
		{3, 0, 0},
		{3, 1, 1},
		{3, 7, 1},
		{4, 0, 1},
		{255, 255, 1},
	}
	for _, gr := range greetings {
		for _, v := range versions {
			for _, readyFirst := range []bool{true, false} {
				name := fmt.Sprintf("%s/v%d.%d", gr.name, v.major, v.minor)
				if readyFirst {
					name += "/peer-ready-first"
				} else {
					name += "/peer-ready-after-ours"
				}
				t.Run(name, func(t *testing.T) {
					a, b := tcpPair(t)
					cfg := dealerCfg()
					cfg.PeerAddress = "127.0.0.1"
					var sawType string
					cfg.Compatible = func(s string) bool { sawType = s; return s == "ROUTER" }
					e := New(a, cfg)
					f := startHandshake(t, e)
					p := &rawPeer{t: t, c: b}
					gr.do(p, greeting(v.major, v.minor, "NULL"))
					if readyFirst {
						p.write(peerReady)
					}
					if got := p.readFrame(); !bytes.Equal(got, vecReadyDealerABC) {
						t.Fatalf("our READY\n% x\nwant\n% x", got, vecReadyDealerABC)
					}
					if !readyFirst {
						if f.finished() {
							t.Fatal("Handshake returned before the peer's READY")
						}
						p.write(peerReady)
					}
					r := waitHandshake(t, f)
					if r.err != nil {
						t.Fatalf("Handshake: %v", r.err)
					}
					pr := r.peer
					if pr.SocketType != "ROUTER" || sawType != "ROUTER" {
						t.Errorf("SocketType %q, Compatible saw %q", pr.SocketType, sawType)
					}
					if string(pr.RoutingID) != "peer-id" {
						t.Errorf("RoutingID %q", pr.RoutingID)
					}
					if pr.Minor != v.want || e.PeerMinor() != v.want {
						t.Errorf("Minor %d, PeerMinor %d, want %d", pr.Minor, e.PeerMinor(), v.want)
					}
					for name, want := range map[string]string{
						"Peer-Address": "127.0.0.1",
						"Socket-Type":  "ROUTER",
						"Identity":     "peer-id",
						"Routing-Id":   "peer-id",
						"x-app":        "v1",
					} {
						if got, ok := pr.Property(name); !ok || got != want {
							t.Errorf("Property(%q) = %q, %v; want %q", name, got, ok, want)
						}
					}
				})
			}
		}
	}
}

// TestHandshakeOurReady checks our READY bytes against PROTOCOL §7.2/7.3.
func TestHandshakeOurReady(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		peerType string
		want     []byte
	}{
		{"dealer-abc", Config{SocketType: "DEALER", Identity: []byte("abc"), SendIdentity: true}, "ROUTER", vecReadyDealerABC},
		{"router-empty-id", Config{SocketType: "ROUTER", SendIdentity: true}, "DEALER", vecReadyRouter},
		{"sub-no-id", Config{SocketType: "SUB", Identity: []byte("ignored")}, "PUB", vecReadySub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tcpPair(t)
			tt.cfg.Handshake = waitFor
			e := New(a, tt.cfg)
			f := startHandshake(t, e)
			p := &rawPeer{t: t, c: b}
			got := p.read(wire.SignatureSize + 1) // the rest waits for our major
			p.write(greeting(3, 1, "NULL"))
			if got = append(got, p.read(wire.GreetingSize-wire.SignatureSize-1)...); !bytes.Equal(got, vecGreetingNull) {
				t.Fatalf("greeting\n% x\nwant\n% x", got, vecGreetingNull)
			}
			if got := p.readFrame(); !bytes.Equal(got, tt.want) {
				t.Fatalf("READY\n% x\nwant\n% x", got, tt.want)
			}
			p.write(ready("Socket-Type", tt.peerType))
			if r := waitHandshake(t, f); r.err != nil {
				t.Fatal(r.err)
			}
		})
	}
}

// TestHandshakeNoSocketType: a READY without Socket-Type is accepted, as
// libzmq does (G6), even with a Compatible check.
func TestHandshakeNoSocketType(t *testing.T) {
	a, b := tcpPair(t)
	cfg := dealerCfg()
	cfg.Compatible = func(string) bool { return false }
	e := New(a, cfg)
	f := startHandshake(t, e)
	p := &rawPeer{t: t, c: b}
	p.write(greeting(3, 1, "NULL"), ready())
	r := waitHandshake(t, f)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.peer.SocketType != "" || r.peer.RoutingID != nil {
		t.Errorf("peer %+v", r.peer)
	}
	if _, ok := r.peer.Property("Peer-Address"); ok {
		t.Error("Peer-Address without Config.PeerAddress")
	}
}

// TestHandshakeRefused: every bad peer ends the handshake quickly with an
// error and a closed connection.
func TestHandshakeRefused(t *testing.T) {
	okGreeting := greeting(3, 1, "NULL")
	bigCmd := longHeader(wire.FlagCommand, maxCommand+1)
	// READY whose single property declares a value longer than the body.
	badMeta := wire.AppendCommand(nil, wire.CmdReady, []byte{4, 'S', 'o', 'c', 'k', 0, 0, 0, 9, 'x'})
	tests := []struct {
		name      string
		handshake time.Duration
		send      [][]byte // what the peer writes, in separate writes
		closeSend bool     // then the peer half-closes
		want      error    // errors.Is target
		wantAs    func(error) bool
		minTime   time.Duration
		// tail is what we must have sent after our greeting (nil: not checked).
		tail []byte
		// early: refused before the peer's major arrived, so we sent only
		// the first 11 bytes of our greeting (tail comes after them).
		early bool
	}{
		{name: "zmtp1.0-anonymous", send: [][]byte{{0x01, 0x00}}, want: wire.ErrSignature, tail: []byte{}, early: true},
		{name: "zmtp1.0-identity", send: [][]byte{{0x04, 0x00, 'a', 'b', 'c'}}, want: wire.ErrSignature, tail: []byte{}, early: true},
		{name: "signature-bit0-clear", send: [][]byte{{0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7e}}, want: wire.ErrSignature, tail: []byte{}, early: true},
		{name: "major0", send: [][]byte{okGreeting[:10], {0}}, want: wire.ErrVersion, tail: []byte{}, early: true},
		{name: "major2", send: [][]byte{okGreeting[:10], {2}}, want: wire.ErrVersion, tail: []byte{}, early: true},
		{name: "major2-whole", send: [][]byte{greeting(2, 0, "NULL")}, want: wire.ErrVersion, tail: []byte{}, early: true},
		{name: "mechanism-plain", send: [][]byte{greeting(3, 1, "PLAIN")}, want: ErrMechanism, tail: wire.AppendError(nil, "Invalid mechanism PLAIN")},
		{name: "mechanism-curve", send: [][]byte{greeting(3, 0, "CURVE")}, want: ErrMechanism, tail: wire.AppendError(nil, "Invalid mechanism CURVE")},
		{name: "mechanism-empty", send: [][]byte{append(okGreeting[:12:12], make([]byte, 52)...)}, want: wire.ErrMalformed, tail: []byte{}},
		{
			name: "socket-type-incompatible",
			send: [][]byte{okGreeting, ready("Socket-Type", "PUB")},
			want: ErrSocketType,
			tail: append(append([]byte{}, vecReadyDealerABC...), wire.AppendError(nil, "Invalid socket type")...),
		},
		{name: "data-frame", send: [][]byte{okGreeting, {0x00, 0x01, 'a'}}, want: security.ErrUnexpected, tail: vecReadyDealerABC},
		{name: "data-frame-more", send: [][]byte{okGreeting, {0x01, 0x00}}, want: security.ErrUnexpected, tail: vecReadyDealerABC},
		{name: "unexpected-hello", send: [][]byte{okGreeting, wire.AppendCommand(nil, wire.CmdHello)}, want: security.ErrUnexpected, tail: vecReadyDealerABC},
		{name: "ping-before-ready", send: [][]byte{okGreeting, wire.AppendPing(nil, 0, nil)}, want: security.ErrUnexpected, tail: vecReadyDealerABC},
		{name: "malformed-metadata", send: [][]byte{okGreeting, badMeta}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "identity-256", send: [][]byte{okGreeting, ready("Socket-Type", "ROUTER", "Identity", strings.Repeat("i", 256))}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "identity-65000", send: [][]byte{okGreeting, ready("Socket-Type", "ROUTER", "Identity", strings.Repeat("i", 65000))}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "duplicate-property", send: [][]byte{okGreeting, ready("Socket-Type", "ROUTER", "socket-type", "DEALER")}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "too-many-properties", send: [][]byte{okGreeting, manyProps(wire.MaxProperties + 1)}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "malformed-command-name", send: [][]byte{okGreeting, {0x04, 0x03, 0x05, 'R', 'E'}}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "empty-command", send: [][]byte{okGreeting, {0x04, 0x00}}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "command-over-64KiB", send: [][]byte{okGreeting, bigCmd}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "command-2^62", send: [][]byte{okGreeting, longHeader(wire.FlagCommand, 1<<62)}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "frame-size-top-bit", send: [][]byte{okGreeting, longHeader(wire.FlagCommand, 1<<63)}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{
			name: "peer-error", send: [][]byte{okGreeting, vecError400},
			wantAs: func(err error) bool {
				var pe *security.PeerError
				return errors.As(err, &pe) && pe.Reason == "400"
			},
			tail: vecReadyDealerABC,
		},
		{name: "peer-error-malformed", send: [][]byte{okGreeting, wire.AppendCommand(nil, wire.CmdError, []byte{9, 'x'})}, want: wire.ErrMalformed, tail: vecReadyDealerABC},
		{name: "silent", handshake: 200 * time.Millisecond, want: ErrHandshakeTimeout, minTime: 150 * time.Millisecond, tail: []byte{}, early: true},
		{name: "silent-after-10", handshake: 200 * time.Millisecond, send: [][]byte{okGreeting[:10]}, want: ErrHandshakeTimeout, minTime: 150 * time.Millisecond, tail: []byte{}, early: true},
		{name: "silent-after-greeting", handshake: 200 * time.Millisecond, send: [][]byte{okGreeting}, want: ErrHandshakeTimeout, minTime: 150 * time.Millisecond, tail: vecReadyDealerABC},
		{name: "ready-frame-cut", handshake: 200 * time.Millisecond, send: [][]byte{okGreeting, ready("Socket-Type", "ROUTER")[:10]}, want: ErrHandshakeTimeout, minTime: 150 * time.Millisecond, tail: vecReadyDealerABC},
		{name: "eof-at-once", closeSend: true, want: io.EOF, tail: []byte{}, early: true},
		{name: "eof-mid-signature", send: [][]byte{okGreeting[:5]}, closeSend: true, want: io.ErrUnexpectedEOF, tail: []byte{}, early: true},
		{name: "eof-mid-greeting", send: [][]byte{okGreeting[:20]}, closeSend: true, want: io.ErrUnexpectedEOF, tail: []byte{}},
		{name: "eof-after-greeting", send: [][]byte{okGreeting}, closeSend: true, want: io.EOF, tail: vecReadyDealerABC},
		{name: "eof-mid-ready", send: [][]byte{okGreeting, ready("Socket-Type", "ROUTER")[:7]}, closeSend: true, want: io.ErrUnexpectedEOF, tail: vecReadyDealerABC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := tcpPair(t)
			cfg := dealerCfg()
			cfg.Compatible = func(s string) bool { return s == "ROUTER" || s == "DEALER" }
			if tt.handshake > 0 {
				cfg.Handshake = tt.handshake
			}
			e := New(a, cfg)
			start := time.Now()
			f := startHandshake(t, e)
			p := &rawPeer{t: t, c: b}
			for _, s := range tt.send {
				p.write(s)
			}
			if tt.closeSend {
				b.(*net.TCPConn).CloseWrite()
			}
			r := waitHandshake(t, f)
			elapsed := time.Since(start)
			switch {
			case r.err == nil:
				t.Fatalf("Handshake succeeded with peer %+v", r.peer)
			case tt.want != nil && !errors.Is(r.err, tt.want):
				t.Errorf("error %v, want %v", r.err, tt.want)
			case tt.wantAs != nil && !tt.wantAs(r.err):
				t.Errorf("error %v (%T) not as wanted", r.err, r.err)
			}
			if r.peer != nil {
				t.Errorf("peer %+v returned with an error", r.peer)
			}
			if elapsed < tt.minTime || elapsed > tt.minTime+time.Second {
				t.Errorf("Handshake took %v", elapsed)
			}
			got := p.readToEOF()
			ours := vecGreetingNull
			if tt.early {
				ours = ours[:wire.SignatureSize+1]
			}
			if len(got) < len(ours) || !bytes.Equal(got[:len(ours)], ours) {
				t.Fatalf("sent % x, want our greeting (% x) first", got, ours)
			}
			if tt.tail != nil && !bytes.Equal(got[len(ours):], tt.tail) {
				t.Errorf("after the greeting we sent\n% x\nwant\n% x", got[len(ours):], tt.tail)
			}
		})
	}
}

// TestHandshakeContext: a cancelled context ends the handshake with
// context.Canceled, a context deadline with ErrHandshakeTimeout.
func TestHandshakeContext(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		a, _ := tcpPair(t)
		e := New(a, dealerCfg())
		ctx, cancel := context.WithCancel(context.Background())
		f := goFuture(func() error { _, err := e.Handshake(ctx); return err })
		time.Sleep(20 * time.Millisecond)
		cancel()
		err, ok := f.wait(waitFor)
		if !ok {
			e.Close()
			f.wait(waitFor)
			t.Fatal("Handshake ignored the cancel")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		a, _ := tcpPair(t)
		cfg := dealerCfg()
		cfg.Handshake = 0
		e := New(a, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		f := goFuture(func() error { _, err := e.Handshake(ctx); return err })
		err, ok := f.wait(waitFor)
		if !ok {
			e.Close()
			f.wait(waitFor)
			t.Fatal("Handshake ignored the deadline")
		}
		if !errors.Is(err, ErrHandshakeTimeout) {
			t.Errorf("error %v, want ErrHandshakeTimeout", err)
		}
	})
}

// TestHandshakeClearsDeadline: a handshake that succeeded just before its
// limit leaves no deadline behind for Run.
func TestHandshakeClearsDeadline(t *testing.T) {
	cfg := dealerCfg()
	cfg.Handshake = 300 * time.Millisecond
	c := handshake(t, cfg, 1, "ROUTER")
	p := newPipe(16)
	res := run(t, c.e, p)
	time.Sleep(500 * time.Millisecond)
	if res.finished() {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
	c.raw.write(encode([]byte("late")))
	if m := pop(t, p.In); !sameFrames(m.Frames, [][]byte{[]byte("late")}) {
		t.Errorf("got %s", short(m.Frames))
	}
}

// TestNetPipe runs a handshake and a message each way over net.Pipe, which
// has no buffer: the peer side reads concurrently.
func TestNetPipe(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	e := New(a, dealerCfg())
	hs := startHandshake(t, e)
	type got struct {
		data []byte
		err  error
	}
	// Reader of everything the engine sends, in its own goroutine.
	frames := make(chan got, 16)
	go func() {
		defer close(frames)
		g := make([]byte, wire.GreetingSize)
		if _, err := io.ReadFull(b, g); err != nil {
			frames <- got{err: err}
			return
		}
		frames <- got{data: g}
		for {
			h := make([]byte, 2)
			if _, err := io.ReadFull(b, h); err != nil {
				frames <- got{err: err}
				return
			}
			body := make([]byte, h[1])
			if _, err := io.ReadFull(b, body); err != nil {
				frames <- got{err: err}
				return
			}
			frames <- got{data: append(h, body...)}
		}
	}()
	next := func() []byte {
		t.Helper()
		select {
		case g := <-frames:
			if g.err != nil {
				t.Fatalf("peer read: %v", g.err)
			}
			return g.data
		case <-time.After(waitFor):
			t.Fatal("nothing from the engine")
			return nil
		}
	}
	b.SetDeadline(time.Now().Add(waitFor))
	if _, err := b.Write(append(greeting(3, 1, "NULL"), ready("Socket-Type", "ROUTER")...)); err != nil {
		t.Fatal(err)
	}
	if g := next(); !bytes.Equal(g, vecGreetingNull) {
		t.Fatalf("greeting % x", g)
	}
	if r := next(); !bytes.Equal(r, vecReadyDealerABC) {
		t.Fatalf("READY % x", r)
	}
	if r := waitHandshake(t, hs); r.err != nil {
		t.Fatal(r.err)
	}
	p := newPipe(16)
	res := run(t, e, p)
	push(t, p.Out, msg("a", "b"))
	if f := next(); !bytes.Equal(f, vecTwoPartAB[:3]) {
		t.Fatalf("frame % x", f)
	}
	if f := next(); !bytes.Equal(f, vecTwoPartAB[3:]) {
		t.Fatalf("frame % x", f)
	}
	if _, err := b.Write(vecReqHello); err != nil {
		t.Fatal(err)
	}
	if m := pop(t, p.In); !sameFrames(m.Frames, [][]byte{{}, []byte("hello")}) {
		t.Fatalf("got %s", short(m.Frames))
	}
	b.Close()
	if err := waitRun(t, res, waitFor); err == nil {
		t.Error("Run returned nil after the peer closed")
	}
	for range frames {
	}
}

// TestHandshakeLenientGreeting: the padding, as-server byte and filler of
// the peer's greeting are ignored (G2, G3), and property names are matched
// case-insensitively.
func TestHandshakeLenientGreeting(t *testing.T) {
	g := greeting(3, 1, "NULL")
	copy(g[1:9], []byte{0, 0, 0, 0, 0, 0, 0, 4}) // libzmq with a 3-byte id
	g[9] = 0xff
	g[32] = 1 // as-server
	for i := 33; i < 64; i++ {
		g[i] = byte(i)
	}
	a, b := tcpPair(t)
	cfg := dealerCfg()
	cfg.Compatible = func(s string) bool { return s == "ROUTER" }
	e := New(a, cfg)
	f := startHandshake(t, e)
	p := &rawPeer{t: t, c: b}
	p.write(g, ready("socket-type", "ROUTER", "IDENTITY", "xyz"))
	r := waitHandshake(t, f)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.peer.SocketType != "ROUTER" || string(r.peer.RoutingID) != "xyz" {
		t.Errorf("peer %+v", r.peer)
	}
}

// TestHandshakePipelinedData: data the peer sends right behind its READY,
// in the same write, is kept for Run.
func TestHandshakePipelinedData(t *testing.T) {
	a, b := tcpPair(t)
	e := New(a, dealerCfg())
	f := startHandshake(t, e)
	p := &rawPeer{t: t, c: b}
	p.write(bytes.Join([][]byte{
		greeting(3, 1, "NULL"), ready("Socket-Type", "ROUTER"),
		vecReqHello, vecSubscribe, vecTwoPartAB,
	}, nil))
	if r := waitHandshake(t, f); r.err != nil {
		t.Fatal(r.err)
	}
	q := newPipe(16)
	run(t, e, q)
	for _, want := range []pipe.Msg{
		{Frames: frames([]byte{}, []byte("hello"))},
		{Frames: frames([]byte("\x01AB")), Tag: pipe.TagOf(pipe.Subscribe)},
		{Frames: frames([]byte("a"), []byte("b"))},
	} {
		if m := pop(t, q.In); !sameFrames(m.Frames, want.Frames) || m.Flags() != want.Flags() {
			t.Errorf("got %s flags %d, want %s", short(m.Frames), m.Flags(), short(want.Frames))
		}
	}
}

// manyProps is a READY from a ROUTER with n properties in all.
func manyProps(n int) []byte {
	md := wire.Metadata{{Name: wire.PropSocketType, Value: []byte("ROUTER")}}
	for i := 1; i < n; i++ {
		md = append(md, wire.Property{Name: fmt.Sprintf("X-%d", i), Value: nil})
	}
	return wire.AppendReady(nil, md)
}

// TestHandshakePeerProperties: the properties a peer announces are kept
// (up to the caps), but what this side knows comes first: a peer that
// announces its own Peer-Address or User-Id does not pass for another.
func TestHandshakePeerProperties(t *testing.T) {
	a, b := tcpPair(t)
	cfg := dealerCfg()
	cfg.PeerAddress = "192.0.2.1"
	e := New(a, cfg)
	f := startHandshake(t, e)
	raw := &rawPeer{t: t, c: b}
	props := []string{"Socket-Type", "ROUTER", "Identity", strings.Repeat("i", wire.MaxIdentity),
		"Peer-Address", "203.0.113.9", "User-Id", "admin", "X-Big", strings.Repeat("v", wire.MaxPropertyValue)}
	for i := 0; len(props) < 2*wire.MaxProperties; i++ {
		props = append(props, fmt.Sprintf("X-%d", i), "")
	}
	raw.write(greeting(3, 1, "NULL"), ready(props...))
	r := waitHandshake(t, f)
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, tt := range []struct{ name, want string }{
		{"Peer-Address", "192.0.2.1"},
		{"Socket-Type", "ROUTER"},
		{"Routing-Id", strings.Repeat("i", wire.MaxIdentity)},
		{"X-Big", strings.Repeat("v", wire.MaxPropertyValue)},
		{"X-0", ""},
	} {
		if v, ok := r.peer.Property(tt.name); !ok || v != tt.want {
			t.Errorf("Property(%q) = %.20q, %v; want %.20q", tt.name, v, ok, tt.want)
		}
	}
	if string(r.peer.RoutingID) != strings.Repeat("i", wire.MaxIdentity) {
		t.Errorf("RoutingID %.20q", r.peer.RoutingID)
	}
	if len(r.peer.Props) != wire.MaxProperties+1 {
		t.Errorf("%d properties kept, want the peer's %d and Peer-Address", len(r.peer.Props), wire.MaxProperties)
	}
	// With ZAP's answer, its User-Id is the one found.
	p := e.peer(wire.Metadata{{Name: "User-Id", Value: []byte("admin")}}, "alice", nil)
	if v, _ := p.Property("User-Id"); v != "alice" {
		t.Errorf("User-Id = %q, want ZAP's %q", v, "alice")
	}
}
