package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

// boxMech is a NULL handshake under another name whose Codec boxes every
// frame the way CURVE's MESSAGE does (PROTOCOL §2.3, G15), in clear text:
// an outer data frame "\x03BOX" nonce(u64) inner-flags body. Nonces must
// grow by one, so a codec used from two goroutines trips the race detector
// or the nonce check.
type boxMech struct{}

func (boxMech) Name() string   { return "XBOX" }
func (boxMech) AsServer() bool { return false }
func (boxMech) NewHandshake(local wire.Metadata, _ security.Session) security.Handshake {
	return &boxHandshake{Handshake: security.Null{}.NewHandshake(local, security.Session{})}
}

type boxHandshake struct {
	security.Handshake
}

func (h *boxHandshake) Codec() security.Codec { return &boxCodec{} }

type boxCodec struct {
	sent, seen uint64
}

var errBox = errors.New("box: bad box")

func (c *boxCodec) Seal(dst []byte, flags byte, body []byte) ([]byte, error) {
	c.sent++
	return appendBox(dst, c.sent, flags, body), nil
}

func (c *boxCodec) Open(flags byte, body []byte) (byte, []byte, error) {
	if flags&wire.FlagCommand != 0 || len(body) < 13 || string(body[:4]) != "\x03BOX" {
		return 0, nil, errBox
	}
	n := binary.BigEndian.Uint64(body[4:])
	if n != c.seen+1 {
		return 0, nil, errBox
	}
	c.seen = n
	return body[12], body[13:], nil
}

func appendBox(dst []byte, nonce uint64, flags byte, body []byte) []byte {
	inner := append([]byte("\x03BOX"), binary.BigEndian.AppendUint64(nil, nonce)...)
	inner = append(inner, flags)
	inner = append(inner, body...)
	return wire.AppendFrame(dst, 0, inner)
}

// boxPeer is the raw peer's side of the codec.
type boxPeer struct {
	*rawPeer
	sent, seen uint64
}

func (p *boxPeer) send(flags byte, body []byte) []byte {
	p.sent++
	return appendBox(nil, p.sent, flags, body)
}

// recv reads one box and returns its inner flags and body.
func (p *boxPeer) recv() (byte, []byte) {
	p.t.Helper()
	f := p.readFrame()
	h, n, _ := wire.ParseFrameHeader(f)
	if h.Command() || h.More() {
		p.t.Fatalf("outer frame flags %02x, want a data frame", f[0])
	}
	flags, body, err := (&boxCodec{seen: p.seen}).Open(h.Flags, f[n:])
	if err != nil {
		p.t.Fatalf("box % x: %v", f[:min(len(f), 32)], err)
	}
	p.seen++
	return flags, body
}

func boxHandshake2(t *testing.T, cfg Config) (*Engine, *boxPeer) {
	t.Helper()
	a, b := tcpPair(t)
	cfg.Mechanism = boxMech{}
	e := New(a, cfg)
	f := startHandshake(t, e)
	p := &boxPeer{rawPeer: &rawPeer{t: t, c: b}}
	p.write(greeting(3, 1, "XBOX"), ready("Socket-Type", "ROUTER"))
	p.read(wire.GreetingSize)
	p.readFrame()
	if r := waitHandshake(t, f); r.err != nil {
		t.Fatal(r.err)
	}
	return e, p
}

// TestCodecData: data frames are sealed and opened one by one, flags
// inside the box.
func TestCodecData(t *testing.T) {
	e, p := boxHandshake2(t, dealerCfg())
	q := newPipe(16)
	res := run(t, e, q)
	msgs := [][][]byte{
		frames([]byte{}),
		frames([]byte("a"), []byte{}, pattern(300)),
		frames(pattern(1<<20), []byte("z")),
	}
	for _, m := range msgs {
		var in []byte
		for i, f := range m {
			var fl byte
			if i < len(m)-1 {
				fl = wire.FlagMore
			}
			in = append(in, p.send(fl, f)...)
		}
		p.write(in)
		if got := pop(t, q.In); !sameFrames(got.Frames, m) {
			t.Errorf("in: got %s, want %s", short(got.Frames), short(m))
		}
		push(t, q.Out, pipe.Msg{Frames: m})
		for i, f := range m {
			fl, body := p.recv()
			want := byte(0)
			if i < len(m)-1 {
				want = wire.FlagMore
			}
			if fl != want || !bytes.Equal(body, f) {
				t.Errorf("out frame %d: flags %02x body %s", i, fl, short(frames(body)))
			}
		}
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}

// TestCodecCommands: SUBSCRIBE, PING and PONG travel inside boxes with
// the inner command flag (PROTOCOL §1.9, G15), both ways.
func TestCodecCommands(t *testing.T) {
	cfg := dealerCfg()
	cfg.Heartbeat = Heartbeat{Interval: 30 * time.Millisecond, Timeout: waitFor, TTL: 2500 * time.Millisecond}
	e, p := boxHandshake2(t, cfg)
	q := newPipe(16)
	res := run(t, e, q)

	// A boxed SUBSCRIBE and a boxed PING inside a multipart message.
	p.write(
		p.send(wire.FlagMore, []byte("one")),
		p.send(wire.FlagCommand, wire.AppendSubscribe(nil, []byte("AB"))[2:]),
		p.send(wire.FlagCommand, wire.AppendPing(nil, 0, []byte("ctx-123"))[2:]),
		p.send(0, []byte("two")),
	)
	if m := pop(t, q.In); m.Flags() != pipe.Subscribe || !sameFrames(m.Frames, frames([]byte("\x01AB"))) {
		t.Errorf("got %s flags %d, want the subscription", short(m.Frames), m.Flags())
	}
	if m := pop(t, q.In); m.Flags() != 0 || !sameFrames(m.Frames, frames([]byte("one"), []byte("two"))) {
		t.Errorf("got %s flags %d", short(m.Frames), m.Flags())
	}
	push(t, q.Out, pipe.Msg{Frames: frames([]byte("\x01AB")), Tag: pipe.TagOf(pipe.Subscribe)})

	var sawPong, sawPing, sawSub bool
	deadline := time.Now().Add(2 * time.Second)
	for !(sawPong && sawPing && sawSub) && time.Now().Before(deadline) {
		fl, body := p.recv()
		if fl != wire.FlagCommand {
			t.Fatalf("inner flags %02x body % x", fl, body)
		}
		switch cmd := wire.AppendFrame(nil, wire.FlagCommand, body); {
		case bytes.Equal(cmd, vecPongCtx):
			sawPong = true
		case bytes.Equal(cmd, vecPingTTL2500):
			sawPing = true
		case bytes.Equal(cmd, vecSubscribe):
			sawSub = true
		default:
			t.Fatalf("unexpected command % x", cmd)
		}
	}
	if !sawPong || !sawPing || !sawSub {
		t.Errorf("PONG %v, PING %v, SUBSCRIBE %v", sawPong, sawPing, sawSub)
	}
	if !running(res) {
		t.Fatalf("Run ended: %v", waitRun(t, res, 0))
	}
}

// TestCodecRejects: an unboxed frame, or a box the codec refuses, ends Run
// with the codec's error.
func TestCodecRejects(t *testing.T) {
	tests := []struct {
		name string
		send func(p *boxPeer) []byte
	}{
		{"raw-command", func(*boxPeer) []byte { return wire.AppendPing(nil, 0, nil) }},
		{"raw-data", func(*boxPeer) []byte { return encode([]byte("hello world, unboxed")) }},
		{"replayed-nonce", func(p *boxPeer) []byte {
			b := p.send(0, []byte("x"))
			return append(b, b...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, p := boxHandshake2(t, dealerCfg())
			q := newPipe(16)
			res := run(t, e, q)
			p.write(tt.send(p))
			if err := waitRun(t, res, 2*time.Second); !errors.Is(err, errBox) {
				t.Errorf("Run: %v, want the codec's error", err)
			}
		})
	}
}
