package dgram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/azmq/azmq/internal/transport"
)

// Endpoint is a parsed udp endpoint, the part of "udp://..." after the
// scheme, in one of libzmq's forms (udp_address.cpp):
//
//	HOST:PORT          bind: the local address to receive on (HOST "*": all);
//	                   connect: the address to send to
//	GROUP:PORT         a multicast group: bind joins it on the default
//	                   interface, connect sends to it
//	IFACE;GROUP:PORT   the same on the interface IFACE: a name, an IP
//	                   address of the interface, or "*" (the default)
//
// An IPv6 address is written in brackets, "[ff02::1]:5555"; an IPv6 group
// needs IFACE to be an interface name or "*", as libzmq joins it by index.
// PORT "*" or "0" (any free port) is for bind only.
type Endpoint struct {
	Iface string // before ";": "*", an interface name or IP; "" when none
	Host  string // an IP (without brackets), a host name, or "*" (bind)
	Port  uint16 // 0: any free port (bind)

	ip   netip.Addr // Host, when it is an IP literal
	bind bool
}

// String is the endpoint as written: "udp://" and the address.
func (e Endpoint) String() string {
	s := "udp://"
	if e.Iface != "" {
		s += e.Iface + ";"
	}
	return s + hostPort(e.Host, e.Port)
}

func hostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// Multicast reports whether Host is a multicast IP address.
func (e Endpoint) Multicast() bool { return e.ip.IsMulticast() }

// bad wraps transport.ErrEndpoint, as every malformed endpoint of azmq does.
func bad(problem string) error {
	return fmt.Errorf("%s: %w", problem, transport.ErrEndpoint)
}

// Parse checks the address of a udp endpoint (without "udp://") for a bind
// (a DISH) or a connect (a RADIO). Errors wrap transport.ErrEndpoint.
func Parse(addr string, bind bool) (Endpoint, error) {
	e, err := parse(addr, bind)
	if err != nil {
		return Endpoint{}, fmt.Errorf("dgram: endpoint \"udp://%s\": %w", addr, err)
	}
	return e, nil
}

func parse(addr string, bind bool) (Endpoint, error) {
	e := Endpoint{bind: bind}
	var ifaceIP netip.Addr
	// The last ";" ends the interface, as libzmq reads it (strrchr).
	if i := strings.LastIndexByte(addr, ';'); i >= 0 {
		e.Iface, addr = addr[:i], addr[i+1:]
		switch {
		case e.Iface == "":
			return e, bad(`empty interface before ";"`)
		case e.Iface == "*":
		case strings.IndexByte(e.Iface, 0) >= 0:
			return e, bad("interface name contains a NUL byte")
		default:
			if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e.Iface, "["), "]")); err == nil {
				if ip.IsMulticast() {
					return e, bad(fmt.Sprintf("interface %q is a multicast address", e.Iface))
				}
				ifaceIP = ip
			}
		}
	}
	host, port, err := splitHostPort(addr)
	if err != nil {
		return e, err
	}
	e.Host = host
	switch port {
	case "*", "0":
		if !bind {
			return e, bad(fmt.Sprintf("port %q: a RADIO sends to a given port (any free port is for bind)", port))
		}
	default:
		for _, c := range port {
			if c < '0' || c > '9' {
				return e, bad(fmt.Sprintf("invalid port %q", port))
			}
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return e, bad(fmt.Sprintf("port %q out of range 1..65535", port))
		}
		e.Port = uint16(n)
	}
	switch {
	case host == "*":
		if !bind {
			return e, bad(`host "*" is for bind: a RADIO needs the address of its DISH`)
		}
	default:
		if ip, err := netip.ParseAddr(host); err == nil {
			e.ip = ip
		} else if !validHostName(host) {
			return e, bad(fmt.Sprintf("invalid host %q", host))
		}
	}
	if e.Iface == "" {
		return e, nil
	}
	// With an interface, the address must be a group (libzmq: EINVAL).
	// A host name is checked once resolved.
	if e.ip.IsValid() || host == "*" {
		if !e.ip.IsMulticast() {
			return e, bad(fmt.Sprintf("%q: an interface before \";\" needs a multicast group after it", host))
		}
		if ifaceIP.IsValid() && ifaceIP.Unmap().Is4() != e.ip.Unmap().Is4() {
			return e, bad(fmt.Sprintf("interface %q and group %q are of different IP versions", e.Iface, host))
		}
		// libzmq joins an IPv6 group by interface index, which it only
		// has from a name (ENODEV otherwise).
		if ifaceIP.IsValid() && !e.ip.Unmap().Is4() {
			return e, bad(fmt.Sprintf("IPv6 group %q needs an interface name or \"*\", not the address %q", host, e.Iface))
		}
	}
	return e, nil
}

// splitHostPort splits HOST:PORT, HOST being bracketed when it is IPv6.
func splitHostPort(addr string) (host, port string, err error) {
	if strings.HasPrefix(addr, "[") {
		end := strings.IndexByte(addr, ']')
		if end < 0 {
			return "", "", bad(`missing "]" after IPv6 address`)
		}
		host, rest := addr[1:end], addr[end+1:]
		if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
			return "", "", bad("missing port")
		}
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() {
			return "", "", bad(fmt.Sprintf("invalid IPv6 address %q", host))
		}
		return host, rest[1:], nil
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || i == len(addr)-1 {
		return "", "", bad("missing port")
	}
	host, port = addr[:i], addr[i+1:]
	switch {
	case host == "":
		return "", "", bad("missing host")
	case strings.IndexByte(host, ':') >= 0:
		return "", "", bad("IPv6 address must be in brackets")
	}
	return host, port, nil
}

// validHostName reports whether h looks like a DNS name or an interface
// name; whether it resolves is found out by Listen or Dial.
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

// ErrNoInterface is wrapped by errors for an interface that is not there
// or lacks an address of the group's IP version.
var ErrNoInterface = errors.New("dgram: no such interface")

// target resolves Host: a bind may name an interface (its address is
// used, as libzmq does); otherwise a name is looked up, IPv4 preferred as
// by libzmq without ZMQ_IPV6. "*" gives the invalid Addr (all addresses).
func (e Endpoint) target(ctx context.Context) (netip.Addr, error) {
	switch {
	case e.ip.IsValid():
		return e.ip.Unmap(), nil
	case e.Host == "*":
		return netip.Addr{}, nil
	}
	if e.bind {
		if ifi, err := net.InterfaceByName(e.Host); err == nil {
			ip, err := ifaceAddr(ifi, false)
			if err != nil {
				return netip.Addr{}, err
			}
			return ip, nil
		}
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", e.Host)
	if err != nil {
		return netip.Addr{}, err
	}
	var first netip.Addr
	for _, ip := range ips {
		ip = ip.Unmap()
		if ip.Is4() {
			return ip, nil
		}
		if !first.IsValid() {
			first = ip
		}
	}
	if !first.IsValid() {
		return netip.Addr{}, fmt.Errorf("host %q has no address", e.Host)
	}
	return first, nil
}

// ifaceAddr is an address of ifi: IPv4 first, unless want6.
func ifaceAddr(ifi *net.Interface, want6 bool) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, err
	}
	var other netip.Addr
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.Is4() != want6 {
			if ip.Is6() && ip.IsLinkLocalUnicast() {
				ip = ip.WithZone(ifi.Name)
			}
			return ip, nil
		}
		if !other.IsValid() {
			other = ip
		}
	}
	if !want6 && other.IsValid() {
		return other, nil
	}
	v := "IPv4"
	if want6 {
		v = "IPv6"
	}
	return netip.Addr{}, fmt.Errorf("%w: interface %q has no %s address", ErrNoInterface, ifi.Name, v)
}

// mcastIface is the interface a multicast group is joined or sent on:
// ifi (nil: the system's default) and, for IPv4, its address (invalid:
// the default), which is how libzmq names it for IPv4.
func (e Endpoint) mcastIface(group netip.Addr) (ifi *net.Interface, v4 netip.Addr, err error) {
	if e.Iface == "" || e.Iface == "*" {
		return nil, netip.Addr{}, nil
	}
	if ip, perr := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e.Iface, "["), "]")); perr == nil {
		ip = ip.Unmap()
		if ip.Is4() != group.Is4() {
			return nil, netip.Addr{}, fmt.Errorf("%w: interface %q and group %s are of different IP versions", transport.ErrEndpoint, e.Iface, group)
		}
		if !group.Is4() {
			return nil, netip.Addr{}, fmt.Errorf("%w: IPv6 group %s needs an interface name or \"*\"", transport.ErrEndpoint, group)
		}
		ifi, err := ifaceWithAddr(ip)
		return ifi, ip, err
	}
	ifi, err = net.InterfaceByName(e.Iface)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("%w: %q: %w", ErrNoInterface, e.Iface, err)
	}
	if !group.Is4() {
		return ifi, netip.Addr{}, nil
	}
	v4, err = ifaceAddr(ifi, false)
	if err == nil && !v4.Is4() {
		err = fmt.Errorf("%w: interface %q has no IPv4 address", ErrNoInterface, ifi.Name)
	}
	return ifi, v4, err
}

// ifaceWithAddr finds the interface that has the address ip.
func ifaceWithAddr(ip netip.Addr) (*net.Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for i := range ifs {
		addrs, err := ifs[i].Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == ip {
					return &ifs[i], nil
				}
			}
		}
	}
	return nil, fmt.Errorf("%w: no interface has the address %s", ErrNoInterface, ip)
}
