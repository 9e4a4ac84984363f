// Package dgram is the udp:// transport of RADIO and DISH: a datagram path
// of its own beside the stream engine. A RADIO's path (Sender) writes one
// datagram per message to a unicast or multicast address; a DISH's path
// (Receiver) binds a port, joins a multicast group if it names one, and
// delivers every datagram it can decode. There is no handshake, no JOIN or
// LEAVE on the wire: the DISH filters by its groups.
//
// The datagram format is libzmq's (udp_engine.cpp): one byte, the length
// of the group; the group; the body, to the end of the datagram. A
// datagram holds at most MaxDatagram bytes, so that azmq and libzmq accept
// the same messages.
//
// What a path can make this process hold: a Receiver reads into one buffer
// of MaxDatagram+1 bytes, reused; each datagram it delivers costs one copy
// of its group and body (at most MaxDatagram bytes) and the two frame
// headers, and at most the pipe's HWM of them wait for the socket. A Sender
// encodes into one buffer of MaxDatagram bytes, reused.
package dgram

import (
	"errors"
	"fmt"
)

// MaxDatagram is the largest datagram, header included, that libzmq sends
// or reads (udp_engine.hpp MAX_UDP_MSG): a message whose group and body do
// not fit with the length byte is dropped by the sender.
const MaxDatagram = 8192

// MaxGroup is the longest group (libzmq ZMQ_GROUP_MAX_LENGTH, RFC 48): it
// must fit the length byte.
const MaxGroup = 255

// Errors of Encode and Decode; compare with errors.Is.
var (
	// ErrMalformed: the datagram is empty, or its group length byte
	// reaches past its end.
	ErrMalformed = errors.New("dgram: malformed datagram")
	// ErrTooLarge: the datagram is, or would be, over MaxDatagram bytes.
	ErrTooLarge = errors.New("dgram: datagram over the maximum size")
	// ErrGroupTooLong: a group over MaxGroup bytes.
	ErrGroupTooLong = errors.New("dgram: group over 255 bytes")
)

// Size is the length of the datagram that carries group and body.
func Size(group, body []byte) int { return 1 + len(group) + len(body) }

// Encode appends the datagram of a message to dst. It fails, appending
// nothing, when the group is over MaxGroup bytes or the datagram would be
// over MaxDatagram bytes.
func Encode(dst, group, body []byte) ([]byte, error) {
	if len(group) > MaxGroup {
		return dst, fmt.Errorf("%w: %d bytes", ErrGroupTooLong, len(group))
	}
	if n := Size(group, body); n > MaxDatagram {
		return dst, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, n, MaxDatagram)
	}
	dst = append(dst, byte(len(group)))
	dst = append(dst, group...)
	return append(dst, body...), nil
}

// Decode splits a datagram into its group and body, which share d's
// memory. An empty datagram, one whose length byte reaches past its end
// (libzmq ignores both) and one over MaxDatagram bytes (libzmq never reads
// past MaxDatagram) are errors.
func Decode(d []byte) (group, body []byte, err error) {
	if len(d) > MaxDatagram {
		return nil, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(d), MaxDatagram)
	}
	if len(d) == 0 {
		return nil, nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	g := int(d[0])
	if 1+g > len(d) {
		return nil, nil, fmt.Errorf("%w: group of %d bytes in a datagram of %d", ErrMalformed, g, len(d))
	}
	// The group's capacity ends where the body starts, so an append to
	// it cannot overwrite the body.
	return d[1 : 1+g : 1+g], d[1+g:], nil
}
