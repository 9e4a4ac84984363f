// Windows: socket options through golang.org/x/sys/windows.

package transport

import (
	"errors"

	"golang.org/x/sys/windows"
)

// ipv6TClass is IPV6_TCLASS of ws2ipdef.h, which x/sys/windows lacks.
const ipv6TClass = 39

// setBuffer sets SO_RCVBUF (recv) or SO_SNDBUF.
func setBuffer(fd uintptr, recv bool, n int) error {
	opt := windows.SO_SNDBUF
	if recv {
		opt = windows.SO_RCVBUF
	}
	return windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, opt, n)
}

// setTOS sets IP_TOS, and on an IPv6 socket IPV6_TCLASS too. Windows
// accepts both but may not mark packets with them unless its QoS policy
// lets applications do so.
func setTOS(fd uintptr, ipv6 bool, tos int) error {
	h := windows.Handle(fd)
	if !ipv6 {
		return windows.SetsockoptInt(h, windows.IPPROTO_IP, windows.IP_TOS, tos)
	}
	if err := windows.SetsockoptInt(h, windows.IPPROTO_IPV6, ipv6TClass, tos); err != nil {
		return err
	}
	_ = windows.SetsockoptInt(h, windows.IPPROTO_IP, windows.IP_TOS, tos) // IPv6-only sockets refuse it; no matter
	return nil
}

// BindToDeviceSupported tells whether SO_BINDTODEVICE is available.
const BindToDeviceSupported = false

func bindToDevice(uintptr, string) error {
	return errors.ErrUnsupported
}
