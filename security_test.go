package azmq_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// secPair binds a server socket and connects a client, both with their own
// options, in one Context whose ZAP handler is h (nil: none).
type secPair struct {
	srv, cli *azmq.Socket
	srvEv    <-chan azmq.Event
	cliEv    <-chan azmq.Event
}

func newSecPair(t *testing.T, h *zap.Handler, srvOpts, cliOpts []azmq.SocketOption) secPair {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	zctx := azmq.NewContext()
	var wait func() error
	if h != nil {
		var err error
		if wait, err = h.Start(ctx, zctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		cancel()
		if wait != nil {
			wait()
		}
		zctx.Close()
	})
	srv, err := zctx.NewSocket(azmq.REP, append(srvOpts, azmq.WithLinger(0))...)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := zctx.NewSocket(azmq.REQ, append(cliOpts, azmq.WithLinger(0))...)
	if err != nil {
		t.Fatal(err)
	}
	p := secPair{srv: srv, cli: cli, srvEv: srv.Monitor(ctx), cliEv: cli.Monitor(ctx)}
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	return p
}

// roundTrip checks that a request and its reply pass, and returns the
// request as the server received it.
func (p secPair) roundTrip(t *testing.T) azmq.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.cli.Send(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	m, err := p.srv.RecvMsg(ctx)
	if err != nil {
		t.Fatalf("server Recv: %v", err)
	}
	if err := p.srv.Send(ctx, []byte("world")); err != nil {
		t.Fatal(err)
	}
	if r, err := p.cli.Recv(ctx); err != nil || string(r[0]) != "world" {
		t.Fatalf("client Recv = %q, %v", r, err)
	}
	return m
}

// refused checks that the handshake fails on the given side with a reason
// containing want, and that no request passes.
func (p secPair) refused(t *testing.T, ev <-chan azmq.Event, want string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.Kind == azmq.EventHandshakeSucceeded {
				t.Fatalf("handshake succeeded")
			}
			if e.Kind != azmq.EventHandshakeFailed {
				continue
			}
			if e.Err == nil || !strings.Contains(e.Err.Error(), want) {
				t.Fatalf("handshake failed with %v, want a reason with %q", e.Err, want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			p.cli.Send(ctx, []byte("must not pass"))
			if m, err := p.srv.Recv(ctx); err == nil {
				t.Fatalf("a message passed: %q", m)
			}
			return
		case <-timeout:
			t.Fatalf("no HandshakeFailed event")
		}
	}
}

func TestPlain(t *testing.T) {
	h := zap.NewHandler()
	h.AddUser("admin", "secret")
	t.Run("accepted", func(t *testing.T) {
		p := newSecPair(t, h, []azmq.SocketOption{azmq.WithPlainServer()},
			[]azmq.SocketOption{azmq.WithPlainClient("admin", "secret")})
		m := p.roundTrip(t)
		if u, ok := m.Property("User-Id"); !ok || u != "admin" {
			t.Fatalf("User-Id = %q, %v", u, ok)
		}
	})
	t.Run("wrong-password", func(t *testing.T) {
		p := newSecPair(t, h, []azmq.SocketOption{azmq.WithPlainServer()},
			[]azmq.SocketOption{azmq.WithPlainClient("admin", "nope")})
		p.refused(t, p.cliEv, "400")
	})
	t.Run("no-zap-handler", func(t *testing.T) {
		p := newSecPair(t, nil, []azmq.SocketOption{azmq.WithPlainServer()},
			[]azmq.SocketOption{azmq.WithPlainClient("admin", "secret")})
		p.refused(t, p.srvEv, "ZAP")
	})
	t.Run("null-client", func(t *testing.T) {
		p := newSecPair(t, h, []azmq.SocketOption{azmq.WithPlainServer()}, nil)
		p.refused(t, p.srvEv, "mechanism")
	})
}

func TestCurve(t *testing.T) {
	spub, ssec := keyPair(t)
	cpub, csec := keyPair(t)
	opub, _ := keyPair(t)
	srv := []azmq.SocketOption{azmq.WithCurveServer(ssec)}
	cli := []azmq.SocketOption{azmq.WithCurveClient(spub, cpub, csec)}
	t.Run("no-zap-handler-accepts", func(t *testing.T) {
		newSecPair(t, nil, srv, cli).roundTrip(t)
	})
	t.Run("zap-allows-key", func(t *testing.T) {
		h := zap.NewHandler()
		if err := h.AllowCurveKey(cpub); err != nil {
			t.Fatal(err)
		}
		m := newSecPair(t, h, srv, cli).roundTrip(t)
		if u, _ := m.Property("User-Id"); u != cpub {
			t.Fatalf("User-Id = %q, want the client key %q", u, cpub)
		}
	})
	t.Run("zap-refuses-key", func(t *testing.T) {
		h := zap.NewHandler()
		if err := h.AllowCurveKey(opub); err != nil {
			t.Fatal(err)
		}
		p := newSecPair(t, h, srv, cli)
		p.refused(t, p.cliEv, "400")
	})
	t.Run("wrong-server-key", func(t *testing.T) {
		p := newSecPair(t, nil, srv, []azmq.SocketOption{azmq.WithCurveClient(opub, cpub, csec)})
		p.refused(t, p.srvEv, "")
	})
}

func TestNullWithZAPDomain(t *testing.T) {
	h := zap.NewHandler()
	h.Deny("127.0.0.1")
	p := newSecPair(t, h, []azmq.SocketOption{azmq.WithZAPDomain("global")}, nil)
	p.refused(t, p.cliEv, "400")
}

func keyPair(t *testing.T) (string, string) {
	t.Helper()
	pub, sec, err := azmq.NewCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != 40 || len(sec) != 40 {
		t.Fatalf("keys %q %q are not 40 Z85 characters", pub, sec)
	}
	return pub, sec
}

func TestSecurityOptionErrors(t *testing.T) {
	_, sec := keyPair(t)
	pub, _ := keyPair(t)
	zctx := azmq.NewContext()
	defer zctx.Close()
	bad := [][]azmq.SocketOption{
		{azmq.WithCurveServer("short")},
		{azmq.WithCurveServer(strings.Repeat("~", 40))},
		{azmq.WithCurveClient(pub, pub, "x")},
		{azmq.WithPlainServer(), azmq.WithCurveServer(sec)},
		{azmq.WithPlainClient(strings.Repeat("u", 256), "p")},
		{azmq.WithZAPDomain(strings.Repeat("d", 256))},
	}
	for i, opts := range bad {
		if s, err := zctx.NewSocket(azmq.REQ, opts...); err == nil {
			s.Close()
			t.Errorf("case %d: accepted", i)
		} else if !strings.HasPrefix(err.Error(), "azmq: With") {
			t.Errorf("case %d: error %q does not name the option", i, err)
		}
	}
}

func TestZAPHandlerSilentHitsHandshakeTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	// A "handler" that takes requests and never answers.
	mute, err := zctx.NewSocket(azmq.ROUTER, azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := mute.Bind(zap.Endpoint); err != nil {
		t.Fatal(err)
	}
	srv, _ := zctx.NewSocket(azmq.REP, azmq.WithPlainServer(), azmq.WithHandshakeTimeout(200*time.Millisecond), azmq.WithLinger(0))
	cli, _ := zctx.NewSocket(azmq.REQ, azmq.WithPlainClient("a", "b"), azmq.WithLinger(0))
	ev := srv.Monitor(ctx)
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	if _, err := mute.Recv(ctx); err != nil { // the request did arrive
		t.Fatal(err)
	}
	for {
		select {
		case e := <-ev:
			if e.Kind == azmq.EventHandshakeFailed {
				if !strings.Contains(e.Err.Error(), "timed out") {
					t.Fatalf("handshake failed with %v, want the handshake timeout", e.Err)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("a mute ZAP handler hung the handshake")
		}
	}
}

func TestCurveGarbageHelloDropped(t *testing.T) {
	spub, ssec := keyPair(t)
	cpub, csec := keyPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	srv, _ := zctx.NewSocket(azmq.PULL, azmq.WithCurveServer(ssec))
	ev := srv.Monitor(ctx)
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	good, _ := zctx.NewSocket(azmq.PUSH, azmq.WithCurveClient(spub, cpub, csec))
	if err := good.Connect(srv.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	garbage := func(c net.Conn) {
		g := make([]byte, 64)
		g[0], g[8], g[9], g[10], g[11] = 0xff, 1, 0x7f, 3, 1
		copy(g[12:], "CURVE")
		hello := append([]byte{0x04, 200, 5, 'H', 'E', 'L', 'L', 'O', 1, 0}, make([]byte, 192)...)
		for i := 10; i < len(hello); i++ {
			hello[i] = byte(i * 7)
		}
		c.Write(append(g, hello...))
	}
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", strings.TrimPrefix(srv.LastEndpoint(), "tcp://"))
		if err != nil {
			t.Fatal(err)
		}
		garbage(c)
	wait:
		for {
			select {
			case e := <-ev:
				if e.Kind == azmq.EventHandshakeFailed {
					break wait
				}
			case <-ctx.Done():
				t.Fatal("garbage HELLO not refused")
			}
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("garbage peer not disconnected: %v", err)
		}
		c.Close()
		if err := good.Send(ctx, []byte("still served")); err != nil {
			t.Fatal(err)
		}
		if m, err := srv.Recv(ctx); err != nil || string(m[0]) != "still served" {
			t.Fatalf("Recv = %q, %v", m, err)
		}
	}
}

func TestRefusedClientBacksOff(t *testing.T) {
	h := zap.NewHandler()
	h.AddUser("admin", "secret")
	p := newSecPair(t, h, []azmq.SocketOption{azmq.WithPlainServer()},
		[]azmq.SocketOption{azmq.WithPlainClient("admin", "wrong")})
	// At a constant 100 ms, 1.5 s would see about 15 attempts; doubling
	// after each refusal leaves about 4.
	deadline := time.After(1500 * time.Millisecond)
	failed := 0
	for {
		select {
		case e := <-p.cliEv:
			if e.Kind == azmq.EventHandshakeFailed {
				failed++
			}
			continue
		case <-deadline:
		}
		break
	}
	if failed == 0 || failed > 6 {
		t.Fatalf("%d refused handshakes in 1.5 s, want 1 to 6", failed)
	}
}
