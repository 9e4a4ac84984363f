// Linux only: the options' values read back with getsockopt on the live
// connections of a socket.

package azmq

import (
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/transport"
	"golang.org/x/sys/unix"
)

// TestNetOptionsLive: a socket's tcp options are on its connections, the
// ones it dials and the ones it accepts, as getsockopt reads them back.
func TestNetOptionsLive(t *testing.T) {
	var mu sync.Mutex
	var conns []net.Conn
	defer transport.SetConnHook(func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	})()
	opts := []SocketOption{
		WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Idle: 20 * time.Second, Interval: 5 * time.Second, Count: 3}),
		WithSendBuffer(40 << 10), WithRecvBuffer(56 << 10),
		WithTOS(0x10), WithBindToDevice("lo"),
	}
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	rep := newSock(t, z, REP, opts...)
	if err := rep.Bind("tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	req := newSock(t, z, REQ, opts...)
	if err := req.Connect(rep.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, ctx, req, "ping")
	mustRecv(t, ctx, rep, "ping")
	mu.Lock()
	got := append([]net.Conn(nil), conns...)
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d connections seen, want 2 (dialed and accepted)", len(got))
	}
	for _, c := range got {
		rc, err := c.(syscall.Conn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		type opt struct {
			name       string
			level, opt int
			want       int
		}
		checks := []opt{
			{"SO_KEEPALIVE", unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
			{"TCP_KEEPIDLE", unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 20},
			{"TCP_KEEPINTVL", unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 5},
			{"TCP_KEEPCNT", unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 3},
			{"SO_SNDBUF", unix.SOL_SOCKET, unix.SO_SNDBUF, 80 << 10}, // Linux doubles it
			{"SO_RCVBUF", unix.SOL_SOCKET, unix.SO_RCVBUF, 112 << 10},
			{"IP_TOS", unix.IPPROTO_IP, unix.IP_TOS, 0x10},
		}
		rc.Control(func(fd uintptr) {
			for _, o := range checks {
				v, err := unix.GetsockoptInt(int(fd), o.level, o.opt)
				if err != nil || v != o.want {
					t.Errorf("%s %s = %d, %v; want %d", c.LocalAddr(), o.name, v, err, o.want)
				}
			}
			if dev, err := unix.GetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE); err != nil || dev != "lo" {
				t.Errorf("%s SO_BINDTODEVICE = %q, %v; want lo", c.LocalAddr(), dev, err)
			}
		})
	}
}
