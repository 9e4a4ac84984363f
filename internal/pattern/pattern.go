// Package pattern holds the routing strategies (load-balance, fair-queue,
// fan-out, routing table, subscription trie, REQ/REP envelopes) and the
// socket types built on them. A pattern sees only pipes: it never knows
// whether a peer is inproc or behind an engine.
package pattern

import (
	"context"
	"errors"

	"github.com/azmq/azmq/internal/pipe"
)

// Type is a socket type, numbered as in libzmq.
type Type int

// The socket types.
const (
	PAIR Type = iota
	PUB
	SUB
	REQ
	REP
	DEALER
	ROUTER
	PULL
	PUSH
	XPUB
	XSUB
	STREAM
	SERVER
	CLIENT
	RADIO
	DISH
	GATHER
	SCATTER
	_ // 18 is libzmq's DGRAM, which azmq does not have
	PEER
	CHANNEL
)

var typeNames = [...]string{
	"PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB",
	"STREAM", "SERVER", "CLIENT", "RADIO", "DISH", "GATHER", "SCATTER", "", "PEER", "CHANNEL",
}

// Valid reports whether t is a known socket type.
func (t Type) Valid() bool { return t >= 0 && int(t) < len(typeNames) && typeNames[t] != "" }

// ThreadSafe reports whether t is one of the draft types whose messages
// are a single frame (libzmq's thread-safe sockets).
func (t Type) ThreadSafe() bool {
	switch t {
	case SERVER, CLIENT, RADIO, DISH, GATHER, SCATTER, PEER, CHANNEL:
		return true
	}
	return false
}

// String returns the name used in the Socket-Type property.
func (t Type) String() string {
	if !t.Valid() {
		return "UNKNOWN"
	}
	return typeNames[t]
}

// compatible lists the peer types each type accepts (RFC 37, libzmq's
// check_socket_type).
var compatible = map[Type][]string{
	PAIR:   {"PAIR"},
	PUB:    {"SUB", "XSUB"},
	SUB:    {"PUB", "XPUB"},
	REQ:    {"REP", "ROUTER"},
	REP:    {"REQ", "DEALER"},
	DEALER: {"REP", "DEALER", "ROUTER"},
	ROUTER: {"REQ", "DEALER", "ROUTER"},
	PULL:   {"PUSH"},
	PUSH:   {"PULL"},
	XPUB:   {"SUB", "XSUB"},
	XSUB:   {"PUB", "XPUB"},
	// The draft types talk to their partner only (libzmq 4.3.5
	// mechanism_base.cpp check_socket_type). STREAM speaks no ZMTP.
	SERVER:  {"CLIENT"},
	CLIENT:  {"SERVER"},
	RADIO:   {"DISH"},
	DISH:    {"RADIO"},
	GATHER:  {"SCATTER"},
	SCATTER: {"GATHER"},
	PEER:    {"PEER"},
	CHANNEL: {"CHANNEL"},
}

// Compatible reports whether a socket of type t may talk to a peer whose
// Socket-Type is peer (compared exactly, as libzmq does).
func Compatible(t Type, peer string) bool {
	for _, p := range compatible[t] {
		if p == peer {
			return true
		}
	}
	return false
}

// SendsIdentity reports whether t announces an Identity property (libzmq:
// REQ, DEALER and ROUTER, always, even when empty).
func SendsIdentity(t Type) bool { return t == REQ || t == DEALER || t == ROUTER }

// Errors returned by patterns. The root package exports the same values.
var (
	ErrState           = errors.New("azmq: operation not allowed in the current state")
	ErrHostUnreachable = errors.New("azmq: host unreachable")
	ErrNotSupported    = errors.New("azmq: operation not supported by this socket type")
	ErrClosed          = pipe.ErrClosed
	// ErrPeerRefused is returned by Attach when the socket takes no more
	// peers (PAIR has one).
	ErrPeerRefused = errors.New("azmq: socket takes no more peers")
	// ErrTooManySubscriptions ends the connection of a subscriber whose
	// topics would cost more than Options.MaxSubscriptionBytes.
	ErrTooManySubscriptions = errors.New("azmq: subscriber's topics over the subscription limit")
	// ErrMultipart is a multipart message given to a type whose messages
	// are a single frame (CLIENT, SERVER, RADIO, DISH, SCATTER, GATHER,
	// PEER, CHANNEL).
	ErrMultipart = errors.New("azmq: this socket type sends single-frame messages only")
	// ErrGroupTooLong is a RADIO/DISH group name over MaxGroup bytes.
	ErrGroupTooLong = errors.New("azmq: group name over 255 bytes")
)

// MaxGroup is the longest group name, in bytes (libzmq's
// ZMQ_GROUP_MAX_LENGTH).
const MaxGroup = 255

// Addr is where a message of SERVER, PEER, RADIO or DISH goes or came
// from: the routing id of a connection, or a group.
type Addr struct {
	ID    uint32
	Group string
}

// Addressed is what SERVER, PEER, RADIO and DISH add to Socket: sending
// to an address, and receiving with one. The types that have no use for
// one direction return ErrNotSupported.
type Addressed interface {
	SendAddr(ctx context.Context, a Addr, m pipe.Msg) error
	RecvAddr(ctx context.Context) (pipe.Msg, Addr, *pipe.Peer, error)
}

// Splitter is ROUTER: Recv for a caller that copies the message out at
// once. When split, the message comes without its first frame, the
// routing id, which is given apart, shared: read it before the next
// call, and never write it. Not split, the message is whole.
type Splitter interface {
	RecvSplit(ctx context.Context) (m pipe.Msg, id []byte, split bool, p *pipe.Peer, err error)
}

// Joiner is DISH: it joins and leaves groups.
type Joiner interface {
	Join(group string) error
	Leave(group string) error
}

// Identifier is SERVER and PEER: the routing id each pipe got.
type Identifier interface {
	ID(p *pipe.Pipe) (uint32, bool)
}

// Options are the pattern-level socket options.
type Options struct {
	RouterMandatory bool
	// MaxSubscriptionBytes bounds what one subscriber's topics may cost a
	// PUB or XPUB, as SubscriptionCost counts (0: no bound).
	MaxSubscriptionBytes int64
	PubSub               PubSubOptions
	Routing              RoutingOptions
}

// SubscriptionCost is what one distinct topic of one subscriber counts
// toward Options.MaxSubscriptionBytes: the topic is held twice (in the
// match tree and in the subscriber's own set), and a tree node and two map
// entries cost about 256 bytes more.
func SubscriptionCost(topic []byte) int64 { return 2*int64(len(topic)) + 256 }

// Socket is the routing strategy of one socket. All methods are safe for
// concurrent use.
type Socket interface {
	// Attach adds a peer pipe whose Peer is already set (for a connecting
	// socket with a persistent pipe, Peer may still be nil: the pipe exists
	// before the connection). ErrPeerRefused means the caller must close
	// the pipe and its connection.
	Attach(p *pipe.Pipe) error
	// Detach removes a pipe whose peer is gone for good. The caller has
	// closed the pipe; messages still in p.In may be delivered.
	Detach(p *pipe.Pipe)
	// SetSolo names the In queue of the socket's only pipe (nil: none, or
	// several), whose connection a receiver may then read itself.
	SetSolo(q *pipe.Queue)
	// Hiccup tells that a persistent pipe got a new connection (SUB and XSUB
	// send their subscriptions again).
	Hiccup(p *pipe.Pipe)
	// Hangup tells that a persistent pipe's connection ended; the pipe
	// stays for the next one. What the peer had not read is lost with it.
	Hangup(p *pipe.Pipe)
	// Send queues one whole message, blocking where the pattern blocks.
	// An error means nothing was queued.
	Send(ctx context.Context, m pipe.Msg) error
	// Recv takes one whole message and the peer it came from.
	Recv(ctx context.Context) (pipe.Msg, *pipe.Peer, error)
	// Subscribe and Unsubscribe apply to SUB and XSUB, and to XPUB with
	// PubSubOptions.Manual; others return ErrNotSupported.
	Subscribe(topic []byte) error
	Unsubscribe(topic []byte) error
	// Close makes every blocked and future Send/Recv return ErrClosed.
	Close()
	// Readable is the Signal for the In queues of this socket's pipes,
	// Writable the one for their Out queues.
	Readable() *pipe.Signal
	Writable() *pipe.Signal
	// Dropped counts the messages Send dropped because a peer's queue was
	// full (PUB, XPUB, RADIO for each subscriber that missed one; ROUTER)
	// or a ROUTER's peer was unknown.
	Dropped() uint64
}
