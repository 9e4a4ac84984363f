package azmq

import (
	"github.com/azmq/azmq/internal/engine"
	"github.com/azmq/azmq/internal/pattern"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/transport"
)

// Sentinel errors; compare with errors.Is. A call ended by its context
// returns ctx.Err() (context.Canceled or context.DeadlineExceeded) as it is.
var (
	// ErrClosed: the socket or its context is closed.
	ErrClosed = pattern.ErrClosed
	// ErrState: the pattern forbids this now (a REQ sending twice, a REP
	// sending before it received).
	ErrState = pattern.ErrState
	// ErrHostUnreachable: a ROUTER with WithRouterMandatory(true), a
	// SERVER, a PEER or a STREAM was asked to send to a routing id it does
	// not know.
	ErrHostUnreachable = pattern.ErrHostUnreachable
	// ErrNotSupported: the operation does not apply to this socket type
	// (Recv on a PUB, Send on a SUB, Subscribe on a REQ...).
	ErrNotSupported = pattern.ErrNotSupported
	// ErrEndpoint: Bind, Connect, Unbind or Disconnect was given an
	// endpoint that cannot work: malformed, an unknown transport, an ipc
	// path longer than the system allows. The error says which.
	ErrEndpoint = transport.ErrEndpoint
	// ErrCurveServerKey: a CURVE server closed the connection on this
	// client's HELLO, as servers do when the client was given another
	// public key than theirs (WithCurveClient's serverPublicKey). It comes
	// in Monitor's EventHandshakeFailed.
	ErrCurveServerKey = security.ErrCurveServerKey
	// ErrMultipart: a message of more than one frame was given to a type
	// whose messages are a single frame (SERVER, CLIENT, RADIO, DISH,
	// SCATTER, GATHER, PEER, CHANNEL), as libzmq refuses ZMQ_SNDMORE there.
	ErrMultipart = pattern.ErrMultipart
	// ErrGroupTooLong: a RADIO/DISH group name over 255 bytes.
	ErrGroupTooLong = pattern.ErrGroupTooLong
)

// Why a connection was dropped for breaking a limit, as Monitor's
// EventDisconnected reports it; compare with errors.Is.
var (
	// ErrTooLarge: the peer sent a message over WithMaxMsgSize.
	ErrTooLarge = engine.ErrTooLarge
	// ErrTooManySubscriptions: a subscriber's topics went over
	// WithMaxSubscriptionBytes.
	ErrTooManySubscriptions = pattern.ErrTooManySubscriptions
)
