package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
)

// Net holds the socket-level settings of tcp connections (the buffer sizes
// also of ipc ones). The zero value keeps this package's defaults.
type Net struct {
	// KeepAlive replaces the default keepalive (on: 15 s idle, 15 s
	// between probes, 9 probes) when not nil; Enable false turns it off,
	// and a field of -1 leaves that setting to the OS.
	KeepAlive *net.KeepAliveConfig
	// SendBuffer and RecvBuffer set SO_SNDBUF and SO_RCVBUF in bytes;
	// <= 0 leaves the OS default.
	SendBuffer, RecvBuffer int
	// TOS sets IP_TOS (IPV6_TCLASS on IPv6) when not 0.
	TOS int
	// BindToDevice sets SO_BINDTODEVICE (Linux only) when not "".
	BindToDevice string
	// ConnectTimeout bounds one tcp dial (0: the OS's own timeout).
	ConnectTimeout time.Duration
	// SOCKSProxy, host:port, makes tcp dials go through that SOCKS5
	// proxy; SOCKSUser (not "") authenticates with SOCKSPass (RFC 1929).
	SOCKSProxy, SOCKSUser, SOCKSPass string
}

// keepAliveOf returns the keepalive config of n, and the Dialer/ListenConfig
// KeepAlive duration that goes with it (-1 turns keepalive off).
func (n Net) keepAliveOf() (net.KeepAliveConfig, time.Duration) {
	if n.KeepAlive == nil {
		return keepAlive, 0
	}
	if !n.KeepAlive.Enable {
		return net.KeepAliveConfig{}, -1
	}
	return *n.KeepAlive, 0
}

// tuned reports whether n sets anything before bind or connect.
func (n Net) tuned() bool {
	return n.SendBuffer > 0 || n.RecvBuffer > 0 || n.TOS != 0 || n.BindToDevice != ""
}

// control sets n's socket options on a new socket, before it binds or
// connects: a receive buffer set later would not shape the TCP window, and
// a device binding must come before the route is picked.
func (n Net) control(network, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = n.setFD(network, fd) })
	if err != nil {
		return err
	}
	return serr
}

// setFD applies n to one socket. network is "tcp4", "tcp6", "unix", ...
func (n Net) setFD(network string, fd uintptr) error {
	if n.SendBuffer > 0 {
		if err := setBuffer(fd, false, n.SendBuffer); err != nil {
			return fmt.Errorf("SO_SNDBUF %d: %w", n.SendBuffer, err)
		}
	}
	if n.RecvBuffer > 0 {
		if err := setBuffer(fd, true, n.RecvBuffer); err != nil {
			return fmt.Errorf("SO_RCVBUF %d: %w", n.RecvBuffer, err)
		}
	}
	if network != "tcp4" && network != "tcp6" {
		return nil // TOS and devices are IP matters
	}
	if n.TOS != 0 {
		if err := setTOS(fd, network == "tcp6", n.TOS); err != nil {
			return fmt.Errorf("IP_TOS %d: %w", n.TOS, err)
		}
	}
	if n.BindToDevice != "" {
		if err := bindToDevice(fd, n.BindToDevice); err != nil {
			return fmt.Errorf("SO_BINDTODEVICE %q: %w", n.BindToDevice, err)
		}
	}
	return nil
}

// listenConfig returns the ListenConfig of a tcp or ipc listener under n:
// accepted connections inherit the listener's buffers, TOS and device.
func (n Net) listenConfig() net.ListenConfig {
	lc := net.ListenConfig{}
	lc.KeepAliveConfig, lc.KeepAlive = n.keepAliveOf()
	if n.tuned() {
		lc.Control = n.control
	}
	return lc
}

// dialer returns the Dialer of a tcp or ipc dial under n, from the source
// address src when valid.
func (n Net) dialer(src netip.AddrPort, srcSet bool) *net.Dialer {
	d := &net.Dialer{Timeout: n.ConnectTimeout}
	d.KeepAliveConfig, d.KeepAlive = n.keepAliveOf()
	if n.tuned() {
		d.Control = n.control
	}
	if srcSet {
		d.LocalAddr = net.TCPAddrFromAddrPort(src)
	}
	return d
}

// connHook, when set, sees every connection Dial and Listen's listeners
// make: tests read socket options back through it.
var connHook atomic.Pointer[func(net.Conn)]

// SetConnHook makes f see every tcp and ipc connection dialed or accepted
// from now on, until the returned function restores the previous hook.
// For tests, which read socket options back on live connections.
func SetConnHook(f func(net.Conn)) (restore func()) {
	old := connHook.Swap(&f)
	return func() { connHook.Store(old) }
}

func runHook(c net.Conn) {
	if f := connHook.Load(); f != nil && *f != nil {
		(*f)(c)
	}
}

// hookListener shows accepted connections to the hook.
type hookListener struct{ net.Listener }

func (l hookListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		runHook(c)
	}
	return c, err
}

// hooked wraps l in a hookListener while a hook is set; without one,
// listeners stay as they are.
func hooked(l net.Listener, err error) (net.Listener, error) {
	if err != nil || connHook.Load() == nil {
		return l, err
	}
	return hookListener{l}, nil
}

// dialTCP dials a tcp destination (host:port as Dial checked it) under n,
// through n.SOCKSProxy when set.
func dialTCP(ctx context.Context, n Net, src *sourceAddr, dst tcpAddr, handshake time.Duration) (net.Conn, error) {
	var d *net.Dialer
	if src != nil {
		ap, err := src.resolve()
		if err != nil {
			return nil, err
		}
		d = n.dialer(ap, true)
	} else {
		d = n.dialer(netip.AddrPort{}, false)
	}
	target := net.JoinHostPort(dst.host, dst.port)
	var (
		c   net.Conn
		err error
	)
	if n.SOCKSProxy != "" {
		c, err = dialSOCKS(ctx, d, n, dst, handshake)
	} else {
		c, err = d.DialContext(ctx, "tcp", target)
	}
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetNoDelay(true); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// ConnRefused reports whether a dial's error says nobody listens there
// (ECONNREFUSED, or WSAECONNREFUSED on Windows).
func ConnRefused(err error) bool { return connRefused(err) }

// ipcBufListener sets the buffer sizes on each accepted unix socket, which
// does not inherit them from its listener as a tcp one does.
type ipcBufListener struct {
	net.Listener
	n Net // its SendBuffer and RecvBuffer
}

// bufListener wraps an ipc listener in an ipcBufListener when n sets a
// buffer size.
func bufListener(l net.Listener, n Net) net.Listener {
	if n.SendBuffer <= 0 && n.RecvBuffer <= 0 {
		return l
	}
	return ipcBufListener{l, Net{SendBuffer: n.SendBuffer, RecvBuffer: n.RecvBuffer}}
}

func (l ipcBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c, nil
	}
	rc, err := sc.SyscallConn()
	if err == nil {
		err = l.n.control("unix", "", rc)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("transport: accept: %w", err)
	}
	return c, nil
}
