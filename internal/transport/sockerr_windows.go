package transport

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
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

// connRefused reports whether a dial found nobody listening.
func connRefused(err error) bool {
	return errors.Is(err, wsaECONNREFUSED) || errors.Is(err, syscall.ECONNREFUSED)
}

// isNamedPipe reports whether path is a Windows named-pipe name
// (\\.\pipe\NAME), which is not served over AF_UNIX.
func isNamedPipe(path string) bool {
	p := strings.ReplaceAll(path, "/", `\`)
	return len(p) >= 9 && strings.EqualFold(p[:9], `\\.\pipe\`)
}
