//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

// Systems without golang.org/x/sys socket options: sending multicast on a
// chosen interface is refused rather than done on another one.

package dgram

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

func setMulticastIface(*net.UDPConn, *net.Interface, netip.Addr) error {
	return fmt.Errorf("%w on %s", errors.ErrUnsupported, runtime.GOOS)
}

func transientRead(error) bool { return false }
