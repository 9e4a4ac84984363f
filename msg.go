package azmq

import (
	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
)

// Msg is one received message with the properties of the connection it
// came from.
type Msg struct {
	// Frames are the message's parts; the caller owns them.
	Frames [][]byte
	// RoutingID is, on a SERVER or a PEER, the connection the message came
	// from: SendTo it to reply.
	RoutingID uint32
	// Group is, on a DISH, the group the message was sent to.
	Group string

	peer *pipe.Peer
}

// Property returns a property of the connection the message came from:
// "Socket-Type", "Identity" (also under "Routing-Id"), "Peer-Address" (the
// peer's IP on tcp), and any property the peer announced. Names are
// compared case-insensitively.
func (m Msg) Property(name string) (string, bool) { return m.peer.Property(name) }

// Release gives the memory of received frames back to azmq, which reads
// frames of 1 KiB and more received later over tcp and ipc, with any
// security mechanism, into it instead of allocating, as a C program
// closes each zmq_msg_t to give its memory back. A receiver of large
// messages that releases each one when done with it leaves the garbage
// collector little to do; over tcp loopback 64 KiB messages run two to
// three times as fast.
//
// Releasing is optional: a frame not released is collected as usual.
// Once a process has called Release, frames of 1 KiB and more are
// allocated in size classes (up to 12.5 % larger than the frame) so that
// a released buffer can carry any later frame of its class.
// Release takes only what azmq allocated for a frame it received and has
// not been given back yet; any other slice (a frame that came over
// inproc, which is the sender's, a part of a frame, your own buffer, a
// frame released before) is left alone.
//
// After Release, the frames and anything sliced from them are not yours:
// do not read or keep them, and do not release frames you have passed to
// Send, which may still be writing them.
func Release(frames [][]byte) {
	bufpool.Enable()
	for _, f := range frames {
		bufpool.Put(f)
	}
}
