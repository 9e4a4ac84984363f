package wire

import "fmt"

// ZMTP 2.0 (RFC 15), spoken by libzmq 3.x and JeroMQ up to 0.3. Its
// greeting is the 10-byte signature, a revision byte (01) and the socket
// type as a number; then each side sends one frame holding its identity
// (routing id, 0..255 bytes), and from there on messages. Its frames are
// ZMTP 3.x's without commands: flags (MORE 01, LONG 02, bits 2..7
// reserved) then a u8 or u64 size.

// V2GreetingSize is the length of a ZMTP 2.0 greeting.
const V2GreetingSize = 12

// Revisions a peer may announce in byte 10 of its greeting (the major
// version of ZMTP 3.x).
const (
	// RevisionZMTP1 is ZMTP 1.0 with a signature (libzmq's ZMTP_1_0).
	RevisionZMTP1 = 0
	// RevisionZMTP2 is ZMTP 2.0 (libzmq's ZMTP_2_0).
	RevisionZMTP2 = 1
)

// v2Types holds the socket type names by their ZMTP 2.0 number, which is
// libzmq's ZMQ_PAIR..ZMQ_XSUB. Later types (STREAM, the draft ones) came
// with ZMTP 3.x and never meet a 2.0 peer.
var v2Types = [...]string{"PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB"}

// V2SocketType returns the name of the socket type numbered n in a ZMTP 2.0
// greeting. It returns ErrMalformed for a number no 2.0 peer sends.
func V2SocketType(n byte) (string, error) {
	if int(n) >= len(v2Types) {
		return "", fmt.Errorf("%w: ZMTP 2.0 greeting names socket type %d, which does not exist", ErrMalformed, n)
	}
	return v2Types[n], nil
}

// V2SocketTypeNumber returns the ZMTP 2.0 number of the socket type name,
// and false if ZMTP 2.0 has none for it.
func V2SocketTypeNumber(name string) (byte, bool) {
	for i, t := range v2Types {
		if t == name {
			return byte(i), true
		}
	}
	return 0, false
}

// ParseV2Greeting parses the 12-byte ZMTP 2.0 greeting at the start of b
// and returns the peer's socket type name. It returns ErrShort if b holds
// fewer than 12 bytes, ErrSignature for a bad signature, ErrVersion if the
// revision is not RevisionZMTP2, and ErrMalformed for an unknown socket type.
// The padding is never checked.
func ParseV2Greeting(b []byte) (string, error) {
	if len(b) < V2GreetingSize {
		return "", ErrShort
	}
	if err := CheckSignature(b); err != nil {
		return "", err
	}
	if b[offMajor] != RevisionZMTP2 {
		return "", fmt.Errorf("%w: revision %d is not ZMTP 2.0", ErrVersion, b[offMajor])
	}
	return V2SocketType(b[offMajor+1])
}

// ParseV2FrameHeader decodes a ZMTP 2.0 frame header at the start of b, as
// ParseFrameHeader does a 3.x one, except that 2.0 has no commands: bit 2
// is reserved there, so it is cleared like the other reserved bits and
// the frame is a message frame.
func ParseV2FrameHeader(b []byte) (h FrameHeader, n int, err error) {
	h, n, err = ParseFrameHeader(b)
	h.Flags &^= FlagCommand
	return h, n, err
}
