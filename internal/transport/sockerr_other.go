//go:build !windows

// Not Windows: errors are POSIX errno values and AF_UNIX is always there.

package transport

import (
	"errors"
	"syscall"
)

// inUseErr returns err unchanged: it already matches syscall.EADDRINUSE.
func inUseErr(err error) error { return err }

// afUnixMissing reports whether err means the system has no AF_UNIX.
func afUnixMissing(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT)
}

// afUnixSupported returns nil: Unix systems have AF_UNIX.
func afUnixSupported() error { return nil }

// connRefused reports whether a dial found nobody listening.
func connRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
