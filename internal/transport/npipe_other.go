//go:build !windows

// Not Windows: no named pipes; Parse refuses ipc://\\.\pipe\NAME and ipc://pipe:NAME.

package transport

import (
	"context"
	"net"
)

// namedPipes tells whether this platform has Windows named pipes.
const namedPipes = false

// listenPipe is never reached off Windows: checkIPC refuses pipe names.
func listenPipe(context.Context, string) (net.Listener, error) {
	return nil, unsupported("named pipes are Windows-only")
}

// dialPipe is never reached off Windows: checkIPC refuses pipe names.
func dialPipe(context.Context, string) (net.Conn, error) {
	return nil, unsupported("named pipes are Windows-only")
}
