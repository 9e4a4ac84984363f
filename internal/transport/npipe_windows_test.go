// Windows only: named pipes end to end (these run under Wine too).

package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pipeEP returns a fresh pipe endpoint, ipc://\\.\pipe\azmq-test-<random>.
func pipeEP() string {
	return `ipc://\\.\pipe\azmq-test-` + strings.ToLower(rand.Text())
}

// acceptAsync runs one Accept; the result arrives on the channel.
func acceptAsync(l net.Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			c = nil
		}
		ch <- c
	}()
	return ch
}

// pipePair listens on a fresh pipe and returns a connected (server, client)
// pair; all three close at the end of the test.
func pipePair(t *testing.T) (net.Listener, net.Conn, net.Conn) {
	t.Helper()
	ep, l := mustListen(t, pipeEP())
	accepted := acceptAsync(l)
	cc, err := Dial(testCtx(t), ep)
	if err != nil {
		l.Close()
		<-accepted
		t.Fatalf("Dial(%s): %v", ep, err)
	}
	t.Cleanup(func() { cc.Close() })
	select {
	case sc := <-accepted:
		if sc == nil {
			t.Fatal("Accept failed")
		}
		t.Cleanup(func() { sc.Close() })
		return l, sc, cc
	case <-time.After(testTimeout):
		l.Close()
		<-accepted
		t.Fatal("Accept timed out")
	}
	return nil, nil, nil
}

func TestPipeRoundTrip(t *testing.T) {
	s := pipeEP()
	ep, l := mustListen(t, s)
	if got := Resolved(ep, l); got != s {
		t.Fatalf("Resolved = %q, want %q", got, s)
	}
	if a := l.Addr(); a.Network() != "pipe" || "ipc://"+a.String() != s {
		t.Fatalf("Addr = %s %q", a.Network(), a)
	}
	for range 3 { // several connections, one after the other
		sp, cp := exchange(t, l, ep)
		if sp != "" || cp != "" {
			t.Fatalf("PeerAddress on pipes = %q, %q, want empty", sp, cp)
		}
	}
}

func TestPipeConnAddrs(t *testing.T) {
	l, sc, cc := pipePair(t)
	for name, c := range map[string]net.Conn{"server": sc, "client": cc} {
		for _, a := range []net.Addr{c.LocalAddr(), c.RemoteAddr()} {
			if a.Network() != "pipe" || a.String() != l.Addr().String() {
				t.Errorf("%s conn address %s %q, want pipe %q", name, a.Network(), a, l.Addr())
			}
		}
	}
}

func TestPipeShortForm(t *testing.T) {
	name := "azmq-test-" + strings.ToLower(rand.Text())
	ep, l := mustListen(t, "ipc://pipe:"+name)
	long := `ipc://\\.\pipe\` + name
	if got := Resolved(ep, l); got != long {
		t.Fatalf("Resolved = %q, want %q", got, long)
	}
	exchange(t, l, mustParse(t, long))
	exchange(t, l, ep)
	exchange(t, l, mustParse(t, "ipc:////./pipe/"+name))
}

func TestPipeWildcard(t *testing.T) {
	for _, s := range []string{`ipc://\\.\pipe\*`, "ipc://pipe:*"} {
		ep, l := mustListen(t, s)
		res := Resolved(ep, l)
		if !strings.HasPrefix(res, `ipc://\\.\pipe\azmq-`) {
			t.Fatalf("Resolved = %q, want a fresh name under ipc://\\\\.\\pipe\\azmq-", res)
		}
		exchange(t, l, mustParse(t, res))
		ep2, l2 := mustListen(t, s)
		if res2 := Resolved(ep2, l2); res2 == res {
			t.Fatalf("two %s listeners share %q", s, res)
		}
	}
	c, err := Dial(testCtx(t), mustParse(t, `ipc://\\.\pipe\*`))
	if err == nil {
		c.Close()
		t.Fatal(`Dial to \\.\pipe\* succeeded`)
	}
	if !errors.Is(err, ErrEndpoint) {
		t.Fatalf("Dial to a wildcard pipe: %v, want ErrEndpoint", err)
	}
}

func TestPipeAddressInUse(t *testing.T) {
	s := pipeEP()
	ep, l := mustListen(t, s)
	name := strings.TrimPrefix(s, `ipc://\\.\pipe\`)
	for _, again := range []string{s, "ipc://pipe:" + name, `ipc://\\.\PIPE\` + strings.ToUpper(name)} {
		aep := mustParse(t, again)
		l2, err := Listen(testCtx(t), aep)
		if err == nil {
			l2.Close()
			t.Fatalf("second Listen(%s) succeeded", again)
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("second Listen error %v, want EADDRINUSE", err)
		}
		if want := "transport: listen " + again + ": "; !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error %q, want prefix %q", err, want)
		}
	}
	// The first listener is unharmed.
	exchange(t, l, ep)

	// Closed, the name is free again.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, l3 := mustListen(t, s)
	exchange(t, l3, ep)
}

func TestPipeCloseUnblocksAccept(t *testing.T) {
	_, l := mustListen(t, pipeEP())
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Accept start waiting
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Accept still blocked after Close")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v to unblock Accept", d)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on a closed listener: %v, want net.ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v, want net.ErrClosed", err)
	}
}

func TestPipeDialMissing(t *testing.T) {
	s := pipeEP()
	ep := mustParse(t, s)
	start := time.Now()
	c, err := Dial(testCtx(t), ep)
	if err == nil {
		c.Close()
		t.Fatal("Dial to a missing pipe succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Dial to a missing pipe took %v", d)
	}
	if want := "transport: dial " + s + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
	if !strings.Contains(err.Error(), "nothing is bound") {
		t.Fatalf("error %q should say nothing is bound to the pipe", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want fs.ErrNotExist", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("error %v does not wrap *net.OpError", err)
	}
}

func TestPipeDialCanceled(t *testing.T) {
	ep, _ := mustListen(t, pipeEP())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := Dial(ctx, ep)
	if err == nil {
		c.Close()
		t.Fatal("Dial with a canceled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// TestPipeDialBusy: with no Accept running, the listener's one free instance
// takes the first client, and a second finds every instance busy. Its dial
// waits, bounded by its ctx, and gets through once Accept makes the next
// instance.
func TestPipeDialBusy(t *testing.T) {
	ep, l := mustListen(t, pipeEP())
	first, err := Dial(testCtx(t), ep)
	if err != nil {
		t.Fatalf("first Dial: %v", err)
	}
	defer first.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	c, err := Dial(ctx, ep)
	if err == nil {
		c.Close()
		t.Fatal("second Dial succeeded with every instance busy")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Dial: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("second Dial gave up after %v, want about 200ms", d)
	}

	// A dial waiting on the busy pipe gets through once Accept runs.
	type result struct {
		c   net.Conn
		err error
	}
	dialed := make(chan result, 1)
	go func() {
		c, err := Dial(testCtx(t), ep)
		dialed <- result{c, err}
	}()
	time.Sleep(100 * time.Millisecond)
	sc, err := l.Accept() // the first client's
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	r := <-dialed
	if r.err != nil {
		t.Fatalf("waiting Dial: %v", r.err)
	}
	defer r.c.Close()
	sc2, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc2.Close()
	deadline := time.Now().Add(testTimeout)
	for _, pair := range [][2]net.Conn{{first, sc}, {r.c, sc2}} {
		pair[0].SetDeadline(deadline)
		pair[1].SetDeadline(deadline)
		if _, err := pair[0].Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(pair[1], b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPipeManyClients(t *testing.T) {
	ep, l := mustListen(t, pipeEP())
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	wg.Add(1)
	go func() { // the server: echo on every connection
		defer wg.Done()
		for range n {
			c, err := l.Accept()
			if err != nil {
				errs <- err
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(testTimeout))
				if _, err := io.Copy(c, c); err != nil {
					errs <- err
				}
			}()
		}
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(testCtx(t), ep)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(testTimeout))
			msg := []byte(strings.Repeat(string(rune('a'+i)), 100000))
			go c.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				errs <- err
				return
			}
			if string(got) != string(msg) {
				errs <- errors.New("echo mismatch")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPipeDeadlines(t *testing.T) {
	_, sc, cc := pipePair(t)

	// A read deadline ends a read with a timeout.
	sc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	n, err := sc.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past its deadline = %d, %v; want os.ErrDeadlineExceeded", n, err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read error %v is not a net.Error timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("deadline of 50ms ended the read after %v", d)
	}

	// A deadline set while a read is blocked ends it (the engine stops
	// handshakes that way).
	done := make(chan error, 1)
	sc.SetReadDeadline(time.Time{})
	go func() {
		_, err := sc.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	sc.SetDeadline(time.Unix(1, 0))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("blocked Read after SetDeadline = %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("SetDeadline did not end a blocked Read")
	}

	// Cleared, the conn works again.
	sc.SetDeadline(time.Time{})
	if _, err := cc.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	sc.SetDeadline(time.Now().Add(testTimeout))
	b := make([]byte, 5)
	if _, err := io.ReadFull(sc, b); err != nil || string(b) != "after" {
		t.Fatalf("read after deadlines %q, %v", b, err)
	}
}

func TestPipeCloseAndEOF(t *testing.T) {
	_, sc, cc := pipePair(t)
	deadline := time.Now().Add(testTimeout)
	sc.SetDeadline(deadline)
	cc.SetDeadline(deadline)

	// A blocked Read gets what the other end writes; after that end
	// closes, what it wrote before is still read, then EOF.
	done := make(chan error, 1)
	go func() {
		_, err := cc.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if _, err := sc.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Read of the data: %v", err)
	}
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(cc)
	if err != nil || string(b) != "ye" {
		t.Fatalf("ReadAll after the peer closed = %q, %v; want %q, nil", b, err, "ye")
	}
	if _, err := sc.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read on a closed conn: %v, want net.ErrClosed", err)
	}
	if _, err := cc.Write([]byte("x")); err == nil {
		t.Fatal("Write to a pipe whose server end closed succeeded")
	}

	// Closing ends a blocked Read on the same end with net.ErrClosed.
	_, sc2, _ := pipePair(t)
	go func() {
		_, err := sc2.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	sc2.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked Read after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not end a blocked Read")
	}
}

// The name of a pipe is held while any server end of it is open, the
// listener's or an accepted connection's; closing the listener and then its
// connections frees it.
func TestPipeNameFreedAfterConnections(t *testing.T) {
	s := pipeEP()
	ep, l := mustListen(t, s)
	accepted := acceptAsync(l)
	cc, err := Dial(testCtx(t), ep)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc := <-accepted
	if sc == nil {
		t.Fatal("Accept failed")
	}
	defer sc.Close()
	l.Close()
	if l2, err := Listen(testCtx(t), ep); err == nil {
		l2.Close()
		t.Fatal("Listen succeeded while an accepted connection holds the name")
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen: %v, want EADDRINUSE", err)
	}
	sc.Close()
	_, l3 := mustListen(t, s)
	exchange(t, l3, ep)
}
