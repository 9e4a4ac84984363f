package engine

import (
	"bytes"
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

// v2Greeting is a ZMTP 2.0 peer's greeting (libzmq 3.2 / JeroMQ 0.3):
// the signature with its padding, revision 01, the socket type number.
func v2Greeting(typ byte) []byte {
	return append(append([]byte(nil), vecGreetingNull[:wire.SignatureSize]...), wire.RevisionZMTP2, typ)
}

// ourV2 is what the engine sends a 2.0 peer: the first 11 bytes of its
// 3.x greeting, its socket type number and its identity frame.
func ourV2(typ byte, id string) []byte {
	b := append(append([]byte(nil), vecGreetingNull[:wire.SignatureSize+1]...), typ)
	return wire.AppendFrame(b, 0, []byte(id))
}

// v2Connected runs the handshake of cfg's engine with a raw 2.0 peer of
// type typ that sends identity id.
func v2Connected(t *testing.T, cfg Config, typ byte, id string) *connected {
	t.Helper()
	a, b := tcpPair(t)
	e := New(a, cfg)
	raw := &rawPeer{t: t, c: b}
	f := startHandshake(t, e)
	raw.write(v2Greeting(typ), wire.AppendFrame(nil, 0, []byte(id)))
	raw.read(wire.SignatureSize + 2)
	raw.readFrame() // our identity
	r := waitHandshake(t, f)
	if r.err != nil {
		t.Fatalf("Handshake: %v", r.err)
	}
	return &connected{e: e, peer: r.peer, raw: raw}
}

// TestV2Handshake: a ZMTP 2.0 peer gets what libzmq 4 sends it (the first
// 11 bytes of the greeting, the socket type number, the identity frame),
// however it stages its own greeting, and is described by its socket type
// and identity.
func TestV2Handshake(t *testing.T) {
	stages := []struct {
		name string
		do   func(p *rawPeer, greet, id, want []byte)
	}{
		{"whole", func(p *rawPeer, greet, id, want []byte) {
			p.write(greet, id)
			if got := p.read(len(want)); !bytes.Equal(got, want) {
				p.t.Fatalf("we sent\n% x\nwant\n% x", got, want)
			}
		}},
		{"staged", func(p *rawPeer, greet, id, want []byte) {
			// libzmq 3.2's order: signature, wait, the rest.
			p.write(greet[:wire.SignatureSize])
			got := p.read(wire.SignatureSize + 1)
			p.write(greet[wire.SignatureSize:], id)
			if got = append(got, p.read(len(want)-len(got))...); !bytes.Equal(got, want) {
				p.t.Fatalf("we sent\n% x\nwant\n% x", got, want)
			}
		}},
		{"read-first", func(p *rawPeer, greet, id, want []byte) {
			got := p.read(wire.SignatureSize + 1)
			p.write(greet)
			got = append(got, p.read(len(want)-len(got))...)
			p.write(id)
			if !bytes.Equal(got, want) {
				p.t.Fatalf("we sent\n% x\nwant\n% x", got, want)
			}
		}},
		{"byte-by-byte", func(p *rawPeer, greet, id, want []byte) {
			for _, c := range append(append([]byte(nil), greet...), id...) {
				p.write([]byte{c})
			}
			if got := p.read(len(want)); !bytes.Equal(got, want) {
				p.t.Fatalf("we sent\n% x\nwant\n% x", got, want)
			}
		}},
	}
	cfgs := []struct {
		name    string
		cfg     Config
		num     byte // our type's number
		peerNum byte
		peer    string
	}{
		{"dealer-abc", dealerCfg(), 5, 6, "ROUTER"},
		{"pull-no-id", Config{SocketType: "PULL", MaxMsgSize: -1, Handshake: waitFor}, 7, 8, "PUSH"},
		{"router-long-id", Config{SocketType: "ROUTER", Identity: bytes.Repeat([]byte("r"), 255), MaxMsgSize: -1, Handshake: waitFor}, 6, 3, "REQ"},
	}
	for _, st := range stages {
		for _, c := range cfgs {
			for _, peerID := range []string{"", "peer-id", strings.Repeat("i", 255)} {
				t.Run(fmt.Sprintf("%s/%s/id%d", st.name, c.name, len(peerID)), func(t *testing.T) {
					a, b := tcpPair(t)
					cfg := c.cfg
					cfg.PeerAddress = "127.0.0.1"
					var sawType string
					cfg.Compatible = func(s string) bool { sawType = s; return true }
					e := New(a, cfg)
					f := startHandshake(t, e)
					p := &rawPeer{t: t, c: b}
					st.do(p, v2Greeting(c.peerNum), wire.AppendFrame(nil, 0, []byte(peerID)), ourV2(c.num, string(cfg.Identity)))
					r := waitHandshake(t, f)
					if r.err != nil {
						t.Fatalf("Handshake: %v", r.err)
					}
					pr := r.peer
					if pr.SocketType != c.peer || sawType != c.peer {
						t.Errorf("SocketType %q, Compatible saw %q, want %q", pr.SocketType, sawType, c.peer)
					}
					if string(pr.RoutingID) != peerID {
						t.Errorf("RoutingID %q, want %q", pr.RoutingID, peerID)
					}
					if pr.Minor != 0 || !e.V2() || e.PeerMinor() != 0 {
						t.Errorf("Minor %d, V2 %v, PeerMinor %d: want a 2.0 peer handled as 3.0 for subscriptions", pr.Minor, e.V2(), e.PeerMinor())
					}
					for name, want := range map[string]string{"Peer-Address": "127.0.0.1", "Socket-Type": c.peer, "Identity": peerID} {
						if got, ok := pr.Property(name); !ok || got != want {
							t.Errorf("Property(%q) = %q, %v; want %q", name, got, ok, want)
						}
					}
				})
			}
		}
	}
}

// TestV2Traffic: after the handshake, messages go both ways in 2.0
// frames (short and LONG, multipart, empty); a frame with the reserved
// bit 2 set is data, not a command; subscriptions go as data; no PING is
// sent, as 2.0 has none.
func TestV2Traffic(t *testing.T) {
	cfg := Config{SocketType: "SUB", MaxMsgSize: -1, Handshake: waitFor,
		Heartbeat: Heartbeat{Interval: 10 * time.Millisecond}}
	c := v2Connected(t, cfg, 1, "") // PUB
	p := newPipe(16)
	res := run(t, c.e, p)

	in := [][][]byte{
		{[]byte("hello")},
		{[]byte("multi"), {}, pattern(300)},
		{pattern(70000)},
	}
	for _, m := range in {
		c.raw.write(encode(m...))
	}
	// Bit 2 (COMMAND in 3.x) is reserved in 2.0: data, whatever it holds.
	c.raw.write(append([]byte{0x04, 6}, "\x04PING\x00"...))
	for i, want := range in {
		if m := pop(t, p.In); !sameFrames(m.Frames, want) || m.Flags() != 0 {
			t.Fatalf("message %d: %s flags %v, want %s", i, short(m.Frames), m.Flags(), short(want))
		}
	}
	if m := pop(t, p.In); !sameFrames(m.Frames, [][]byte{[]byte("\x04PING\x00")}) || m.Flags() != 0 {
		t.Fatalf("a frame with bit 2 set: %s flags %v, want the data frame", short(m.Frames), m.Flags())
	}

	push(t, p.Out, pipe.Msg{Frames: [][]byte{[]byte("\x01topic")}, Tag: pipe.TagOf(pipe.Subscribe)})
	push(t, p.Out, msg("a", "b"))
	push(t, p.Out, pipe.Msg{Frames: [][]byte{pattern(300)}})
	want := append(encode([]byte("\x01topic")), encode([]byte("a"), []byte("b"))...)
	want = append(want, encode(pattern(300))...)
	if got := c.raw.read(len(want)); !bytes.Equal(got, want) {
		t.Fatalf("we sent\n% x\nwant\n% x", got, want)
	}
	// Ten heartbeat intervals: a 3.x peer would have had PINGs by now.
	if extra, _ := readAll(c.raw.c, 100*time.Millisecond); len(extra) > 0 {
		t.Fatalf("sent % x to a ZMTP 2.0 peer, which knows no PING", extra)
	}
	c.e.Close()
	waitRun(t, res, waitFor)
}

// TestV2OutlivesHandshakeTimeout: a 2.0 link stays up past the handshake
// timeout (libzmq 4.3.3-4.3.4 dropped such links when its handshake timer
// fired, PROTOCOL §1.3).
func TestV2OutlivesHandshakeTimeout(t *testing.T) {
	cfg := dealerCfg()
	cfg.Handshake = 50 * time.Millisecond
	c := v2Connected(t, cfg, 6, "")
	p := newPipe(4)
	res := run(t, c.e, p)
	time.Sleep(4 * cfg.Handshake)
	c.raw.write(encode([]byte("late")))
	if m := pop(t, p.In); !sameFrames(m.Frames, [][]byte{[]byte("late")}) {
		t.Fatalf("got %s", short(m.Frames))
	}
	push(t, p.Out, msg("back"))
	if got, want := c.raw.readFrame(), encode([]byte("back")); !bytes.Equal(got, want) {
		t.Fatalf("we sent % x, want % x", got, want)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}

// TestV2MaxMsgSize: a 2.0 peer's frames obey MaxMsgSize exactly as 3.x
// frames do, each frame after the first counting FrameOverhead more.
func TestV2MaxMsgSize(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name string
		send []byte
		ok   bool
	}{
		{"at-limit", encode(pattern(limit)), true},
		{"over-limit", encode(pattern(limit + 1)), false},
		{"declared-2^62", longHeader(0, 1<<62), false},
		{"two-frames-at-limit", encode(pattern(limit-FrameOverhead-10), pattern(10)), true},
		{"two-frames-over", encode(pattern(limit-FrameOverhead-10), pattern(11)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := dealerCfg()
			cfg.MaxMsgSize = limit
			c := v2Connected(t, cfg, 6, "")
			p := newPipe(4)
			res := run(t, c.e, p)
			c.raw.write(tt.send)
			if tt.ok {
				if m := pop(t, p.In); len(m.Frames) == 0 {
					t.Fatal("no frames")
				}
				return
			}
			if err := waitRun(t, res, waitFor); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Run: %v, want ErrTooLarge", err)
			}
			if _, ok, _ := p.In.TryPop(); ok {
				t.Fatal("a message past the limit was delivered")
			}
		})
	}
}

// TestV2Refused: what a 2.0 peer cannot have, or a malformed 2.0
// greeting or identity, ends the handshake with a clear error and closes
// the connection. ZMTP 1.0 is refused, with the version named.
func TestV2Refused(t *testing.T) {
	withMech := func(m security.Mechanism) func(*Config) { return func(c *Config) { c.Mechanism = m } }
	tests := []struct {
		name  string
		cfg   func(*Config)
		send  [][]byte
		close bool // then the peer half-closes
		want  error
		text  string // in the error
		sent  []byte // all we must have sent
	}{
		{name: "plain", cfg: withMech(security.PlainServer{}), send: [][]byte{v2Greeting(6)}, want: ErrMechanism, text: "ZMTP 2.0", sent: vecGreetingNull[:11]},
		{name: "plain-client", cfg: withMech(security.PlainClient{Username: "u", Password: "p"}), send: [][]byte{v2Greeting(6)}, want: ErrMechanism, text: "uses PLAIN", sent: vecGreetingNull[:11]},
		{name: "zap-domain", cfg: func(c *Config) { c.ZAPDomain = "global" }, send: [][]byte{v2Greeting(6)}, want: ErrMechanism, text: "ZAP domain", sent: vecGreetingNull[:11]},
		{name: "our-type-not-in-2.0", cfg: func(c *Config) { c.SocketType = "CLIENT" }, send: [][]byte{v2Greeting(6)}, want: ErrSocketType, text: "ZMTP 2.0", sent: vecGreetingNull[:11]},
		{name: "peer-type-unknown", send: [][]byte{v2Greeting(11)}, want: wire.ErrMalformed, text: "socket type 11", sent: ourV2(5, "abc")},
		{name: "peer-type-255", send: [][]byte{v2Greeting(255)}, want: wire.ErrMalformed, text: "socket type 255", sent: ourV2(5, "abc")},
		{name: "peer-type-incompatible", send: [][]byte{v2Greeting(7)}, want: ErrSocketType, text: "PULL", sent: ourV2(5, "abc")},
		{name: "identity-more", send: [][]byte{v2Greeting(6), {wire.FlagMore, 1, 'x'}}, want: wire.ErrMalformed, text: "identity", sent: ourV2(5, "abc")},
		{name: "identity-256", send: [][]byte{v2Greeting(6), wire.AppendFrame(nil, 0, make([]byte, 256))}, want: wire.ErrMalformed, text: "identity", sent: ourV2(5, "abc")},
		{name: "identity-2^62", send: [][]byte{v2Greeting(6), longHeader(0, 1<<62)}, want: wire.ErrMalformed, text: "identity", sent: ourV2(5, "abc")},
		{name: "identity-size-top-bit", send: [][]byte{v2Greeting(6), longHeader(0, 1<<63)}, want: wire.ErrMalformed, sent: ourV2(5, "abc")},
		{name: "eof-before-type", send: [][]byte{v2Greeting(6)[:11]}, close: true, want: io.ErrUnexpectedEOF, sent: ourV2(5, "abc")},
		{name: "eof-mid-identity", send: [][]byte{v2Greeting(6), {0, 5, 'a'}}, close: true, want: io.ErrUnexpectedEOF, sent: ourV2(5, "abc")},
		{name: "zmtp1.0-revision0", send: [][]byte{append(vecGreetingNull[:10:10], 0)}, want: wire.ErrVersion, text: "ZMTP 1.0", sent: vecGreetingNull[:11]},
		{name: "zmtp1.0-unversioned", send: [][]byte{{0x01, 0x00}}, want: wire.ErrSignature, text: "ZMTP 1.0", sent: vecGreetingNull[:11]},
		{name: "zmtp1.0-long-identity", send: [][]byte{{0xff, 0, 0, 0, 0, 0, 0, 0, 4, 0x00, 'a', 'b', 'c'}}, want: wire.ErrSignature, text: "ZMTP 1.0", sent: vecGreetingNull[:11]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := tcpPair(t)
			cfg := dealerCfg()
			cfg.Compatible = func(s string) bool { return s == "ROUTER" }
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			e := New(a, cfg)
			f := startHandshake(t, e)
			p := &rawPeer{t: t, c: b}
			p.write(tt.send...)
			if tt.close {
				b.(*net.TCPConn).CloseWrite()
			}
			r := waitHandshake(t, f)
			switch {
			case r.err == nil:
				t.Fatalf("Handshake succeeded with peer %+v", r.peer)
			case !errors.Is(r.err, tt.want):
				t.Errorf("error %v, want %v", r.err, tt.want)
			case !strings.Contains(r.err.Error(), tt.text):
				t.Errorf("error %q does not say %q", r.err, tt.text)
			}
			if got := p.readToEOF(); !bytes.Equal(got, tt.sent) {
				t.Errorf("we sent\n% x\nwant\n% x", got, tt.sent)
			}
		})
	}
}

// FuzzV2Stream feeds a NULL engine, past a valid ZMTP 2.0 greeting and
// identity, whatever bytes a 2.0 peer may send. The engine must end with
// an error or EOF, never panic or hang, and deliver only whole messages
// within the size limit, none of them a command.
func FuzzV2Stream(f *testing.F) {
	f.Add(encode([]byte("hello")))
	f.Add(append(encode([]byte("a"), []byte("b")), 0x01, 0x03, 'x'))
	f.Add(longHeader(0, 1<<40))
	f.Add(append([]byte{0x04, 0x05, 4}, "PING"...))
	f.Add(append([]byte{0x04, 0x0a, 9}, "SUBSCRIBE"...))
	f.Add(encode(pattern(300), []byte{}))
	f.Add(append(encode([]byte("x")), 0x00, 0xff))
	hello := append(v2Greeting(6), wire.AppendFrame(nil, 0, []byte("id"))...)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		defer a.Close()
		fuzzStream(t, a, b, hello, data, false, func(m pipe.Msg) {
			if m.Flags() != 0 {
				t.Fatalf("a 2.0 peer's frame became a command (flags %v)", m.Flags())
			}
		})
	})
}
