package pipe

import (
	"strings"
	"sync/atomic"
)

// Peer describes the other end of a pipe, as learnt at the handshake.
type Peer struct {
	SocketType string // the peer's Socket-Type, e.g. "DEALER"
	RoutingID  []byte // the peer's Identity property (may be empty)
	Props      []KV   // every property a received message can be asked for
	Minor      byte   // ZMTP minor version of the peer (0 = 3.0, 1 = 3.1); inproc reports 1
	// Datagram marks a udp path: it sends no JOIN, so a RADIO sends it
	// every group and a DISH filters what it delivers.
	Datagram bool
}

// KV is one named property.
type KV struct {
	Name  string
	Value string
}

// Property looks a property up case-insensitively. "Routing-Id" and
// "Identity" name the same property, as in libzmq.
func (p *Peer) Property(name string) (string, bool) {
	if p == nil {
		return "", false
	}
	if strings.EqualFold(name, "Routing-Id") {
		name = "Identity"
	}
	for _, kv := range p.Props {
		if strings.EqualFold(kv.Name, name) {
			return kv.Value, true
		}
	}
	return "", false
}

// Pipe is a socket's view of one peer: the queue it reads (In) and the one
// it writes (Out). The peer side (an engine, or another inproc socket) uses
// the same two queues the other way round.
type Pipe struct {
	In  *Queue
	Out *Queue

	peer atomic.Pointer[Peer]
	// Routing data owned by the socket's pattern (ROUTER's id for this pipe).
	ID []byte
	// Inproc marks a pipe whose reader is another socket: it receives the
	// bodies themselves, so a fan-out must not share them between two such
	// readers.
	Inproc bool

	fail atomic.Pointer[func(error)]
}

// OnFail sets what Fail does: the owner of the pipe's connection ends it.
// nil: nothing (the connection is over).
func (p *Pipe) OnFail(f func(error)) {
	if f == nil {
		p.fail.Store(nil)
		return
	}
	p.fail.Store(&f)
}

// Fail ends the connection behind the pipe, for the reason err, when the
// peer broke a limit the pattern keeps (too many subscriptions). A pipe
// with no connection behind it (inproc, or between connections) is left
// as it is.
func (p *Pipe) Fail(err error) {
	if f := p.fail.Load(); f != nil {
		(*f)(err)
	}
}

// New makes a pipe. The socket's own Signals are passed so one wait covers
// all of its pipes: readable for In, writable for Out. peerReadable and
// peerWritable are the other end's (nil for private ones).
func New(sendHWM, recvHWM int, readable, writable, peerReadable, peerWritable *Signal) *Pipe {
	return &Pipe{
		In:  NewQueue(recvHWM, readable, peerWritable),
		Out: NewQueue(sendHWM, peerReadable, writable),
	}
}

// Peer returns what is known of the peer (nil before the handshake).
func (p *Pipe) Peer() *Peer { return p.peer.Load() }

// SetPeer records the peer of a new connection on this pipe.
func (p *Pipe) SetPeer(peer *Peer) { p.peer.Store(peer) }

// Close closes both directions: no more pushes; queued messages can still
// be popped.
func (p *Pipe) Close() {
	p.In.Close()
	p.Out.Close()
}
