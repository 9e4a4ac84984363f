//go:build !windows

// Not Windows: socket options through golang.org/x/sys/unix.

package transport

import "golang.org/x/sys/unix"

// setBuffer sets SO_RCVBUF (recv) or SO_SNDBUF.
func setBuffer(fd uintptr, recv bool, n int) error {
	opt := unix.SO_SNDBUF
	if recv {
		opt = unix.SO_RCVBUF
	}
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, n)
}

// setTOS sets IP_TOS, and on an IPv6 socket IPV6_TCLASS too: a dual-stack
// socket sends IPv4 with the former.
func setTOS(fd uintptr, ipv6 bool, tos int) error {
	if !ipv6 {
		return unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TOS, tos)
	}
	if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_TCLASS, tos); err != nil {
		return err
	}
	_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TOS, tos) // IPv6-only sockets refuse it; no matter
	return nil
}
