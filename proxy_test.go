package azmq_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// pxSock makes a socket that the test closes at its end.
func pxSock(t *testing.T, z *azmq.Context, typ azmq.SocketType, opts ...azmq.SocketOption) *azmq.Socket {
	t.Helper()
	s, err := z.NewSocket(typ, append([]azmq.SocketOption{azmq.WithLinger(0)}, opts...)...)
	if err != nil {
		t.Fatalf("NewSocket(%v): %v", typ, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pxBind binds s and returns the endpoint to connect to.
func pxBind(t *testing.T, s *azmq.Socket, ep string) string {
	t.Helper()
	if err := s.Bind(ep); err != nil {
		t.Fatalf("Bind(%s): %v", ep, err)
	}
	return s.LastEndpoint()
}

func pxConnect(t *testing.T, s *azmq.Socket, ep string) {
	t.Helper()
	if err := s.Connect(ep); err != nil {
		t.Fatalf("Connect(%s): %v", ep, err)
	}
}

// pxCtx is a test's deadline for every call.
func pxCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startProxy runs fn (a Proxy call) in a goroutine; stop cancels its
// context and returns what it returned, failing the test if it does not
// return within a second.
func startProxy(t *testing.T, fn func(ctx context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- fn(ctx) }()
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-ch:
			case <-time.After(time.Second):
				t.Fatal("the proxy did not return within 1s of its context's end")
			}
		})
		return result
	}
	t.Cleanup(func() { stop() })
	return stop
}

func pxEqual(got [][]byte, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if string(got[i]) != want[i] {
			return false
		}
	}
	return true
}

func TestProxyQueue(t *testing.T) {
	for _, tr := range []string{"inproc", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			ctx := pxCtx(t)
			z := azmq.NewContext()
			defer z.Close()
			fe, be := "inproc://px-front", "inproc://px-back"
			if tr == "tcp" {
				fe, be = "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"
			}
			frontend := pxSock(t, z, azmq.ROUTER)
			backend := pxSock(t, z, azmq.DEALER)
			fe = pxBind(t, frontend, fe)
			be = pxBind(t, backend, be)
			stop := startProxy(t, func(ctx context.Context) error {
				return azmq.Proxy(ctx, frontend, backend, nil)
			})

			// Two REP workers, each answering with its name.
			var wg sync.WaitGroup
			wctx, wcancel := context.WithCancel(ctx)
			defer func() { wcancel(); wg.Wait() }()
			for i := range 2 {
				w := pxSock(t, z, azmq.REP)
				pxConnect(t, w, be)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						req, err := w.Recv(wctx)
						if err != nil {
							return
						}
						if err := w.Send(wctx, []byte(fmt.Sprintf("w%d", i)), req[0]); err != nil {
							return
						}
					}
				}()
			}

			// Three REQ clients, five requests each, at the same time.
			errs := make(chan error, 3)
			var cwg sync.WaitGroup
			for c := range 3 {
				req := pxSock(t, z, azmq.REQ)
				pxConnect(t, req, fe)
				cwg.Add(1)
				go func() {
					defer cwg.Done()
					for n := range 5 {
						body := fmt.Sprintf("c%d-%d", c, n)
						if err := req.Send(ctx, []byte(body)); err != nil {
							errs <- err
							return
						}
						rep, err := req.Recv(ctx)
						if err != nil {
							errs <- err
							return
						}
						if len(rep) != 2 || string(rep[1]) != body {
							errs <- fmt.Errorf("client %d: reply %q to %q", c, rep, body)
							return
						}
					}
				}()
			}
			cwg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if err := stop(); !errors.Is(err, context.Canceled) {
				t.Errorf("Proxy returned %v, want context.Canceled", err)
			}
		})
	}
}

func TestProxyForwarder(t *testing.T) {
	ctx := pxCtx(t)
	z := azmq.NewContext()
	defer z.Close()
	xsub := pxSock(t, z, azmq.XSUB)
	xpub := pxSock(t, z, azmq.XPUB)
	upEP := pxBind(t, xsub, "tcp://127.0.0.1:*")
	downEP := pxBind(t, xpub, "inproc://px-fwd-down")
	startProxy(t, func(ctx context.Context) error { return azmq.Proxy(ctx, xsub, xpub, nil) })

	// Upstream: an XPUB, which publishes as a PUB does and also shows the
	// subscriptions that reach it, through the proxy.
	up := pxSock(t, z, azmq.XPUB)
	pxConnect(t, up, upEP)
	sub := pxSock(t, z, azmq.SUB)
	pxConnect(t, sub, downEP)
	if err := sub.Subscribe([]byte("news")); err != nil {
		t.Fatal(err)
	}
	m, err := up.Recv(ctx)
	if err != nil || !pxEqual(m, "\x01news") {
		t.Fatalf("upstream got %q, %v; want the subscription \\x01news", m, err)
	}
	// The subscription has passed the proxy's XSUB: what the publisher
	// sends now reaches the SUB, filtered upstream.
	if err := up.Send(ctx, []byte("weather"), []byte("rain")); err != nil {
		t.Fatal(err)
	}
	if err := up.Send(ctx, []byte("news"), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	m, err = sub.Recv(ctx)
	if err != nil || !pxEqual(m, "news", "hello") {
		t.Fatalf("SUB got %q, %v; want [news hello]", m, err)
	}

	// Unsubscribing travels up too.
	if err := sub.Unsubscribe([]byte("news")); err != nil {
		t.Fatal(err)
	}
	m, err = up.Recv(ctx)
	if err != nil || !pxEqual(m, "\x00news") {
		t.Fatalf("upstream got %q, %v; want the unsubscription \\x00news", m, err)
	}

	// And a plain PUB upstream works as well: publish until the SUB has
	// one, since subscriptions take a moment to reach a new publisher.
	if err := sub.Subscribe([]byte("sport")); err != nil {
		t.Fatal(err)
	}
	pub := pxSock(t, z, azmq.PUB)
	pxConnect(t, pub, upEP)
	pctx, pstop := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for pctx.Err() == nil {
			if pub.Send(pctx, []byte("sport"), []byte("3-1")) != nil {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	m, err = sub.Recv(ctx)
	pstop()
	pwg.Wait()
	if err != nil || !pxEqual(m, "sport", "3-1") {
		t.Fatalf("SUB got %q, %v; want [sport 3-1]", m, err)
	}
}

func TestProxyStreamer(t *testing.T) {
	ctx := pxCtx(t)
	z := azmq.NewContext()
	defer z.Close()
	frontend := pxSock(t, z, azmq.PULL)
	backend := pxSock(t, z, azmq.PUSH)
	fe := pxBind(t, frontend, "tcp://127.0.0.1:*")
	be := pxBind(t, backend, "inproc://px-stream-back")
	stop := startProxy(t, func(ctx context.Context) error { return azmq.Proxy(ctx, frontend, backend, nil) })

	push := pxSock(t, z, azmq.PUSH)
	pxConnect(t, push, fe)
	pull := pxSock(t, z, azmq.PULL)
	pxConnect(t, pull, be)
	const n = 200
	for i := range n {
		if err := push.Send(ctx, []byte("part1"), []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		m, err := pull.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !pxEqual(m, "part1", fmt.Sprint(i), "") {
			t.Fatalf("message %d: %q", i, m)
		}
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Proxy returned %v, want context.Canceled", err)
	}
}

func TestProxyCapture(t *testing.T) {
	ctx := pxCtx(t)
	z := azmq.NewContext()
	defer z.Close()
	frontend := pxSock(t, z, azmq.ROUTER)
	backend := pxSock(t, z, azmq.DEALER)
	capture := pxSock(t, z, azmq.PUSH)
	fe := pxBind(t, frontend, "inproc://px-cap-front")
	be := pxBind(t, backend, "inproc://px-cap-back")
	capEP := pxBind(t, capture, "inproc://px-cap")
	startProxy(t, func(ctx context.Context) error { return azmq.Proxy(ctx, frontend, backend, capture) })

	watch := pxSock(t, z, azmq.PULL)
	pxConnect(t, watch, capEP)
	req := pxSock(t, z, azmq.REQ, azmq.WithRoutingID([]byte("client")))
	pxConnect(t, req, fe)
	rep := pxSock(t, z, azmq.REP)
	pxConnect(t, rep, be)

	if err := req.Send(ctx, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if m, err := rep.Recv(ctx); err != nil || !pxEqual(m, "ping") {
		t.Fatalf("REP got %q, %v", m, err)
	}
	if err := rep.Send(ctx, []byte("pong")); err != nil {
		t.Fatal(err)
	}
	if m, err := req.Recv(ctx); err != nil || !pxEqual(m, "pong") {
		t.Fatalf("REQ got %q, %v", m, err)
	}
	// The capture sees each message whole, as the proxy received it: the
	// request with the ROUTER's routing id and REQ's empty delimiter, then
	// the reply as the DEALER got it.
	if m, err := watch.Recv(ctx); err != nil || !pxEqual(m, "client", "", "ping") {
		t.Errorf("capture 1: %q, %v", m, err)
	}
	if m, err := watch.Recv(ctx); err != nil || !pxEqual(m, "client", "", "pong") {
		t.Errorf("capture 2: %q, %v", m, err)
	}
}

// A capture socket that blocks (a PUSH nobody pulls from) does not stall
// the proxy: copies beyond its queue are dropped.
func TestProxyCaptureBlockedDoesNotStall(t *testing.T) {
	ctx := pxCtx(t)
	z := azmq.NewContext()
	defer z.Close()
	frontend := pxSock(t, z, azmq.PULL)
	backend := pxSock(t, z, azmq.PUSH)
	capture := pxSock(t, z, azmq.PUSH, azmq.WithSendHWM(10))
	fe := pxBind(t, frontend, "inproc://px-stall-front")
	be := pxBind(t, backend, "inproc://px-stall-back")
	pxBind(t, capture, "inproc://px-stall-cap") // nobody connects
	stop := startProxy(t, func(ctx context.Context) error { return azmq.Proxy(ctx, frontend, backend, capture) })
	push := pxSock(t, z, azmq.PUSH)
	pxConnect(t, push, fe)
	pull := pxSock(t, z, azmq.PULL)
	pxConnect(t, pull, be)

	const n = 5000
	go func() {
		for i := range n {
			if push.Send(ctx, []byte(fmt.Sprint(i))) != nil {
				return
			}
		}
	}()
	for i := range n {
		m, err := pull.Recv(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(m[0]) != fmt.Sprint(i) {
			t.Fatalf("message %d: %q", i, m)
		}
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Proxy returned %v, want context.Canceled", err)
	}
}

func TestProxyReturns(t *testing.T) {
	z := azmq.NewContext()
	defer z.Close()

	t.Run("cancel", func(t *testing.T) {
		fe := pxSock(t, z, azmq.ROUTER)
		be := pxSock(t, z, azmq.DEALER)
		pxBind(t, fe, "tcp://127.0.0.1:*")
		pxBind(t, be, "tcp://127.0.0.1:*")
		stop := startProxy(t, func(ctx context.Context) error { return azmq.Proxy(ctx, fe, be, nil) })
		time.Sleep(20 * time.Millisecond)
		start := time.Now()
		if err := stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Proxy returned %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("Proxy took %v to return after cancel", d)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		fe := pxSock(t, z, azmq.XSUB)
		be := pxSock(t, z, azmq.XPUB)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := azmq.Proxy(ctx, fe, be, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Proxy returned %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("socket closed", func(t *testing.T) {
		fe := pxSock(t, z, azmq.PULL)
		be := pxSock(t, z, azmq.PUSH)
		done := make(chan error, 1)
		go func() { done <- azmq.Proxy(context.Background(), fe, be, nil) }()
		time.Sleep(20 * time.Millisecond)
		fe.Close()
		select {
		case err := <-done:
			if !errors.Is(err, azmq.ErrClosed) {
				t.Errorf("Proxy returned %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Proxy did not return after its frontend closed")
		}
	})

	t.Run("bad types", func(t *testing.T) {
		for _, c := range []struct{ fe, be, capture azmq.SocketType }{
			{azmq.PUSH, azmq.PUB, -1},        // nothing can flow
			{azmq.PULL, azmq.PUSH, azmq.SUB}, // a SUB cannot capture
		} {
			fe := pxSock(t, z, c.fe)
			be := pxSock(t, z, c.be)
			var capture *azmq.Socket
			if c.capture >= 0 {
				capture = pxSock(t, z, c.capture)
			}
			if err := azmq.Proxy(pxCtx(t), fe, be, capture); !errors.Is(err, azmq.ErrNotSupported) {
				t.Errorf("Proxy(%v, %v, %v) = %v, want ErrNotSupported", c.fe, c.be, c.capture, err)
			}
		}
		if err := azmq.Proxy(context.Background(), nil, nil, nil); err == nil {
			t.Error("Proxy(nil, nil) succeeded")
		}
	})
}

func TestProxySteerable(t *testing.T) {
	ctx := pxCtx(t)
	z := azmq.NewContext()
	defer z.Close()
	frontend := pxSock(t, z, azmq.PULL)
	backend := pxSock(t, z, azmq.PUSH)
	control := pxSock(t, z, azmq.REP)
	fe := pxBind(t, frontend, "inproc://px-steer-front")
	be := pxBind(t, backend, "inproc://px-steer-back")
	ce := pxBind(t, control, "inproc://px-steer-control")
	done := make(chan error, 1)
	go func() { done <- azmq.ProxySteerable(ctx, frontend, backend, nil, control) }()

	push := pxSock(t, z, azmq.PUSH)
	pxConnect(t, push, fe)
	pull := pxSock(t, z, azmq.PULL)
	pxConnect(t, pull, be)
	ctl := pxSock(t, z, azmq.REQ)
	pxConnect(t, ctl, ce)
	command := func(cmd string) [][]byte {
		t.Helper()
		if err := ctl.Send(ctx, []byte(cmd)); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		m, err := ctl.Recv(ctx)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return m
	}
	send := func(s string) {
		t.Helper()
		if err := push.Send(ctx, []byte(s), []byte("xy")); err != nil {
			t.Fatal(err)
		}
	}
	recv := func(want string) {
		t.Helper()
		if m, err := pull.Recv(ctx); err != nil || !pxEqual(m, want, "xy") {
			t.Fatalf("got %q, %v; want [%s xy]", m, err, want)
		}
	}

	send("one")
	recv("one")
	if m := command("PAUSE"); !pxEqual(m, "") {
		t.Fatalf("PAUSE answered %q, want one empty frame", m)
	}
	send("two")
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	m, err := pull.Recv(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("while paused, got %q, %v; want nothing", m, err)
	}
	if m := command("RESUME"); !pxEqual(m, "") {
		t.Fatalf("RESUME answered %q, want one empty frame", m)
	}
	recv("two")
	if m := command("NONSENSE"); !pxEqual(m, "") {
		t.Fatalf("an unknown command answered %q, want one empty frame", m)
	}

	// The proxy counts a message sent once its Send has returned, which
	// may be just after the receiver got it: ask until the count settles.
	want := [8]uint64{2, 10, 0, 0, 0, 0, 2, 10} // two messages of 3+2 bytes, frontend in, backend out
	var got [8]uint64
	for try := 0; try < 100; try++ {
		stats := command("STATISTICS")
		if len(stats) != 8 {
			t.Fatalf("STATISTICS: %d frames, want 8", len(stats))
		}
		for i, f := range stats {
			if len(f) != 8 {
				t.Fatalf("STATISTICS frame %d: %d bytes", i, len(f))
			}
			got[i] = binary.LittleEndian.Uint64(f)
		}
		if got == want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got != want {
		t.Errorf("STATISTICS = %v, want %v", got, want)
	}

	if m := command("TERMINATE"); !pxEqual(m, "") {
		t.Fatalf("TERMINATE answered %q", m)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ProxySteerable returned %v after TERMINATE, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ProxySteerable did not return after TERMINATE")
	}
}

// A PAIR control socket gets no answers, except to STATISTICS.
func TestProxySteerablePairControl(t *testing.T) {
	ctx := pxCtx(t)
	z := azmq.NewContext()
	defer z.Close()
	frontend := pxSock(t, z, azmq.ROUTER)
	backend := pxSock(t, z, azmq.DEALER)
	control := pxSock(t, z, azmq.PAIR)
	pxBind(t, frontend, "inproc://px-pair-front")
	pxBind(t, backend, "inproc://px-pair-back")
	ce := pxBind(t, control, "inproc://px-pair-control")
	done := make(chan error, 1)
	go func() { done <- azmq.ProxySteerable(ctx, frontend, backend, nil, control) }()
	ctl := pxSock(t, z, azmq.PAIR)
	pxConnect(t, ctl, ce)
	for _, cmd := range []string{"PAUSE", "RESUME", "STATISTICS"} {
		if err := ctl.Send(ctx, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := ctl.Recv(ctx)
	if err != nil || len(m) != 8 || !bytes.Equal(m[0], make([]byte, 8)) {
		t.Fatalf("STATISTICS answered %q, %v", m, err)
	}
	if err := ctl.Send(ctx, []byte("TERMINATE")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ProxySteerable returned %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ProxySteerable did not return after TERMINATE")
	}
}
