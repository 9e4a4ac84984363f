// Windows only: ipc over named pipes through the public API (these run under Wine too).

package azmq

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pipeName returns a fresh pipe name, azmq-test-<random>.
func pipeName() string {
	return "azmq-test-" + strings.ToLower(rand.Text())
}

// pipeEndpoint returns a fresh endpoint ipc://\\.\pipe\azmq-test-<random>.
func pipeEndpoint() string {
	return `ipc://\\.\pipe\` + pipeName()
}

func TestPipeReqRep(t *testing.T) {
	name := pipeName()
	long := `ipc://\\.\pipe\` + name
	for _, ep := range []string{long, "ipc://pipe:" + name} {
		t.Run(ep, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			rep := newSock(t, z, REP)
			req := newSock(t, z, REQ)
			if err := rep.Bind(ep); err != nil {
				t.Fatalf("Bind(%q): %v", ep, err)
			}
			if got := rep.LastEndpoint(); got != long {
				t.Fatalf("LastEndpoint = %q, want %q", got, long)
			}
			if err := req.Connect(ep); err != nil {
				t.Fatalf("Connect(%q): %v", ep, err)
			}
			for i := range 3 {
				mustSend(t, ctx, req, fmt.Sprint("hello", i))
				mustRecv(t, ctx, rep, fmt.Sprint("hello", i))
				mustSend(t, ctx, rep, "world")
				mustRecv(t, ctx, req, "world")
			}
		})
	}
}

func TestPipePushPull(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	push := newSock(t, z, PUSH)
	bindConnect(t, pull, push, `ipc://\\.\pipe\*`)
	if ep := pull.LastEndpoint(); !strings.HasPrefix(ep, `ipc://\\.\pipe\azmq-`) {
		t.Fatalf(`LastEndpoint after Bind(ipc://\\.\pipe\*) = %q`, ep)
	}
	sizes := []int{0, 1, 16, 255, 256, 4096, 65536, 200000}
	const rounds = 50
	go func() {
		for i := range rounds {
			for _, n := range sizes {
				b := bytes.Repeat([]byte{byte(i)}, n)
				if err := push.Send(ctx, []byte(fmt.Sprint(i)), b); err != nil {
					return
				}
			}
		}
	}()
	for i := range rounds {
		for _, n := range sizes {
			m := mustRecv(t, ctx, pull)
			if len(m) != 2 || string(m[0]) != fmt.Sprint(i) || !bytes.Equal(m[1], bytes.Repeat([]byte{byte(i)}, n)) {
				t.Fatalf("message %d of %d bytes arrived wrong (%d frames)", i, n, len(m))
			}
		}
	}
}

func TestPipeConnectBeforeBind(t *testing.T) {
	ep := pipeEndpoint()
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	push := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond))
	ev := push.Monitor(ctx)
	if err := push.Connect(ep); err != nil {
		t.Fatalf("Connect before Bind: %v", err)
	}
	// Nobody there: the dial fails (at once, with why) and is retried.
	if e := waitEvent(t, ev, EventConnectDelayed); e.Err == nil {
		t.Fatal("EventConnectDelayed without an error")
	}
	waitEvent(t, ev, EventConnectRetried)
	mustSend(t, ctx, push, "queued")
	pull := newSock(t, z, PULL)
	if err := pull.Bind(ep); err != nil {
		t.Fatal(err)
	}
	mustRecv(t, ctx, pull, "queued")
}

func TestPipeReconnectAfterBinderRestarts(t *testing.T) {
	ep := pipeEndpoint()
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	push := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond), WithReconnectIntervalMax(50*time.Millisecond))
	ev := push.Monitor(ctx)
	if err := push.Connect(ep); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		pull := newSock(t, z, PULL)
		if err := pull.Bind(ep); err != nil {
			t.Fatalf("round %d: Bind: %v", round, err)
		}
		msg := fmt.Sprint("round ", round)
		mustSend(t, ctx, push, msg)
		if got := recvWithin(t, pull, 5*time.Second); string(got[0]) != msg {
			t.Fatalf("got %q, want %q", got, msg)
		}
		pull.Close()
		waitEvent(t, ev, EventDisconnected)
	}
}

func TestPipeUnbindFreesName(t *testing.T) {
	ep := pipeEndpoint()
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	push := newSock(t, z, PUSH, WithReconnectInterval(10*time.Millisecond))
	bindConnect(t, pull, push, ep)
	mustSend(t, ctx, push, "a")
	mustRecv(t, ctx, pull, "a")
	ev := push.Monitor(ctx)

	// A second Bind of a name in use fails, on this socket or another.
	other := newSock(t, z, PULL)
	for _, s := range []*Socket{pull, other} {
		err := s.Bind(ep)
		if err == nil {
			t.Fatal("second Bind of a pipe name in use succeeded")
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("second Bind: %v, want EADDRINUSE", err)
		}
	}

	if err := pull.Unbind(ep); err != nil {
		t.Fatalf("Unbind: %v", err)
	}
	if err := pull.Unbind(ep); err == nil {
		t.Fatal("second Unbind succeeded")
	}
	// Unbound, the name is free: another socket takes it, and the PUSH
	// reconnects to it.
	var err error
	for range 50 { // the PUSH's connection closes with the Unbind, not before
		if err = other.Bind(ep); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Bind after Unbind: %v", err)
	}
	// The Unbind closed the PULL's end; the PUSH learns it when its read
	// of the pipe ends. A message sent before then can be taken by the
	// ending connection, whose write fails, and is lost with it (in flight:
	// see "When a peer dies" in doc.go). Once the PUSH has seen the end,
	// what it sends waits in its queue for the next connection.
	waitEvent(t, ev, EventDisconnected)
	mustSend(t, ctx, push, "b")
	mustRecv(t, ctx, other, "b")
}

func TestPipeUnbindByResolvedName(t *testing.T) {
	z := NewContext()
	defer z.Close()
	s := newSock(t, z, PULL)
	if err := s.Bind("ipc://pipe:*"); err != nil {
		t.Fatal(err)
	}
	ep := s.LastEndpoint()
	if err := s.Unbind(ep); err != nil {
		t.Fatalf("Unbind(%q): %v", ep, err)
	}
	if err := newSock(t, z, PULL).Bind(ep); err != nil {
		t.Fatalf("Bind after Unbind: %v", err)
	}
}

func TestPipeMonitorEvents(t *testing.T) {
	ep := pipeEndpoint()
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL)
	ev := pull.Monitor(ctx)
	push := newSock(t, z, PUSH)
	bindConnect(t, pull, push, ep)
	if e := waitEvent(t, ev, EventListening); e.Endpoint != ep {
		t.Fatalf("EventListening on %q, want %q", e.Endpoint, ep)
	}
	if e := waitEvent(t, ev, EventAccepted); "ipc://"+e.Endpoint != ep {
		t.Fatalf("EventAccepted from %q, want the pipe's name", e.Endpoint)
	}
	waitEvent(t, ev, EventHandshakeSucceeded)
	mustSend(t, ctx, push, "x")
	m, err := pull.RecvMsg(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Property("Peer-Address"); ok && v != "" {
		t.Fatalf("Peer-Address over a pipe = %q, want none", v)
	}
}

// Where the system has no AF_UNIX (Wine; Windows before 10 1803), ipc over
// a path cannot work: Bind and Connect say so at once and name the
// named-pipe form. Where AF_UNIX works, the ipc tests of socket_test.go
// cover it.
func TestIPCPathWithoutAFUnix(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "probe.sock"))
	if err == nil {
		l.Close()
		return
	}
	z := NewContext()
	defer z.Close()
	s := newSock(t, z, PULL)
	for _, ep := range []string{"ipc://" + filepath.Join(dir, "s.sock"), "ipc://*"} {
		for name, call := range map[string]func(string) error{"Bind": s.Bind, "Connect": s.Connect} {
			err := call(ep)
			if err == nil {
				t.Fatalf("%s(%q) succeeded without AF_UNIX", name, ep)
			}
			if !strings.Contains(err.Error(), "AF_UNIX") || !strings.Contains(err.Error(), `ipc://\\.\pipe\NAME`) {
				t.Fatalf("%s(%q) = %v, want an error saying AF_UNIX is missing and naming ipc://\\\\.\\pipe\\NAME", name, ep, err)
			}
		}
	}
}
