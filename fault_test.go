package azmq

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/faultproxy"
)

// throughProxy binds a PULL and puts a fault proxy in front of it.
func throughProxy(t *testing.T, z *Context, opts ...SocketOption) (*Socket, *faultproxy.Proxy) {
	t.Helper()
	pull := newSock(t, z, PULL, opts...)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.New(strings.TrimPrefix(pull.LastEndpoint(), "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return pull, p
}

// seqMsg is a message whose every byte derives from its sequence number,
// so a cut or mixed message cannot pass for a whole one.
func seqMsg(seq uint32, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b, seq)
	for i := 4; i < size; i++ {
		b[i] = byte(seq) + byte(i)
	}
	return b
}

func TestCutMidFrameDeliversNoHalfMessage(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull, proxy := throughProxy(t, z)
	ev := pull.Monitor(ctx)
	push := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithLinger(0))
	if err := push.Connect("tcp://" + proxy.Addr()); err != nil {
		t.Fatal(err)
	}
	const size = 64 << 10
	// Warm up, then cut in the middle of the third 64 KiB message.
	mustSend(t, ctx, push, "warm")
	mustRecv(t, ctx, pull, "warm")
	proxy.CutAfter(2*size + size/2)
	got := map[uint32]bool{}
	var seq uint32
	recvd := make(chan []byte, 100)
	go func() {
		for {
			m, err := pull.Recv(ctx)
			if err != nil {
				close(recvd)
				return
			}
			if len(m) != 1 {
				m = [][]byte{nil} // fails the content check below
			}
			select {
			case recvd <- m[0]:
			case <-ctx.Done():
				return
			}
		}
	}()
	cut := false
	deadline := time.After(8 * time.Second)
	for !cut || len(got) < 5 {
		seq++
		if err := push.Send(ctx, seqMsg(seq, size)); err != nil {
			t.Fatal(err)
		}
		for drained := false; !drained; {
			select {
			case b := <-recvd:
				if len(b) != size {
					t.Fatalf("a message of %d bytes arrived, want %d", len(b), size)
				}
				s := binary.BigEndian.Uint32(b)
				if !bytes.Equal(b, seqMsg(s, size)) {
					t.Fatalf("message %d arrived damaged", s)
				}
				got[s] = true
			case e := <-ev:
				if e.Kind == EventDisconnected {
					cut = true
					got = map[uint32]bool{} // count what passes after the cut
				}
			case <-deadline:
				t.Fatalf("cut=%v, %d messages after it", cut, len(got))
			default:
				drained = true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStallDetectedByHeartbeatThenResumes(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull, proxy := throughProxy(t, z)
	push := newSock(t, z, PUSH, WithHeartbeat(50*time.Millisecond, 200*time.Millisecond, 0),
		WithReconnectInterval(20*time.Millisecond), WithLinger(0))
	ev := push.Monitor(ctx)
	if err := push.Connect("tcp://" + proxy.Addr()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, push, "before")
	mustRecv(t, ctx, pull, "before")
	proxy.Stall()
	e := waitEvent(t, ev, EventDisconnected)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "heartbeat") {
		t.Fatalf("disconnect reason %v, want the heartbeat timeout", e.Err)
	}
	proxy.Resume()
	waitEvent(t, ev, EventHandshakeSucceeded)
	mustSend(t, ctx, push, "after")
	mustRecv(t, ctx, pull, "after")
}

func TestAbandonedConnectionsLeaveNothing(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	fdsBefore := openFDs()
	pull := newSock(t, z, PULL, WithHandshakeTimeout(2*time.Second))
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(pull.LastEndpoint(), "tcp://")
	conns := make([]net.Conn, 0, 1000)
	for i := 0; i < 1000; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if i%2 == 0 {
			c.Write([]byte{0xff, 0, 0}) // half a greeting, then silence
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	// A real peer is still served; goleak (TestMain) checks that the
	// abandoned connections left no goroutine once the socket closes.
	push := newSock(t, z, PUSH)
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, push, "served")
	mustRecv(t, ctx, pull, "served")
	push.Close()
	pull.Close()
	if fdsBefore < 0 {
		return // no count of this process's descriptors here (see openFDs)
	}
	// Closed sockets give their descriptors back at once; allow a moment
	// for the runtime to finish closing them.
	deadline := time.Now().Add(5 * time.Second)
	for openFDs() > fdsBefore {
		if time.Now().After(deadline) {
			t.Fatalf("%d file descriptors open after Close, %d before", openFDs(), fdsBefore)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openFDs counts the process's open file descriptors on Linux (-1
// elsewhere, or without /proc/self/fd). A Windows binary under Wine sees
// /proc/self/fd too, but there it lists Wine's descriptors: three more
// for each OS thread the Go runtime starts (and never ends), so the count
// grows with the load of the run, not with what azmq leaves open.
func openFDs() int {
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// noDisconnect fails the test if the monitor reported a dropped link.
func noDisconnect(t *testing.T, ev <-chan Event) {
	t.Helper()
	for {
		select {
		case e := <-ev:
			if e.Kind == EventDisconnected {
				t.Fatalf("the link was dropped: %v", e.Err)
			}
		default:
			return
		}
	}
}

// A slow link (150 ms each way) with heartbeats whose timeout is longer
// than its round trip: requests are answered, and idle time does not end
// in a false heartbeat timeout on either side.
func TestDelayedLinkKeepsHeartbeats(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	hb := WithHeartbeat(100*time.Millisecond, time.Second, 0)
	rep := newSock(t, z, REP, hb)
	if err := rep.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.New(strings.TrimPrefix(rep.LastEndpoint(), "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	proxy.Delay(150 * time.Millisecond)
	req := newSock(t, z, REQ, hb, WithLinger(0))
	repEv, reqEv := rep.Monitor(ctx), req.Monitor(ctx)
	if err := req.Connect("tcp://" + proxy.Addr()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		start := time.Now()
		mustSend(t, ctx, req, "ping")
		mustRecv(t, ctx, rep, "ping")
		mustSend(t, ctx, rep, "pong")
		mustRecv(t, ctx, req, "pong")
		if rtt := time.Since(start); i > 0 && rtt < 300*time.Millisecond {
			t.Fatalf("round trip %v through a 150 ms link", rtt)
		}
		time.Sleep(1200 * time.Millisecond) // idle, longer than the timeout
	}
	noDisconnect(t, repEv)
	noDisconnect(t, reqEv)
}

// A throttled link (1 MB/s) carrying 64 KiB messages: heartbeats wait in
// line behind the data, yet no side times out, and every message arrives
// whole, once, in order.
func TestThrottledLinkDeliversInOrder(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	hb := WithHeartbeat(50*time.Millisecond, 300*time.Millisecond, 0)
	pull, proxy := throughProxy(t, z, hb)
	proxy.Throttle(1 << 20)
	push := newSock(t, z, PUSH, hb, WithLinger(0))
	pullEv, pushEv := pull.Monitor(ctx), push.Monitor(ctx)
	if err := push.Connect("tcp://" + proxy.Addr()); err != nil {
		t.Fatal(err)
	}
	const n, size = 24, 64 << 10
	go func() {
		for i := uint32(0); i < n; i++ {
			if push.Send(ctx, seqMsg(i, size)) != nil {
				return
			}
		}
	}()
	start := time.Now()
	for i := uint32(0); i < n; i++ {
		m, err := pull.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv %d: %v", i, err)
		}
		if seq, ok := seqCheck(m); !ok || seq != i {
			t.Fatalf("message %d: got number %d, whole %v", i, seq, ok)
		}
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("%d KiB went through a 1 MiB/s link in %v", n*size>>10, d)
	}
	noDisconnect(t, pullEv)
	noDisconnect(t, pushEv)
}

// A PUB with a subscriber that keeps up and one that reads nothing: the
// stuck one loses messages once its queue (and the kernel's buffers) are
// full, whole messages only; the one that keeps up loses none; Send never
// blocks.
func TestPubDropsForTheSlowSubscriberOnly(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pub := newSock(t, z, PUB, WithSendHWM(100), WithLinger(0))
	if err := pub.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	fast := newSock(t, z, SUB, WithRecvHWM(100))
	slow := newSock(t, z, SUB, WithRecvHWM(100))
	for _, s := range []*Socket{fast, slow} {
		if err := s.Subscribe(nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Connect(pub.LastEndpoint()); err != nil {
			t.Fatal(err)
		}
	}
	// Both subscriptions must have arrived before counting.
	publishUntilReceived(t, ctx, pub, fast, []string{"sync"}, []string{"sync"})
	publishUntilReceived(t, ctx, pub, slow, []string{"sync"}, []string{"sync"})
	drain := func(s *Socket) {
		for {
			rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_, err := s.Recv(rctx)
			cancel()
			if err != nil {
				return
			}
		}
	}
	drain(fast)
	drain(slow)

	const n, burst, size = 5000, 50, 4 << 10
	body := make([]byte, size)
	for seq := 0; seq < n; seq += burst {
		for i := seq; i < seq+burst; i++ {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			err := pub.Send(sctx, []byte(fmt.Sprint(i)), body)
			cancel()
			if err != nil {
				t.Fatalf("PUB Send %d: %v", i, err)
			}
		}
		// The fast subscriber keeps up: it takes each burst before the next.
		for i := seq; i < seq+burst; i++ {
			m, err := fast.Recv(ctx)
			if err != nil {
				t.Fatalf("fast SUB, message %d: %v", i, err)
			}
			if len(m) != 2 || string(m[0]) != fmt.Sprint(i) || len(m[1]) != size {
				t.Fatalf("fast SUB: message %d is %q... (%d frames)", i, m[0], len(m))
			}
		}
	}
	// The stuck one now reads what it kept: whole messages, in order, with
	// a gap where its queue was full.
	got, last := 0, -1
	for {
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		m, err := slow.Recv(rctx)
		cancel()
		if err != nil {
			break
		}
		var seq int
		if _, err := fmt.Sscan(string(m[0]), &seq); err != nil || len(m) != 2 || len(m[1]) != size || seq <= last {
			t.Fatalf("slow SUB: message after %d is %q (%d frames): not whole or out of order", last, m[0], len(m))
		}
		got, last = got+1, seq
	}
	if got == 0 || got >= n {
		t.Fatalf("slow SUB kept %d of %d messages: want some, not all", got, n)
	}
	t.Logf("fast SUB: %d of %d; slow SUB: kept %d, the rest dropped for it alone", n, n, got)
}
