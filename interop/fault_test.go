//go:build !windows

package interop

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/faultproxy"
)

// faultMsgs are three 64 KiB messages that cannot be mistaken for one
// another or for a piece of one.
func faultMsgs() [][][]byte {
	var ms [][][]byte
	for i := 0; i < 3; i++ {
		ms = append(ms, [][]byte{pattern(64<<10, byte(i+1))})
	}
	return ms
}

func isWhole(m [][]byte, of [][][]byte) bool {
	for _, w := range of {
		if len(m) == 1 && bytes.Equal(m[0], w[0]) {
			return true
		}
	}
	return false
}

// waitDisconnect waits for the monitor to report a dropped connection.
func waitDisconnect(t *testing.T, ev <-chan azmq.Event) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.Kind == azmq.EventDisconnected {
				return
			}
		case <-timeout:
			t.Fatal("the cut was not seen")
		}
	}
}

// libzmq PUSH → fault proxy → azmq PULL: the connection is cut in the
// middle of a frame; azmq delivers no part of the cut message, libzmq
// reconnects and the flow goes on.
func TestFaultCutLibzmqToAzmq(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	pull := newSocket(t, azmq.PULL)
	ev := pull.Monitor(ctx)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.New(strings.TrimPrefix(pull.LastEndpoint(), "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	msgs := faultMsgs()
	var hex [][]string
	for _, m := range msgs {
		hex = append(hex, hexFrames(m))
	}
	proxy.CutAfter(5*(64<<10) + 1000)
	p := startPeer(t, spec{Type: "PUSH", Connect: []string{"tcp://" + proxy.Addr()},
		Options: map[string]any{"linger": 0},
		Steps:   []step{{"op": "send_loop", "messages": hex, "interval_ms": 5, "max_ms": 20000}}})
	p.ready()
	cut := false
	after := 0
	for after < 10 {
		m := recv(t, ctx, pull)
		if !isWhole(m, msgs) {
			t.Fatalf("azmq received a damaged message (%d frames, first %d bytes)", len(m), len(m[0]))
		}
		if !cut {
			select {
			case e := <-ev:
				cut = e.Kind == azmq.EventDisconnected
			default:
			}
		} else {
			after++
		}
	}
	p.writeLine([]byte("stop\n"))
}

// azmq PUSH → fault proxy → libzmq PULL: the same cut the other way;
// libzmq receives only whole messages, azmq reconnects and the flow goes on.
func TestFaultCutAzmqToLibzmq(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	msgs := faultMsgs()
	p := startPeer(t, spec{Type: "PULL", Bind: []string{"tcp://127.0.0.1:*"},
		Steps: []step{{"op": "recv", "count": 40, "timeout_ms": 15000}}})
	ep := p.ready()
	proxy, err := faultproxy.New(strings.TrimPrefix(ep, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	push := newSocket(t, azmq.PUSH, azmq.WithReconnectInterval(20*time.Millisecond), azmq.WithLinger(0))
	ev := push.Monitor(ctx)
	proxy.CutAfter(5*(64<<10) + 1000)
	if err := push.Connect("tcp://" + proxy.Addr()); err != nil {
		t.Fatal(err)
	}
	sendCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000 && sendCtx.Err() == nil; i++ {
			if push.Send(sendCtx, msgs[i%3]...) != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitDisconnect(t, ev)
	for i := 0; i < 40; i++ {
		if m := p.recvMsg(); !isWhole(m, msgs) {
			t.Fatalf("libzmq received a damaged message %d (%s)", i, fmt.Sprint(len(m)))
		}
	}
	stop()
	<-done
	p.wait()
}

// throttledMsgs are 24 distinct 32 KiB messages: 768 KiB, about 0.75 s on
// a 1 MiB/s link.
func throttledMsgs() [][][]byte {
	var ms [][][]byte
	for i := 0; i < 24; i++ {
		ms = append(ms, [][]byte{pattern(32<<10, byte(i+1))})
	}
	return ms
}

// shapedProxy puts a delayed (20 ms each way), throttled (1 MiB/s) link
// in front of target.
func shapedProxy(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	proxy, err := faultproxy.New(strings.TrimPrefix(target, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	proxy.Delay(20 * time.Millisecond)
	proxy.Throttle(1 << 20)
	return proxy
}

// noDrop fails the test if the monitor reported a dropped link.
func noDrop(t *testing.T, mon *monEvents) {
	t.Helper()
	if ev, ok := mon.find(azmq.EventDisconnected); ok {
		t.Fatalf("the link was dropped: %v; events: %s", ev.Err, mon)
	}
}

// libzmq PUSH → slow, throttled link → azmq PULL, heartbeats on both
// sides (every 50 ms, 300 ms timeout): data queued ahead of the PINGs
// does not cause a false timeout, the idle link after it stays up, and
// every message arrives whole and in order.
func TestFaultThrottledLibzmqToAzmq(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	hb := azmq.WithHeartbeat(50*time.Millisecond, 300*time.Millisecond, 0)
	pull := newSocket(t, azmq.PULL, hb)
	mon := monitor(ctx, pull)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	proxy := shapedProxy(t, pull.LastEndpoint())
	msgs := throttledMsgs()
	steps := []step{}
	for _, m := range msgs {
		steps = append(steps, step{"op": "send", "frames": hexFrames(m)})
	}
	p := startPeer(t, spec{Type: "PUSH", Connect: []string{"tcp://" + proxy.Addr()},
		Options: map[string]any{"heartbeat_ivl": 50, "heartbeat_timeout": 300, "monitor": true},
		Steps:   append(steps, step{"op": "interactive"})})
	p.ready()
	for i, want := range msgs {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := pull.Recv(rctx)
		cancel()
		if err != nil {
			t.Fatalf("message %d: %v; azmq events: %s", i, err, mon)
		}
		if len(m) != 1 || !bytes.Equal(m[0], want[0]) {
			t.Fatalf("message %d is not the one sent %d-th", i, i)
		}
	}
	time.Sleep(time.Second) // idle: only heartbeats keep the link
	p.do(step{"op": "events", "ms": 0})
	for _, e := range peerEvents(p) {
		if e.Event == "DISCONNECTED" {
			t.Fatalf("libzmq dropped the link")
		}
	}
	noDrop(t, mon)
	p.do(step{"op": "exit"})
	p.wait()
}

// azmq PUSH → slow, throttled link → libzmq PULL, heartbeats on both
// sides: the same the other way.
func TestFaultThrottledAzmqToLibzmq(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	msgs := throttledMsgs()
	p := startPeer(t, spec{Type: "PULL", Bind: []string{"tcp://127.0.0.1:*"},
		Options: map[string]any{"heartbeat_ivl": 50, "heartbeat_timeout": 300, "monitor": true},
		Steps: []step{{"op": "recv", "count": len(msgs), "timeout_ms": 15000},
			{"op": "sleep", "ms": 1000}, {"op": "events", "ms": 0}, {"op": "interactive"}}})
	proxy := shapedProxy(t, p.ready())
	push := newSocket(t, azmq.PUSH, azmq.WithHeartbeat(50*time.Millisecond, 300*time.Millisecond, 0))
	mon := monitor(ctx, push)
	if err := push.Connect("tcp://" + proxy.Addr()); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := push.Send(ctx, m...); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range msgs {
		if m := p.recvMsg(); len(m) != 1 || !bytes.Equal(m[0], want[0]) {
			t.Fatalf("libzmq: message %d is not the one sent %d-th", i, i)
		}
	}
	for _, e := range peerEvents(p) {
		if e.Event == "DISCONNECTED" {
			t.Fatalf("libzmq dropped the link")
		}
	}
	noDrop(t, mon)
	p.do(step{"op": "exit"})
	p.wait()
}
