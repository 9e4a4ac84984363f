package security

import (
	"context"
	"errors"
	"testing"

	"github.com/azmq/azmq/internal/wire"
)

// curveFixture is a deterministic CURVE connection: the same seed gives the
// same keys, cookies and frames, so a valid frame recorded once is valid
// again for a fresh fixture and seeds the fuzzers.
type curveFixture struct {
	sm                              *CurveServer
	cm                              *CurveClient
	srv, cli                        Handshake
	hello, welcome, initiate, ready []byte
}

// stage: 0 fresh, 1 after HELLO/WELCOME went one way, 2 after INITIATE was
// made, 3 done.
func newCurveFixture(t testing.TB, stage int) *curveFixture {
	t.Helper()
	ctx := context.Background()
	f := &curveFixture{}
	f.sm, f.cm = newCurveMechs()
	f.sm.rand, f.cm.rand = curveRand(1), curveRand(2)
	f.srv = f.sm.NewHandshake(curveRouterMD(), Session{})
	f.cli = f.cm.NewHandshake(curveDealerMD(), Session{})
	var err error
	steps := []func(){
		func() { _, err = f.srv.Start(ctx) },
		func() { f.hello, err = f.cli.Start(ctx) },
		func() { f.welcome, _, err = f.srv.Command(ctx, f.hello[2:]) },
		func() { f.initiate, _, err = f.cli.Command(ctx, f.welcome[2:]) },
		func() { f.ready, _, err = f.srv.Command(ctx, f.initiate[9:]) },
		func() { _, _, err = f.cli.Command(ctx, f.ready[2:]) },
	}
	n := map[int]int{0: 2, 1: 3, 2: 4, 3: 6}[stage]
	for _, s := range steps[:n] {
		if s(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func curveFuzzSeeds(t testing.TB) [][]byte {
	f := newCurveFixture(t, 3)
	return [][]byte{
		f.hello[2:], f.welcome[2:], f.initiate[9:], f.ready[2:],
		[]byte("\x05HELLO\x01\x00"),
		[]byte("\x07WELCOME"),
		[]byte("\x08INITIATE"),
		[]byte("\x05READY"),
		[]byte("\x05ERROR\x03400"),
		[]byte("\x05ERROR\xff"),
		[]byte("\x07MESSAGE"),
		{},
		{0},
		{0xff},
	}
}

// FuzzCurveServer feeds arbitrary command bodies to a fresh server
// (stage 0) and to one that has answered a HELLO (stage 1).
func FuzzCurveServer(f *testing.F) {
	for _, s := range curveFuzzSeeds(f) {
		f.Add(byte(0), s)
		f.Add(byte(1), s)
	}
	// Each run works on a copy of a prepared state machine: cheaper than
	// a new fixture, and the recorded seeds stay valid.
	fresh := newCurveFixture(f, 0)
	hello := newCurveFixture(f, 0)
	if _, _, err := hello.srv.Command(context.Background(), hello.hello[2:]); err != nil {
		f.Fatal(err)
	}
	tmpl := [2]*curveServerHandshake{fresh.srv.(*curveServerHandshake), hello.srv.(*curveServerHandshake)}
	f.Fuzz(func(t *testing.T, stage byte, body []byte) {
		h := *tmpl[stage&1]
		fx := &curveFixture{srv: &h, hello: fresh.hello}
		out, done, err := fx.srv.Command(context.Background(), body)
		if done && err != nil {
			t.Fatalf("done with %v", err)
		}
		switch {
		case err != nil:
			if len(out) != 0 {
				t.Fatalf("answered % x with %v", out, err)
			}
		case stage&1 == 0:
			if len(out) != 2+curveWelcomeSize || out[2] != 7 || done {
				t.Fatalf("HELLO answered with % x, done %v", out, done)
			}
		default:
			if !done || len(out) < 2+curveReadyMin || out[2] != 5 {
				t.Fatalf("INITIATE answered with % x, done %v", out, done)
			}
			if fx.srv.Codec() == nil {
				t.Fatal("done without a codec")
			}
		}
		if err != nil {
			// A failed handshake stays failed.
			if _, _, err := fx.srv.Command(context.Background(), fx.hello[2:]); err == nil {
				t.Fatal("HELLO accepted after a failure")
			}
		}
	})
}

// FuzzCurveClient feeds arbitrary command bodies to a client waiting for
// WELCOME (stage 0) and for READY (stage 1).
func FuzzCurveClient(f *testing.F) {
	for _, s := range curveFuzzSeeds(f) {
		f.Add(byte(0), s)
		f.Add(byte(1), s)
	}
	tmpl := [2]*curveClientHandshake{
		newCurveFixture(f, 1).cli.(*curveClientHandshake),
		newCurveFixture(f, 2).cli.(*curveClientHandshake),
	}
	f.Fuzz(func(t *testing.T, stage byte, body []byte) {
		h := *tmpl[stage&1]
		fx := &curveFixture{cli: &h}
		out, done, err := fx.cli.Command(context.Background(), body)
		if done && err != nil {
			t.Fatalf("done with %v", err)
		}
		if err != nil {
			if len(out) != 0 {
				t.Fatalf("answered % x with %v", out, err)
			}
			var pe *PeerError
			if errors.As(err, &pe) {
				_ = pe.Error()
			}
			return
		}
		if stage&1 == 0 {
			if done || len(out) < 9+curveInitiateMin || out[0] != wire.FlagCommand|wire.FlagLong {
				t.Fatalf("WELCOME answered with % x, done %v", out[:min(len(out), 12)], done)
			}
			return
		}
		if !done || len(out) != 0 || fx.cli.Codec() == nil {
			t.Fatalf("READY: out % x, done %v", out, done)
		}
		for _, p := range fx.cli.PeerMetadata() {
			if !wire.ValidPropertyName(p.Name) {
				t.Fatalf("invalid name %q accepted", p.Name)
			}
		}
	})
}

// FuzzCurveOpen feeds arbitrary MESSAGE bodies to an established codec.
func FuzzCurveOpen(f *testing.F) {
	fx := newCurveFixture(f, 3)
	cli := fx.cli.Codec()
	for i, fl := range []byte{0, wire.FlagMore, wire.FlagCommand, wire.FlagMore | wire.FlagCommand} {
		m, err := cli.Seal(nil, fl, []byte("hello world")[:i*3])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(0), m[2:])
		f.Add(byte(wire.FlagCommand), m[2:])
	}
	f.Add(byte(0), []byte("\x07MESSAGE"))
	f.Add(byte(0), make([]byte, 33))
	tmpl := fx.srv.Codec().(*curveCodec)
	f.Fuzz(func(t *testing.T, flags byte, body []byte) {
		c := *tmpl
		srv := &c
		// Open decrypts in place; the fuzzer's input must stay as it is.
		body = append([]byte(nil), body...)
		got, data, err := srv.Open(flags, body)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, ErrCurveNonce) && !errors.Is(err, ErrCurveAuth) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if got&^(wire.FlagMore|wire.FlagCommand) != 0 || len(data) != len(body)-curveMessageMin {
			t.Fatalf("Open = %#02x, %d bytes of %d", got, len(data), len(body))
		}
		// The same nonce never opens twice.
		if _, _, err := srv.Open(flags, body); !errors.Is(err, ErrCurveNonce) {
			t.Fatalf("replay: %v", err)
		}
	})
}

// TestCurveFixtureDeterministic: the fuzzers' valid seeds stay valid for a
// fresh fixture, so the fuzzers start from the success paths.
func TestCurveFixtureDeterministic(t *testing.T) {
	ctx := context.Background()
	a := newCurveFixture(t, 3)
	b := newCurveFixture(t, 3)
	for i, p := range [][2][]byte{{a.hello, b.hello}, {a.welcome, b.welcome}, {a.initiate, b.initiate}, {a.ready, b.ready}} {
		if string(p[0]) != string(p[1]) {
			t.Fatalf("frame %d differs", i)
		}
	}
	s := newCurveFixture(t, 0)
	if _, _, err := s.srv.Command(ctx, a.hello[2:]); err != nil {
		t.Fatal(err)
	}
	if _, done, err := s.srv.Command(ctx, a.initiate[9:]); !done || err != nil {
		t.Fatalf("recorded INITIATE: %v", err)
	}
	c := newCurveFixture(t, 2)
	if _, done, err := c.cli.Command(ctx, a.ready[2:]); !done || err != nil {
		t.Fatalf("recorded READY: %v", err)
	}
}
