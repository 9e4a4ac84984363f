package azmq

import "github.com/azmq/azmq/internal/pipe"

// Msg is one received message with the properties of the connection it
// came from.
type Msg struct {
	// Frames are the message's parts; the caller owns them.
	Frames [][]byte

	peer *pipe.Peer
}

// Property returns a property of the connection the message came from:
// "Socket-Type", "Identity" (also under "Routing-Id"), "Peer-Address" (the
// peer's IP on tcp), and any property the peer announced. Names are
// compared case-insensitively.
func (m Msg) Property(name string) (string, bool) { return m.peer.Property(name) }
