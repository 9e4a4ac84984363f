package engine

import (
	"errors"
	"fmt"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/wire"
)

// handshakeV2 serves a peer whose greeting announced ZMTP 2.0 (its first
// 11 bytes are read, ours are sent), as libzmq 4 does: our socket type
// byte and identity frame, then the peer's, and from there on 2.0 frames,
// which are 3.x data frames. The peer has no mechanism, so a socket that
// needs one (PLAIN, CURVE, or NULL with a ZAP domain) refuses it, as
// libzmq does.
func (e *Engine) handshakeV2() (*pipe.Peer, error) {
	if name := e.cfg.Mechanism.Name(); name != "NULL" {
		return nil, fmt.Errorf("%w: the peer speaks ZMTP 2.0, which has no security mechanism, and this socket uses %s", ErrMechanism, name)
	}
	if e.cfg.ZAPDomain != "" {
		return nil, fmt.Errorf("%w: the peer speaks ZMTP 2.0, which ZAP cannot authenticate, and this socket has ZAP domain %q", ErrMechanism, e.cfg.ZAPDomain)
	}
	num, ok := wire.V2SocketTypeNumber(e.cfg.SocketType)
	if !ok {
		return nil, fmt.Errorf("%w: %s has no ZMTP 2.0 number and cannot talk to a ZMTP 2.0 peer", ErrSocketType, e.cfg.SocketType)
	}
	// Ours first, whatever the peer's: it may wait for them.
	out := append(make([]byte, 0, 1+wire.LongHeaderSize+len(e.cfg.Identity)), num)
	out = wire.AppendFrame(out, 0, e.cfg.Identity)
	if _, err := e.conn.Write(out); err != nil {
		return nil, err
	}
	if err := e.r.fill(wire.V2GreetingSize); err != nil {
		return nil, err
	}
	peerType, err := wire.ParseV2Greeting(e.r.peek(wire.V2GreetingSize))
	if err != nil {
		return nil, err
	}
	e.r.consume(wire.V2GreetingSize)
	if e.cfg.Compatible != nil && !e.cfg.Compatible(peerType) {
		// libzmq does not check a 2.0 peer's type; a 3.x peer of this type
		// would be refused, so this one is too.
		return nil, fmt.Errorf("%w: %s cannot talk to %s (ZMTP 2.0)", ErrSocketType, e.cfg.SocketType, peerType)
	}
	h, err := e.r.v2Header()
	if err != nil {
		return nil, err
	}
	if h.More() || h.Size > wire.MaxIdentity {
		return nil, fmt.Errorf("%w: ZMTP 2.0 identity frame of %d bytes (more: %v); it is one frame of at most %d",
			wire.ErrMalformed, h.Size, h.More(), wire.MaxIdentity)
	}
	if err := e.r.fill(int(h.Size)); err != nil {
		return nil, err
	}
	id := e.r.peek(int(h.Size))
	e.r.consume(int(h.Size))
	e.v2 = true
	e.peerMinor = 0 // subscriptions go as data, as to a 3.0 peer
	md := wire.Metadata{
		{Name: wire.PropSocketType, Value: []byte(peerType)},
		{Name: wire.PropIdentity, Value: id},
	}
	return e.peer(md, "", nil), nil
}

// v2Header decodes the next ZMTP 2.0 frame header (the identity frame's;
// later ones go through header and decodeLoop, which treat bit 2 as 2.0
// does).
func (r *reader) v2Header() (wire.FrameHeader, error) {
	for need := wire.ShortHeaderSize; need <= wire.LongHeaderSize; need++ {
		if err := r.fill(need); err != nil {
			return wire.FrameHeader{}, err
		}
		h, n, err := wire.ParseV2FrameHeader(r.avail())
		if errors.Is(err, wire.ErrShort) {
			continue
		}
		if err != nil {
			return h, err
		}
		r.consume(n)
		return h, nil
	}
	return wire.FrameHeader{}, wire.ErrShort // unreachable: 9 bytes are a whole header
}

// errZMTP1 says what a bad signature most likely is.
func errZMTP1(err error) error {
	return fmt.Errorf("%w: the peer speaks ZMTP 1.0, which azmq does not serve, or no ZMTP at all", err)
}

// V2 reports whether the peer speaks ZMTP 2.0, known after the handshake.
func (e *Engine) V2() bool { return e.v2 }
