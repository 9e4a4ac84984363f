// Linux only: the abstract namespace, and socket options read back through Unix getsockopt.

package transport

import (
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestIPCAbstract(t *testing.T) {
	name := "@azmq-test-" + strings.ToLower(rand.Text())
	ep, l := mustListen(t, "ipc://"+name)
	if got, want := Resolved(ep, l), "ipc://"+name; got != want {
		t.Fatalf("Resolved = %q, want %q", got, want)
	}
	if isSocket(t, name) {
		t.Fatalf("abstract listen created a file %q", name)
	}

	l2, err := Listen(testCtx(t), ep)
	if err == nil {
		l2.Close()
		t.Fatal("second abstract Listen succeeded")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second abstract Listen error %v, want EADDRINUSE", err)
	}

	sp, cp := exchange(t, l, ep)
	if sp != "" || cp != "" {
		t.Fatalf("PeerAddress = %q, %q, want empty", sp, cp)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The name is free again once closed.
	_, l3 := mustListen(t, "ipc://"+name)
	l3.Close()
}

func keepAliveOn(t *testing.T, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v != 0
}

func noDelayOn(t *testing.T, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v != 0
}

func TestTCPSocketOptions(t *testing.T) {
	ep, l := mustListen(t, "tcp://127.0.0.1:*")
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	cc, err := Dial(testCtx(t), mustParse(t, Resolved(ep, l)))
	if err != nil {
		l.Close()
		<-accepted
		t.Fatal(err)
	}
	defer cc.Close()
	var sc net.Conn
	select {
	case sc = <-accepted:
	case <-time.After(testTimeout):
		l.Close()
		<-accepted
		t.Fatal("Accept timed out")
	}
	if sc == nil {
		t.Fatal("Accept failed")
	}
	defer sc.Close()
	for name, c := range map[string]net.Conn{"dialed": cc, "accepted": sc} {
		if !keepAliveOn(t, c) {
			t.Errorf("%s conn: SO_KEEPALIVE off", name)
		}
		if !noDelayOn(t, c) {
			t.Errorf("%s conn: TCP_NODELAY off", name)
		}
	}
}
