package azmq

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/azmq/azmq/internal/selfcert"
	"github.com/azmq/azmq/internal/transport"
)

// TestWSPairs runs every socket type pair over ws, each side binding in
// turn.
func TestWSPairs(t *testing.T) {
	type pair struct {
		bind, conn SocketType
		run        func(t *testing.T, ctx context.Context, b, c *Socket)
	}
	reqrep := func(t *testing.T, ctx context.Context, req, rep *Socket) {
		for i := range 3 {
			mustSend(t, ctx, req, fmt.Sprint("hello", i), "more")
			mustRecv(t, ctx, rep, fmt.Sprint("hello", i), "more")
			mustSend(t, ctx, rep, "world")
			mustRecv(t, ctx, req, "world")
		}
	}
	pushpull := func(t *testing.T, ctx context.Context, push, pull *Socket) {
		big := strings.Repeat("x", 300<<10) // a long frame, many WebSocket reads
		for i := range 10 {
			mustSend(t, ctx, push, fmt.Sprint(i), big)
		}
		for i := range 10 {
			mustRecv(t, ctx, pull, fmt.Sprint(i), big)
		}
	}
	pairs := []pair{
		{REP, REQ, func(t *testing.T, ctx context.Context, b, c *Socket) { reqrep(t, ctx, c, b) }},
		{REQ, REP, func(t *testing.T, ctx context.Context, b, c *Socket) { reqrep(t, ctx, b, c) }},
		{PULL, PUSH, func(t *testing.T, ctx context.Context, b, c *Socket) { pushpull(t, ctx, c, b) }},
		{PUSH, PULL, func(t *testing.T, ctx context.Context, b, c *Socket) { pushpull(t, ctx, b, c) }},
		{ROUTER, DEALER, func(t *testing.T, ctx context.Context, router, dealer *Socket) {
			mustSend(t, ctx, dealer, "a", "b")
			m := mustRecv(t, ctx, router)
			if len(m) != 3 || string(m[1]) != "a" || string(m[2]) != "b" {
				t.Fatalf("ROUTER got %q", m)
			}
			if err := router.Send(ctx, m[0], []byte("reply")); err != nil {
				t.Fatal(err)
			}
			mustRecv(t, ctx, dealer, "reply")
		}},
		{PAIR, PAIR, func(t *testing.T, ctx context.Context, b, c *Socket) {
			mustSend(t, ctx, c, "ping")
			mustRecv(t, ctx, b, "ping")
			mustSend(t, ctx, b, "pong")
			mustRecv(t, ctx, c, "pong")
		}},
		{SERVER, CLIENT, func(t *testing.T, ctx context.Context, srv, cli *Socket) {
			mustSend(t, ctx, cli, "hi")
			m, err := srv.RecvMsg(ctx)
			if err != nil || string(m.Frames[0]) != "hi" {
				t.Fatalf("SERVER got %q, %v", m.Frames, err)
			}
			if err := srv.SendTo(ctx, m.RoutingID, []byte("there")); err != nil {
				t.Fatal(err)
			}
			mustRecv(t, ctx, cli, "there")
		}},
		{PUB, SUB, func(t *testing.T, ctx context.Context, pub, sub *Socket) {
			wsPubSub(t, ctx, pub, sub)
		}},
		{SUB, PUB, func(t *testing.T, ctx context.Context, sub, pub *Socket) {
			wsPubSub(t, ctx, pub, sub)
		}},
		{DISH, RADIO, func(t *testing.T, ctx context.Context, dish, radio *Socket) {
			if err := dish.Join("news"); err != nil {
				t.Fatal(err)
			}
			// Joins travel as commands: send until one arrives.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if err := radio.SendGroup(ctx, "sport", []byte("skip")); err != nil {
					t.Fatal(err)
				}
				if err := radio.SendGroup(ctx, "news", []byte("take")); err != nil {
					t.Fatal(err)
				}
				rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				m, err := dish.RecvMsg(rctx)
				cancel()
				if err == nil {
					if m.Group != "news" || string(m.Frames[0]) != "take" {
						t.Fatalf("DISH got %q in %q", m.Frames, m.Group)
					}
					return
				}
			}
			t.Fatal("DISH received nothing")
		}},
	}
	for _, p := range pairs {
		t.Run(p.bind.String()+"-"+p.conn.String(), func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			b := newSock(t, z, p.bind, WithLinger(0))
			c := newSock(t, z, p.conn, WithLinger(0))
			bindConnect(t, b, c, "ws://127.0.0.1:*/zmq")
			if le := b.LastEndpoint(); !strings.HasPrefix(le, "ws://127.0.0.1:") || !strings.HasSuffix(le, "/zmq") {
				t.Fatalf("LastEndpoint = %q", le)
			}
			p.run(t, ctx, b, c)
		})
	}
}

// wsPubSub checks subscribe and unsubscribe, which ZWS carries as data
// frames.
func wsPubSub(t *testing.T, ctx context.Context, pub, sub *Socket) {
	t.Helper()
	if err := sub.Subscribe([]byte("a")); err != nil {
		t.Fatal(err)
	}
	publishUntilReceived(t, ctx, pub, sub, []string{"b-skip"}, []string{"a-take"})
	if err := sub.Subscribe([]byte("c")); err != nil {
		t.Fatal(err)
	}
	publishUntilReceived(t, ctx, pub, sub, []string{"b-skip"}, []string{"c-take"})
	if err := sub.Unsubscribe([]byte("a")); err != nil {
		t.Fatal(err)
	}
	// Once "a" is gone, a "c" message sent after an "a" one arrives first.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mustSend(t, ctx, pub, "a-gone")
		mustSend(t, ctx, pub, "c-mark")
		m := mustRecv(t, ctx, sub)
		if string(m[0]) == "c-mark" {
			return
		}
		mustRecv(t, ctx, sub, "c-mark")
	}
	t.Fatal("Unsubscribe never reached the PUB")
}

// TestWSPeerAddress: the Peer-Address property is the peer's IP, as over
// tcp.
func TestWSPeerAddress(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	rep := newSock(t, z, REP, WithLinger(0))
	req := newSock(t, z, REQ, WithLinger(0))
	bindConnect(t, rep, req, "ws://127.0.0.1:0")
	if le := rep.LastEndpoint(); !strings.HasSuffix(le, "/") {
		t.Fatalf("LastEndpoint %q: want the default path", le)
	}
	mustSend(t, ctx, req, "x")
	m, err := rep.RecvMsg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := m.Property("Peer-Address"); a != "127.0.0.1" {
		t.Fatalf("Peer-Address = %q", a)
	}
}

// testCerts makes a CA and a certificate for 127.0.0.1 it signed.
func testCerts(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	pki, err := selfcert.New()
	if err != nil {
		t.Fatal(err)
	}
	return pki.Leaf, pki.Roots()
}

func TestWSS(t *testing.T) {
	cert, pool := testCerts(t)
	t.Run("round-trip", func(t *testing.T) {
		ctx := testCtx(t)
		z := NewContext()
		defer z.Close()
		rep := newSock(t, z, REP, WithLinger(0), WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}))
		req := newSock(t, z, REQ, WithLinger(0), WithTLSConfig(&tls.Config{RootCAs: pool}))
		bindConnect(t, rep, req, "wss://127.0.0.1:*/zmq")
		if le := rep.LastEndpoint(); !strings.HasPrefix(le, "wss://127.0.0.1:") {
			t.Fatalf("LastEndpoint = %q", le)
		}
		mustSend(t, ctx, req, "over tls")
		mustRecv(t, ctx, rep, "over tls")
		mustSend(t, ctx, rep, "ok")
		mustRecv(t, ctx, req, "ok")
	})
	t.Run("untrusted", func(t *testing.T) {
		ctx := testCtx(t)
		z := NewContext()
		defer z.Close()
		rep := newSock(t, z, REP, WithLinger(0), WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}))
		req := newSock(t, z, REQ, WithLinger(0)) // system roots: the test CA is not among them
		ev := req.Monitor(ctx)
		bindConnect(t, rep, req, "wss://127.0.0.1:*/zmq")
		e := waitEvent(t, ev, EventConnectDelayed)
		var uerr x509.UnknownAuthorityError
		if !errors.As(e.Err, &uerr) {
			t.Fatalf("ConnectDelayed: %v, want an unknown authority", e.Err)
		}
	})
	t.Run("bind-without-certificate", func(t *testing.T) {
		z := NewContext()
		defer z.Close()
		for _, opts := range [][]SocketOption{nil, {WithTLSConfig(&tls.Config{RootCAs: pool})}} {
			s := newSock(t, z, REP, opts...)
			err := s.Bind("wss://127.0.0.1:*/")
			if !errors.Is(err, transport.ErrTLSConfig) {
				t.Fatalf("Bind wss: %v, want ErrTLSConfig", err)
			}
		}
	})
	t.Run("nil-config", func(t *testing.T) {
		z := NewContext()
		defer z.Close()
		if s, err := z.NewSocket(REQ, WithTLSConfig(nil)); err == nil {
			s.Close()
			t.Fatal("WithTLSConfig(nil) accepted")
		}
	})
}

// TestWSServeHTTP mounts a REP beside a web page on one server.
func TestWSServeHTTP(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	rep := newSock(t, z, REP, WithLinger(0))
	ev := rep.Monitor(ctx)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "a web page") })
	mux.Handle("/zmq", rep)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer rep.Close() // before the server: its connections are hijacked

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "a web page" {
		t.Fatalf("GET / = %q", body)
	}
	req := newSock(t, z, REQ, WithLinger(0))
	if err := req.Connect("ws://" + strings.TrimPrefix(srv.URL, "http://") + "/zmq"); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, req, "hello")
	waitEvent(t, ev, EventAccepted)
	waitEvent(t, ev, EventHandshakeSucceeded)
	mustRecv(t, ctx, rep, "hello")
	mustSend(t, ctx, rep, "world")
	mustRecv(t, ctx, req, "world")

	// A plain GET on the socket's path is refused, and the monitor says so.
	resp, err = http.Get(srv.URL + "/zmq")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("GET /zmq: %s", resp.Status)
	}
	if e := waitEvent(t, ev, EventAcceptFailed); !errors.Is(e.Err, transport.ErrWSUpgrade) {
		t.Fatalf("AcceptFailed: %v", e.Err)
	}
	// Another site's page cannot connect through a browser.
	_, _, err = websocket.Dial(ctx, "ws://"+strings.TrimPrefix(srv.URL, "http://")+"/zmq", &websocket.DialOptions{
		Subprotocols: []string{"ZWS2.0/NULL"},
		HTTPHeader:   http.Header{"Origin": {"http://elsewhere.example"}},
	})
	if err == nil {
		t.Fatal("a cross-origin upgrade succeeded")
	}
	mustSend(t, ctx, req, "still")
	mustRecv(t, ctx, rep, "still")
}

// TestWSBadInput sends a bound socket what a ZWS peer must not: each
// closes only that connection, with a monitor event saying why, and a
// legitimate peer goes on being served.
func TestWSBadInput(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	rep := newSock(t, z, REP, WithLinger(0), WithMaxMsgSize(100<<10))
	ev := rep.Monitor(ctx)
	if err := rep.Bind("ws://127.0.0.1:*/zmq"); err != nil {
		t.Fatal(err)
	}
	url := rep.LastEndpoint()
	req := newSock(t, z, REQ, WithLinger(0))
	if err := req.Connect(url); err != nil {
		t.Fatal(err)
	}
	roundTrip := func() {
		t.Helper()
		mustSend(t, ctx, req, "legit")
		mustRecv(t, ctx, rep, "legit")
		mustSend(t, ctx, rep, "ok")
		mustRecv(t, ctx, req, "ok")
	}
	roundTrip()
	httpURL := "http" + strings.TrimPrefix(url, "ws")

	// A plain GET, and a request on another path.
	for _, u := range []string{httpURL, strings.TrimSuffix(httpURL, "/zmq") + "/other"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Fatalf("GET %s: %s", u, resp.Status)
		}
	}
	if e := waitEvent(t, ev, EventAcceptFailed); !errors.Is(e.Err, transport.ErrWSUpgrade) {
		t.Fatalf("plain GET: %v", e.Err)
	}
	roundTrip()

	// Refused requests do not slow the listener down: a pause after each
	// (20 ms, as after an accept error of the system) would take 5 s
	// here, which the bound below tells from a loaded machine's slowness.
	start := time.Now()
	for range 250 {
		resp, err := http.Get(httpURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("250 refused requests took %v: the listener pauses after each", d)
	}
	for len(ev) > 0 {
		<-ev
	}
	roundTrip()

	// A subprotocol of another mechanism.
	if _, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"ZWS2.0/CURVE"}}); err == nil {
		t.Fatal("upgrade with a wrong subprotocol succeeded")
	}
	if e := waitEvent(t, ev, EventAcceptFailed); !errors.Is(e.Err, transport.ErrWSSubprotocol) {
		t.Fatalf("wrong subprotocol: %v", e.Err)
	}
	roundTrip()

	// A text message, and a message over the limit, after the greeting
	// phase: each must end the handshake of that connection.
	bad := []struct {
		name string
		send func(c *websocket.Conn) error
		want error
	}{
		{"text", func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageText, []byte("hello")) }, transport.ErrWSText},
		{"oversized", func(c *websocket.Conn) error {
			return c.Write(ctx, websocket.MessageBinary, make([]byte, 200<<10))
		}, transport.ErrWSTooLarge},
		{"reserved-flags", func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageBinary, []byte{0x80, 'x'}) }, transport.ErrWSProtocol},
	}
	for _, b := range bad {
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"ZWS2.0/NULL"}})
		if err != nil {
			t.Fatalf("%s: dial: %v", b.name, err)
		}
		waitEvent(t, ev, EventAccepted)
		// The server may close before it has read the whole message: a
		// write error is fine, the event below tells what it saw.
		b.send(c)
		e := waitEvent(t, ev, EventHandshakeFailed)
		if !errors.Is(e.Err, b.want) {
			t.Fatalf("%s: HandshakeFailed %v, want %v", b.name, e.Err, b.want)
		}
		// The server closed it: reading ends.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		for range 10 {
			if _, _, err = c.Read(rctx); err != nil {
				break
			}
		}
		cancel()
		if err == nil {
			t.Fatalf("%s: connection still open", b.name)
		}
		c.CloseNow()
		roundTrip()
	}
}

func TestWSEndpointErrors(t *testing.T) {
	z := NewContext()
	defer z.Close()
	s := newSock(t, z, REQ)
	for _, ep := range []string{"ws://127.0.0.1:*/", "ws://*:5555/", "ws://127.0.0.1/", "ws://127.0.0.1:1/a b"} {
		if err := s.Connect(ep); !errors.Is(err, transport.ErrEndpoint) {
			t.Errorf("Connect(%q): %v, want ErrEndpoint", ep, err)
		}
	}
	st := newSock(t, z, STREAM)
	if err := st.Bind("ws://127.0.0.1:*/"); !errors.Is(err, errStreamWS) {
		t.Errorf("STREAM Bind ws: %v", err)
	}
}

// TestWSHeartbeat: over ws the heartbeat is WebSocket ping and pong. An
// idle peer that answers stays connected; a peer that never reads (so
// never answers) is dropped after the timeout, the monitor saying why.
func TestWSHeartbeat(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	hb := WithHeartbeat(20*time.Millisecond, 100*time.Millisecond, 0)
	rep := newSock(t, z, REP, WithLinger(0), hb)
	req := newSock(t, z, REQ, WithLinger(0), hb)
	ev := rep.Monitor(ctx)
	bindConnect(t, rep, req, "ws://127.0.0.1:*/")
	waitEvent(t, ev, EventHandshakeSucceeded)
	time.Sleep(300 * time.Millisecond) // many intervals, idle
	mustSend(t, ctx, req, "still there")
	mustRecv(t, ctx, rep, "still there")
	mustSend(t, ctx, rep, "yes")
	mustRecv(t, ctx, req, "yes")
	for len(ev) > 0 {
		if e := <-ev; e.Kind == EventDisconnected {
			t.Fatalf("idle connection dropped: %v", e.Err)
		}
	}

	c, _, err := websocket.Dial(ctx, rep.LastEndpoint(), &websocket.DialOptions{Subprotocols: []string{"ZWS2.0/NULL"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	e := waitEvent(t, ev, EventHandshakeFailed)
	if !errors.Is(e.Err, transport.ErrWSHeartbeat) {
		t.Fatalf("HandshakeFailed: %v, want ErrWSHeartbeat", e.Err)
	}
}

// TestWSUpgradeTimeout: a server that accepts the connection and never
// answers the upgrade is given up on after the handshake timeout.
func TestWSUpgradeTimeout(t *testing.T) {
	ctx := testCtx(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := make(chan net.Conn, 8)
	go func() {
		for range 8 {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held <- c // read nothing, answer nothing
		}
	}()
	defer func() {
		l.Close()
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	z := NewContext()
	defer z.Close()
	req := newSock(t, z, REQ, WithLinger(0), WithHandshakeTimeout(100*time.Millisecond))
	ev := req.Monitor(ctx)
	start := time.Now()
	if err := req.Connect("ws://" + l.Addr().String() + "/"); err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, ev, EventConnectDelayed)
	if !errors.Is(e.Err, context.DeadlineExceeded) {
		t.Fatalf("ConnectDelayed: %v, want a deadline", e.Err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

// TestWSBare: a client offering only "ZWS2.0" (no mechanism, as browser
// clients do) is served: its first message is its routing id, which a
// ROUTER addresses it by, and ours comes first to it.
func TestWSBare(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	router := newSock(t, z, ROUTER, WithLinger(0), WithRoutingID([]byte("srv")))
	if err := router.Bind("ws://127.0.0.1:*/"); err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.Dial(ctx, router.LastEndpoint(), &websocket.DialOptions{Subprotocols: []string{"ZWS2.0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "ZWS2.0" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	for _, m := range [][]byte{[]byte("\x00client-1"), []byte("\x00hello")} {
		if err := c.Write(ctx, websocket.MessageBinary, m); err != nil {
			t.Fatal(err)
		}
	}
	mustRecv(t, ctx, router, "client-1", "hello")
	mustSend(t, ctx, router, "client-1", "world")
	for _, want := range []string{"\x00srv", "\x00world"} {
		typ, got, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageBinary || string(got) != want {
			t.Fatalf("read %v %q, %v; want %q", typ, got, err, want)
		}
	}
}
