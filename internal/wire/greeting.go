package wire

import (
	"encoding/binary"
	"fmt"
)

// GreetingSize is the length of a ZMTP 3.x greeting in bytes.
const GreetingSize = 64

// SignatureSize is the length of the greeting signature (bytes 0..9), the part
// checked by CheckSignature.
const SignatureSize = 10

// MechanismSize is the size of the NUL-padded mechanism field of a greeting.
const MechanismSize = 20

// Offsets of the greeting fields.
const (
	offMajor     = 10
	offMinor     = 11
	offMechanism = 12
	offAsServer  = 32
)

// Greeting is the decoded content of a ZMTP 3.x greeting.
type Greeting struct {
	// Major and Minor are the ZMTP version (3 and 1 for ZMTP 3.1).
	Major, Minor byte
	// Mechanism is the security mechanism name: "NULL", "PLAIN" or "CURVE".
	// It is 1..20 bytes of upper-case ASCII.
	Mechanism string
	// AsServer is the as-server flag. libzmq always sends false and never
	// reads it, so callers must not base any decision on the peer's value.
	AsServer bool
}

// AppendGreeting appends the 64-byte greeting for g to dst and returns the
// extended slice. The bytes are exactly what libzmq 4.3 writes for a socket
// without a routing id: signature ff, padding holding the u64 big-endian value
// 1, 7f, g.Major, g.Minor, the mechanism NUL-padded to 20 bytes, the as-server
// byte (00 or 01) and 31 zero bytes of filler.
//
// AppendGreeting panics if g.Mechanism is longer than 20 bytes.
func AppendGreeting(dst []byte, g Greeting) []byte {
	if len(g.Mechanism) > MechanismSize {
		panic("wire: greeting mechanism longer than 20 bytes: " + g.Mechanism)
	}
	var b [GreetingSize]byte
	b[0] = 0xff
	binary.BigEndian.PutUint64(b[1:9], 1)
	b[9] = 0x7f
	b[offMajor] = g.Major
	b[offMinor] = g.Minor
	copy(b[offMechanism:offMechanism+MechanismSize], g.Mechanism)
	if g.AsServer {
		b[offAsServer] = 1
	}
	return append(dst, b[:]...)
}

// CheckSignature checks the greeting signature (the first 10 bytes) at the
// start of b. b may hold fewer than 10 bytes: then CheckSignature returns
// ErrShort if the bytes present are valid so far, and ErrSignature as soon as
// b[0] is not 0xff. With 10 or more bytes it returns ErrSignature if b[0] is
// not 0xff or the low bit of b[9] is clear (a ZMTP 1.0 peer), and nil
// otherwise. The padding bytes 1..8 are never checked.
func CheckSignature(b []byte) error {
	if len(b) == 0 {
		return ErrShort
	}
	if b[0] != 0xff {
		return ErrSignature
	}
	if len(b) < SignatureSize {
		return ErrShort
	}
	if b[9]&1 == 0 {
		return ErrSignature
	}
	return nil
}

// ParseGreeting parses the 64-byte greeting at the start of b. It returns
// ErrShort if b holds fewer than 64 bytes, ErrSignature if the signature is
// bad, ErrVersion if the major version is below 3, and ErrMalformed if the
// mechanism field is empty, contains a non-printable byte, or has non-NUL
// bytes after a NUL. A major version above 3 is accepted; callers treat it as
// 3.1. The padding, the as-server byte's upper bits and the filler are never
// checked; AsServer is true when the as-server byte is non-zero.
func ParseGreeting(b []byte) (Greeting, error) {
	if len(b) < GreetingSize {
		return Greeting{}, ErrShort
	}
	if err := CheckSignature(b); err != nil {
		return Greeting{}, err
	}
	g := Greeting{Major: b[offMajor], Minor: b[offMinor], AsServer: b[offAsServer] != 0}
	if g.Major < 3 {
		return Greeting{}, fmt.Errorf("%w: peer speaks ZMTP %d.%d", ErrVersion, g.Major, g.Minor)
	}
	mech, err := parseMechanism(b[offMechanism : offMechanism+MechanismSize])
	if err != nil {
		return Greeting{}, err
	}
	g.Mechanism = mech
	return g, nil
}

// parseMechanism decodes the NUL-padded 20-byte mechanism field.
func parseMechanism(f []byte) (string, error) {
	n := 0
	for n < len(f) && f[n] != 0 {
		if !printable(f[n]) {
			return "", fmt.Errorf("%w: non-printable byte %#02x in greeting mechanism", ErrMalformed, f[n])
		}
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("%w: empty greeting mechanism", ErrMalformed)
	}
	for _, c := range f[n:] {
		if c != 0 {
			return "", fmt.Errorf("%w: greeting mechanism has bytes after its NUL padding", ErrMalformed)
		}
	}
	return string(f[:n]), nil
}

// printable reports whether c is printable ASCII (space through tilde).
func printable(c byte) bool { return c >= 0x20 && c <= 0x7e }
