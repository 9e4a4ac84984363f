package azmq

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// recvWithin receives one message or fails after d.
func recvWithin(t *testing.T, s *Socket, d time.Duration) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	m, err := s.Recv(ctx)
	if err != nil {
		t.Fatalf("%v Recv: %v", s.Type(), err)
	}
	return m
}

func TestReconnectAfterPeerRestart(t *testing.T) {
	for _, tr := range []string{"tcp", "ipc"} {
		t.Run(tr, func(t *testing.T) {
			ep := "tcp://127.0.0.1:" + freePort(t)
			if tr == "ipc" {
				if !afUnix(t) {
					t.Skip("no AF_UNIX sockets on this system")
				}
				ep = "ipc://" + t.TempDir() + "/r.ipc"
			}
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			push := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithReconnectIntervalMax(50*time.Millisecond))
			ev := push.Monitor(ctx)
			if err := push.Connect(ep); err != nil {
				t.Fatal(err)
			}
			for round := 0; round < 3; round++ {
				pull := newSock(t, z, PULL)
				if err := pull.Bind(ep); err != nil {
					t.Fatal(err)
				}
				msg := fmt.Sprint("round ", round)
				mustSend(t, ctx, push, msg)
				if got := recvWithin(t, pull, 5*time.Second); string(got[0]) != msg {
					t.Fatalf("got %q, want %q", got, msg)
				}
				pull.Close()
				// A message sent while the dead connection is not yet
				// noticed may be written into it and lost, as with libzmq;
				// what matters is that the PUSH comes back.
				waitEvent(t, ev, EventDisconnected)
			}
		})
	}
}

func TestQueuedWhileDisconnected(t *testing.T) {
	ep := "tcp://127.0.0.1:" + freePort(t)
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	push := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond))
	if err := push.Connect(ep); err != nil {
		t.Fatal(err)
	}
	// No peer yet: up to the HWM, messages wait for it.
	for i := 0; i < 10; i++ {
		mustSend(t, ctx, push, fmt.Sprint(i))
	}
	pull := newSock(t, z, PULL)
	if err := pull.Bind(ep); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		mustRecv(t, ctx, pull, fmt.Sprint(i))
	}
}

func TestImmediateDoesNotQueue(t *testing.T) {
	ep := "tcp://127.0.0.1:" + freePort(t)
	z := NewContext()
	defer z.Close()
	push := newSock(t, z, PUSH, WithImmediate(true), WithLinger(0))
	if err := push.Connect(ep); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := push.Send(ctx, []byte("x")); err != context.DeadlineExceeded {
		t.Fatalf("Send with no connection under WithImmediate = %v, want DeadlineExceeded", err)
	}
}

func TestSubscriptionsResentAfterReconnect(t *testing.T) {
	ep := "tcp://127.0.0.1:" + freePort(t)
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	sub := newSock(t, z, SUB, WithReconnectInterval(10*time.Millisecond))
	if err := sub.Subscribe([]byte("t")); err != nil {
		t.Fatal(err)
	}
	if err := sub.Connect(ep); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		pub := newSock(t, z, PUB)
		if err := pub.Bind(ep); err != nil {
			t.Fatal(err)
		}
		m := publishUntilReceived(t, ctx, pub, sub, []string{"x-no"}, []string{"t-yes"})
		if len(m) != 1 || string(m[0]) != "t-yes" {
			t.Fatalf("round %d: SUB got %q", round, m)
		}
		pub.Close()
	}
}

func TestDisconnectAndUnbind(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	push := newSock(t, z, PUSH, WithLinger(0))
	bindConnect(t, pull, push, "tcp://127.0.0.1:*")
	mustSend(t, ctx, push, "a")
	mustRecv(t, ctx, pull, "a")
	if err := push.Disconnect(pull.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	if err := push.Disconnect(pull.LastEndpoint()); err == nil {
		t.Fatal("second Disconnect succeeded")
	}
	if err := pull.Unbind(pull.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	if err := pull.Unbind(pull.LastEndpoint()); err == nil {
		t.Fatal("second Unbind succeeded")
	}
	// After Unbind the port is free again.
	other := newSock(t, z, PULL)
	if err := other.Bind(pull.LastEndpoint()); err != nil {
		t.Fatalf("rebind after Unbind: %v", err)
	}
}

func TestContextCloseManySockets(t *testing.T) {
	z := NewContext()
	for i := 0; i < 1000; i++ {
		s, err := z.NewSocket(DEALER)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Connect(fmt.Sprint("inproc://many-", i%10)); err != nil {
			t.Fatal(err)
		}
		s.Send(context.Background(), []byte("pending"))
	}
	done := make(chan struct{})
	go func() {
		z.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Context.Close hung")
	}
	if _, err := z.NewSocket(REQ); err == nil {
		t.Fatal("NewSocket on a closed Context succeeded")
	}
}

func TestJitter(t *testing.T) {
	d := 100 * time.Millisecond
	seen := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		j := jitter(d)
		if j < 75*time.Millisecond || j > 125*time.Millisecond {
			t.Fatalf("jitter(%v) = %v, outside [75ms, 125ms]", d, j)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Fatalf("jitter gave only %d distinct waits in 1000", len(seen))
	}
	if jitter(0) != 0 {
		t.Fatal("jitter(0) != 0")
	}
}

func TestCloseUnblocksSend(t *testing.T) {
	z := NewContext()
	defer z.Close()
	push := newSock(t, z, PUSH, WithLinger(0))
	errc := make(chan error, 1)
	go func() { errc <- push.Send(context.Background(), []byte("no peer")) }()
	time.Sleep(20 * time.Millisecond)
	push.Close()
	select {
	case err := <-errc:
		if err != ErrClosed {
			t.Fatalf("Send after Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send still blocked after Close")
	}
}

func TestLingerBoundsClose(t *testing.T) {
	ep := "tcp://127.0.0.1:" + freePort(t) // nobody listens there
	for _, linger := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(linger.String(), func(t *testing.T) {
			z := NewContext()
			defer z.Close()
			push, err := z.NewSocket(PUSH, WithLinger(linger), WithReconnectInterval(20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if err := push.Connect(ep); err != nil {
				t.Fatal(err)
			}
			if err := push.Send(context.Background(), []byte("pending")); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			push.Close()
			took := time.Since(start)
			// Pending messages are kept for the linger and no longer.
			if took < linger*9/10 || took > linger+2*time.Second {
				t.Fatalf("Close with linger %v took %v", linger, took)
			}
		})
	}
}

// A DEALER's explicit routing id survives its reconnection: a restarted
// ROUTER can address it by that id as soon as it is back.
func TestRoutingIDSurvivesReconnect(t *testing.T) {
	ep := "tcp://127.0.0.1:" + freePort(t)
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	dealer := newSock(t, z, DEALER, WithRoutingID([]byte("d1")),
		WithReconnectInterval(10*time.Millisecond), WithReconnectIntervalMax(50*time.Millisecond))
	ev := dealer.Monitor(ctx)
	if err := dealer.Connect(ep); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		router := newSock(t, z, ROUTER, WithRouterMandatory(true))
		if err := router.Bind(ep); err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprint("round ", round)
		// Until the DEALER is back, the id is unknown: ErrHostUnreachable.
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := router.Send(ctx, []byte("d1"), []byte(msg))
			if err == nil {
				break
			}
			if !errors.Is(err, ErrHostUnreachable) || time.Now().After(deadline) {
				t.Fatalf("round %d: Send to d1: %v", round, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		mustRecv(t, ctx, dealer, msg)
		router.Close()
		waitEvent(t, ev, EventDisconnected)
	}
}
