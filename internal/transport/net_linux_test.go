// Linux only: socket options read back through Unix getsockopt, and
// SO_BINDTODEVICE.

package transport

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sockopts is what the tests read back from a live connection.
type sockopts struct {
	sndbuf, rcvbuf, tos int
	keepalive           int // SO_KEEPALIVE: 0 or 1
	idle, intvl, cnt    int // TCP_KEEPIDLE (s), TCP_KEEPINTVL (s), TCP_KEEPCNT
	device              string
}

// readSockopts reads c's options; tcp ones only for tcp conns.
func readSockopts(t *testing.T, c net.Conn) sockopts {
	t.Helper()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("%T has no raw connection", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_, isTCP := c.(*net.TCPConn)
	v6 := isTCP && c.LocalAddr().(*net.TCPAddr).IP.To4() == nil
	var o sockopts
	var errs []error
	get := func(fd, level, opt int, into *int) {
		v, err := unix.GetsockoptInt(fd, level, opt)
		errs = append(errs, err)
		*into = v
	}
	err = rc.Control(func(fd uintptr) {
		f := int(fd)
		get(f, unix.SOL_SOCKET, unix.SO_SNDBUF, &o.sndbuf)
		get(f, unix.SOL_SOCKET, unix.SO_RCVBUF, &o.rcvbuf)
		if !isTCP {
			return
		}
		if v6 {
			get(f, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, &o.tos)
		} else {
			get(f, unix.IPPROTO_IP, unix.IP_TOS, &o.tos)
		}
		get(f, unix.SOL_SOCKET, unix.SO_KEEPALIVE, &o.keepalive)
		get(f, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, &o.idle)
		get(f, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, &o.intvl)
		get(f, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, &o.cnt)
		dev, err := unix.GetsockoptString(f, unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
		errs = append(errs, err)
		o.device = dev
	})
	if err := errors.Join(append(errs, err)...); err != nil {
		t.Fatalf("getsockopt: %v", err)
	}
	return o
}

// hookConns collects the connections the transport makes while the test
// runs.
func hookConns(t *testing.T) func() []net.Conn {
	var mu sync.Mutex
	var conns []net.Conn
	restore := SetConnHook(func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	})
	t.Cleanup(restore)
	return func() []net.Conn {
		mu.Lock()
		defer mu.Unlock()
		return append([]net.Conn(nil), conns...)
	}
}

// TestNetSockopts: Net's settings are on the live connections, dialed and
// accepted, read back with getsockopt; the zero Net keeps the package's
// keepalive default and the OS's buffers.
func TestNetSockopts(t *testing.T) {
	ka := &net.KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}
	cases := []struct {
		name string
		ep   string
		n    Net
		want func(t *testing.T, o sockopts)
	}{
		{"default", "tcp://127.0.0.1:0", Net{}, func(t *testing.T, o sockopts) {
			if o.keepalive != 1 || o.idle != 15 || o.intvl != 15 || o.cnt != 9 || o.tos != 0 || o.device != "" {
				t.Errorf("got %+v, want keepalive 15/15/9, TOS 0, no device", o)
			}
		}},
		{"tuned", "tcp://127.0.0.1:0", Net{KeepAlive: ka, SendBuffer: 32 << 10, RecvBuffer: 48 << 10, TOS: 0x28}, func(t *testing.T, o sockopts) {
			// Linux doubles the buffer sizes it is given.
			if o.sndbuf != 64<<10 || o.rcvbuf != 96<<10 {
				t.Errorf("buffers %d, %d; want %d, %d", o.sndbuf, o.rcvbuf, 64<<10, 96<<10)
			}
			if o.tos != 0x28 {
				t.Errorf("IP_TOS %#x, want 0x28", o.tos)
			}
			if o.keepalive != 1 || o.idle != 7 || o.intvl != 3 || o.cnt != 4 {
				t.Errorf("keepalive %d %d/%d/%d, want on 7/3/4", o.keepalive, o.idle, o.intvl, o.cnt)
			}
		}},
		{"ipv6-tclass", "tcp://[::1]:0", Net{TOS: 0xb8}, func(t *testing.T, o sockopts) {
			if o.tos != 0xb8 {
				t.Errorf("IPV6_TCLASS %#x, want 0xb8", o.tos)
			}
		}},
		{"keepalive-off", "tcp://127.0.0.1:0", Net{KeepAlive: &net.KeepAliveConfig{}}, func(t *testing.T, o sockopts) {
			if o.keepalive != 0 {
				t.Errorf("SO_KEEPALIVE %d, want 0", o.keepalive)
			}
		}},
		{"device-lo", "tcp://127.0.0.1:0", Net{BindToDevice: "lo"}, func(t *testing.T, o sockopts) {
			if o.device != "lo" {
				t.Errorf("SO_BINDTODEVICE %q, want lo", o.device)
			}
		}},
		{"ipc-buffers", "ipc://@azmq-net-test-" + time.Now().Format("150405.000000000"), Net{SendBuffer: 32 << 10, RecvBuffer: 48 << 10}, func(t *testing.T, o sockopts) {
			if o.sndbuf != 64<<10 || o.rcvbuf != 96<<10 {
				t.Errorf("buffers %d, %d; want %d, %d", o.sndbuf, o.rcvbuf, 64<<10, 96<<10)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conns := hookConns(t)
			o := Options{Net: tc.n}
			l, err := ListenWith(testCtx(t), mustParse(t, tc.ep), o)
			if err != nil {
				if tc.name == "ipv6-tclass" {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			defer l.Close()
			c := dialWith(t, Resolved(mustParse(t, tc.ep), l), o)
			s := acceptOne(t, l)
			roundTrip(t, c, s)
			if got := len(conns()); got != 2 {
				t.Fatalf("hook saw %d connections, want 2", got)
			}
			for _, x := range []struct {
				side string
				c    net.Conn
			}{{"dialed", c}, {"accepted", s}} {
				t.Run(x.side, func(t *testing.T) { tc.want(t, readSockopts(t, x.c)) })
			}
		})
	}
}

// TestBindToDeviceMissing: a device that does not exist fails the dial
// and the listen with ENODEV, named in the error.
func TestBindToDeviceMissing(t *testing.T) {
	o := Options{Net: Net{BindToDevice: "nosuchdev0"}}
	if l, err := ListenWith(testCtx(t), mustParse(t, "tcp://127.0.0.1:0"), o); err == nil {
		l.Close()
		t.Fatal("listen on a missing device succeeded")
	} else if !errors.Is(err, unix.ENODEV) {
		t.Fatalf("listen error %v, want ENODEV", err)
	}
	_, l := mustListen(t, "tcp://127.0.0.1:0")
	c, err := DialWith(testCtx(t), mustParse(t, "tcp://127.0.0.1:"+port(t, l)), o)
	if err == nil {
		c.Close()
		t.Fatal("dial from a missing device succeeded")
	}
	if !errors.Is(err, unix.ENODEV) {
		t.Fatalf("dial error %v, want ENODEV", err)
	}
}
