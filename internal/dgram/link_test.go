package dgram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/udptest"
)

// path is a link running on its pipe; stop closes it and checks that Run
// returned want.
type path struct {
	p    *pipe.Pipe
	done chan error
}

type runner interface {
	Run(*pipe.Pipe) error
	Close()
}

func run(l runner, hwm int) *path {
	pt := &path{p: pipe.New(hwm, hwm, nil, nil, nil, nil), done: make(chan error, 1)}
	go func() { pt.done <- l.Run(pt.p) }()
	return pt
}

// wait returns what Run returned, failing t if it does not return soon.
func (pt *path) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-pt.done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func listen(t *testing.T, addr string) *Receiver {
	t.Helper()
	e, err := Parse(addr, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Listen(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dial(t *testing.T, addr string) *Sender {
	t.Helper()
	e, err := Parse(addr, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Dial(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recv pops one message from q, failing t after a while.
func recv(t *testing.T, q *pipe.Queue) pipe.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := q.Pop(ctx, nil)
	if err != nil {
		t.Fatalf("no message: %v", err)
	}
	return m
}

// nothing checks that q stays empty for a moment.
func nothing(t *testing.T, q *pipe.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if m, err := q.Pop(ctx, nil); err == nil {
		t.Fatalf("unexpected message %q", m.Frames)
	}
}

func data(group, body string) pipe.Msg {
	return pipe.Msg{Frames: [][]byte{[]byte(group), []byte(body)}}
}

func expect(t *testing.T, m pipe.Msg, group, body string) {
	t.Helper()
	if len(m.Frames) != 2 || string(m.Frames[0]) != group || string(m.Frames[1]) != body {
		t.Fatalf("got %q, want [%q %q]", m.Frames, group, body)
	}
	if m.Flags() != 0 {
		t.Fatalf("flags %v on a received message", m.Flags())
	}
}

func TestHandshake(t *testing.T) {
	udptest.Require(t)
	r := listen(t, "127.0.0.1:*")
	defer r.Close()
	s := dial(t, "127.0.0.1:"+fmt.Sprint(r.LocalAddr().Port()))
	defer s.Close()
	for _, c := range []struct {
		l interface {
			Handshake(context.Context) (*pipe.Peer, error)
		}
		peer string
	}{{s, "DISH"}, {r, "RADIO"}} {
		p, err := c.l.Handshake(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !p.Datagram || p.SocketType != c.peer || p.Minor != 1 {
			t.Fatalf("peer %+v, want a datagram %s of ZMTP 3.1", p, c.peer)
		}
	}
	// A handshake whose context has ended fails, and closes the path.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Handshake(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Handshake with an ended context: %v", err)
	}
	if err := run(s, 0).wait(t); err != nil {
		t.Fatalf("Run after a failed handshake: %v", err)
	}
}

func TestResolved(t *testing.T) {
	udptest.Require(t)
	for _, c := range []struct{ addr, prefix string }{
		{"127.0.0.1:*", "udp://127.0.0.1:"},
		{"127.0.0.1:0", "udp://127.0.0.1:"},
		{"*:*", "udp://0.0.0.0:"},
		{"localhost:0", "udp://127.0.0.1:"},
		{loopbackName(t) + ":0", "udp://127.0.0.1:"}, // a bind may name an interface, as in libzmq
	} {
		r := listen(t, c.addr)
		port := r.LocalAddr().Port()
		r.Close()
		if port == 0 || r.Resolved() != c.prefix+fmt.Sprint(port) {
			t.Errorf("%s: Resolved %q, port %d", c.addr, r.Resolved(), port)
		}
	}
}

func TestSendReceive(t *testing.T) {
	udptest.Require(t)
	r := listen(t, "127.0.0.1:*")
	rp := run(r, 0)
	s := dial(t, fmt.Sprintf("127.0.0.1:%d", r.LocalAddr().Port()))
	sp := run(s, 0)

	big := strings.Repeat("b", MaxDatagram-1-len("big"))
	msgs := []pipe.Msg{
		data("g1", "hello"),
		{Frames: [][]byte{[]byte("g1")}, Tag: pipe.TagOf(pipe.Join)}, // udp has no JOIN
		data("", ""),
		{Frames: [][]byte{[]byte("g1")}, Tag: pipe.TagOf(pipe.Leave)},
		data("big", big+"x"), // one byte too many: dropped
		data("big", big),     // the largest that goes
		{Frames: [][]byte{[]byte("one frame")}},
		data(strings.Repeat("g", 255), "long group"),
	}
	for _, m := range msgs {
		if ok, err := sp.p.Out.TryPush(m); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	expect(t, recv(t, rp.p.In), "g1", "hello")
	expect(t, recv(t, rp.p.In), "", "")
	expect(t, recv(t, rp.p.In), "big", big)
	expect(t, recv(t, rp.p.In), strings.Repeat("g", 255), "long group")
	nothing(t, rp.p.In)
	if n := s.Dropped(); n != 2 {
		t.Fatalf("sender dropped %d, want 2 (too large, one frame)", n)
	}
	if n := r.Dropped(); n != 0 {
		t.Fatalf("receiver dropped %d", n)
	}
	s.Close()
	r.Close()
	if err := sp.wait(t); err != nil {
		t.Fatal(err)
	}
	if err := rp.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestSendReceiveIPv6(t *testing.T) {
	udptest.Require(t)
	e, _ := Parse("[::1]:0", true)
	r, err := Listen(context.Background(), e)
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	rp := run(r, 0)
	s := dial(t, fmt.Sprintf("[::1]:%d", r.LocalAddr().Port()))
	sp := run(s, 0)
	sp.p.Out.TryPush(data("six", "over ::1"))
	expect(t, recv(t, rp.p.In), "six", "over ::1")
	if r.Resolved() != fmt.Sprintf("udp://[::1]:%d", r.LocalAddr().Port()) {
		t.Fatalf("Resolved %q", r.Resolved())
	}
	s.Close()
	r.Close()
	sp.wait(t)
	rp.wait(t)
}

// raw sends datagrams as they are, as a broken or hostile sender would.
func raw(t *testing.T, to netip.AddrPort, ds ...[]byte) {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range ds {
		if _, err := c.Write(d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReceiverDropsBadDatagrams(t *testing.T) {
	udptest.Require(t)
	r := listen(t, "127.0.0.1:*")
	rp := run(r, 0)
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), r.LocalAddr().Port())
	largest, _ := Encode(nil, []byte("max"), make([]byte, MaxDatagram-4))
	over := append([]byte{3, 'o', 'v', 'r'}, make([]byte, MaxDatagram-3)...)
	raw(t, to,
		[]byte{},            // empty
		[]byte{9, 'a'},      // length byte past the end
		[]byte{1},           // a group of one, missing
		over,                // one byte over the maximum
		make([]byte, 60000), // far over
		largest,
		[]byte("\x04goodafter"),
	)
	m := recv(t, rp.p.In)
	if string(m.Frames[0]) != "max" || len(m.Frames[1]) != MaxDatagram-4 {
		t.Fatalf("largest datagram: group %q, body of %d", m.Frames[0], len(m.Frames[1]))
	}
	expect(t, recv(t, rp.p.In), "good", "after")
	nothing(t, rp.p.In)
	if n := r.Dropped(); n != 5 {
		t.Fatalf("dropped %d, want 5", n)
	}
	r.Close()
	if err := rp.wait(t); err != nil {
		t.Fatal(err)
	}
}

// TestReceiverFull: a datagram that finds the pipe full is dropped, and
// reading waits for room; what came meanwhile waits in the system's
// buffer and is delivered then.
func TestReceiverFull(t *testing.T) {
	udptest.Require(t)
	r := listen(t, "127.0.0.1:*")
	rp := run(r, 1)
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), r.LocalAddr().Port())
	raw(t, to, []byte("\x00first"), []byte("\x00second"), []byte("\x00third"))
	deadline := time.Now().Add(5 * time.Second)
	for r.Dropped() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nothing dropped with the pipe full")
		}
		time.Sleep(5 * time.Millisecond)
	}
	expect(t, recv(t, rp.p.In), "", "first")
	expect(t, recv(t, rp.p.In), "", "third")
	nothing(t, rp.p.In)
	if n := r.Dropped(); n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	r.Close()
	rp.wait(t)
}

func TestCloseEndsRun(t *testing.T) {
	udptest.Require(t)
	r := listen(t, "127.0.0.1:*")
	s := dial(t, fmt.Sprintf("127.0.0.1:%d", r.LocalAddr().Port()))
	rp, sp := run(r, 0), run(s, 0)
	time.Sleep(10 * time.Millisecond) // let both block
	r.Close()
	s.Close()
	if err := rp.wait(t); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	if err := sp.wait(t); err != nil {
		t.Fatalf("sender: %v", err)
	}
	r.Close() // again: nothing
	s.Close()
}

func TestAbort(t *testing.T) {
	udptest.Require(t)
	why := errors.New("limit broken")
	r := listen(t, "127.0.0.1:*")
	s := dial(t, fmt.Sprintf("127.0.0.1:%d", r.LocalAddr().Port()))
	rp, sp := run(r, 0), run(s, 0)
	r.Abort(why)
	s.Abort(why)
	if err := rp.wait(t); !errors.Is(err, why) {
		t.Fatalf("receiver: %v", err)
	}
	if err := sp.wait(t); !errors.Is(err, why) {
		t.Fatalf("sender: %v", err)
	}
}

// TestQueuesEndRun: the socket closing its side of the pipe ends a path.
// A sender first sends what is queued (the linger).
func TestQueuesEndRun(t *testing.T) {
	udptest.Require(t)
	// A receiver notices its closed p.In at the next datagram.
	r := listen(t, "127.0.0.1:*")
	rp := run(r, 0)
	rp.p.In.Close()
	s0 := dial(t, fmt.Sprintf("127.0.0.1:%d", r.LocalAddr().Port()))
	defer s0.Close()
	d, _ := Encode(nil, []byte("g"), []byte("wake"))
	if _, err := s0.c.WriteToUDPAddrPort(d, s0.to); err != nil {
		t.Fatal(err)
	}
	if err := rp.wait(t); err != nil {
		t.Fatalf("receiver after p.In closed: %v", err)
	}

	r = listen(t, "127.0.0.1:*")
	defer r.Close()
	rp = run(r, 0)
	s := dial(t, fmt.Sprintf("127.0.0.1:%d", r.LocalAddr().Port()))
	p := pipe.New(0, 0, nil, nil, nil, nil)
	for i := range 3 {
		p.Out.TryPush(data("q", fmt.Sprint(i)))
	}
	p.Out.Close()
	if err := s.Run(p); err != nil {
		t.Fatalf("sender after p.Out closed: %v", err)
	}
	for i := range 3 {
		expect(t, recv(t, rp.p.In), "q", fmt.Sprint(i))
	}
	// Its socket is closed: the path is over.
	if _, err := s.c.WriteToUDPAddrPort([]byte{0}, s.to); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("sender socket still open: %v", err)
	}
	r.Close()
	rp.wait(t)
}

// TestReceiverDrainsJoins: a DISH queues a JOIN for every group on every
// pipe; the udp path throws them away, so they never fill its queue.
func TestReceiverDrainsJoins(t *testing.T) {
	udptest.Require(t)
	r := listen(t, "127.0.0.1:*")
	rp := run(r, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range 20 {
		m := pipe.Msg{Frames: [][]byte{[]byte(fmt.Sprint("g", i))}, Tag: pipe.TagOf(pipe.Join)}
		if err := rp.p.Out.Push(ctx, m, nil); err != nil {
			t.Fatalf("JOIN %d: %v", i, err)
		}
	}
	r.Close()
	rp.wait(t)
}

func TestSendAllocatesNothing(t *testing.T) {
	udptest.Require(t)
	r := listen(t, "127.0.0.1:*")
	defer r.Close()
	s := dial(t, fmt.Sprintf("127.0.0.1:%d", r.LocalAddr().Port()))
	defer s.Close()
	m := data("group", strings.Repeat("x", 1000))
	if n := testing.AllocsPerRun(100, func() {
		if err := s.send(&m); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per message sent", n)
	}
}

// loopbackName is the name of the interface that has 127.0.0.1.
func loopbackName(t *testing.T) string {
	ifi, err := ifaceWithAddr(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		udptest.Loopback(t, "an interface with 127.0.0.1", err)
	}
	return ifi.Name
}

func TestMulticastLoopback(t *testing.T) {
	udptest.Require(t)
	// The interface is given, by address or by name, so nothing leaves
	// the machine: the group is joined, and sent to, on the loopback
	// interface only. (IPv6 groups are only parsed in these tests: Linux
	// delivers no IPv6 multicast on its loopback interface.)
	for i, iface := range []string{"127.0.0.1", loopbackName(t)} {
		group := fmt.Sprintf("239.255.77.%d", 70+i)
		e, err := Parse(iface+";"+group+":0", true)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Listen(context.Background(), e)
		if err != nil {
			udptest.Loopback(t, "multicast on the loopback interface", err)
		}
		rp := run(r, 0)
		port := r.LocalAddr().Port()
		if want := fmt.Sprintf("udp://%s;%s:%d", iface, group, port); r.Resolved() != want {
			t.Fatalf("Resolved %q, want %q", r.Resolved(), want)
		}
		s := dial(t, fmt.Sprintf("%s;%s:%d", iface, group, port))
		sp := run(s, 0)
		sp.p.Out.TryPush(data("mc", "to the group on "+iface))
		expect(t, recv(t, rp.p.In), "mc", "to the group on "+iface)
		s.Close()
		r.Close()
		sp.wait(t)
		rp.wait(t)
	}
}
