package azmq

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRoutingOptionTypes: each request-reply option is taken by its types
// only, and out-of-range values are refused.
func TestRoutingOptionTypes(t *testing.T) {
	checkOptionTypes(t, []optionTypes{
		{"WithRouterHandover", WithRouterHandover(true), []SocketType{ROUTER}, []SocketType{DEALER, REQ, STREAM, SERVER}},
		{"WithProbeRouter", WithProbeRouter(true), []SocketType{ROUTER, DEALER, REQ}, []SocketType{REP, STREAM, CLIENT, PUB}},
		{"WithRouterNotify", WithRouterNotify(NotifyConnect | NotifyDisconnect), []SocketType{ROUTER}, []SocketType{DEALER, STREAM, SERVER}},
		{"WithReqCorrelate", WithReqCorrelate(true), []SocketType{REQ}, []SocketType{REP, DEALER, ROUTER}},
		{"WithReqRelaxed", WithReqRelaxed(true), []SocketType{REQ}, []SocketType{REP, DEALER, ROUTER}},
	})
	z := NewContext()
	defer z.Close()
	for _, mask := range []int{-1, 4, 7} {
		if _, err := z.NewSocket(ROUTER, WithRouterNotify(mask)); err == nil || !strings.Contains(err.Error(), "WithRouterNotify") {
			t.Errorf("WithRouterNotify(%d) = %v, want an error naming it", mask, err)
		}
	}
}

func TestConnectRoutingIDErrors(t *testing.T) {
	z := NewContext()
	defer z.Close()
	r, err := z.NewSocket(ROUTER, WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := z.NewSocket(DEALER, WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	if err := d.ConnectRoutingID("tcp://127.0.0.1:1", []byte("x")); !errors.Is(err, ErrNotSupported) {
		t.Errorf("on DEALER = %v, want ErrNotSupported", err)
	}
	for _, id := range [][]byte{nil, {}, bytes.Repeat([]byte("a"), 256), {0, 'a'}} {
		if err := r.ConnectRoutingID("tcp://127.0.0.1:1", id); err == nil || !strings.Contains(err.Error(), "ConnectRoutingID") {
			t.Errorf("id %x = %v, want an error", id, err)
		}
	}
	if err := r.ConnectRoutingID("inproc://x", []byte("x")); !errors.Is(err, ErrNotSupported) {
		t.Errorf("inproc = %v, want ErrNotSupported", err)
	}
	if err := r.ConnectRoutingID("tcp://127.0.0.1:1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := r.ConnectRoutingID("tcp://127.0.0.1:2", []byte("one")); !errors.Is(err, ErrRoutingIDInUse) {
		t.Errorf("the same id twice = %v, want ErrRoutingIDInUse", err)
	}
	// A STREAM's ids: connections are per connection, the check is at
	// Connect all the same.
	st, err := z.NewSocket(STREAM, WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.ConnectRoutingID("tcp://127.0.0.1:1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := st.ConnectRoutingID("tcp://127.0.0.1:2", []byte("one")); !errors.Is(err, ErrRoutingIDInUse) {
		t.Errorf("STREAM: the same id twice = %v, want ErrRoutingIDInUse", err)
	}
}

// recvFor receives messages on s for up to d after the last one.
func recvFor(t *testing.T, s *Socket, d time.Duration) [][]string {
	t.Helper()
	var out [][]string
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		m, err := s.Recv(ctx)
		cancel()
		if err != nil {
			return out
		}
		var f []string
		for _, x := range m {
			f = append(f, string(x))
		}
		out = append(out, f)
	}
	t.Fatal("more messages than expected")
	return nil
}

// TestRouterNotifyTCP: a ROUTER with WithRouterNotify hears of a DEALER's
// connection before its messages and of its end after them.
func TestRouterNotifyTCP(t *testing.T) {
	z := NewContext()
	defer z.Close()
	r, err := z.NewSocket(ROUTER, WithRouterNotify(NotifyConnect|NotifyDisconnect), WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	d, err := z.NewSocket(DEALER, WithRoutingID([]byte("d")))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(r.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Send(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	m, err := r.Recv(ctx)
	if err != nil || len(m) != 2 || string(m[0]) != "d" || len(m[1]) != 0 {
		t.Fatalf("first = %q, %v; want the connection's notice", m, err)
	}
	if m, err := r.Recv(ctx); err != nil || len(m) != 2 || string(m[1]) != "x" {
		t.Fatalf("second = %q, %v", m, err)
	}
	d.Close()
	m, err = r.Recv(ctx)
	if err != nil || len(m) != 2 || string(m[0]) != "d" || len(m[1]) != 0 {
		t.Fatalf("after Close = %q, %v; want the end's notice", m, err)
	}
	if got := recvFor(t, r, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("then %q, want nothing", got)
	}
}

// TestConnectRoutingIDROUTER: a ROUTER sends to the id it chose before the
// connection is up, receives under it whatever the peer announces, and
// keeps it across a reconnection to a new peer.
func TestConnectRoutingIDROUTER(t *testing.T) {
	z := NewContext()
	defer z.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := z.NewSocket(ROUTER, WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep := srv.LastEndpoint()
	c, err := z.NewSocket(ROUTER, WithRoutingID([]byte("client")), WithRouterMandatory(true),
		WithRouterNotify(NotifyConnect), WithReconnectInterval(20*time.Millisecond), WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.ConnectRoutingID(ep, []byte("srv")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, []byte("srv"), []byte("first")); err != nil {
		t.Fatalf("Send before the connection: %v", err)
	}
	if m, err := srv.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"client", "first"}) {
		t.Fatalf("server got %q, %v", m, err)
	}
	if m, err := c.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"srv", ""}) {
		t.Fatalf("client got %q, %v; want the connection's notice", m, err)
	}
	if err := srv.Send(ctx, []byte("client"), []byte("back")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"srv", "back"}) {
		t.Fatalf("client got %q, %v", m, err)
	}

	// The server restarts on the same endpoint: the id holds.
	srv.Close()
	srv2, err := z.NewSocket(ROUTER, WithRoutingID([]byte("announced")), WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	var bindErr error
	for range 50 { // the port may take a moment to be free
		if bindErr = srv2.Bind(ep); bindErr == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if bindErr != nil {
		t.Fatal(bindErr)
	}
	// Once the new connection is told of, what is sent goes to it.
	if m, err := c.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"srv", ""}) {
		t.Fatalf("client got %q, %v; want the new connection's notice", m, err)
	}
	if err := c.Send(ctx, []byte("srv"), []byte("second")); err != nil {
		t.Fatal(err)
	}
	if m, err := srv2.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"client", "second"}) {
		t.Fatalf("new server got %q, %v", m, err)
	}
	if err := srv2.Send(ctx, []byte("client"), []byte("again")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"srv", "again"}) {
		t.Fatalf("client got %q, %v; want the reply under the chosen id", m, err)
	}
}

func strs(m [][]byte) []string {
	out := make([]string, len(m))
	for i, f := range m {
		out[i] = string(f)
	}
	return out
}

// TestConnectRoutingIDImmediate: with WithImmediate(true) a ROUTER's
// chosen id exists only while its connection is up.
func TestConnectRoutingIDImmediate(t *testing.T) {
	z := NewContext()
	defer z.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := z.NewSocket(ROUTER, WithImmediate(true), WithRouterMandatory(true), WithRoutingID([]byte("client")),
		WithReconnectInterval(20*time.Millisecond), WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, err := z.NewSocket(ROUTER, WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	if err := c.ConnectRoutingID(srv.LastEndpoint(), []byte("srv")); err != nil {
		t.Fatal(err)
	}
	// Unreachable until the connection is up, then reachable.
	var sendErr error
	for range 250 {
		if sendErr = c.Send(ctx, []byte("srv"), []byte("hi")); !errors.Is(sendErr, ErrHostUnreachable) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sendErr != nil {
		t.Fatalf("Send = %v", sendErr)
	}
	if m, err := srv.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"client", "hi"}) {
		t.Fatalf("server got %q, %v", m, err)
	}
	if err := srv.Send(ctx, []byte("client"), []byte("back")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Recv(ctx); err != nil || !slices.Equal(strs(m), []string{"srv", "back"}) {
		t.Fatalf("client got %q, %v", m, err)
	}
}
