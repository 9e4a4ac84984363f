package dgram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/transport"
)

// conn is what Sender and Receiver share: the socket, and how it ends.
type conn struct {
	c         *net.UDPConn
	closeOnce sync.Once
	done      chan struct{}         // closed by Close
	abortErr  atomic.Pointer[error] // why Abort ended the path
	dropped   atomic.Uint64
	peer      pipe.Peer
}

func newConn(c *net.UDPConn, peerType string) conn {
	return conn{c: c, done: make(chan struct{}), peer: pipe.Peer{SocketType: peerType, Minor: 1, Datagram: true}}
}

// Handshake returns at once: udp has no handshake. The peer is the other
// side's type, marked as a datagram path.
func (k *conn) Handshake(ctx context.Context) (*pipe.Peer, error) {
	if err := ctx.Err(); err != nil {
		k.Close()
		return nil, err
	}
	p := k.peer
	return &p, nil
}

// Close closes the socket; Run returns.
func (k *conn) Close() {
	k.closeOnce.Do(func() {
		close(k.done)
		k.c.Close()
	})
}

// Abort closes the socket; Run returns err.
func (k *conn) Abort(err error) {
	k.abortErr.CompareAndSwap(nil, &err)
	k.Close()
}

// Done is closed once the path is closed (Close, Abort, or Run's end).
func (k *conn) Done() <-chan struct{} { return k.done }

// Dropped counts the messages or datagrams the path dropped: too large,
// malformed, not sendable, or (Receiver) finding the pipe full.
func (k *conn) Dropped() uint64 { return k.dropped.Load() }

// LocalAddr is the address the socket is bound to.
func (k *conn) LocalAddr() netip.AddrPort {
	if a, ok := k.c.LocalAddr().(*net.UDPAddr); ok {
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// end is what Run returns: Abort's reason, or err unless it only says the
// socket was closed.
func (k *conn) end(err error) error {
	if a := k.abortErr.Load(); a != nil {
		return *a
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, pipe.ErrClosed) {
		return nil
	}
	return err
}

func (k *conn) closed() bool {
	select {
	case <-k.done:
		return true
	default:
		return false
	}
}

// Sender is a RADIO's udp path: every message becomes one datagram to the
// endpoint's address.
type Sender struct {
	conn
	to  netip.AddrPort
	buf []byte     // the datagram being written, reused
	ms  []pipe.Msg // a batch popped from the pipe, reused
}

// sendBatch bounds the messages taken from the pipe at once.
const sendBatch = 64

// Dial opens the sending side of a connect to ep (as parsed for connect).
// It sends from an unconnected socket, as libzmq does, so that ICMP errors
// from a DISH that is not there yet do not fail later sends.
func Dial(ctx context.Context, ep Endpoint) (*Sender, error) {
	if ep.bind {
		return nil, fmt.Errorf("dgram: dial %s: %w: parsed for bind", ep, transport.ErrEndpoint)
	}
	ip, err := ep.target(ctx)
	if err != nil {
		return nil, fmt.Errorf("dgram: dial %s: %w", ep, err)
	}
	network := "udp6"
	if ip.Is4() {
		network = "udp4"
	}
	var ifi *net.Interface
	var v4 netip.Addr
	if ip.IsMulticast() {
		if ifi, v4, err = ep.mcastIface(ip); err != nil {
			return nil, fmt.Errorf("dgram: dial %s: %w", ep, err)
		}
	} else if ep.Iface != "" {
		return nil, fmt.Errorf("dgram: dial %s: %w: %s is no multicast group", ep, transport.ErrEndpoint, ip)
	}
	c, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("dgram: dial %s: %w", ep, err)
	}
	if ifi != nil || v4.IsValid() {
		if err := setMulticastIface(c, ifi, v4); err != nil {
			c.Close()
			return nil, fmt.Errorf("dgram: dial %s: multicast interface: %w", ep, err)
		}
	}
	return &Sender{
		conn: newConn(c, "DISH"),
		to:   netip.AddrPortFrom(ip, ep.Port),
		buf:  make([]byte, 0, MaxDatagram),
	}, nil
}

// Run writes the messages of p.Out, one datagram each, until p.Out is
// closed and drained (nil: all was sent), Close or Abort. A message that
// cannot go is dropped, as libzmq drops it: a JOIN or LEAVE (udp has none),
// one that is not a group and a body, one too large for a datagram, one
// the system refuses to send. p.In is not used: a RADIO receives nothing.
func (s *Sender) Run(p *pipe.Pipe) error {
	out := p.Out
	for {
		if s.closed() {
			return s.end(nil)
		}
		sig := out.Readable().C()
		ms, drained := out.PopBatch(s.ms[:0], sendBatch)
		for i := range ms {
			err := s.send(&ms[i])
			ms[i] = pipe.Msg{}
			if err != nil {
				s.ms = ms[:0]
				return s.end(err)
			}
		}
		s.ms = ms[:0]
		if len(ms) > 0 {
			continue
		}
		if drained {
			s.Close()
			return s.end(nil)
		}
		select {
		case <-sig:
		case <-s.done:
			return s.end(nil)
		}
	}
}

// send writes one message. Only a closed socket is an error: anything else
// costs this message alone.
func (s *Sender) send(m *pipe.Msg) error {
	if m.Flags()&(pipe.Join|pipe.Leave) != 0 {
		return nil
	}
	if len(m.Frames) != 2 {
		s.dropped.Add(1)
		return nil
	}
	var err error
	s.buf, err = Encode(s.buf[:0], m.Frames[0], m.Frames[1])
	if m.Flags()&pipe.Owned != 0 {
		// Copied into the datagram or dropped: azmq's own copy is free.
		for _, f := range m.Frames {
			if len(f) >= bufpool.MinSize {
				bufpool.PutOwn(f)
			}
		}
	}
	if err != nil {
		s.dropped.Add(1)
		return nil
	}
	if _, err := s.c.WriteToUDPAddrPort(s.buf, s.to); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		// Unreachable network, no buffer space, a refusal: udp is lossy,
		// and the next datagram may go.
		s.dropped.Add(1)
	}
	return nil
}

// Receiver is a DISH's udp path: it delivers every datagram bound for its
// address (or group) that decodes, as {group, body}.
type Receiver struct {
	conn
	ep       Endpoint
	resolved string
	buf      []byte // MaxDatagram+1: a longer datagram shows as too long
}

// Listen binds ep (as parsed for bind). A multicast group is joined on the
// endpoint's interface (the system's default if none or "*"), the socket
// bound to the group's port on all addresses, as libzmq does.
func Listen(ctx context.Context, ep Endpoint) (*Receiver, error) {
	if !ep.bind {
		return nil, fmt.Errorf("dgram: listen %s: %w: parsed for connect", ep, transport.ErrEndpoint)
	}
	ip, err := ep.target(ctx)
	if err != nil {
		return nil, fmt.Errorf("dgram: listen %s: %w", ep, err)
	}
	var c *net.UDPConn
	switch {
	case ip.IsMulticast():
		ifi, _, err := ep.mcastIface(ip)
		if err != nil {
			return nil, fmt.Errorf("dgram: listen %s: %w", ep, err)
		}
		network := "udp6"
		if ip.Is4() {
			network = "udp4"
		}
		c, err = net.ListenMulticastUDP(network, ifi, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, ep.Port)))
		if err != nil {
			return nil, fmt.Errorf("dgram: listen %s: %w", ep, err)
		}
	case ep.Iface != "":
		return nil, fmt.Errorf("dgram: listen %s: %w: %s is no multicast group", ep, transport.ErrEndpoint, ip)
	case !ip.IsValid():
		// "*": all interfaces, dual-stack where the system allows.
		c, err = net.ListenUDP("udp", &net.UDPAddr{Port: int(ep.Port)})
	default:
		network := "udp6"
		if ip.Is4() {
			network = "udp4"
		}
		c, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, ep.Port)))
	}
	if err != nil {
		return nil, fmt.Errorf("dgram: listen %s: %w", ep, err)
	}
	r := &Receiver{conn: newConn(c, "RADIO"), ep: ep, buf: make([]byte, MaxDatagram+1)}
	port := r.LocalAddr().Port()
	switch {
	case ip.IsMulticast():
		iface := ""
		if ep.Iface != "" {
			iface = ep.Iface + ";"
		}
		r.resolved = "udp://" + iface + hostPort(ip.String(), port)
	case !ip.IsValid():
		r.resolved = "udp://" + hostPort("0.0.0.0", port) // as libzmq prints "*"
	default:
		r.resolved = "udp://" + hostPort(ip.String(), port)
	}
	return r, nil
}

// Resolved is the endpoint as bound, with the port a "*" or 0 was given:
// "udp://127.0.0.1:41234".
func (r *Receiver) Resolved() string { return r.resolved }

// Run reads datagrams and pushes each to p.In as {group, body} until
// Close, Abort, p.Out closing, p.In found closed at a datagram, or a read
// error that is not about one datagram. A datagram that does not decode is dropped. One that
// finds p.In full is dropped, and reading waits for room, as libzmq's
// udp engine stops polling until the pipe drains: meanwhile the system's
// socket buffer holds what comes. p.Out is drained and dropped: a DISH's
// JOIN and LEAVE mean nothing to a datagram path.
func (r *Receiver) Run(p *pipe.Pipe) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.watch(p)
	}()
	err := r.read(p.In)
	r.Close()
	wg.Wait()
	return r.end(err)
}

func (r *Receiver) read(in *pipe.Queue) error {
	for {
		n, err := r.c.Read(r.buf)
		if err != nil {
			if transientRead(err) {
				r.dropped.Add(1)
				continue
			}
			return err
		}
		group, body, err := Decode(r.buf[:n])
		if err != nil {
			r.dropped.Add(1)
			continue
		}
		// One allocation holds the group and the body the socket keeps.
		data := make([]byte, len(group)+len(body))
		copy(data, group)
		copy(data[len(group):], body)
		g := len(group)
		m := pipe.Msg{Frames: [][]byte{data[:g:g], data[g:]}}
		ok, err := in.TryPush(m)
		if err == nil && !ok {
			// Full: arm the wait for room only now (armed for every
			// datagram, each message the DISH takes would signal it),
			// then look once more so that no room made meanwhile is
			// missed.
			room := in.Writable().C()
			if ok, err = in.TryPush(m); err == nil && !ok {
				r.dropped.Add(1)
				select {
				case <-room:
				case <-r.done:
					return net.ErrClosed
				}
			}
		}
		if err != nil {
			return err
		}
	}
}

// watch empties p.Out so a DISH's JOINs never fill it, and ends the path
// when p.Out closes. A closed p.In is noticed by read at the next
// datagram instead: waiting on p.In here would wake this goroutine at
// every message the DISH takes (the socket closes the path itself at
// Unbind and Close).
func (r *Receiver) watch(p *pipe.Pipe) {
	var scratch []pipe.Msg
	for {
		outSig := p.Out.Readable().C()
		var drained bool
		scratch, drained = p.Out.PopBatch(scratch[:0], sendBatch)
		clear(scratch)
		if len(scratch) > 0 {
			continue
		}
		if drained || p.In.Closed() {
			r.Close()
			return
		}
		select {
		case <-outSig:
		case <-r.done:
			return
		}
	}
}
