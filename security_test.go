package azmq_test

import (
	"context"
	"fmt"
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
		// The client learns what the server's silence most likely means.
		p.refused(t, p.cliEv, azmq.ErrCurveServerKey.Error())
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

// plainAuth is a zap.AuthFunc admitting admin/secret at once and holding
// every other PLAIN client for hold (or until the handler stops) before it
// refuses it; each held request is announced on held.
func plainAuth(hold time.Duration, held chan<- string) zap.AuthFunc {
	return func(ctx context.Context, r zap.Request) (zap.Decision, error) {
		if r.Username == "admin" && r.Password == "secret" {
			return zap.Decision{Allow: true, UserID: "admin"}, nil
		}
		select {
		case held <- r.Username:
		default:
		}
		t := time.NewTimer(hold)
		defer t.Stop()
		select {
		case <-t.C:
			return zap.Decision{}, nil
		case <-ctx.Done():
			return zap.Decision{}, ctx.Err()
		}
	}
}

// startHandler serves h in zctx until the test ends.
func startHandler(t *testing.T, h *zap.Handler, zctx *azmq.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := h.Start(ctx, zctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); wait() })
}

// A slow ZAP decision for some clients holds up no other: with 10
// handshakes waiting on a handler that takes 2 s for each, a legitimate
// client is admitted, and its message received, within 1 s.
func TestZAPSlowDecisionsDoNotHoldUpOthers(t *testing.T) {
	const (
		strangers = 10
		hold      = 2 * time.Second
		bound     = 1 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	clients := azmq.NewContext() // the peers: strangers to the server
	defer clients.Close()

	held := make(chan string, strangers)
	h := zap.NewHandler()
	h.SetAuthFunc(plainAuth(hold, held))
	startHandler(t, h, zctx)

	srv, err := zctx.NewSocket(azmq.PULL, azmq.WithPlainServer(), azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	ev := srv.Monitor(ctx)
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	for i := range strangers {
		s, err := clients.NewSocket(azmq.PUSH, azmq.WithPlainClient(fmt.Sprint("stranger", i), "guess"), azmq.WithLinger(0))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Connect(srv.LastEndpoint()); err != nil {
			t.Fatal(err)
		}
	}
	for range strangers {
		select {
		case <-held:
		case <-ctx.Done():
			t.Fatal("the strangers' requests did not all reach the handler")
		}
	}

	start := time.Now()
	cli, err := clients.NewSocket(azmq.PUSH, azmq.WithPlainClient("admin", "secret"), azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	if err := cli.Send(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	recvCtx, recvCancel := context.WithTimeout(ctx, 5*time.Second)
	defer recvCancel()
	m, err := srv.RecvMsg(recvCtx)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("the legitimate client's message did not arrive: %v", err)
	}
	if u, _ := m.Property("User-Id"); u != "admin" || string(m.Frames[0]) != "hello" {
		t.Fatalf("received %q from User-Id %q", m.Frames, u)
	}
	t.Logf("admitted and received in %v with %d handshakes held for %v", took, strangers, hold)
	if took > bound {
		t.Fatalf("the legitimate client took %v, want at most %v", took, bound)
	}
	// The strangers were still waiting meanwhile: none was refused yet.
	for {
		select {
		case e := <-ev:
			if e.Kind == azmq.EventHandshakeFailed {
				t.Fatalf("a stranger was answered before the legitimate client: %v", e.Err)
			}
			continue
		default:
		}
		break
	}
}

// The handshake timeout ends a handshake whose ZAP answer never comes,
// and the socket goes on admitting others meanwhile.
func TestZAPNoAnswerHitsHandshakeTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	held := make(chan string, 16)
	h := zap.NewHandler()
	h.SetAuthFunc(plainAuth(time.Hour, held)) // until the handler stops
	startHandler(t, h, zctx)

	srv, err := zctx.NewSocket(azmq.PULL, azmq.WithPlainServer(), azmq.WithHandshakeTimeout(timeout), azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	ev := srv.Monitor(ctx)
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	mute, err := zctx.NewSocket(azmq.PUSH, azmq.WithPlainClient("mute", "x"), azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := mute.Connect(srv.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-ctx.Done():
		t.Fatal("the request did not reach the handler")
	}
	start := time.Now()
	for {
		var e azmq.Event
		select {
		case e = <-ev:
		case <-ctx.Done():
			t.Fatal("an unanswered ZAP request hung the handshake")
		}
		if e.Kind != azmq.EventHandshakeFailed {
			continue
		}
		if !strings.Contains(e.Err.Error(), "timed out") {
			t.Fatalf("handshake failed with %v, want the handshake timeout", e.Err)
		}
		break
	}
	t.Logf("the unanswered handshake ended %v after its request reached the handler (timeout %v)", time.Since(start), timeout)

	cli, err := zctx.NewSocket(azmq.PUSH, azmq.WithPlainClient("admin", "secret"), azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	if err := cli.Send(ctx, []byte("served")); err != nil {
		t.Fatal(err)
	}
	if m, err := srv.Recv(ctx); err != nil || string(m[0]) != "served" {
		t.Fatalf("Recv = %q, %v", m, err)
	}
}
