// Package z85 implements Z85, the ZeroMQ base-85 encoding of RFC 32, as
// libzmq's zmq_z85_encode and zmq_z85_decode do.
//
// Every 4 bytes of binary data, read as a big-endian 32-bit number, become 5
// characters of the alphabet
//
//	0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#
//
// most significant digit first. There is no padding: binary data must be a
// multiple of 4 bytes long and text a multiple of 5 characters. A 32-byte
// CURVE key is 40 characters of Z85.
//
// Errors wrap ErrLength, ErrCharacter or ErrOverflow; test them with
// errors.Is.
package z85

import (
	"errors"
	"fmt"
	"strings"
)

// alphabet maps a digit value 0..84 to its character (RFC 32).
const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// invalid marks a byte outside the alphabet in decodeMap.
const invalid = 0xff

// decodeMap maps a character to its digit value, or invalid.
var decodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = invalid
	}
	for i := 0; i < len(alphabet); i++ {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// Sentinel errors, wrapped with the details by Encode and Decode.
var (
	// ErrLength means the input length is not a multiple of 4 (Encode) or
	// of 5 (Decode).
	ErrLength = errors.New("z85: bad length")
	// ErrCharacter means Decode met a character outside the Z85 alphabet.
	ErrCharacter = errors.New("z85: bad character")
	// ErrOverflow means a 5-character group is worth more than 0xFFFFFFFF.
	ErrOverflow = errors.New("z85: group overflows 32 bits")
)

// EncodedLen returns the length of the Z85 text for n bytes of binary data,
// n being a multiple of 4.
func EncodedLen(n int) int { return n / 4 * 5 }

// DecodedLen returns the length of the binary data for n characters of Z85
// text, n being a multiple of 5.
func DecodedLen(n int) int { return n / 5 * 4 }

// Encode returns the Z85 text of src. It fails with ErrLength if len(src) is
// not a multiple of 4.
func Encode(src []byte) (string, error) {
	if len(src)%4 != 0 {
		return "", fmt.Errorf("%w: %d bytes is not a multiple of 4", ErrLength, len(src))
	}
	var sb strings.Builder
	sb.Grow(EncodedLen(len(src)))
	var group [5]byte
	for i := 0; i < len(src); i += 4 {
		v := uint32(src[i])<<24 | uint32(src[i+1])<<16 | uint32(src[i+2])<<8 | uint32(src[i+3])
		for k := 4; k >= 0; k-- {
			group[k] = alphabet[v%85]
			v /= 85
		}
		sb.Write(group[:])
	}
	return sb.String(), nil
}

// Decode returns the binary data that the Z85 text s encodes. It fails with
// ErrLength if len(s) is not a multiple of 5, ErrCharacter if s holds a
// character outside the alphabet, and ErrOverflow if a 5-character group is
// worth more than 0xFFFFFFFF; the error gives the byte offset of the fault.
func Decode(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, fmt.Errorf("%w: %d characters is not a multiple of 5", ErrLength, len(s))
	}
	dst := make([]byte, DecodedLen(len(s)))
	for i, j := 0, 0; i < len(s); i, j = i+5, j+4 {
		var v uint64
		for k := i; k < i+5; k++ {
			d := decodeMap[s[k]]
			if d == invalid {
				return nil, fmt.Errorf("%w %q at offset %d", ErrCharacter, s[k], k)
			}
			v = v*85 + uint64(d)
		}
		if v > 0xFFFFFFFF {
			return nil, fmt.Errorf("%w: group %q at offset %d exceeds 0xFFFFFFFF", ErrOverflow, s[i:i+5], i)
		}
		dst[j], dst[j+1], dst[j+2], dst[j+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return dst, nil
}
