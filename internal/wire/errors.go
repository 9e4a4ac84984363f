// Package wire is a pure codec for ZMTP 3.0/3.1, the ZeroMQ Message Transport
// Protocol: the 64-byte greeting, frame headers, command frames (READY, ERROR,
// SUBSCRIBE, CANCEL, PING, PONG, ...) and the metadata property list carried by
// READY and INITIATE; and for what ZMTP 2.0 peers send (v2.go).
//
// The package only turns bytes into values and values into bytes. It does no
// I/O, starts no goroutines, reads no clock and holds no locks; the engine owns
// the connection and decides what to read, write and when. Append functions
// follow the strconv.AppendX convention: they append to dst and return the
// extended slice. Parse functions work on byte slices and report an incomplete
// input with ErrShort, so a caller can read more and try again.
//
// All errors returned by this package wrap one of the sentinel errors
// ErrShort, ErrSignature, ErrVersion or ErrMalformed; test them with
// errors.Is.
package wire

import "errors"

// Sentinel errors. Functions in this package return them either directly or
// wrapped with more context (test with errors.Is).
var (
	// ErrShort means the input is incomplete: the caller should read more
	// bytes and parse again.
	ErrShort = errors.New("wire: need more bytes")
	// ErrSignature means the greeting signature is not ZMTP 2.0 or later:
	// byte 0 is not 0xff or the low bit of byte 9 is clear (a ZMTP 1.0 peer).
	ErrSignature = errors.New("wire: bad greeting signature")
	// ErrVersion means the peer announced a ZMTP major version below 3.
	ErrVersion = errors.New("wire: unsupported ZMTP version")
	// ErrMalformed covers every other protocol violation: a bad mechanism
	// name, a bad command name, metadata lengths that do not add up, and so on.
	ErrMalformed = errors.New("wire: malformed")
)
