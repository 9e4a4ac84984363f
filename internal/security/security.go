// Package security holds the ZMTP security mechanisms as state machines:
// commands in, commands out, done. The engine does all the I/O, so a new
// mechanism plugs in without touching it.
package security

import (
	"context"
	"errors"
	"fmt"

	"github.com/azmq/azmq/internal/wire"
)

// ErrUnexpected is a handshake command that has no place at this point.
var ErrUnexpected = errors.New("security: unexpected command")

// PeerError is an ERROR command received from the peer: the handshake
// failed and the peer asks us not to retry with the same credentials.
type PeerError struct{ Reason string }

func (e *PeerError) Error() string { return fmt.Sprintf("security: peer sent ERROR %q", e.Reason) }

// Mechanism makes the handshake of one connection.
type Mechanism interface {
	// Name is the mechanism as the greeting names it ("NULL").
	Name() string
	// AsServer is the greeting's as-server bit.
	AsServer() bool
	// NewHandshake starts the handshake of a connection; local is the
	// metadata this side announces, sess what the socket knows of it.
	NewHandshake(local wire.Metadata, sess Session) Handshake
}

// Handshake is one connection's mechanism state machine.
type Handshake interface {
	// Start returns the command frames to send right after the greeting
	// (it may ask ZAP first: NULL with a ZAP domain).
	Start(ctx context.Context) ([]byte, error)
	// Command handles the body of one received command frame. It returns
	// the frames to send, and done once data may flow.
	Command(ctx context.Context, body []byte) (out []byte, done bool, err error)
	// PeerMetadata is what the peer announced (valid once done).
	PeerMetadata() wire.Metadata
	// Auth is what ZAP said of the peer: its User-Id and the metadata the
	// handler attached (empty without ZAP).
	Auth() (userID string, md wire.Metadata)
	// Codec transforms data frames after the handshake; nil means frames
	// travel as they are (NULL, PLAIN).
	Codec() Codec
}

// Codec boxes and unboxes frames after the handshake (CURVE's MESSAGE).
type Codec interface {
	// Seal appends the wire frame carrying one frame with the given flags.
	Seal(dst []byte, flags byte, body []byte) ([]byte, error)
	// Open returns the inner flags and data of a received wire frame. It
	// may decrypt in place: body is the caller's to give up, and the data
	// returned may be a part of it.
	Open(flags byte, body []byte) (byte, []byte, error)
}

// PeerCloser is a Handshake that can say what the peer closing the
// connection in the middle of it most likely means, where a peer closes
// instead of sending ERROR (a CURVE server whose key the client got wrong
// cannot even read its HELLO).
type PeerCloser interface {
	// PeerClosed returns the error to report for err, the read that found
	// the connection closed.
	PeerClosed(err error) error
}
