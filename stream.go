package azmq

import "fmt"

// errStreamInproc refuses inproc to a STREAM: its peers are programs that
// do not speak ZeroMQ, and inproc only reaches sockets of this process.
var errStreamInproc = fmt.Errorf("%w: a STREAM talks raw bytes over tcp or ipc, not inproc", ErrNotSupported)
