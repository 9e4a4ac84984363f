package azmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newSock(t *testing.T, z *Context, typ SocketType, opts ...SocketOption) *Socket {
	t.Helper()
	s, err := z.NewSocket(typ, opts...)
	if err != nil {
		t.Fatalf("NewSocket(%v): %v", typ, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// endpoints returns a fresh bind endpoint per transport.
func endpoints(t *testing.T) map[string]string {
	eps := map[string]string{
		"tcp":    "tcp://127.0.0.1:*",
		"inproc": "inproc://" + t.Name(),
	}
	if afUnix(t) {
		eps["ipc"] = "ipc://" + filepath.Join(t.TempDir(), "s.ipc")
	}
	return eps
}

// afUnix reports whether ipc over a path can work here: Wine (and Windows
// before 10 1803) has no AF_UNIX sockets. It logs why when it cannot.
func afUnix(t *testing.T) bool {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "probe.sock"))
	if err != nil {
		if runtime.GOOS != "windows" {
			t.Fatalf("unix socket: %v", err)
		}
		t.Logf("AF_UNIX sockets are not available on this system (%v): ipc over a path is not tested", err)
		return false
	}
	l.Close()
	return true
}

func bindConnect(t *testing.T, b, c *Socket, ep string) {
	t.Helper()
	if err := b.Bind(ep); err != nil {
		t.Fatalf("Bind(%q): %v", ep, err)
	}
	if err := c.Connect(b.LastEndpoint()); err != nil {
		t.Fatalf("Connect(%q): %v", b.LastEndpoint(), err)
	}
}

func mustSend(t *testing.T, ctx context.Context, s *Socket, parts ...string) {
	t.Helper()
	fr := make([][]byte, len(parts))
	for i, p := range parts {
		fr[i] = []byte(p)
	}
	if err := s.Send(ctx, fr...); err != nil {
		t.Fatalf("%v Send(%q): %v", s.Type(), parts, err)
	}
}

func mustRecv(t *testing.T, ctx context.Context, s *Socket, want ...string) [][]byte {
	t.Helper()
	got, err := s.Recv(ctx)
	if err != nil {
		t.Fatalf("%v Recv: %v", s.Type(), err)
	}
	if want != nil {
		if len(got) != len(want) {
			t.Fatalf("%v Recv = %q, want %q", s.Type(), got, want)
		}
		for i := range want {
			if !bytes.Equal(got[i], []byte(want[i])) {
				t.Fatalf("%v Recv = %q, want %q", s.Type(), got, want)
			}
		}
	}
	return got
}

func TestReqRepAllTransports(t *testing.T) {
	for tr, ep := range endpoints(t) {
		t.Run(tr, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			rep := newSock(t, z, REP)
			req := newSock(t, z, REQ)
			bindConnect(t, rep, req, ep)
			for i := 0; i < 3; i++ {
				mustSend(t, ctx, req, fmt.Sprint("hello", i))
				mustRecv(t, ctx, rep, fmt.Sprint("hello", i))
				mustSend(t, ctx, rep, "world")
				mustRecv(t, ctx, req, "world")
			}
		})
	}
}

func TestConnectBeforeBind(t *testing.T) {
	for tr, ep := range endpoints(t) {
		if tr == "tcp" {
			ep = "tcp://127.0.0.1:" + freePort(t)
		}
		t.Run(tr, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			push := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond))
			pull := newSock(t, z, PULL)
			if err := push.Connect(ep); err != nil {
				t.Fatal(err)
			}
			mustSend(t, ctx, push, "early", "bird")
			if err := pull.Bind(ep); err != nil {
				t.Fatal(err)
			}
			mustRecv(t, ctx, pull, "early", "bird")
		})
	}
}

func TestPubSubFilter(t *testing.T) {
	for tr, ep := range endpoints(t) {
		t.Run(tr, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			pub := newSock(t, z, PUB)
			sub := newSock(t, z, SUB)
			bindConnect(t, pub, sub, ep)
			if err := sub.Subscribe([]byte("a")); err != nil {
				t.Fatal(err)
			}
			m := publishUntilReceived(t, ctx, pub, sub, []string{"b-skip"}, []string{"a-take", "x"})
			if len(m) != 2 || string(m[0]) != "a-take" {
				t.Fatalf("SUB got %q, want [a-take x]", m)
			}
		})
	}
}

func TestDealerRouter(t *testing.T) {
	for tr, ep := range endpoints(t) {
		t.Run(tr, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			router := newSock(t, z, ROUTER)
			dealer := newSock(t, z, DEALER, WithRoutingID([]byte("d1")))
			bindConnect(t, router, dealer, ep)
			mustSend(t, ctx, dealer, "", "ping")
			msg, err := router.RecvMsg(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg.Frames) != 3 || string(msg.Frames[0]) != "d1" || string(msg.Frames[2]) != "ping" {
				t.Fatalf("ROUTER got %q", msg.Frames)
			}
			if st, ok := msg.Property("Socket-Type"); !ok || st != "DEALER" {
				t.Fatalf("Socket-Type property = %q, %v", st, ok)
			}
			if id, ok := msg.Property("Routing-Id"); !ok || id != "d1" {
				t.Fatalf("Routing-Id property = %q, %v", id, ok)
			}
			mustSend(t, ctx, router, "d1", "", "pong")
			mustRecv(t, ctx, dealer, "", "pong")
		})
	}
}

func TestSendCancelled(t *testing.T) {
	z := NewContext()
	defer z.Close()
	push := newSock(t, z, PUSH, WithLinger(0))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := push.Send(ctx, []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send with no peer = %v, want DeadlineExceeded", err)
	}
}

func TestCloseUnblocksRecv(t *testing.T) {
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	errc := make(chan error, 1)
	go func() {
		_, err := pull.Recv(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	pull.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv still blocked after Close")
	}
}

func TestLingerFlushes(t *testing.T) {
	for tr, ep := range endpoints(t) {
		t.Run(tr, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			pull := newSock(t, z, PULL)
			push := newSock(t, z, PUSH)
			bindConnect(t, pull, push, ep)
			const n = 200
			for i := 0; i < n; i++ {
				mustSend(t, ctx, push, fmt.Sprint(i))
			}
			push.Close()
			for i := 0; i < n; i++ {
				mustRecv(t, ctx, pull, fmt.Sprint(i))
			}
		})
	}
}

func TestBadOptionsAndEndpoints(t *testing.T) {
	z := NewContext()
	defer z.Close()
	bad := []SocketOption{
		WithSendHWM(-1), WithRecvHWM(-1), WithLinger(-2), WithRoutingID(nil),
		WithRoutingID(make([]byte, 256)), WithRoutingID([]byte{0, 'a'}), WithReconnectInterval(0), WithMaxMsgSize(-2),
		WithHeartbeat(-1, 0, 0), WithHandshakeTimeout(-1),
	}
	for i, o := range bad {
		if _, err := z.NewSocket(REQ, o); err == nil {
			t.Errorf("option %d accepted", i)
		}
	}
	if _, err := z.NewSocket(SocketType(42)); err == nil {
		t.Error("socket type 42 accepted")
	}
	s := newSock(t, z, PULL)
	for _, ep := range []string{"", "tcp://", "tcp://127.0.0.1", "foo://x", "inproc://", "tcp://127.0.0.1:99999"} {
		if err := s.Bind(ep); err == nil {
			t.Errorf("Bind(%q) accepted", ep)
		}
		if err := s.Connect(ep); err == nil {
			t.Errorf("Connect(%q) accepted", ep)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	z := NewContext()
	defer z.Close()
	s := newSock(t, z, PULL)
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep := s.LastEndpoint()
	s.Close()
	return ep[len("tcp://127.0.0.1:"):]
}

// publishUntilReceived publishes skip then take, again and again, until the
// SUB receives a message (its subscription has reached the publisher), and
// returns that message.
func publishUntilReceived(t *testing.T, ctx context.Context, pub, sub *Socket, skip, take []string) [][]byte {
	t.Helper()
	got := make(chan [][]byte, 1)
	go func() {
		m, _ := sub.Recv(ctx)
		got <- m
	}()
	for i := 0; i < 500; i++ {
		mustSend(t, ctx, pub, skip...)
		mustSend(t, ctx, pub, take...)
		select {
		case m := <-got:
			return m
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the SUB received nothing")
	return nil
}
