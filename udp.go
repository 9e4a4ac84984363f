package azmq

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/azmq/azmq/internal/dgram"
	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/transport"
)

// udp:// is RADIO and DISH's datagram transport, as in libzmq: a DISH
// binds (udp://host:port, udp://*:port, a multicast group
// udp://239.1.2.3:port, or udp://iface;group:port to join it on one
// interface) and a RADIO connects (to a DISH's address, or to a group).
// Each message is one datagram of at most 8192 bytes, group included;
// what does not fit is dropped, as is anything lost on the way. There is
// no connection: a RADIO sends every group, and the DISH keeps those it
// joined. A unicast port takes one DISH: a second Bind of it fails, where
// libzmq sets SO_REUSEADDR and the second bind succeeds with only one of
// the two receiving. A group's port is shared: every DISH bound to it
// receives, as in libzmq. The paths themselves are in internal/dgram.

const udpScheme = "udp://"

// isUDP reports whether endpoint is for the udp transport, which Bind and
// Connect hand to bindUDP and connectUDP.
func isUDP(endpoint string) bool { return strings.HasPrefix(endpoint, udpScheme) }

// udpRefusal says why a socket of type t cannot bind (or connect) udp.
// libzmq's socket_base allows a DISH's bind and a RADIO's connect only.
func udpRefusal(t SocketType, bind bool) error {
	switch {
	case t == RADIO && bind:
		return fmt.Errorf("%w: a RADIO connects to udp (a DISH binds it)", ErrNotSupported)
	case t == DISH && !bind:
		return fmt.Errorf("%w: a DISH binds udp (a RADIO connects to it)", ErrNotSupported)
	case t != RADIO && t != DISH:
		return fmt.Errorf("%w: udp is for RADIO and DISH, not %s", ErrNotSupported, t)
	}
	return nil
}

// bindUDP binds a DISH to a udp endpoint: one path that receives every
// datagram sent to the address (or the group), on a pipe attached before
// Bind returns.
func (s *Socket) bindUDP(endpoint string) error {
	if err := udpRefusal(s.typ, true); err != nil {
		return fmt.Errorf("azmq: bind %q: %w", endpoint, err)
	}
	ep, err := dgram.Parse(strings.TrimPrefix(endpoint, udpScheme), true)
	if err != nil {
		return fmt.Errorf("azmq: bind %q: %w", endpoint, err)
	}
	if s.isClosed() {
		return fmt.Errorf("azmq: bind %q: %w", endpoint, ErrClosed)
	}
	r, err := dgram.Listen(context.Background(), ep)
	if err != nil {
		s.emit(EventBindFailed, endpoint, err)
		return fmt.Errorf("azmq: bind %q: %w", endpoint, err)
	}
	b := &binding{given: endpoint, resolved: r.Resolved(), l: udpListener{r}}
	p, err := s.startUDP(r, b, nil)
	if err != nil {
		return fmt.Errorf("azmq: bind %q: %w", endpoint, err)
	}
	s.emit(EventListening, b.resolved, nil)
	go s.runUDP(r, p, func(error) { s.emit(EventClosed, b.resolved, nil) })
	return nil
}

// connectUDP connects a RADIO to a udp endpoint: one path that sends
// every message it is given, on a pipe attached before Connect returns.
// There is nothing to redial: the path lasts until Disconnect or Close.
func (s *Socket) connectUDP(endpoint string) (*pipe.Pipe, error) {
	if err := udpRefusal(s.typ, false); err != nil {
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, err)
	}
	addr := strings.TrimPrefix(endpoint, udpScheme)
	ep, err := dgram.Parse(addr, false)
	if err != nil {
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, err)
	}
	if s.isClosed() {
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, ErrClosed)
	}
	snd, err := dgram.Dial(context.Background(), ep)
	if err != nil {
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, err)
	}
	// Registered as a connecter with no pipe of its own: Disconnect
	// closes the path, and runUDP then detaches its pipe.
	c := &connecter{given: endpoint, ep: transport.Endpoint{Transport: "udp", Address: addr}, eng: snd}
	c.ctx, c.cancel = context.WithCancel(s.killCtx)
	p, err := s.startUDP(snd, nil, c)
	if err != nil {
		c.cancel()
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, err)
	}
	s.emit(EventConnected, endpoint, nil)
	go s.runUDP(snd, p, func(err error) { s.emit(EventDisconnected, endpoint, err) })
	return p, nil
}

// startUDP registers a udp path (as a bind's b or a connect's c) and
// attaches its pipe, so that a message sent as soon as Bind or Connect
// returns has a path to take; then runUDP must run it. On error nothing
// is left registered and the path is closed.
func (s *Socket) startUDP(e link, b *binding, c *connecter) (*pipe.Pipe, error) {
	peer, err := e.Handshake(s.hsCtx) // returns at once: udp has none
	if err != nil {
		e.Close()
		return nil, ErrClosed
	}
	p := s.newPipe()
	p.SetPeer(peer)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		e.Close()
		return nil, ErrClosed
	}
	s.pipes[p] = struct{}{}
	s.engines[e] = b
	if b != nil {
		s.binds = append(s.binds, b)
		s.last = b.resolved
	}
	if c != nil {
		s.connects = append(s.connects, c)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	if err := s.patAttach(p); err != nil {
		s.mu.Lock()
		delete(s.pipes, p)
		delete(s.engines, e)
		if b != nil {
			s.binds = removeItem(s.binds, b)
		}
		if c != nil {
			s.connects = removeItem(s.connects, c)
		}
		s.mu.Unlock()
		e.Close()
		p.Close()
		s.wg.Done()
		return nil, err
	}
	return p, nil
}

// runUDP runs a path started by startUDP until it ends (Unbind,
// Disconnect, Close, or a failure), then detaches its pipe; ended reports
// the end to the monitors.
func (s *Socket) runUDP(e link, p *pipe.Pipe, ended func(error)) {
	defer s.wg.Done()
	err := runEngine(e, p)
	p.In.Close()
	p.Out.Discard()
	s.patDetach(p)
	s.removePipe(p)
	s.dropEngine(e)
	ended(err)
}

func removeItem[T comparable](xs []T, x T) []T {
	for i, y := range xs {
		if y == x {
			return append(xs[:i], xs[i+1:]...)
		}
	}
	return xs
}

// udpListener is a udp bind as the socket keeps its listeners, so that
// Unbind and Close close it as they close a tcp listener. A datagram
// endpoint accepts no connections: Accept waits for Close.
type udpListener struct{ r *dgram.Receiver }

func (l udpListener) Accept() (net.Conn, error) {
	<-l.r.Done()
	return nil, net.ErrClosed
}

func (l udpListener) Close() error {
	l.r.Close()
	return nil
}

func (l udpListener) Addr() net.Addr { return net.UDPAddrFromAddrPort(l.r.LocalAddr()) }
