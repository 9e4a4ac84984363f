package wire

import (
	"encoding/binary"
	"fmt"
)

// Command names.
const (
	CmdReady     = "READY"     // NULL/PLAIN/CURVE handshake, carries metadata
	CmdError     = "ERROR"     // fatal handshake error with a reason
	CmdSubscribe = "SUBSCRIBE" // ZMTP 3.1 subscription
	CmdCancel    = "CANCEL"    // ZMTP 3.1 unsubscription
	CmdPing      = "PING"      // ZMTP 3.1 heartbeat request
	CmdPong      = "PONG"      // ZMTP 3.1 heartbeat reply
	CmdHello     = "HELLO"     // PLAIN/CURVE client hello
	CmdWelcome   = "WELCOME"   // PLAIN/CURVE server welcome
	CmdInitiate  = "INITIATE"  // PLAIN/CURVE client initiate, carries metadata
	CmdMessage   = "MESSAGE"   // CURVE encrypted message
	CmdJoin      = "JOIN"      // DISH joins a group (RFC 48)
	CmdLeave     = "LEAVE"     // DISH leaves a group (RFC 48)
)

// MaxPingContext is the largest PING/PONG context RFC 37 allows, in bytes.
const MaxPingContext = 16

// MaxErrorReason is the largest ERROR reason that fits its u8 length, in bytes.
const MaxErrorReason = 255

// ParseCommand splits a command frame body into the command name and the
// command data that follows it. The body is name-len (u8), name, data; the
// name must be 1..255 ASCII letters, otherwise ParseCommand returns
// ErrMalformed. The returned slices alias body.
func ParseCommand(body []byte) (name []byte, data []byte, err error) {
	if len(body) == 0 {
		return nil, nil, fmt.Errorf("%w: empty command body", ErrMalformed)
	}
	nl := int(body[0])
	if nl == 0 {
		return nil, nil, fmt.Errorf("%w: empty command name", ErrMalformed)
	}
	if nl > len(body)-1 {
		return nil, nil, fmt.Errorf("%w: command name length %d exceeds %d remaining bytes", ErrMalformed, nl, len(body)-1)
	}
	name = body[1 : 1+nl]
	for _, c := range name {
		if !isLetter(c) {
			return nil, nil, fmt.Errorf("%w: command name has non-letter byte %#02x", ErrMalformed, c)
		}
	}
	return name, body[1+nl:], nil
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// AppendCommand appends a whole command frame: a header with FlagCommand, then
// the body name-len, name and the data parts concatenated.
//
// AppendCommand panics if name is empty or longer than 255 bytes.
func AppendCommand(dst []byte, name string, data ...[]byte) []byte {
	n := 0
	for _, d := range data {
		n += len(d)
	}
	dst = appendCommandHeader(dst, name, n)
	for _, d := range data {
		dst = append(dst, d...)
	}
	return dst
}

// appendCommandHeader appends the frame header and the name of a command frame
// whose data will be dataLen bytes; the caller appends the data.
func appendCommandHeader(dst []byte, name string, dataLen int) []byte {
	if len(name) == 0 || len(name) > 255 {
		panic(fmt.Sprintf("wire: command name length %d out of range 1..255", len(name)))
	}
	dst = AppendFrameHeader(dst, FlagCommand, 1+len(name)+dataLen)
	dst = append(dst, byte(len(name)))
	return append(dst, name...)
}

// AppendReady appends a READY command frame carrying md.
// It panics under the same conditions as AppendMetadata.
func AppendReady(dst []byte, md Metadata) []byte {
	dst = appendCommandHeader(dst, CmdReady, MetadataLen(md))
	return AppendMetadata(dst, md)
}

// AppendError appends an ERROR command frame: reason-len (u8) and reason.
// A reason longer than 255 bytes is truncated to 255 bytes.
func AppendError(dst []byte, reason string) []byte {
	if len(reason) > MaxErrorReason {
		reason = reason[:MaxErrorReason]
	}
	dst = appendCommandHeader(dst, CmdError, 1+len(reason))
	dst = append(dst, byte(len(reason)))
	return append(dst, reason...)
}

// AppendSubscribe appends a ZMTP 3.1 SUBSCRIBE command frame for topic.
func AppendSubscribe(dst []byte, topic []byte) []byte {
	return AppendCommand(dst, CmdSubscribe, topic)
}

// AppendCancel appends a ZMTP 3.1 CANCEL command frame for topic.
func AppendCancel(dst []byte, topic []byte) []byte {
	return AppendCommand(dst, CmdCancel, topic)
}

// AppendJoin appends a JOIN command frame for group.
func AppendJoin(dst []byte, group []byte) []byte {
	return AppendCommand(dst, CmdJoin, group)
}

// AppendLeave appends a LEAVE command frame for group.
func AppendLeave(dst []byte, group []byte) []byte {
	return AppendCommand(dst, CmdLeave, group)
}

// AppendPing appends a PING command frame: ttl (u16 big-endian, in tenths of a
// second, 0 for none) and context. A context longer than 16 bytes is truncated
// to 16 bytes.
func AppendPing(dst []byte, ttl uint16, context []byte) []byte {
	if len(context) > MaxPingContext {
		context = context[:MaxPingContext]
	}
	dst = appendCommandHeader(dst, CmdPing, 2+len(context))
	dst = binary.BigEndian.AppendUint16(dst, ttl)
	return append(dst, context...)
}

// AppendPong appends a PONG command frame echoing context. A context longer
// than 16 bytes is truncated to 16 bytes.
func AppendPong(dst []byte, context []byte) []byte {
	if len(context) > MaxPingContext {
		context = context[:MaxPingContext]
	}
	return AppendCommand(dst, CmdPong, context)
}

// ParseError parses the data of an ERROR command (after ParseCommand removed
// the name): reason-len (u8) and reason. It returns ErrMalformed if data is
// empty or the declared length exceeds the bytes that follow; bytes after the
// reason are ignored.
func ParseError(data []byte) (reason string, err error) {
	if len(data) == 0 {
		return "", fmt.Errorf("%w: ERROR without reason length", ErrMalformed)
	}
	n := int(data[0])
	if n > len(data)-1 {
		return "", fmt.Errorf("%w: ERROR reason length %d exceeds %d remaining bytes", ErrMalformed, n, len(data)-1)
	}
	return string(data[1 : 1+n]), nil
}

// ParsePing parses the data of a PING command (after ParseCommand removed the
// name): ttl (u16 big-endian, tenths of a second) and context. It returns
// ErrMalformed if data is shorter than 2 bytes. The context is the rest of
// data, cut to its first 16 bytes; it aliases data.
func ParsePing(data []byte) (ttl uint16, context []byte, err error) {
	if len(data) < 2 {
		return 0, nil, fmt.Errorf("%w: PING data of %d bytes lacks the 2-byte TTL", ErrMalformed, len(data))
	}
	context = data[2:]
	if len(context) > MaxPingContext {
		context = context[:MaxPingContext]
	}
	return binary.BigEndian.Uint16(data), context, nil
}
