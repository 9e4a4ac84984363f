// Windows: Winsock error numbers, and AF_UNIX only from Windows 10 1803 (not in Wine 8).

package transport

import (
	"errors"
	"fmt"
	"sync"
	"syscall"

	"golang.org/x/sys/windows"
)

// Winsock error numbers; Windows reports AF_UNIX problems with these rather
// than the POSIX errno values syscall defines for other systems.
const (
	wsaEPROTONOSUPPORT syscall.Errno = 10043
	wsaESOCKTNOSUPPORT syscall.Errno = 10044
	wsaEAFNOSUPPORT    syscall.Errno = 10047
	wsaEADDRINUSE      syscall.Errno = 10048
	wsaECONNREFUSED    syscall.Errno = 10061
)

// inUseErr makes Winsock's WSAEADDRINUSE also match syscall.EADDRINUSE, so
// callers can test for it the same way on every platform.
func inUseErr(err error) error {
	if errors.Is(err, wsaEADDRINUSE) && !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w (%w)", err, syscall.EADDRINUSE)
	}
	return err
}

// afUnixMissing reports whether err means this Windows has no AF_UNIX
// (it arrived in Windows 10 1803).
func afUnixMissing(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case wsaEAFNOSUPPORT, wsaEPROTONOSUPPORT, wsaESOCKTNOSUPPORT, syscall.EAFNOSUPPORT:
		return true
	}
	return false
}

// afUnixSupported returns nil if this Windows can make AF_UNIX sockets, and
// else the error that says why not. It asks the system once, by making an
// AF_UNIX socket and closing it again.
var afUnixSupported = sync.OnceValue(func() error {
	s, err := windows.WSASocket(windows.AF_UNIX, windows.SOCK_STREAM, 0, nil, 0, windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		if afUnixMissing(err) {
			return err
		}
		return nil // some other trouble (out of handles?): the real call will report it
	}
	windows.Closesocket(s)
	return nil
})

// connRefused reports whether a dial found nobody listening.
func connRefused(err error) bool {
	return errors.Is(err, wsaECONNREFUSED) || errors.Is(err, syscall.ECONNREFUSED)
}
