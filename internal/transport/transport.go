package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// keepAlive turns TCP keepalive on with Go's default timings (15 s idle,
// 15 s between probes, 9 probes). Windows before 10 1709 cannot set the probe
// count: it keeps its own (10), and Go goes on without it.
var keepAlive = net.KeepAliveConfig{Enable: true}

// probeTimeout bounds the dial Listen makes to tell a live ipc socket from a
// stale socket file.
const probeTimeout = time.Second

// wildcardTries bounds the attempts to find an unused path for "ipc://*".
const wildcardTries = 16

// Listen binds ep and returns its listener.
//
// tcp: host "*" listens on all interfaces (dual-stack where the OS allows);
// port "*" or "0" picks a free port; a host name is resolved (or, first, taken
// as a network interface name) and its first IPv4 address is used, else its
// first address. ipc: a unix socket at the path; a stale socket file left by
// a dead process is removed first, but a path with a live listener fails with
// an error wrapping syscall.EADDRINUSE. "ipc://*" binds a fresh unique path
// under os.TempDir(); "ipc://@name" binds in the Linux abstract namespace.
// Closing an ipc listener removes its socket file. On Windows a named pipe
// (ipc://\\.\pipe\NAME, ipc://pipe:NAME) is created instead; a name that
// exists already fails with an error wrapping syscall.EADDRINUSE, and NAME
// "*" picks a fresh unique name. See the package documentation.
//
// Errors have the form "transport: listen ENDPOINT: ..." and wrap the cause.
func Listen(ctx context.Context, ep Endpoint) (net.Listener, error) {
	return ListenWith(ctx, ep, Options{})
}

// ListenWith is Listen with the options ws and wss need (see ws.go): a ws
// listener serves the upgrade of its path only (others get 404), a wss one
// needs o.TLS with a certificate. o.Net sets tcp's keepalive, buffers, TOS
// and device, and ipc's buffers; accepted connections inherit them.
func ListenWith(ctx context.Context, ep Endpoint, o Options) (net.Listener, error) {
	l, err := listen(ctx, ep, o)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", ep, inUseErr(err))
	}
	return l, nil
}

func listen(ctx context.Context, ep Endpoint, o Options) (net.Listener, error) {
	if err := ep.check(); err != nil {
		return nil, err
	}
	switch ep.Transport {
	case "ws", "wss":
		return listenWS(ctx, ep, o)
	case "tcp":
		return hooked(listenTCP(ctx, ep.Address, o.Net))
	case "ipc":
		return hooked(listenIPC(ctx, ep.Address, o.Net))
	default: // inproc
		return nil, fmt.Errorf("%s endpoints are joined by the socket layer: %w", ep.Transport, ErrUnsupportedTransport)
	}
}

func listenTCP(ctx context.Context, addr string, n Net) (net.Listener, error) {
	src, a, err := splitTCPEndpoint(addr)
	if err != nil {
		return nil, err
	}
	if src != nil {
		return nil, bad(`a source address ("src;dst") is only valid for connect`)
	}
	port := a.port
	if port == wildcard {
		port = "0"
	}
	network, host := "tcp", ""
	switch {
	case a.host == wildcard:
		// ":port": Go listens on all interfaces, on [::] with IPV6_V6ONLY
		// off (Linux, macOS, Windows), or IPv4 only where the system has no
		// dual stack (OpenBSD) or no IPv6.
	case a.isIP:
		host = a.ip.String()
		if a.ip.Is4() {
			network = "tcp4" // bind IPv4 only, as libzmq does for an IPv4 literal
		}
	default:
		ip, err := resolveBindHost(ctx, a.host)
		if err != nil {
			return nil, err
		}
		host = ip.String()
		if ip.Is4() {
			network = "tcp4"
		}
	}
	// Go sets SO_REUSEADDR on Unix listeners, so a port with connections in
	// TIME_WAIT can be bound again at once, as libzmq does. It does not set
	// it on Windows, rightly: there SO_REUSEADDR would let a second socket
	// bind a port that is in use, and a port in TIME_WAIT can be bound
	// without it.
	lc := n.listenConfig()
	return lc.Listen(ctx, network, net.JoinHostPort(host, port))
}

// resolveBindHost turns a bind host name into one address: a network
// interface of that name wins (libzmq binds "tcp://eth0:5555" that way),
// otherwise the name is resolved. IPv4 is preferred, like libzmq without
// ZMQ_IPV6.
func resolveBindHost(ctx context.Context, host string) (netip.Addr, error) {
	if _, err := net.InterfaceByName(host); err == nil {
		return interfaceAddr(host)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	if ip, ok := pickAddr(ips); ok {
		return ip, nil
	}
	return netip.Addr{}, fmt.Errorf("host %q has no address", host)
}

// interfaceAddr returns the address of the network interface named: its
// first IPv4 address, else its first one.
func interfaceAddr(name string) (netip.Addr, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no interface %q: %w", name, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, err
	}
	var ips []netip.Addr
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				ip = ip.Unmap()
				if ip.Is6() && (ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast()) {
					ip = ip.WithZone(ifi.Name)
				}
				ips = append(ips, ip)
			}
		}
	}
	if ip, ok := pickAddr(ips); ok {
		return ip, nil
	}
	return netip.Addr{}, fmt.Errorf("interface %q has no IP address", name)
}

// pickAddr returns the first IPv4 address, else the first address.
func pickAddr(ips []netip.Addr) (netip.Addr, bool) {
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return ip.Unmap(), true
		}
	}
	if len(ips) > 0 {
		return ips[0], true
	}
	return netip.Addr{}, false
}

func listenIPC(ctx context.Context, path string, n Net) (net.Listener, error) {
	if name, ok := pipeName(path); ok {
		return listenPipe(ctx, name)
	}
	lc := net.ListenConfig{}
	if n.SendBuffer > 0 || n.RecvBuffer > 0 {
		lc.Control = Net{SendBuffer: n.SendBuffer, RecvBuffer: n.RecvBuffer}.control
	}
	if path == wildcard {
		l, err := listenIPCWildcard(ctx, &lc)
		if err != nil {
			return nil, err
		}
		return bufListener(l, n), nil
	}
	if !strings.HasPrefix(path, "@") {
		if err := removeStale(ctx, path); err != nil {
			return nil, err
		}
	}
	l, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, ipcError(err)
	}
	return bufListener(l, n), nil
}

// listenIPCWildcard binds a fresh, unguessable socket path under
// os.TempDir() ($TMPDIR or /tmp on Unix, %TMP% on Windows); the generated
// name is short, as socket paths must be (108 bytes on Linux and Windows,
// 104 on macOS).
func listenIPCWildcard(ctx context.Context, lc *net.ListenConfig) (net.Listener, error) {
	var err error
	for range wildcardTries {
		path := filepath.Join(os.TempDir(), "azmq-"+strings.ToLower(rand.Text())+".sock")
		var l net.Listener
		l, err = lc.Listen(ctx, "unix", path)
		if err == nil {
			return l, nil
		}
		if !errors.Is(inUseErr(err), syscall.EADDRINUSE) {
			break
		}
	}
	return nil, ipcError(err)
}

// removeStale removes a socket file at path that no process listens on any
// more, as libzmq does before binding. A live socket yields an error
// wrapping syscall.EADDRINUSE; anything that is not a socket is left alone
// (the bind then reports the conflict).
func removeStale(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(pctx, "unix", path)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("another listener is live on %q: %w", path, syscall.EADDRINUSE)
	case errors.Is(err, fs.ErrNotExist):
		return nil // gone meanwhile
	case !connRefused(err):
		return fmt.Errorf("socket %q may be live (probe: %v): %w", path, err, syscall.EADDRINUSE)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale socket: %w", err)
	}
	return nil
}

// Dial connects to ep. tcp host names are resolved (all addresses are
// tried); connections have TCP_NODELAY and keepalive on. A tcp
// "SRC;DST" endpoint binds SRC before connecting. ipc dials the unix
// socket at the path (or the Linux abstract name for "@name"), or on Windows
// the named pipe: a pipe nobody listens on fails at once (wrapping
// fs.ErrNotExist), one whose instances are all busy is waited for until ctx
// ends.
//
// Errors have the form "transport: dial ENDPOINT: ..." and wrap the cause.
func Dial(ctx context.Context, ep Endpoint) (net.Conn, error) {
	return DialWith(ctx, ep, Options{})
}

// DialWith is Dial with the options ws and wss need (see ws.go): wss
// verifies the server with o.TLS, or with the system's roots when nil.
// o.Net sets tcp's keepalive, buffers, TOS, device, connect timeout and
// SOCKS5 proxy, and ipc's buffers.
func DialWith(ctx context.Context, ep Endpoint, o Options) (net.Conn, error) {
	c, err := dial(ctx, ep, o)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", ep, err)
	}
	return c, nil
}

func dial(ctx context.Context, ep Endpoint, o Options) (net.Conn, error) {
	if err := ep.check(); err != nil {
		return nil, err
	}
	switch ep.Transport {
	case "ws", "wss":
		return dialWS(ctx, ep, o)
	case "tcp":
		src, a, err := splitTCPEndpoint(ep.Address)
		if err != nil {
			return nil, err
		}
		if a.host == wildcard {
			return nil, bad(`host "*" is only valid for bind`)
		}
		if a.wildcardPort() {
			return nil, bad(fmt.Sprintf("port %q is only valid for bind", a.port))
		}
		c, err := dialTCP(ctx, o.Net, src, a, o.HandshakeTimeout)
		if err != nil {
			return nil, err
		}
		runHook(c)
		return c, nil
	case "ipc":
		if ep.Address == wildcard {
			return nil, bad(`ipc path "*" is only valid for bind`)
		}
		if name, ok := pipeName(ep.Address); ok {
			if name == pipePrefix+wildcard {
				return nil, bad(`pipe name "*" is only valid for bind`)
			}
			return dialPipe(ctx, name)
		}
		d := net.Dialer{Timeout: o.Net.ConnectTimeout}
		if o.Net.SendBuffer > 0 || o.Net.RecvBuffer > 0 {
			d.Control = Net{SendBuffer: o.Net.SendBuffer, RecvBuffer: o.Net.RecvBuffer}.control
		}
		c, err := d.DialContext(ctx, "unix", ep.Address)
		if err != nil {
			return nil, ipcError(err)
		}
		runHook(c)
		return c, nil
	default: // inproc
		return nil, fmt.Errorf("%s endpoints are joined by the socket layer: %w", ep.Transport, ErrUnsupportedTransport)
	}
}

// ipcError adds an explanation to errors caused by a missing AF_UNIX.
func ipcError(err error) error {
	if err != nil && afUnixMissing(err) {
		return noAFUnix(err)
	}
	return err
}

// Resolved returns the endpoint a listener actually bound, in the form of
// libzmq's ZMQ_LAST_ENDPOINT: the real port for a wildcard port, 0.0.0.0 for
// a "*" host, brackets around IPv6 addresses, the generated path for
// "ipc://*", "ipc://@name" for abstract sockets and ipc://\\.\pipe\NAME for
// a named pipe (whichever spelling was bound, with the name "*" replaced by
// the generated one). If l does not reveal its address, ep.String() is
// returned.
func Resolved(ep Endpoint, l net.Listener) string {
	if l == nil {
		return ep.String()
	}
	if w, ok := l.(*wsListener); ok {
		return w.resolvedEndpoint()
	}
	switch addr := l.Addr().(type) {
	case *net.TCPAddr:
		if addr == nil {
			break
		}
		var host string
		switch {
		case addr.IP.IsUnspecified() && strings.HasPrefix(ep.Address, "*:"):
			host = "0.0.0.0" // libzmq prints the IPv4 wildcard for "*"
		case addr.IP.To4() != nil:
			host = addr.IP.To4().String()
		default:
			host = addr.IP.String()
			if addr.Zone != "" {
				host += "%" + addr.Zone
			}
		}
		return "tcp://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	case *net.UnixAddr:
		if addr != nil && addr.Name != "" {
			return "ipc://" + addr.Name
		}
	case pipeAddr:
		return "ipc://" + string(addr)
	}
	return ep.String()
}

// PeerAddress returns the numeric IP address (without port) of a tcp
// connection's peer, as libzmq's Peer-Address message property shows it,
// and "" for unix sockets, named pipes and other connections.
func PeerAddress(c net.Conn) string {
	if c == nil {
		return ""
	}
	switch addr := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		if addr == nil || addr.IP == nil {
			return ""
		}
		s := addr.IP.String()
		if addr.Zone != "" {
			s += "%" + addr.Zone
		}
		return s
	case nil:
		return ""
	default:
		if n := addr.Network(); n == "tcp" || n == "tcp4" || n == "tcp6" {
			if host, _, err := net.SplitHostPort(addr.String()); err == nil {
				return host
			}
		}
		return ""
	}
}
