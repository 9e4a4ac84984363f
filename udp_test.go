package azmq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/udptest"
)

// recvGroup receives one message on a DISH and checks its group and body.
func recvGroup(t *testing.T, ctx context.Context, d *Socket, group, body string) {
	t.Helper()
	m, err := d.RecvMsg(ctx)
	if err != nil {
		t.Fatalf("DISH RecvMsg: %v", err)
	}
	if m.Group != group || len(m.Frames) != 1 || string(m.Frames[0]) != body {
		t.Fatalf("DISH got group %q %q, want %q %q", m.Group, m.Frames, group, body)
	}
}

// noMessage checks that d receives nothing for a moment.
func noMessage(t *testing.T, d *Socket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if m, err := d.RecvMsg(ctx); err == nil {
		t.Fatalf("unexpected message: group %q %q", m.Group, m.Frames)
	}
}

func udpPort(t *testing.T, ep string) string {
	t.Helper()
	i := strings.LastIndexByte(ep, ':')
	if i < 0 || ep[i+1:] == "0" || ep[i+1:] == "*" {
		t.Fatalf("LastEndpoint %q has no port", ep)
	}
	return ep[i+1:]
}

func TestUDPRadioDish(t *testing.T) {
	udptest.Require(t)
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	dish := newSock(t, z, DISH)
	radio := newSock(t, z, RADIO)
	mon := dish.Monitor(ctx)
	if err := dish.Bind("udp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep := dish.LastEndpoint()
	if want := "udp://127.0.0.1:" + udpPort(t, ep); ep != want {
		t.Fatalf("LastEndpoint %q, want %q", ep, want)
	}
	if ev := <-mon; ev.Kind != EventListening || ev.Endpoint != ep {
		t.Fatalf("first event %v %q, want Listening %q", ev.Kind, ev.Endpoint, ep)
	}
	if err := dish.Join("weather"); err != nil {
		t.Fatal(err)
	}
	if err := radio.Connect(ep); err != nil {
		t.Fatal(err)
	}
	// The path is there when Connect returns: nothing to wait for.
	for _, m := range []struct{ group, body string }{
		{"weather", "sunny"}, {"sports", "not joined"}, {"weather", "rain"},
	} {
		if err := radio.SendGroup(ctx, m.group, []byte(m.body)); err != nil {
			t.Fatal(err)
		}
	}
	recvGroup(t, ctx, dish, "weather", "sunny")
	recvGroup(t, ctx, dish, "weather", "rain")
	noMessage(t, dish)

	// The DISH filters by what it joined now.
	if err := dish.Leave("weather"); err != nil {
		t.Fatal(err)
	}
	if err := dish.Join("sports"); err != nil {
		t.Fatal(err)
	}
	radio.SendGroup(ctx, "weather", []byte("left"))
	radio.SendGroup(ctx, "sports", []byte("goal"))
	recvGroup(t, ctx, dish, "sports", "goal")

	// Too large for a datagram (libzmq's 8192 bytes, group included):
	// dropped, and what follows still goes.
	radio.SendGroup(ctx, "sports", make([]byte, 8192))
	radio.SendGroup(ctx, "sports", make([]byte, 8192-1-len("sports")))
	radio.SendGroup(ctx, "sports", []byte("after"))
	m, err := dish.RecvMsg(ctx)
	if err != nil || len(m.Frames[0]) != 8192-1-len("sports") {
		t.Fatalf("largest message: %v, %d bytes", err, len(m.Frames[0]))
	}
	recvGroup(t, ctx, dish, "sports", "after")
	noMessage(t, dish)
}

func TestUDPRadioToTCPAndUDPDishes(t *testing.T) {
	udptest.Require(t)
	// One RADIO, a DISH over tcp (filtered by the RADIO, from its JOINs)
	// and one over udp (sent every group, filtered by the DISH).
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	radio := newSock(t, z, RADIO)
	tcpDish := newSock(t, z, DISH)
	udpDish := newSock(t, z, DISH)
	if err := radio.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	tcpDish.Join("g")
	if err := tcpDish.Connect(radio.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	if err := udpDish.Bind("udp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	udpDish.Join("g")
	if err := radio.Connect(udpDish.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	// The tcp DISH's JOIN takes a round trip; send until it is there.
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		radio.SendGroup(ctx, "g", []byte(fmt.Sprint("m", i)))
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := tcpDish.RecvMsg(short)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tcp DISH got nothing")
		}
	}
	m, err := udpDish.RecvMsg(ctx)
	if err != nil || m.Group != "g" || !strings.HasPrefix(string(m.Frames[0]), "m") {
		t.Fatalf("udp DISH: %v %q %q", err, m.Group, m.Frames)
	}
}

func TestUDPRefused(t *testing.T) {
	z := NewContext()
	defer z.Close()
	for typ := PAIR; typ <= CHANNEL; typ++ {
		s, err := z.NewSocket(typ)
		if err != nil {
			continue // not a type
		}
		berr := s.Bind("udp://127.0.0.1:*")
		cerr := s.Connect("udp://127.0.0.1:5555")
		s.Close()
		switch typ {
		case DISH:
			berr = nil
		case RADIO:
			cerr = nil
		}
		for _, c := range []struct {
			op  string
			err error
		}{{"Bind", berr}, {"Connect", cerr}} {
			want := "udp is for RADIO and DISH"
			switch {
			case typ == RADIO && c.op == "Bind":
				want = "a RADIO connects to udp"
			case typ == DISH && c.op == "Connect":
				want = "a DISH binds udp"
			case typ == RADIO || typ == DISH:
				continue
			}
			if !errors.Is(c.err, ErrNotSupported) || !strings.Contains(fmt.Sprint(c.err), want) {
				t.Errorf("%v %s on udp: %v, want ErrNotSupported saying %q", typ, c.op, c.err, want)
			}
		}
	}
}

func TestUDPBadEndpoints(t *testing.T) {
	z := NewContext()
	defer z.Close()
	dish := newSock(t, z, DISH)
	radio := newSock(t, z, RADIO)
	for _, ep := range []string{"udp://127.0.0.1", "udp://[::1:5", "udp://eth0;127.0.0.1:5555"} {
		if err := dish.Bind(ep); !errors.Is(err, ErrEndpoint) {
			t.Errorf("Bind(%q): %v, want ErrEndpoint", ep, err)
		}
	}
	for _, ep := range []string{"udp://*:5555", "udp://127.0.0.1:*", "udp://127.0.0.1:0", "udp://127.0.0.1"} {
		if err := radio.Connect(ep); !errors.Is(err, ErrEndpoint) {
			t.Errorf("Connect(%q): %v, want ErrEndpoint", ep, err)
		}
	}
	if dish.LastEndpoint() != "" {
		t.Fatalf("LastEndpoint %q after failed binds", dish.LastEndpoint())
	}
}

func TestUDPBindInUse(t *testing.T) {
	udptest.Require(t)
	z := NewContext()
	defer z.Close()
	d1 := newSock(t, z, DISH)
	d2 := newSock(t, z, DISH)
	if err := d1.Bind("udp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	mon := d2.Monitor(testCtx(t))
	if err := d2.Bind(d1.LastEndpoint()); err == nil {
		t.Fatal("a second bind of the same udp port succeeded")
	}
	if ev := <-mon; ev.Kind != EventBindFailed {
		t.Fatalf("event %v, want BindFailed", ev.Kind)
	}
}

func TestUDPUnbindDisconnect(t *testing.T) {
	udptest.Require(t)
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	dish := newSock(t, z, DISH)
	radio := newSock(t, z, RADIO)
	dmon := dish.Monitor(ctx)
	rmon := radio.Monitor(ctx)
	if err := dish.Bind("udp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep := dish.LastEndpoint()
	dish.Join("g")
	if err := radio.Connect(ep); err != nil {
		t.Fatal(err)
	}
	radio.SendGroup(ctx, "g", []byte("one"))
	recvGroup(t, ctx, dish, "g", "one")

	if err := dish.Unbind(ep); err != nil {
		t.Fatal(err)
	}
	<-dmon // Listening
	if ev := <-dmon; ev.Kind != EventClosed || ev.Endpoint != ep {
		t.Fatalf("after Unbind: %v %q, want Closed", ev.Kind, ev.Endpoint)
	}
	radio.SendGroup(ctx, "g", []byte("unbound"))
	noMessage(t, dish)
	// The port is free again: the socket behind it is closed.
	if err := dish.Bind(ep); err != nil {
		t.Fatalf("bind again after Unbind: %v", err)
	}
	radio.SendGroup(ctx, "g", []byte("two"))
	recvGroup(t, ctx, dish, "g", "two")

	if err := radio.Disconnect(ep); err != nil {
		t.Fatal(err)
	}
	if ev := <-rmon; ev.Kind != EventConnected || ev.Endpoint != ep {
		t.Fatalf("%v %q, want Connected", ev.Kind, ev.Endpoint)
	}
	if ev := <-rmon; ev.Kind != EventDisconnected || ev.Endpoint != ep {
		t.Fatalf("%v %q, want Disconnected", ev.Kind, ev.Endpoint)
	}
	radio.SendGroup(ctx, "g", []byte("disconnected"))
	noMessage(t, dish)
	if err := radio.Disconnect(ep); err == nil {
		t.Fatal("a second Disconnect succeeded")
	}
}

func TestUDPWildcardAndIPv6(t *testing.T) {
	udptest.Require(t)
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	dish := newSock(t, z, DISH)
	radio := newSock(t, z, RADIO)
	if err := dish.Bind("udp://*:*"); err != nil {
		t.Fatal(err)
	}
	port := udpPort(t, dish.LastEndpoint())
	if dish.LastEndpoint() != "udp://0.0.0.0:"+port {
		t.Fatalf("LastEndpoint %q", dish.LastEndpoint())
	}
	dish.Join("all")
	if err := radio.Connect("udp://127.0.0.1:" + port); err != nil {
		t.Fatal(err)
	}
	radio.SendGroup(ctx, "all", []byte("v4"))
	recvGroup(t, ctx, dish, "all", "v4")

	l, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Logf("no IPv6 loopback, IPv6 not tested: %v", err)
		return
	}
	l.Close()
	d6 := newSock(t, z, DISH)
	if err := d6.Bind("udp://[::1]:*"); err != nil {
		t.Fatal(err)
	}
	d6.Join("six")
	if err := radio.Connect(d6.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	radio.SendGroup(ctx, "six", []byte("over ::1"))
	recvGroup(t, ctx, d6, "six", "over ::1")
}

func TestUDPMulticastLoopback(t *testing.T) {
	udptest.Require(t)
	// Joined and sent on the loopback interface only: nothing leaves the
	// machine.
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	dish := newSock(t, z, DISH)
	radio := newSock(t, z, RADIO)
	if err := dish.Bind("udp://127.0.0.1;239.255.77.78:*"); err != nil {
		udptest.Loopback(t, "multicast on the loopback interface", err)
	}
	ep := dish.LastEndpoint()
	if want := "udp://127.0.0.1;239.255.77.78:" + udpPort(t, ep); ep != want {
		t.Fatalf("LastEndpoint %q, want %q", ep, want)
	}
	// A second DISH binds the same group and port: both receive, as
	// libzmq's multicast binds share their port.
	dish2 := newSock(t, z, DISH)
	if err := dish2.Bind(ep); err != nil {
		t.Fatalf("second bind of the group: %v", err)
	}
	dish.Join("mc")
	dish2.Join("mc")
	if err := radio.Connect(ep); err != nil {
		t.Fatal(err)
	}
	radio.SendGroup(ctx, "mc", []byte("to the group"))
	recvGroup(t, ctx, dish, "mc", "to the group")
	recvGroup(t, ctx, dish2, "mc", "to the group")
}

func TestUDPCloseWithPaths(t *testing.T) {
	udptest.Require(t)
	// Close ends every udp path (goleak checks their goroutines), with and
	// without linger.
	for _, linger := range []time.Duration{0, time.Second} {
		z := NewContext()
		dish, _ := z.NewSocket(DISH, WithLinger(linger))
		radio, _ := z.NewSocket(RADIO, WithLinger(linger))
		if err := dish.Bind("udp://127.0.0.1:*"); err != nil {
			t.Fatal(err)
		}
		if err := radio.Connect(dish.LastEndpoint()); err != nil {
			t.Fatal(err)
		}
		radio.SendGroup(context.Background(), "g", []byte("x"))
		start := time.Now()
		radio.Close()
		dish.Close()
		z.Close()
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("linger %v: Close took %v", linger, d)
		}
		if err := dish.Bind("udp://127.0.0.1:*"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Bind after Close: %v", err)
		}
		if err := radio.Connect("udp://127.0.0.1:5555"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Connect after Close: %v", err)
		}
	}
}
