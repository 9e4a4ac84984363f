package azmq

import (
	"bytes"
	"fmt"

	"github.com/azmq/azmq/internal/pattern"
	"github.com/azmq/azmq/internal/transport"
)

// routerConfig holds the options of ROUTER, DEALER and REQ beyond
// WithRouterMandatory.
type routerConfig struct {
	handover  bool
	probe     bool
	notify    int
	correlate bool
	relaxed   bool
}

// pattern is what the request-reply patterns take of it.
func (c *routerConfig) pattern() pattern.RoutingOptions {
	return pattern.RoutingOptions{
		Handover:  c.handover,
		Probe:     c.probe,
		Notify:    c.notify,
		Correlate: c.correlate,
		Relaxed:   c.relaxed,
	}
}

// The bits of WithRouterNotify (libzmq's ZMQ_NOTIFY_CONNECT and
// ZMQ_NOTIFY_DISCONNECT).
const (
	NotifyConnect    = pattern.NotifyConnect
	NotifyDisconnect = pattern.NotifyDisconnect
)

// ErrRoutingIDInUse: ConnectRoutingID was given a routing id that another
// peer of the socket already has.
var ErrRoutingIDInUse = pattern.ErrIDInUse

// WithRouterHandover(true) lets a new connection whose peer announces a
// routing id already in use take that id over: the ROUTER sends to the
// newcomer from then on, and drops the old connection (what it had sent
// before is still received, under a generated id). Default false: the
// newcomer is ignored, its messages dropped, until the old one goes.
// libzmq's ZMQ_ROUTER_HANDOVER. An inproc peer that loses its id keeps its
// connection under a generated id. ROUTER only.
func WithRouterHandover(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithRouterHandover", ROUTER)
		c.handover = on
		return nil
	}
}

// WithProbeRouter(true) makes the socket send an empty message on each new
// connection, so that a ROUTER peer learns of it at once: it receives
// [routing id, ""], and can then address the peer before the peer says
// anything. Default false. libzmq's ZMQ_PROBE_ROUTER. A connecting DEALER
// or REQ queues the probe before its queued messages at Connect and again
// on each reconnection; a REQ peer, which takes replies only, drops a
// probe it gets, and a DEALER receives it as a message of one empty frame.
// ROUTER, DEALER and REQ only.
func WithProbeRouter(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithProbeRouter", ROUTER, DEALER, REQ)
		c.probe = on
		return nil
	}
}

// WithRouterNotify makes a ROUTER receive [routing id, ""] when a
// connection is made (mask has NotifyConnect) and when it ends
// (NotifyDisconnect), after the last message it sent. Default 0: no
// notification. libzmq's ZMQ_ROUTER_NOTIFY (a draft option of libzmq
// 4.3). As in libzmq, whose engine sends them, only connections over a
// transport (tcp, ipc, ws) are told of, not inproc ones nor a peer ignored
// for announcing a routing id in use. A notification looks like a message
// of one empty frame: a ROUTER with this option should not expect those
// from its peers. ROUTER only.
func WithRouterNotify(mask int) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithRouterNotify", ROUTER)
		if mask < 0 || mask > NotifyConnect|NotifyDisconnect {
			return fmt.Errorf("azmq: WithRouterNotify(%d): must be 0 or a mask of NotifyConnect (1) and NotifyDisconnect (2)", mask)
		}
		c.notify = mask
		return nil
	}
}

// WithReqCorrelate(true) makes a REQ put a 4-byte request id frame in
// front of each request's empty delimiter, and take as the reply only a
// message that starts with the id of the last request sent: a late reply
// to an earlier one is dropped. The REP, or a ROUTER's application, must
// return the whole envelope (a REP does). Default false. libzmq's
// ZMQ_REQ_CORRELATE. REQ only.
func WithReqCorrelate(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithReqCorrelate", REQ)
		c.correlate = on
		return nil
	}
}

// WithReqRelaxed(true) lets a REQ send a new request before the reply to
// the last one came, instead of failing with ErrState; the reply to the
// old request is then dropped if it comes from another peer. Without
// WithReqCorrelate(true) a late reply from the same peer could pass for
// the new one's, so the two go together, as libzmq documents. Default
// false. libzmq's ZMQ_REQ_RELAXED.
//
// Without this option azmq's REQ already recovers in one case libzmq does
// not: when the peer holding the request goes away before replying (its
// connection ends or it is disconnected), Recv returns an ErrState that
// says so and Send is allowed again. WithReqRelaxed(true) allows Send at
// any time, also while the peer is there but slow; the recovery above
// keeps working beside it. REQ only.
func WithReqRelaxed(on bool) SocketOption {
	return func(c *socketConfig) error {
		c.onlyFor("WithReqRelaxed", REQ)
		c.relaxed = on
		return nil
	}
}

// ConnectRoutingID connects as Connect does, giving the peer of this
// connection the routing id id on this socket's side, whatever the peer
// announces (libzmq sets ZMQ_CONNECT_ROUTING_ID before zmq_connect). The
// id is 1 to 255 bytes and may not start with a zero byte, as with
// WithRoutingID; one another peer of the socket has is ErrRoutingIDInUse.
//
// A ROUTER can send to id at once: unless WithImmediate(true), messages
// wait in the connection's queue (up to the high-water mark) until it is
// up, and the id stays across reconnects. A STREAM's connection, each
// time it is made, gets id instead of a generated one. ROUTER and STREAM
// only, over tcp, ipc and (ROUTER) ws and wss; not inproc.
func (s *Socket) ConnectRoutingID(endpoint string, id []byte) error {
	if s.typ != ROUTER && s.typ != STREAM {
		return fmt.Errorf("azmq: ConnectRoutingID on %s: applies to ROUTER or STREAM only: %w", s.typ, ErrNotSupported)
	}
	if len(id) == 0 || len(id) > 255 {
		return fmt.Errorf("azmq: ConnectRoutingID %q: id length %d, must be 1..255 bytes", endpoint, len(id))
	}
	if id[0] == 0 {
		return fmt.Errorf("azmq: ConnectRoutingID %q (% x): an id starting with a zero byte is reserved for ids the socket makes up", endpoint, id)
	}
	if ep, err := transport.Parse(endpoint); err == nil && ep.Transport == "inproc" {
		return fmt.Errorf("azmq: ConnectRoutingID %q: %w: not over inproc", endpoint, ErrNotSupported)
	}
	if s.pat.(pattern.IDAttacher).IDInUse(id) {
		return fmt.Errorf("azmq: ConnectRoutingID %q: %w: % x", endpoint, ErrRoutingIDInUse, id)
	}
	_, err := s.connectAs(endpoint, bytes.Clone(id))
	return err
}

// connectingAsLocked reports whether a Connect of s gives its peer the id
// id. s.mu is held.
func (s *Socket) connectingAsLocked(id []byte) bool {
	for _, c := range s.connects {
		if c.id != nil && bytes.Equal(c.id, id) {
			return true
		}
	}
	return false
}
