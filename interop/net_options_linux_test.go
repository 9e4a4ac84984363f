//go:build linux

// Linux only: getsockopt on the live connections of both sides, libzmq's
// taken from its process with pidfd_getfd.

package interop

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/internal/transport"
	"golang.org/x/sys/unix"
)

// kernelOpts are the values the kernel holds for one tcp socket.
type kernelOpts struct {
	Keepalive, Idle, Intvl, Cnt, Sndbuf, Rcvbuf, TOS int
	Device                                           string
}

// readKernelOpts reads them from fd.
func readKernelOpts(fd int) (kernelOpts, error) {
	var o kernelOpts
	var err error
	get := func(level, opt int) int {
		v, e := unix.GetsockoptInt(fd, level, opt)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	o.Keepalive = get(unix.SOL_SOCKET, unix.SO_KEEPALIVE)
	o.Idle = get(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
	o.Intvl = get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL)
	o.Cnt = get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT)
	o.Sndbuf = get(unix.SOL_SOCKET, unix.SO_SNDBUF)
	o.Rcvbuf = get(unix.SOL_SOCKET, unix.SO_RCVBUF)
	o.TOS = get(unix.IPPROTO_IP, unix.IP_TOS)
	dev, e := unix.GetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
	if e != nil && err == nil {
		err = e
	}
	o.Device = dev
	return o, err
}

// connOpts reads them from one of azmq's connections.
func connOpts(c net.Conn) (kernelOpts, error) {
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return kernelOpts{}, err
	}
	var o kernelOpts
	var rerr error
	if err := rc.Control(func(fd uintptr) { o, rerr = readKernelOpts(int(fd)) }); err != nil {
		return kernelOpts{}, err
	}
	return o, rerr
}

// peerSocketOpts finds, among the sockets of process pid, the tcp one
// whose local address is local, and reads its options through a copy of
// its descriptor (pidfd_getfd, Linux 5.6; needs ptrace rights over pid).
func peerSocketOpts(pid int, local *net.TCPAddr) (kernelOpts, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return kernelOpts{}, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return kernelOpts{}, err
	}
	for _, e := range ents {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		target, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, target, 0)
		if err != nil {
			return kernelOpts{}, fmt.Errorf("pidfd_getfd: %w", err)
		}
		sa, err := unix.Getsockname(fd)
		if in4, ok := sa.(*unix.SockaddrInet4); err == nil && ok && in4.Port == local.Port && net.IP(in4.Addr[:]).Equal(local.IP) {
			if _, perr := unix.Getpeername(fd); perr == nil { // the connection, not a listener
				o, err := readKernelOpts(fd)
				unix.Close(fd)
				return o, err
			}
		}
		unix.Close(fd)
	}
	return kernelOpts{}, fmt.Errorf("no socket of process %d is bound to %v", pid, local)
}

// TestTCPOptionsLikeLibzmq: given the same keepalive, buffer, TOS and
// device settings, azmq's connection and libzmq's (ZMQ_TCP_KEEPALIVE*,
// ZMQ_SNDBUF, ZMQ_RCVBUF, ZMQ_TOS, ZMQ_BINDTODEVICE) carry the same
// values in the kernel, on both ends of one connection, whichever side
// binds.
func TestTCPOptionsLikeLibzmq(t *testing.T) {
	requirePeer(t)
	var mu sync.Mutex
	conns := map[string]net.Conn{} // by local address
	defer transport.SetConnHook(func(c net.Conn) {
		mu.Lock()
		conns[c.LocalAddr().String()] = c
		mu.Unlock()
	})()
	want := kernelOpts{Keepalive: 1, Idle: 20, Intvl: 5, Cnt: 3, Sndbuf: 80 << 10, Rcvbuf: 112 << 10, TOS: 0x10, Device: "lo"}
	libzmq := map[string]any{
		"TCP_KEEPALIVE": 1, "TCP_KEEPALIVE_IDLE": 20, "TCP_KEEPALIVE_INTVL": 5, "TCP_KEEPALIVE_CNT": 3,
		"SNDBUF": 40 << 10, "RCVBUF": 56 << 10, "TOS": 0x10, "BINDTODEVICE": hexs("lo"),
	}
	opts := []azmq.SocketOption{
		azmq.WithTCPKeepAlive(net.KeepAliveConfig{Enable: true, Idle: 20 * time.Second, Interval: 5 * time.Second, Count: 3}),
		azmq.WithSendBuffer(40 << 10), azmq.WithRecvBuffer(56 << 10), azmq.WithTOS(0x10), azmq.WithBindToDevice("lo"),
	}
	for _, tp := range tcpTopologies {
		t.Run(tp.String(), func(t *testing.T) {
			ctx := testCtx(t)
			s := newSocket(t, azmq.REQ, opts...)
			// The peer echoes, then holds the connection while we look.
			p := link(t, s, spec{Type: "REP", Options: map[string]any{"sockopts": libzmq},
				Steps: []step{{"op": "echo", "quiet": true}, {"op": "sleep", "ms": 3000}}}, tp)
			send(t, ctx, s, [][]byte{b("ping")})
			checkMsg(t, "echo", recv(t, ctx, s), [][]byte{b("ping")})

			var mine net.Conn
			mu.Lock()
			for _, c := range conns {
				if strings.HasSuffix(c.RemoteAddr().String(), ":"+tcpPort(t, p.endpoint)) || strings.HasSuffix(c.LocalAddr().String(), ":"+tcpPort(t, p.endpoint)) {
					mine = c
				}
			}
			mu.Unlock()
			if mine == nil {
				t.Fatalf("azmq's connection to %s not seen", p.endpoint)
			}
			got, err := connOpts(mine)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("azmq's kernel values %+v, want %+v", got, want)
			}
			theirs, err := peerSocketOpts(p.cmd.Process.Pid, mine.RemoteAddr().(*net.TCPAddr))
			if err != nil {
				// Without ptrace rights over the peer (not root, or
				// kernel.yama.ptrace_scope 3) libzmq's side is unreadable.
				t.Skipf("azmq's values are right; libzmq's socket is unreadable here: %v", err)
			}
			if theirs != want {
				t.Fatalf("libzmq's kernel values %+v, want %+v (as azmq's)", theirs, want)
			}
			p.wait()
		})
	}
}
