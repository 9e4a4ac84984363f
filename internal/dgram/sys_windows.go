package dgram

import (
	"errors"
	"net"
	"net/netip"

	"golang.org/x/sys/windows"
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
			serr = windows.SetsockoptInet4Addr(windows.Handle(fd), windows.IPPROTO_IP, windows.IP_MULTICAST_IF, v4.As4())
		} else {
			serr = windows.SetsockoptInt(windows.Handle(fd), windows.IPPROTO_IPV6, windows.IPV6_MULTICAST_IF, ifi.Index)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// transientRead reports a read error that concerns one datagram only,
// after which reading goes on: Windows fails the read of a datagram longer
// than the buffer, and reports ICMP errors on the next read.
func transientRead(err error) bool {
	return errors.Is(err, windows.WSAEMSGSIZE) || errors.Is(err, windows.WSAECONNRESET)
}
