//go:build !windows

package transport

import (
	"errors"
	"syscall"
)

// Non-Windows systems always have AF_UNIX and report POSIX errno values.

// inUseErr returns err unchanged: it already matches syscall.EADDRINUSE.
func inUseErr(err error) error { return err }

// afUnixMissing reports whether err means the system has no AF_UNIX.
func afUnixMissing(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT)
}

// connRefused reports whether a dial found nobody listening.
func connRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// isNamedPipe reports whether path is a Windows named-pipe name; on other
// systems such a string is just an odd file name.
func isNamedPipe(string) bool { return false }
