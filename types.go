package azmq

import "github.com/azmq/azmq/internal/pattern"

// SocketType is a ZeroMQ socket type, numbered as in libzmq.
type SocketType int

// The socket types (RFC 28-31).
const (
	PAIR   SocketType = SocketType(pattern.PAIR)
	PUB    SocketType = SocketType(pattern.PUB)
	SUB    SocketType = SocketType(pattern.SUB)
	REQ    SocketType = SocketType(pattern.REQ)
	REP    SocketType = SocketType(pattern.REP)
	DEALER SocketType = SocketType(pattern.DEALER)
	ROUTER SocketType = SocketType(pattern.ROUTER)
	PULL   SocketType = SocketType(pattern.PULL)
	PUSH   SocketType = SocketType(pattern.PUSH)
	XPUB   SocketType = SocketType(pattern.XPUB)
	XSUB   SocketType = SocketType(pattern.XSUB)
)

// String returns the type's name as ZMTP announces it ("REQ", "PUB", ...).
func (t SocketType) String() string { return pattern.Type(t).String() }
