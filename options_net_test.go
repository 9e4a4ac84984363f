package azmq

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/socks5test"
	"github.com/azmq/azmq/internal/transport"
)

// TestNetOptionValues: out-of-range values of the tcp options are refused
// by NewSocket with an error naming the option; values in range are taken.
func TestNetOptionValues(t *testing.T) {
	z := NewContext()
	defer z.Close()
	long := strings.Repeat("x", 256)
	bad := []struct {
		name string
		opt  SocketOption
	}{
		{"WithTCPKeepAlive", WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Idle: -2})},
		{"WithTCPKeepAlive", WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Interval: 40000 * time.Second})},
		{"WithTCPKeepAlive", WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Count: 128})},
		{"WithTCPKeepAlive", WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Count: -5})},
		{"WithSendBuffer", WithSendBuffer(-2)},
		{"WithSendBuffer", WithSendBuffer(1 << 40)},
		{"WithRecvBuffer", WithRecvBuffer(-2)},
		{"WithTOS", WithTOS(-1)},
		{"WithTOS", WithTOS(256)},
		{"WithBindToDevice", WithBindToDevice("a-name-far-too-long")},
		{"WithConnectTimeout", WithConnectTimeout(-time.Second)},
		{"WithReconnectStop", WithReconnectStop(8)},
		{"WithReconnectStop", WithReconnectStop(-1)},
		{"WithSOCKSProxy", WithSOCKSProxy("127.0.0.1")},
		{"WithSOCKSProxy", WithSOCKSProxy("127.0.0.1:0")},
		{"WithSOCKSProxy", WithSOCKSProxy("*:1080")},
		{"WithSOCKSProxy", WithSOCKSProxy("bad host:1080")},
		{"WithSOCKSAuth", WithSOCKSAuth("", "x")},
		{"WithSOCKSAuth", WithSOCKSAuth(long, "x")},
		{"WithSOCKSAuth", WithSOCKSAuth("u", long)},
	}
	for _, b := range bad {
		s, err := z.NewSocket(PUSH, b.opt)
		if err == nil {
			s.Close()
			t.Errorf("%s: bad value accepted", b.name)
			continue
		}
		if !strings.Contains(err.Error(), b.name) {
			t.Errorf("%s: error %q does not name the option", b.name, err)
		}
	}
	good := []SocketOption{
		WithTCPKeepAlive(net.KeepAliveConfig{}),
		WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}),
		WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Idle: 32767 * time.Second, Interval: time.Second, Count: 127}),
		WithSendBuffer(-1), WithSendBuffer(0), WithSendBuffer(1 << 20),
		WithRecvBuffer(-1), WithRecvBuffer(0), WithRecvBuffer(1 << 20),
		WithTOS(0), WithTOS(255),
		WithConnectTimeout(0), WithConnectTimeout(time.Second),
		WithReconnectStop(0), WithReconnectStop(ReconnectStopConnRefused | ReconnectStopHandshakeFailed | ReconnectStopAfterDisconnect),
		WithSOCKSProxy(""), WithSOCKSProxy("proxy.example:1080"), WithSOCKSProxy("[::1]:1080"),
		WithSOCKSAuth("u", ""), WithSOCKSAuth(long[:255], long[:255]),
	}
	for i, o := range good {
		s, err := z.NewSocket(PUSH, o)
		if err != nil {
			t.Errorf("good option %d: %v", i, err)
			continue
		}
		s.Close()
	}
}

// TestBindToDevicePlatform: WithBindToDevice is taken on Linux and
// refused with ErrNotSupported elsewhere.
func TestBindToDevicePlatform(t *testing.T) {
	z := NewContext()
	defer z.Close()
	s, err := z.NewSocket(PUSH, WithBindToDevice("lo"))
	if runtime.GOOS == "linux" {
		if err != nil {
			t.Fatalf("Linux refused WithBindToDevice: %v", err)
		}
		s.Close()
		return
	}
	if err == nil {
		s.Close()
		t.Fatal("WithBindToDevice accepted off Linux")
	}
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "WithBindToDevice") {
		t.Fatalf("error %v, want ErrNotSupported naming the option", err)
	}
}

// closedPort returns a tcp port on 127.0.0.1 that nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return p
}

// TestReconnectStopConnRefused: with ReconnectStopConnRefused a Connect
// that is refused gives up at once, says so (EventConnectStopped with the
// refusal) and is gone; without it the Connect retries.
func TestReconnectStopConnRefused(t *testing.T) {
	z := NewContext()
	defer z.Close()
	ep := "tcp://127.0.0.1:" + closedPort(t)

	s := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithReconnectStop(ReconnectStopConnRefused))
	ev := logEvents(t, s)
	if err := s.Connect(ep); err != nil {
		t.Fatal(err)
	}
	e, ok := ev.wait(kindAt(EventConnectStopped, ep), 5*time.Second)
	if !ok {
		t.Fatalf("no ConnectStopped; events: %s", ev.summary())
	}
	if !transport.ConnRefused(e.Err) {
		t.Fatalf("ConnectStopped error %v, want a refusal", e.Err)
	}
	time.Sleep(200 * time.Millisecond) // 20 reconnect intervals
	if n := ev.count(kindAt(EventConnectRetried, ep)); n != 0 {
		t.Fatalf("%d retries after the stop", n)
	}
	if err := s.Disconnect(ep); err == nil {
		t.Fatal("Disconnect found the stopped Connect still there")
	}

	// Without the flag the same Connect keeps trying.
	r := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond))
	rev := logEvents(t, r)
	if err := r.Connect(ep); err != nil {
		t.Fatal(err)
	}
	if n := rev.waitCount(kindAt(EventConnectRetried, ep), 3, 5*time.Second); n < 3 {
		t.Fatalf("%d retries without the flag; events: %s", n, rev.summary())
	}
	if n := rev.count(kindAt(EventConnectStopped, ep)); n != 0 {
		t.Fatalf("stopped without the flag")
	}
}

// TestReconnectStopHandshakeFailed: with ReconnectStopHandshakeFailed a
// Connect whose handshake fails (a peer of an incompatible type) stops
// after that one attempt; a refused dial is still retried.
func TestReconnectStopHandshakeFailed(t *testing.T) {
	z := NewContext()
	defer z.Close()
	peer := newSock(t, z, PUSH) // PUSH does not talk to PUSH
	if err := peer.Bind("tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ep := peer.LastEndpoint()
	pev := logEvents(t, peer)

	s := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithReconnectStop(ReconnectStopHandshakeFailed))
	ev := logEvents(t, s)
	if err := s.Connect(ep); err != nil {
		t.Fatal(err)
	}
	e, ok := ev.wait(kindAt(EventConnectStopped, ep), 5*time.Second)
	if !ok {
		t.Fatalf("no ConnectStopped; events: %s", ev.summary())
	}
	if e.Err == nil || ev.count(kindAt(EventHandshakeFailed, ep)) != 1 {
		t.Fatalf("ConnectStopped %v after %s; want one failed handshake", e.Err, ev.summary())
	}
	time.Sleep(200 * time.Millisecond)
	if n := pev.count(kindAt(EventAccepted, "")); n != 1 {
		t.Fatalf("peer accepted %d connections, want 1", n)
	}

	// A refused dial is not a failed handshake: retried.
	r := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithReconnectStop(ReconnectStopHandshakeFailed))
	rev := logEvents(t, r)
	closed := "tcp://127.0.0.1:" + closedPort(t)
	if err := r.Connect(closed); err != nil {
		t.Fatal(err)
	}
	if n := rev.waitCount(kindAt(EventConnectRetried, closed), 3, 5*time.Second); n < 3 {
		t.Fatalf("%d retries; events: %s", n, rev.summary())
	}
}

// countingListener accepts tcp connections on 127.0.0.1, counts them and
// closes each at once.
func countingListener(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return "tcp://" + l.Addr().String(), &n
}

// TestReconnectStopAfterDisconnect: after Disconnect no more dials are
// made, with ReconnectStopAfterDisconnect as always in azmq, even while
// a reconnect is due.
func TestReconnectStopAfterDisconnect(t *testing.T) {
	z := NewContext()
	defer z.Close()
	ep, accepted := countingListener(t)
	s := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithReconnectStop(ReconnectStopAfterDisconnect))
	if err := s.Connect(ep); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for accepted.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if accepted.Load() < 3 {
		t.Fatalf("%d connections before Disconnect, want reconnects", accepted.Load())
	}
	if err := s.Disconnect(ep); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // a connection the kernel made before may still be accepted
	n := accepted.Load()
	time.Sleep(300 * time.Millisecond) // 30 reconnect intervals
	if m := accepted.Load(); m != n {
		t.Fatalf("%d connections after Disconnect", m-n)
	}
}

// TestConnectTimeoutOption: a dial that cannot finish within
// WithConnectTimeout fails with a timeout and is retried.
func TestConnectTimeoutOption(t *testing.T) {
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	if err := pull.Bind("tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ep := pull.LastEndpoint()
	s := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithConnectTimeout(time.Nanosecond))
	ev := logEvents(t, s)
	if err := s.Connect(ep); err != nil {
		t.Fatal(err)
	}
	if n := ev.waitCount(kindAt(EventConnectDelayed, ep), 3, 5*time.Second); n < 3 {
		t.Fatalf("%d failed dials; events: %s", n, ev.summary())
	}
	e, _ := ev.first(kindAt(EventConnectDelayed, ep))
	var ne net.Error
	if !errors.As(e.Err, &ne) || !ne.Timeout() {
		t.Fatalf("dial error %v, want a timeout", e.Err)
	}
	if n := ev.count(kindAt(EventConnected, ep)); n != 0 {
		t.Fatalf("connected %d times within 1ns", n)
	}
}

// TestSourceAddressOption: a Connect to "tcp://127.0.0.2:0;127.0.0.1:PORT"
// reaches the binder from 127.0.0.2, as its Peer-Address shows.
func TestSourceAddressOption(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skip("127.0.0.2 is a loopback address on Linux and Windows only") // macOS and BSDs have 127.0.0.1 alone
	}
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	if err := pull.Bind("tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	push := newSock(t, z, PUSH)
	dst := strings.TrimPrefix(pull.LastEndpoint(), "tcp://")
	if err := push.Connect("tcp://127.0.0.2:*;" + dst); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, push, "hello")
	m, err := pull.RecvMsg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Property("Peer-Address"); got != "127.0.0.2" {
		t.Fatalf("Peer-Address %q, want 127.0.0.2", got)
	}
	// Bind refuses the form.
	if err := pull.Bind("tcp://127.0.0.2:0;127.0.0.1:0"); !errors.Is(err, ErrEndpoint) {
		t.Fatalf("Bind with a source address: %v, want ErrEndpoint", err)
	}
}

// TestSOCKSOption: a Connect with WithSOCKSProxy goes through the proxy,
// with and without WithSOCKSAuth; a wrong password fails each dial with
// ErrSOCKSAuth (EventConnectDelayed) and nothing gets through.
func TestSOCKSOption(t *testing.T) {
	cases := []struct {
		name             string
		srvUser, srvPass string
		opts             []SocketOption
		wantAuthFail     bool
	}{
		{"noauth", "", "", nil, false},
		{"userpass", "alice", "s3cret", []SocketOption{WithSOCKSAuth("alice", "s3cret")}, false},
		{"wrong-password", "alice", "s3cret", []SocketOption{WithSOCKSAuth("alice", "guess")}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			proxy, err := socks5test.Start(tc.srvUser, tc.srvPass)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			z := NewContext()
			defer z.Close()
			rep := newSock(t, z, REP)
			if err := rep.Bind("tcp://127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			opts := append([]SocketOption{WithSOCKSProxy(proxy.Addr), WithReconnectInterval(20 * time.Millisecond)}, tc.opts...)
			req := newSock(t, z, REQ, opts...)
			ev := logEvents(t, req)
			if err := req.Connect(rep.LastEndpoint()); err != nil {
				t.Fatal(err)
			}
			if tc.wantAuthFail {
				e, ok := ev.wait(kindAt(EventConnectDelayed, ""), 5*time.Second)
				if !ok || !errors.Is(e.Err, ErrSOCKSAuth) {
					t.Fatalf("event %v %v, want ConnectDelayed with ErrSOCKSAuth; events: %s", e.Kind, e.Err, ev.summary())
				}
				if proxy.AuthFailures() < 1 || proxy.Connected() != 0 || ev.count(kindAt(EventConnected, "")) != 0 {
					t.Fatalf("auth failures %d, carried %d", proxy.AuthFailures(), proxy.Connected())
				}
				return
			}
			mustSend(t, ctx, req, "ping")
			mustRecv(t, ctx, rep, "ping")
			mustSend(t, ctx, rep, "pong")
			mustRecv(t, ctx, req, "pong")
			if got := proxy.Connected(); got != 1 {
				t.Fatalf("proxy carried %d connections, want 1", got)
			}
		})
	}
}
