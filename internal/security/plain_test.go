package security

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/azmq/azmq/internal/wire"
)

// PROTOCOL §7.7 (user "admin", password "secret", DEALER with no id), §7.3
// and §7.6.
var (
	vecPlainHello   = hx(`04 13 05 48 45 4c 4c 4f 05 61 64 6d 69 6e 06 73 65 63 72 65 74`)
	vecPlainWelcome = hx(`04 08 07 57 45 4c 43 4f 4d 45`)
	vecPlainInit    = hx(`
		04 2c 08 49 4e 49 54 49 41 54 45 0b 53 6f 63 6b
		65 74 2d 54 79 70 65 00 00 00 06 44 45 41 4c 45
		52 08 49 64 65 6e 74 69 74 79 00 00 00 00`)
	vecPlainReadyRouter = hx(`
		04 29 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d
		54 79 70 65 00 00 00 06 52 4f 55 54 45 52 08 49
		64 65 6e 74 69 74 79 00 00 00 00`)
	vecPlainError400 = hx(`04 09 5e 52 52 4f 52 03 34 30 30`) // libzmq's PLAIN server
)

func plainDealerNoID() wire.Metadata {
	return wire.Metadata{
		{Name: wire.PropSocketType, Value: []byte("DEALER")},
		{Name: wire.PropIdentity, Value: []byte{}},
	}
}

func plainRouterNoID() wire.Metadata {
	return wire.Metadata{
		{Name: wire.PropSocketType, Value: []byte("ROUTER")},
		{Name: wire.PropIdentity, Value: []byte{}},
	}
}

// plainFakeZAP answers every request with rep and records the requests.
type plainFakeZAP struct {
	rep  ZAPReply
	err  error
	reqs []ZAPRequest
}

func (z *plainFakeZAP) ask(_ context.Context, req ZAPRequest) (ZAPReply, error) {
	z.reqs = append(z.reqs, req)
	return z.rep, z.err
}

func plainZAP200() *plainFakeZAP {
	return &plainFakeZAP{rep: ZAPReply{
		Status: "200", Text: "OK", UserID: "admin",
		Metadata: wire.Metadata{{Name: "X-Role", Value: []byte("ops")}},
	}}
}

func plainServerSession(z *plainFakeZAP) Session {
	s := Session{Domain: "global", Address: "192.0.2.7", Identity: []byte("srv")}
	if z != nil {
		s.ZAP = z.ask
	}
	return s
}

func newPlainClient() Handshake {
	return PlainClient{Username: "admin", Password: "secret"}.NewHandshake(plainDealerNoID(), Session{})
}

// plainFrames splits a stream of wire frames into command bodies.
func plainFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		h, n, err := wire.ParseFrameHeader(b)
		if err != nil {
			t.Fatalf("frame header in % x: %v", b, err)
		}
		if !h.Command() || h.More() {
			t.Fatalf("flags %#x", h.Flags)
		}
		if uint64(len(b)-n) < h.Size {
			t.Fatalf("frame of %d bytes truncated to %d", h.Size, len(b)-n)
		}
		out = append(out, b[n:n+int(h.Size)])
		b = b[n+int(h.Size):]
	}
	return out
}

// plainFeed hands every frame of out to h and returns h's answers, whether it
// is done, and its error.
func plainFeed(t *testing.T, h Handshake, out []byte) ([]byte, bool, error) {
	t.Helper()
	var ans []byte
	done := false
	for _, body := range plainFrames(t, out) {
		o, d, err := h.Command(context.Background(), body)
		ans = append(ans, o...)
		if err != nil {
			return ans, d, err
		}
		done = done || d
	}
	return ans, done, nil
}

func plainMDEqual(a, b wire.Metadata) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func TestPlainMechanism(t *testing.T) {
	for _, tt := range []struct {
		m      Mechanism
		server bool
	}{{PlainServer{}, true}, {PlainClient{Username: "u"}, false}} {
		if tt.m.Name() != "PLAIN" || tt.m.AsServer() != tt.server {
			t.Errorf("%T: Name %q AsServer %v", tt.m, tt.m.Name(), tt.m.AsServer())
		}
		h := tt.m.NewHandshake(nil, Session{})
		if h.Codec() != nil {
			t.Errorf("%T has a codec", tt.m)
		}
		if id, md := h.Auth(); id != "" || md != nil {
			t.Errorf("%T: Auth before handshake = %q %v", tt.m, id, md)
		}
		if md := h.PeerMetadata(); md != nil {
			t.Errorf("%T: peer metadata before handshake: %v", tt.m, md)
		}
	}
	out, err := PlainServer{}.NewHandshake(nil, Session{}).Start(context.Background())
	if out != nil || err != nil {
		t.Errorf("server Start = % x, %v", out, err)
	}
}

// TestPlainVectors: each step of the handshake gives the bytes libzmq
// gives (PROTOCOL §7.7).
func TestPlainVectors(t *testing.T) {
	ctx := context.Background()
	c := newPlainClient()
	out, err := c.Start(ctx)
	if err != nil || !bytes.Equal(out, vecPlainHello) {
		t.Fatalf("HELLO = % x, %v\nwant   % x", out, err, vecPlainHello)
	}
	z := plainZAP200()
	s := PlainServer{}.NewHandshake(plainRouterNoID(), plainServerSession(z))
	out, done, err := s.Command(ctx, vecPlainHello[2:])
	if err != nil || done || !bytes.Equal(out, vecPlainWelcome) {
		t.Fatalf("server on HELLO = % x, %v, %v", out, done, err)
	}
	out, done, err = c.Command(ctx, vecPlainWelcome[2:])
	if err != nil || done || !bytes.Equal(out, vecPlainInit) {
		t.Fatalf("INITIATE = % x, %v, %v\nwant       % x", out, done, err, vecPlainInit)
	}
	out, done, err = s.Command(ctx, vecPlainInit[2:])
	if err != nil || !done || !bytes.Equal(out, vecPlainReadyRouter) {
		t.Fatalf("server on INITIATE = % x, %v, %v", out, done, err)
	}
	out, done, err = c.Command(ctx, vecPlainReadyRouter[2:])
	if err != nil || !done || len(out) != 0 {
		t.Fatalf("client on READY = % x, %v, %v", out, done, err)
	}
	if !plainMDEqual(c.PeerMetadata(), plainRouterNoID()) || !plainMDEqual(s.PeerMetadata(), plainDealerNoID()) {
		t.Errorf("peer metadata: client %v, server %v", c.PeerMetadata(), s.PeerMetadata())
	}
}

// TestPlainExchange runs a whole handshake between our client and server,
// each fed the frames the other wrote.
func TestPlainExchange(t *testing.T) {
	ctx := context.Background()
	z := plainZAP200()
	c := newPlainClient()
	s := PlainServer{}.NewHandshake(plainRouterNoID(), plainServerSession(z))
	cOut, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sOut, err := s.Start(ctx)
	if err != nil || len(sOut) != 0 {
		t.Fatal(sOut, err)
	}
	cDone, sDone := false, false
	for i := 0; i < 5 && !(cDone && sDone) && (len(cOut) > 0 || len(sOut) > 0); i++ {
		var toS, toC []byte
		var d bool
		toC, d, err = plainFeed(t, s, cOut)
		if err != nil {
			t.Fatalf("server: %v", err)
		}
		sDone = sDone || d
		toS, d, err = plainFeed(t, c, append(sOut, toC...))
		if err != nil {
			t.Fatalf("client: %v", err)
		}
		cDone = cDone || d
		cOut, sOut = toS, nil
	}
	if !cDone || !sDone {
		t.Fatalf("handshake did not finish: client %v server %v", cDone, sDone)
	}
	if len(z.reqs) != 1 {
		t.Fatalf("%d ZAP requests", len(z.reqs))
	}
	r := z.reqs[0]
	if r.Domain != "global" || r.Address != "192.0.2.7" || string(r.Identity) != "srv" || r.Mechanism != "PLAIN" ||
		len(r.Credentials) != 2 || string(r.Credentials[0]) != "admin" || string(r.Credentials[1]) != "secret" {
		t.Errorf("ZAP request %+v", r)
	}
	id, md := s.Auth()
	if id != "admin" || !plainMDEqual(md, wire.Metadata{{Name: "X-Role", Value: []byte("ops")}}) {
		t.Errorf("server Auth = %q %v", id, md)
	}
	if id, md := c.Auth(); id != "" || md != nil {
		t.Errorf("client Auth = %q %v", id, md)
	}
	if !plainMDEqual(c.PeerMetadata(), plainRouterNoID()) || !plainMDEqual(s.PeerMetadata(), plainDealerNoID()) {
		t.Errorf("peer metadata: client %v, server %v", c.PeerMetadata(), s.PeerMetadata())
	}
	// Done means done: anything more is out of place.
	if _, _, err := c.Command(ctx, vecPlainReadyRouter[2:]); !errors.Is(err, ErrUnexpected) {
		t.Errorf("client READY after done: %v", err)
	}
	if _, _, err := s.Command(ctx, vecPlainInit[2:]); !errors.Is(err, ErrUnexpected) {
		t.Errorf("server INITIATE after done: %v", err)
	}
}

// TestPlainEmptyCredentials: empty username and password are legal.
func TestPlainEmptyCredentials(t *testing.T) {
	ctx := context.Background()
	out, err := PlainClient{}.NewHandshake(nil, Session{}).Start(ctx)
	if want := hx(`04 08 05 48 45 4c 4c 4f 00 00`); err != nil || !bytes.Equal(out, want) {
		t.Fatalf("HELLO = % x, %v", out, err)
	}
	z := plainZAP200()
	out, _, err = PlainServer{}.NewHandshake(nil, plainServerSession(z)).Command(ctx, out[2:])
	if err != nil || !bytes.Equal(out, vecPlainWelcome) {
		t.Fatalf("server = % x, %v", out, err)
	}
	if c := z.reqs[0].Credentials; len(c) != 2 || len(c[0]) != 0 || len(c[1]) != 0 {
		t.Errorf("credentials %q", c)
	}
}

func TestPlainClientStartLimits(t *testing.T) {
	long := strings.Repeat("x", MaxPlainCredential+1)
	atMax := long[:MaxPlainCredential]
	for _, tt := range []struct {
		user, pass string
		ok         bool
	}{
		{atMax, atMax, true},
		{long, "p", false},
		{"u", long, false},
	} {
		out, err := PlainClient{Username: tt.user, Password: tt.pass}.NewHandshake(nil, Session{}).Start(context.Background())
		if (err == nil) != tt.ok {
			t.Errorf("user %d pass %d bytes: %v", len(tt.user), len(tt.pass), err)
		}
		if tt.ok {
			if want := 2 + 1 + 5 + 1 + len(tt.user) + 1 + len(tt.pass); len(out) != want-2+9 {
				t.Errorf("HELLO of %d bytes, want a long frame of %d", len(out), want-2+9)
			}
			if out[0] != wire.FlagCommand|wire.FlagLong {
				t.Errorf("flags %#x", out[0])
			}
		} else if out != nil {
			t.Errorf("output % x with error", out)
		}
	}
}

func TestPlainZAPRefusal(t *testing.T) {
	for _, tt := range []struct {
		status string
		out    []byte
	}{
		{"400", vecError400},
		{"500", hx(`04 0a 05 45 52 52 4f 52 03 35 30 30`)},
		{"300", nil},
	} {
		t.Run(tt.status, func(t *testing.T) {
			ctx := context.Background()
			z := &plainFakeZAP{rep: ZAPReply{Status: tt.status, Text: "No way", UserID: "x"}}
			s := PlainServer{}.NewHandshake(nil, plainServerSession(z))
			out, done, err := s.Command(ctx, vecPlainHello[2:])
			var ze *ZAPError
			if !errors.As(err, &ze) || ze.Status != tt.status || ze.Text != "No way" || done {
				t.Fatalf("err = %v, done %v", err, done)
			}
			if !bytes.Equal(out, tt.out) {
				t.Fatalf("out = % x, want % x", out, tt.out)
			}
			if id, md := s.Auth(); id != "" || md != nil {
				t.Errorf("Auth after refusal = %q %v", id, md)
			}
			if _, _, err := s.Command(ctx, vecPlainInit[2:]); err == nil {
				t.Error("INITIATE accepted after refusal")
			}
			if tt.out == nil {
				return
			}
			c := newPlainClient()
			if _, err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			_, done, err = plainFeed(t, c, out)
			var pe *PeerError
			if !errors.As(err, &pe) || pe.Reason != tt.status || done {
				t.Errorf("client: %v, done %v", err, done)
			}
		})
	}
}

func TestPlainNoZAP(t *testing.T) {
	for name, sess := range map[string]Session{
		"nil-func":   {},
		"no-handler": {ZAP: (&plainFakeZAP{err: ErrNoZAPHandler}).ask},
		"no-handler-wrapped": {ZAP: (&plainFakeZAP{
			rep: ZAPReply{Status: "200"},
			err: fmt.Errorf("ctx: %w", ErrNoZAPHandler),
		}).ask},
	} {
		t.Run(name, func(t *testing.T) {
			s := PlainServer{}.NewHandshake(nil, sess)
			out, done, err := s.Command(context.Background(), vecPlainHello[2:])
			if !errors.Is(err, ErrNoZAPHandler) || done || out != nil {
				t.Fatalf("= % x, %v, %v", out, done, err)
			}
			if !strings.Contains(err.Error(), "ZAP handler") {
				t.Errorf("error %q", err)
			}
		})
	}
}

func TestPlainZAPFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got context.Context
	s := PlainServer{}.NewHandshake(nil, Session{ZAP: func(ctx context.Context, _ ZAPRequest) (ZAPReply, error) {
		got = ctx
		return ZAPReply{}, ctx.Err()
	}})
	out, done, err := s.Command(ctx, vecPlainHello[2:])
	if !errors.Is(err, context.Canceled) || done || out != nil {
		t.Fatalf("= % x, %v, %v", out, done, err)
	}
	if got != ctx {
		t.Error("ZAP did not get the handshake's context")
	}
}

// TestPlainCredentialsDoNotAlias: the ZAP request survives the reuse of
// the read buffer HELLO came from.
func TestPlainCredentialsDoNotAlias(t *testing.T) {
	var creds [][]byte
	s := PlainServer{}.NewHandshake(nil, Session{ZAP: func(_ context.Context, r ZAPRequest) (ZAPReply, error) {
		creds = r.Credentials
		return ZAPReply{Status: "200"}, nil
	}})
	buf := append([]byte{}, vecPlainHello[2:]...)
	if _, _, err := s.Command(context.Background(), buf); err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	if string(creds[0]) != "admin" || string(creds[1]) != "secret" {
		t.Errorf("credentials %q", creds)
	}
	if cap(creds[0]) != len(creds[0]) {
		t.Error("username has spare capacity into the password")
	}
}

func TestPlainServerCommand(t *testing.T) {
	hello := vecPlainHello[2:]
	tests := []struct {
		name    string
		before  [][]byte // commands accepted first
		body    []byte
		want    error // errors.Is target
		wantZAP int   // ZAP requests expected
	}{
		{name: "hello-trailing-byte", body: []byte("\x05HELLO\x05admin\x06secretX"), want: wire.ErrMalformed},
		{name: "hello-password-short", body: []byte("\x05HELLO\x05admin\x06secre"), want: wire.ErrMalformed},
		{name: "hello-username-past-end", body: []byte("\x05HELLO\x0aadmin"), want: wire.ErrMalformed},
		{name: "hello-no-password-length", body: []byte("\x05HELLO\x05admin"), want: wire.ErrMalformed},
		{name: "hello-empty", body: []byte("\x05HELLO"), want: wire.ErrMalformed},
		{name: "hello-ulen-only", body: []byte("\x05HELLO\x00"), want: wire.ErrMalformed},
		{name: "hello-truncated-name", body: []byte("\x05HELL"), want: wire.ErrMalformed},
		{name: "hello-lowercase", body: []byte("\x05hello\x00\x00"), want: ErrUnexpected},
		{name: "initiate-before-hello", body: vecPlainInit[2:], want: ErrUnexpected},
		{name: "ready", body: vecPlainReadyRouter[2:], want: ErrUnexpected},
		{name: "welcome", body: vecPlainWelcome[2:], want: ErrUnexpected},
		{name: "error", body: vecError400[2:], want: ErrUnexpected},
		{name: "ping", body: []byte("\x04PING\x00\x00"), want: ErrUnexpected},
		{name: "empty-body", body: []byte{}, want: wire.ErrMalformed},
		{name: "libzmq-error", body: vecPlainError400[2:], want: wire.ErrMalformed},
		{name: "hello-twice", before: [][]byte{hello}, body: hello, want: ErrUnexpected, wantZAP: 1},
		{name: "initiate-bad-metadata", before: [][]byte{hello}, body: []byte("\x08INITIATE\x03abc\x00\x00\x00\x05x"), want: wire.ErrMalformed, wantZAP: 1},
		{name: "initiate-bad-name", before: [][]byte{hello}, body: []byte("\x08INITIATE\x01\x01\x00\x00\x00\x00"), want: wire.ErrMalformed, wantZAP: 1},
		{name: "initiate-empty", before: [][]byte{hello}, body: []byte("\x08INITIATE"), wantZAP: 1},
		{name: "initiate", before: [][]byte{hello}, body: vecPlainInit[2:], wantZAP: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			z := plainZAP200()
			s := PlainServer{}.NewHandshake(plainRouterNoID(), plainServerSession(z))
			for _, b := range tt.before {
				if _, _, err := s.Command(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			out, done, err := s.Command(ctx, tt.body)
			if len(z.reqs) != tt.wantZAP {
				t.Errorf("%d ZAP requests", len(z.reqs))
			}
			if tt.want == nil {
				if err != nil || !done || !bytes.Equal(out, vecPlainReadyRouter) {
					t.Fatalf("= % x, %v, %v", out, done, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || done || out != nil {
				t.Fatalf("= % x, %v, %v; want %v", out, done, err, tt.want)
			}
			// A failed handshake stays failed.
			if _, _, err := s.Command(ctx, hello); err == nil {
				t.Error("HELLO accepted after failure")
			}
		})
	}
}

func TestPlainClientCommand(t *testing.T) {
	welcome := vecPlainWelcome[2:]
	tests := []struct {
		name     string
		noStart  bool
		before   [][]byte
		body     []byte
		want     error  // errors.Is target
		peerErr  string // a *PeerError with this reason
		isPeerEr bool
		done     bool
	}{
		{name: "welcome-trailing", body: []byte("\x07WELCOMEx"), want: wire.ErrMalformed},
		{name: "welcome-before-start", noStart: true, body: welcome, want: ErrUnexpected},
		{name: "welcome-twice", before: [][]byte{welcome}, body: welcome, want: ErrUnexpected},
		{name: "ready-before-welcome", body: vecPlainReadyRouter[2:], want: ErrUnexpected},
		{name: "hello", body: vecPlainHello[2:], want: ErrUnexpected},
		{name: "initiate", body: vecPlainInit[2:], want: ErrUnexpected},
		{name: "ping", body: []byte("\x04PING\x00\x00"), want: ErrUnexpected},
		{name: "empty-body", body: []byte{}, want: wire.ErrMalformed},
		{name: "bad-name", body: []byte("\x07WELC0ME"), want: wire.ErrMalformed},
		{name: "error-at-welcome", body: vecError400[2:], isPeerEr: true, peerErr: "400"},
		{name: "error-at-ready", before: [][]byte{welcome}, body: vecError400[2:], isPeerEr: true, peerErr: "400"},
		{name: "libzmq-error-at-welcome", body: vecPlainError400[2:], isPeerEr: true, peerErr: "400"},
		{name: "libzmq-error-at-ready", before: [][]byte{welcome}, body: vecPlainError400[2:], isPeerEr: true, peerErr: "400"},
		{name: "libzmq-error-empty-reason", body: []byte("\x5eRROR\x00"), isPeerEr: true, peerErr: ""},
		{name: "libzmq-error-no-reason", body: []byte("\x5eRROR"), want: wire.ErrMalformed},
		{name: "libzmq-error-short", body: []byte("\x5eRROR\x05ab"), want: wire.ErrMalformed},
		{name: "libzmq-error-before-start", noStart: true, body: vecPlainError400[2:], want: wire.ErrMalformed},
		{name: "error-before-start", noStart: true, body: vecError400[2:], want: ErrUnexpected},
		{name: "error-no-reason", body: []byte("\x05ERROR"), want: wire.ErrMalformed},
		{name: "ready-bad-metadata", before: [][]byte{welcome}, body: []byte("\x05READY\x00"), want: wire.ErrMalformed},
		{name: "ready", before: [][]byte{welcome}, body: vecPlainReadyRouter[2:], done: true},
		{name: "ready-empty", before: [][]byte{welcome}, body: []byte("\x05READY"), done: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := newPlainClient()
			if !tt.noStart {
				if _, err := c.Start(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, b := range tt.before {
				if _, _, err := c.Command(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			out, done, err := c.Command(ctx, tt.body)
			if done != tt.done || len(out) != 0 {
				t.Errorf("out % x, done %v", out, done)
			}
			switch {
			case tt.isPeerEr:
				var pe *PeerError
				if !errors.As(err, &pe) || pe.Reason != tt.peerErr {
					t.Fatalf("err = %v, want PeerError %q", err, tt.peerErr)
				}
			case tt.want != nil:
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if _, _, err := c.Command(ctx, welcome); err == nil {
					t.Error("WELCOME accepted after failure")
				}
			}
		})
	}
}

// TestPlainTwoClients: two clients never agree (each takes the other's
// HELLO as out of place), the failure PROTOCOL §2.1 relies on.
func TestPlainTwoClients(t *testing.T) {
	a, b := newPlainClient(), newPlainClient()
	ha, _ := a.Start(context.Background())
	if _, err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := plainFeed(t, b, ha); !errors.Is(err, ErrUnexpected) {
		t.Errorf("client on HELLO: %v", err)
	}
}
