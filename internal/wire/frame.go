package wire

import (
	"encoding/binary"
	"fmt"
)

// Frame flag bits (the first byte of every frame). Bits 3..7 are reserved:
// they are sent as zero and ignored on receipt.
const (
	// FlagMore marks a frame that is followed by another frame of the same
	// message.
	FlagMore = 0x01
	// FlagLong marks a frame whose size is a u64 instead of a u8.
	FlagLong = 0x02
	// FlagCommand marks a command frame.
	FlagCommand = 0x04
)

// Frame header lengths.
const (
	// ShortHeaderSize is the header length of a frame whose body is at most
	// MaxShortSize bytes.
	ShortHeaderSize = 2
	// LongHeaderSize is the header length of a frame with FlagLong set.
	LongHeaderSize = 9
	// MaxShortSize is the largest body size that fits a short header.
	MaxShortSize = 255
)

// flagMask keeps the defined flag bits.
const flagMask = FlagMore | FlagLong | FlagCommand

// FrameHeader is a decoded frame header.
type FrameHeader struct {
	// Flags holds the flag bits as on the wire, restricted to bits 0..2
	// (FlagMore, FlagLong, FlagCommand); reserved bits are masked off.
	Flags byte
	// Size is the body size in bytes.
	Size uint64
}

// More reports whether FlagMore is set.
func (h FrameHeader) More() bool { return h.Flags&FlagMore != 0 }

// Command reports whether FlagCommand is set.
func (h FrameHeader) Command() bool { return h.Flags&FlagCommand != 0 }

// ParseFrameHeader decodes the frame header at the start of b and returns it
// together with the header length n (2 or 9). It returns ErrShort if b does not
// hold the whole header, and ErrMalformed if a long size exceeds 2^63-1. It
// does not check the size against any limit: the caller must do that before
// allocating the body.
func ParseFrameHeader(b []byte) (h FrameHeader, n int, err error) {
	if len(b) < ShortHeaderSize {
		return FrameHeader{}, 0, ErrShort
	}
	flags := b[0] & flagMask
	if flags&FlagLong == 0 {
		return FrameHeader{Flags: flags, Size: uint64(b[1])}, ShortHeaderSize, nil
	}
	if len(b) < LongHeaderSize {
		return FrameHeader{}, 0, ErrShort
	}
	size := binary.BigEndian.Uint64(b[1:LongHeaderSize])
	if size > 1<<63-1 {
		return FrameHeader{}, 0, fmt.Errorf("%w: frame size %#x exceeds 2^63-1", ErrMalformed, size)
	}
	return FrameHeader{Flags: flags, Size: size}, LongHeaderSize, nil
}

// FrameHeaderLen returns the length of the header AppendFrameHeader writes for
// a body of size bytes: 2 if size <= 255, 9 otherwise.
func FrameHeaderLen(size int) int {
	if size <= MaxShortSize {
		return ShortHeaderSize
	}
	return LongHeaderSize
}

// AppendFrameHeader appends the header of a frame whose body is size bytes
// long. It uses the short form exactly when size <= 255, as libzmq does, and
// sets or clears FlagLong itself. flags should be a combination of FlagMore
// and FlagCommand; FlagLong and reserved bits in it are ignored.
//
// AppendFrameHeader panics if size is negative.
func AppendFrameHeader(dst []byte, flags byte, size int) []byte {
	if size < 0 {
		panic("wire: negative frame size")
	}
	flags &= FlagMore | FlagCommand
	if size <= MaxShortSize {
		return append(dst, flags, byte(size))
	}
	dst = append(dst, flags|FlagLong)
	return binary.BigEndian.AppendUint64(dst, uint64(size))
}

// AppendFrame appends a whole frame: the header for len(body) bytes followed
// by body. flags is interpreted as in AppendFrameHeader.
func AppendFrame(dst []byte, flags byte, body []byte) []byte {
	dst = AppendFrameHeader(dst, flags, len(body))
	return append(dst, body...)
}
