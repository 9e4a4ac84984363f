package azmq

import "github.com/azmq/azmq/internal/pattern"

// SocketType is a ZeroMQ socket type, numbered as in libzmq.
type SocketType int

// The socket types: the classic ones (RFC 28-31), STREAM (raw TCP), and
// the draft ones (RFC 41 CLIENT/SERVER, 48 RADIO/DISH, 49 SCATTER/GATHER,
// 51 PEER, and CHANNEL) whose messages are a single frame.
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
	// STREAM talks to programs that do not speak ZeroMQ, over tcp or ipc
	// (not inproc): raw bytes, no greeting. Recv returns [routing id,
	// data], each read of at most 8 KiB one message; a connection that
	// comes or goes shows as [routing id, ""]. Send of [id, data] writes
	// data to that connection; [id, ""] closes it after what was queued
	// before (no notification follows, and a connecting STREAM does not
	// redial, as in libzmq). An unknown id is ErrHostUnreachable, another
	// count of frames ErrNotSupported (libzmq takes one data frame).
	// WithRecvHWM bounds the reads waiting, each connection's reading
	// stopping at it; WithMaxMsgSize and heartbeats do not apply, and a
	// security mechanism is refused.
	STREAM SocketType = SocketType(pattern.STREAM)

	SERVER  SocketType = SocketType(pattern.SERVER)
	CLIENT  SocketType = SocketType(pattern.CLIENT)
	RADIO   SocketType = SocketType(pattern.RADIO)
	DISH    SocketType = SocketType(pattern.DISH)
	GATHER  SocketType = SocketType(pattern.GATHER)
	SCATTER SocketType = SocketType(pattern.SCATTER)
	PEER    SocketType = SocketType(pattern.PEER)
	CHANNEL SocketType = SocketType(pattern.CHANNEL)
)

// String returns the type's name as ZMTP announces it ("REQ", "PUB", ...).
func (t SocketType) String() string { return pattern.Type(t).String() }
