package azmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rawDial connects a plain TCP client to a bound socket.
func rawDial(t *testing.T, s *Socket) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(s.LastEndpoint(), "tcp://")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitEvent waits for an event of the given kind and returns it.
func waitEvent(t *testing.T, ev <-chan Event, kind EventKind) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-ev:
			if !ok {
				t.Fatalf("monitor closed before %v", kind)
			}
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event", kind)
		}
	}
}

func greeting(mech string, major byte) []byte {
	g := make([]byte, 64)
	g[0], g[8], g[9], g[10], g[11] = 0xff, 1, 0x7f, major, 1
	copy(g[12:], mech)
	return g
}

func TestBadPeersRefusedOthersServed(t *testing.T) {
	cases := []struct {
		name   string
		send   []byte
		reason string // a word of the error's text
	}{
		{"zmtp1.0", []byte{0x01, 0x00, 'h', 'i', 0, 0, 0, 0, 0, 0, 0, 0}, "signature"},
		{"zmtp1.0-revision0", greeting("NULL", 0)[:11], "ZMTP 1.0"},
		// A ZMTP 2.0 peer is served (interop/jeromq_test.go); one naming
		// no socket type is not.
		{"zmtp2.0-bad-socket-type", append(greeting("NULL", 1)[:11], 99), "socket type"},
		{"mechanism", greeting("PLAIN", 3), "mechanism"},
		{"unknown-mechanism", greeting("KERBEROS", 3), "mechanism"},
		{"garbage-after-greeting", append(greeting("NULL", 3), 0x04, 0x05, 'R', 'E', 'A', 'D', 'Y', 0xff), "malformed"},
		{"bad-metadata", append(greeting("NULL", 3), 0x04, 0x0a, 0x05, 'R', 'E', 'A', 'D', 'Y', 0x01, 'x', 0, 0), "malformed"},
		{"incompatible-type", append(greeting("NULL", 3), 0x04, 0x1a, 0x05, 'R', 'E', 'A', 'D', 'Y', 0x0b, 'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 4, 'P', 'U', 'L', 'L'), "incompatible"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			pull := newSock(t, z, PULL)
			ev := pull.Monitor(ctx)
			if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
				t.Fatal(err)
			}
			good := newSock(t, z, PUSH)
			if err := good.Connect(pull.LastEndpoint()); err != nil {
				t.Fatal(err)
			}
			mustSend(t, ctx, good, "before")
			mustRecv(t, ctx, pull, "before")

			bad := rawDial(t, pull)
			bad.Write(tc.send)
			e := waitEvent(t, ev, EventHandshakeFailed)
			if e.Err == nil || !strings.Contains(e.Err.Error(), tc.reason) {
				t.Fatalf("HandshakeFailed reason = %v, want one about %q", e.Err, tc.reason)
			}
			// The connection is closed by azmq.
			bad.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 256)
			for {
				if _, err := bad.Read(buf); err != nil {
					if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout") {
						t.Fatal("bad peer not disconnected")
					}
					break
				}
			}
			mustSend(t, ctx, good, "after")
			mustRecv(t, ctx, pull, "after")
		})
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL, WithHandshakeTimeout(100*time.Millisecond))
	ev := pull.Monitor(ctx)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	c := rawDial(t, pull)
	c.Write(greeting("NULL", 3)[:5]) // then silence
	e := waitEvent(t, ev, EventHandshakeFailed)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "timed out") {
		t.Fatalf("handshake failure = %v, want a timeout", e.Err)
	}
}

// A slowloris peer trickles its greeting a byte at a time, never idle for
// long: the handshake timeout bounds the whole handshake, not each read,
// so the connection is dropped at the timeout while a real peer is served.
func TestSlowlorisGreetingDropped(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL, WithHandshakeTimeout(300*time.Millisecond))
	ev := pull.Monitor(ctx)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	c := rawDial(t, pull)
	stop := make(chan struct{})
	trickled := make(chan error, 1)
	go func() {
		g := greeting("NULL", 3)
		for i := 0; ; i++ {
			if _, err := c.Write(g[i%len(g) : i%len(g)+1]); err != nil {
				trickled <- err
				return
			}
			select {
			case <-stop:
				trickled <- nil
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	push := newSock(t, z, PUSH)
	if err := push.Connect(pull.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, push, "served")
	mustRecv(t, ctx, pull, "served")
	e := waitEvent(t, ev, EventHandshakeFailed)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "timed out") {
		t.Fatalf("handshake failure = %v, want a timeout", e.Err)
	}
	// The trickler finds its connection closed (or is stopped, bounded).
	select {
	case <-trickled:
	case <-time.After(5 * time.Second):
		close(stop)
		if err := <-trickled; err == nil {
			t.Fatal("the slowloris connection is still open 5 s after the handshake timeout")
		}
	}
}

func TestMaxMsgSizeDropsOnlyThatPeer(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	pull := newSock(t, z, PULL, WithMaxMsgSize(1000))
	ev := pull.Monitor(ctx)
	if err := pull.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	big := newSock(t, z, PUSH, WithLinger(0))
	small := newSock(t, z, PUSH)
	for _, s := range []*Socket{big, small} {
		if err := s.Connect(pull.LastEndpoint()); err != nil {
			t.Fatal(err)
		}
	}
	mustSend(t, ctx, big, strings.Repeat("x", 600), strings.Repeat("y", 600))
	e := waitEvent(t, ev, EventDisconnected)
	if !errors.Is(e.Err, ErrTooLarge) {
		t.Fatalf("disconnect reason = %v", e.Err)
	}
	mustSend(t, ctx, small, "ok")
	got := mustRecv(t, ctx, pull)
	if !bytes.Equal(got[0], []byte("ok")) {
		t.Fatalf("got %q", got)
	}
}

// TestIPCPathTooLong: an ipc path longer than an AF_UNIX address holds
// fails Bind and Connect at once, saying how long it is and what fits,
// where the kernel would refuse it and Connect would retry for ever. The
// longest that fits binds.
func TestIPCPathTooLong(t *testing.T) {
	if !afUnix(t) {
		t.Skip("no AF_UNIX here: ipc paths are not in use")
	}
	z := NewContext()
	defer z.Close()
	max := 107 // Linux and Windows
	switch runtime.GOOS {
	case "darwin", "ios", "freebsd", "netbsd", "openbsd", "dragonfly":
		max = 103
	}
	dir := t.TempDir()
	pad := func(n int) string { return filepath.Join(dir, strings.Repeat("p", n-len(dir)-1)) }
	if len(dir)+2 > max {
		t.Skipf("the temporary directory %s leaves no room for a file name within %d bytes", dir, max)
	}
	s := newSock(t, z, PULL)
	long := "ipc://" + pad(max+1)
	for name, call := range map[string]func(string) error{"Bind": s.Bind, "Connect": s.Connect} {
		err := call(long)
		if !errors.Is(err, ErrEndpoint) || !strings.Contains(err.Error(), fmt.Sprintf("%d bytes: this system allows %d", max+1, max)) {
			t.Errorf("%s with a %d-byte path: %v; want ErrEndpoint naming both lengths", name, max+1, err)
		}
	}
	if err := s.Bind("ipc://" + pad(max)); err != nil {
		t.Errorf("Bind with a %d-byte path: %v", max, err)
	}
}
