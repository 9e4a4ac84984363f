//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

// The Unix systems that golang.org/x/sys/unix serves: the multicast
// interface is set as libzmq sets it.

package dgram

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// setMulticastIface makes c send multicast on an interface: by address for
// IPv4 (IP_MULTICAST_IF), by index for IPv6 (IPV6_MULTICAST_IF).
func setMulticastIface(c *net.UDPConn, ifi *net.Interface, v4 netip.Addr) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if v4.IsValid() {
			serr = unix.SetsockoptInet4Addr(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_IF, v4.As4())
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifi.Index)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// transientRead reports a read error that concerns one datagram only (an
// ICMP error some systems report on the next read), after which reading
// goes on.
func transientRead(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EMSGSIZE)
}
