package transport

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
)

// ErrEndpoint is wrapped by every error that reports a malformed endpoint.
var ErrEndpoint = errors.New("bad endpoint")

// ErrUnsupportedTransport is wrapped by errors for endpoints that name a
// transport (or a transport feature) this package does not provide, such as
// pgm:// or a source address ("src;dst") on ws://.
var ErrUnsupportedTransport = errors.New("unsupported transport")

// Endpoint is a parsed ZeroMQ endpoint such as "tcp://127.0.0.1:5555".
type Endpoint struct {
	Transport string // "tcp", "ipc", "inproc", "ws", "wss"
	Address   string // the part after "://", as given
}

// String returns Transport + "://" + Address.
func (e Endpoint) String() string {
	return e.Transport + "://" + e.Address
}

// wildcard is the host, port or ipc path that asks Listen to pick one:
// all interfaces, any free port, or a fresh unique socket path.
const wildcard = "*"

// knownUnsupported lists transports libzmq knows but this package does not
// implement; they get a friendlier message than a typo would.
var knownUnsupported = map[string]bool{
	"pgm": true, "epgm": true, "tipc": true,
	"vmci": true, "norm": true, "udp": true, "vsock": true, "hvsocket": true,
}

// Parse validates an endpoint string and returns it.
//
// tcp needs host:port, where host is "*", an IPv4 literal, a bracketed IPv6
// literal or a host (or interface) name and port is 0..65535 or "*". As in
// libzmq, a tcp endpoint to dial may name the local address its
// connections come from: "tcp://SRC;DST", where SRC is host:port with host
// an IP literal, "*" (any address) or a network interface name (never a
// DNS name), and port 0 or "*" for any ("tcp://127.0.0.2:0;127.0.0.1:5555",
// "tcp://*:6000;host:5555", "tcp://lo:*;127.0.0.1:5555"). Listen refuses it. ipc
// needs a non-empty path, "*" (bind only), "@name" (Linux abstract
// namespace) or a Windows named pipe, \\.\pipe\NAME or pipe:NAME (NAME "*":
// bind only). inproc needs a non-empty name.
//
// ws and wss take host:port as tcp does, then an optional path ("/" when
// none is given) of printable ASCII without '?', '#', '*' or spaces.
//
// ipc endpoints are also checked against this platform: named pipes off
// Windows, abstract names off Linux and paths on a Windows without AF_UNIX
// fail here, with an error wrapping ErrUnsupportedTransport.
//
// Errors wrap ErrEndpoint; unknown transports also wrap
// ErrUnsupportedTransport.
func Parse(s string) (Endpoint, error) {
	i := strings.Index(s, "://")
	if i < 0 {
		return Endpoint{}, fmt.Errorf("transport: endpoint %q: %w", s, bad(`missing "://"`))
	}
	ep := Endpoint{Transport: s[:i], Address: s[i+3:]}
	if err := ep.check(); err != nil {
		return Endpoint{}, fmt.Errorf("transport: endpoint %q: %w", s, err)
	}
	return ep, nil
}

// bad returns a problem error wrapping ErrEndpoint.
func bad(problem string) error {
	return fmt.Errorf("%s: %w", problem, ErrEndpoint)
}

// unsupported returns a problem error wrapping both ErrUnsupportedTransport
// and ErrEndpoint.
func unsupported(problem string) error {
	return fmt.Errorf("%s: %w (%w)", problem, ErrUnsupportedTransport, ErrEndpoint)
}

// check validates e without the "transport: endpoint" prefix, so Listen and
// Dial can reuse it on Endpoint values built by hand.
func (e Endpoint) check() error {
	switch e.Transport {
	case "tcp":
		_, _, err := splitTCPEndpoint(e.Address)
		return err
	case "ipc":
		return checkIPC(e.Address)
	case "ws", "wss":
		_, _, _, err := splitWS(e.Address)
		return err
	case "inproc":
		if e.Address == "" {
			return bad("empty inproc name")
		}
		return nil
	case "":
		return bad("missing transport")
	default:
		if knownUnsupported[e.Transport] {
			return unsupported(fmt.Sprintf("transport %q is not implemented", e.Transport))
		}
		return unsupported(fmt.Sprintf("unknown transport %q (want tcp, ipc, inproc, ws or wss)", e.Transport))
	}
}

// tcpAddr is a validated tcp host:port.
type tcpAddr struct {
	host string // without brackets; "*" for all interfaces
	port string // "*" or decimal 0..65535
	ip   netip.Addr
	isIP bool // host is an IP literal (ip is set)
}

// wildcardPort reports whether the port asks for any free port.
func (a tcpAddr) wildcardPort() bool {
	return a.port == wildcard || a.port == "0"
}

// splitTCP splits and validates a tcp endpoint address.
func splitTCP(addr string) (tcpAddr, error) {
	if strings.Contains(addr, ";") {
		return tcpAddr{}, unsupported(`a source address ("src;dst") is only valid for tcp`)
	}
	var a tcpAddr
	bracketed := false
	if strings.HasPrefix(addr, "[") {
		end := strings.IndexByte(addr, ']')
		if end < 0 {
			return tcpAddr{}, bad(`missing "]" after IPv6 address`)
		}
		a.host = addr[1:end]
		rest := addr[end+1:]
		if rest == "" || rest == ":" {
			return tcpAddr{}, bad("missing port")
		}
		if rest[0] != ':' {
			return tcpAddr{}, bad(`unexpected text after "]"`)
		}
		a.port = rest[1:]
		bracketed = true
	} else {
		colon := strings.LastIndexByte(addr, ':')
		if colon < 0 {
			return tcpAddr{}, bad("missing port")
		}
		a.host, a.port = addr[:colon], addr[colon+1:]
		if strings.Contains(a.host, ":") {
			return tcpAddr{}, bad("IPv6 address must be in brackets")
		}
	}
	if a.host == "" {
		return tcpAddr{}, bad("missing host")
	}
	if a.port == "" {
		return tcpAddr{}, bad("missing port")
	}
	if a.port != wildcard {
		for _, c := range a.port {
			if c < '0' || c > '9' {
				return tcpAddr{}, bad(fmt.Sprintf("invalid port %q", a.port))
			}
		}
		if _, err := strconv.ParseUint(a.port, 10, 16); err != nil {
			return tcpAddr{}, bad(fmt.Sprintf("port %q out of range 0..65535", a.port))
		}
	}
	if bracketed {
		ip, err := netip.ParseAddr(a.host)
		if err != nil || !ip.Is6() {
			return tcpAddr{}, bad(fmt.Sprintf("invalid IPv6 address %q", a.host))
		}
		a.ip, a.isIP = ip, true
		return a, nil
	}
	if a.host == wildcard {
		return a, nil
	}
	if ip, err := netip.ParseAddr(a.host); err == nil {
		a.ip, a.isIP = ip, true
		return a, nil
	}
	if !validHostName(a.host) {
		return tcpAddr{}, bad(fmt.Sprintf("invalid host %q", a.host))
	}
	return a, nil
}

// validHostName reports whether h looks like a DNS host name or a network
// interface name; whether it resolves is found out later.
func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// checkIPC validates an ipc endpoint address for this platform. The forms
// it cannot serve (named pipes off Windows, abstract names off Linux, paths
// where the system has no AF_UNIX) are refused here, so that a Connect fails
// at once instead of retrying for ever.
func checkIPC(path string) error {
	switch {
	case path == "":
		return bad("empty ipc path")
	case strings.IndexByte(path, 0) >= 0:
		return bad("ipc path contains a NUL byte")
	}
	if name, ok := pipeName(path); ok {
		if !namedPipes {
			return unsupported(`named pipes (ipc://\\.\pipe\NAME, ipc://pipe:NAME) are Windows-only`)
		}
		return checkPipe(name)
	}
	if strings.HasPrefix(path, "@") {
		if path == "@" {
			return bad("empty abstract socket name")
		}
		if !abstractNamespace {
			return unsupported("abstract socket names (ipc://@name) are only available on Linux")
		}
		// The name takes the place of the path's NUL: one byte more.
		if len(path)-1 > maxIPCPath {
			return bad(fmt.Sprintf("abstract socket name of %d bytes: this system allows %d", len(path)-1, maxIPCPath))
		}
		return nil
	}
	if err := afUnixSupported(); err != nil {
		return noAFUnix(err)
	}
	if len(path) > maxIPCPath {
		return bad(fmt.Sprintf("ipc path of %d bytes: this system allows %d (a shorter or relative path fits)", len(path), maxIPCPath))
	}
	return nil
}

// maxIPCPath is the longest path an AF_UNIX address holds: its sun_path
// field less the terminating NUL. The kernel refuses longer ones, and a
// Connect would retry for ever, so they are refused at once.
var maxIPCPath = func() int {
	switch runtime.GOOS {
	case "darwin", "ios", "freebsd", "netbsd", "openbsd", "dragonfly":
		return 104 - 1
	}
	return 108 - 1 // Linux, Windows
}()

// noAFUnix explains an error caused by a missing AF_UNIX (Wine, Windows
// before 10 1803), pointing to named pipes where there are some. It wraps
// ErrUnsupportedTransport, ErrEndpoint and the cause.
func noAFUnix(cause error) error {
	hint := ""
	if namedPipes {
		hint = `; on Windows use a named pipe instead: ipc://\\.\pipe\NAME or ipc://pipe:NAME`
	}
	return fmt.Errorf("AF_UNIX not available on this system (%w)%s: %w (%w)", cause, hint, ErrUnsupportedTransport, ErrEndpoint)
}

// sourceAddr is the source part of a "tcp://SRC;DST" endpoint.
type sourceAddr struct {
	host string // "*", an interface name, or the text of ip
	port uint16 // 0: any
	ip   netip.Addr
	isIP bool
}

// splitTCPEndpoint splits a tcp endpoint address into its optional source
// (before the last ';', as libzmq splits it) and its destination.
func splitTCPEndpoint(addr string) (*sourceAddr, tcpAddr, error) {
	i := strings.LastIndexByte(addr, ';')
	if i < 0 {
		a, err := splitTCP(addr)
		return nil, a, err
	}
	src, err := splitSource(addr[:i])
	if err != nil {
		return nil, tcpAddr{}, err
	}
	dst, err := splitTCP(addr[i+1:])
	if err != nil {
		return nil, tcpAddr{}, err
	}
	return src, dst, nil
}

// splitSource validates a source address: host:port, where host is an IP
// literal (IPv6 in brackets), "*" or an interface name, and port is
// 0..65535 or "*". libzmq resolves no DNS name there (the name is a
// literal or an interface), nor does this.
func splitSource(s string) (*sourceAddr, error) {
	if s == "" {
		return nil, bad("empty source address before \";\"")
	}
	if strings.Contains(s, ";") {
		return nil, bad("more than one source address")
	}
	a, err := splitTCP(s)
	if err != nil {
		return nil, fmt.Errorf("source address %q: %w", s, err)
	}
	src := &sourceAddr{host: a.host, ip: a.ip, isIP: a.isIP}
	if a.port != wildcard {
		p, _ := strconv.ParseUint(a.port, 10, 16) // splitTCP checked it
		src.port = uint16(p)
	}
	if src.isIP && src.ip.IsMulticast() {
		return nil, bad(fmt.Sprintf("source address %q: a multicast address cannot be a source", s))
	}
	return src, nil
}

// resolve returns the local address to bind: "*" is the unspecified
// address, an interface name its first IPv4 address (else its first one).
func (s *sourceAddr) resolve() (netip.AddrPort, error) {
	switch {
	case s.isIP:
		return netip.AddrPortFrom(s.ip.Unmap(), s.port), nil
	case s.host == wildcard:
		return netip.AddrPortFrom(netip.IPv4Unspecified(), s.port), nil
	}
	ip, err := interfaceAddr(s.host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("source address: %w", err)
	}
	return netip.AddrPortFrom(ip, s.port), nil
}
