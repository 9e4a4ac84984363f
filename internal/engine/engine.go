// Package engine runs one peer connection: the greeting, the mechanism
// handshake, then a reader that decodes frames into whole messages for the
// socket's pipe and a batching writer that drains the pipe onto the
// connection. It has no routing logic: the pattern decides where messages
// go, the engine only moves them. Either end may also be driven from the
// socket's side: a sender writes a message itself when the writer is
// idle (WriteNow), and a receiver reads and decodes the connection itself
// when the reader has lent it (ReadNow, readnow.go).
//
// The greeting is staged much as libzmq 4 stages it: the signature and
// major version go at once (libzmq holds the major back until the peer's
// signature has come, which matters only to the ZMTP 1.0 peers refused
// here), the rest of the greeting only after the peer's major version has
// come, because what follows depends on it.
//   - Major 3 or more: ZMTP 3.x, the rest of the 64 bytes, the mechanism.
//   - Revision 1: ZMTP 2.0 (RFC 15; libzmq 3.x, JeroMQ up to 0.3). We
//     send our socket type as libzmq's number and an identity frame (our
//     routing id, maybe empty), read the peer's, and from then on frames
//     are 3.x data frames: flags MORE 01, LONG 02, the other bits reserved
//     (a frame with bit 2 set is data, not a command). The peer's type is
//     checked as a 3.x peer's would be (libzmq does not check it); its
//     identity is its routing id, at most 255 bytes in one frame; no
//     metadata, no PING; subscriptions go as data, as to a 3.0 peer. As in
//     libzmq (zmtp_engine.cpp handshake_v2_0, session_base zap_enabled) a
//     socket whose mechanism is not NULL, or that has a ZAP domain, closes
//     the connection: 2.0 cannot authenticate.
//   - Revision 0, or a first byte other than ff, or byte 9's low bit
//     clear: ZMTP 1.0, refused with an error naming it (libzmq serves it
//     with 1.0's own framing; its peers, libzmq 2.x, are long gone).
//   - Major 2: refused (no ZMTP 2.x greeting has that byte).
//
// What a peer can make one connection hold, and what bounds it (the
// pattern bounds what it keeps itself, such as subscriptions):
//   - the read buffer: readBufSize (64 KiB);
//   - a command frame, the handshake's included: maxCommand (64 KiB),
//     decoded in place from the read buffer;
//   - its metadata: ParseMetadata's caps (wire.MaxProperties, values of at
//     most wire.MaxPropertyValue, an Identity of at most wire.MaxIdentity),
//     within one command frame; kept as one string of its values;
//   - the message being assembled: Config.MaxMsgSize, each frame after the
//     first counting FrameOverhead more (no bound with MaxMsgSize < 0);
//   - a body announced but not yet arrived: eagerInit (64 KiB), or the
//     largest body the connection delivered before, at most eagerAlloc;
//   - decoded messages not yet in the pipe: maxBatch, from one read
//     buffer's worth of bytes (reading waits for the pipe);
//   - the pipe: its HWM, in messages;
//   - PONGs to send: one.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

// Errors that end a connection.
var (
	ErrHandshakeTimeout = errors.New("engine: handshake timed out")
	ErrSocketType       = errors.New("engine: incompatible socket type")
	ErrTooLarge         = errors.New("engine: message larger than the maximum size")
	ErrMechanism        = errors.New("engine: security mechanism mismatch")
	ErrHeartbeat        = errors.New("engine: heartbeat timed out")
)

// Config is what the engine needs from its socket.
type Config struct {
	SocketType   string             // announced as Socket-Type
	Identity     []byte             // announced as Identity when SendIdentity
	SendIdentity bool               // REQ, DEALER and ROUTER always announce one
	Compatible   func(string) bool  // accepts a peer Socket-Type
	Mechanism    security.Mechanism // nil = NULL
	MaxMsgSize   int64              // < 0: unlimited
	Handshake    time.Duration      // 0: no limit
	Heartbeat    Heartbeat          // zero: off
	PeerAddress  string             // Peer-Address property
	ZAP          security.ZAPFunc   // asks the Context's ZAP handler (nil: none)
	ZAPDomain    string             // WithZAPDomain
	ZAPEnforce   bool               // WithZAPEnforceDomain
	Metadata     wire.Metadata      // the application's properties (WithMetadata)
}

// Heartbeat configures ZMTP 3.1 PING/PONG.
type Heartbeat struct {
	Interval time.Duration // send a PING this often (0 = never)
	Timeout  time.Duration // drop the peer if nothing arrives this long after a PING (0 = Interval)
	TTL      time.Duration // asks the peer to drop us if it hears nothing this long
}

// Engine is one connection.
type Engine struct {
	conn net.Conn
	cfg  Config
	r    reader
	w    writer
	// wmu is held by whoever writes to the connection: the writer
	// goroutine while it works, a sender in WriteNow while it is idle.
	wmu sync.Mutex
	dw  direct

	peerMinor byte
	v2        bool // the peer speaks ZMTP 2.0: no commands, no heartbeats
	codec     security.Codec

	closeOnce sync.Once
	done      chan struct{}         // closed by Close
	abortErr  atomic.Pointer[error] // why Abort ended the connection
	pending   []pipe.Msg            // decoded, not yet handed to the socket
	pongMu    sync.Mutex
	pong      []byte // the PONG the writer must send; one at most

	// Heartbeat state: a read deadline stands for both the PING timeout
	// and the peer's TTL, so no goroutine watches the clock.
	hbOn    atomic.Bool
	hbMu    sync.Mutex
	pingDue time.Time     // a PING is unanswered until then
	peerTTL time.Duration // the peer's PING asked for this

	rd lending // who reads the connection: see readnow.go
	// msg is the message being decoded, between two readers' turns.
	msg msgState
}

// New wraps a connection. Nothing is sent until Handshake.
func New(conn net.Conn, cfg Config) *Engine {
	if cfg.Mechanism == nil {
		cfg.Mechanism = security.Null{}
	}
	e := &Engine{conn: conn, cfg: cfg, done: make(chan struct{})}
	e.r.init(conn, cfg.MaxMsgSize)
	e.w.init(conn)
	e.initDirect()
	e.initLending()
	return e
}

// Close ends the connection at once; Run returns.
func (e *Engine) Close() {
	e.closeOnce.Do(func() {
		close(e.done)
		e.conn.Close()
	})
}

// Abort ends the connection at once because the peer broke a limit kept
// above the engine; Run returns err.
func (e *Engine) Abort(err error) {
	e.abortErr.CompareAndSwap(nil, &err)
	e.Close()
}

// Handshake exchanges greetings and runs the mechanism. It returns the
// peer's description. On failure the connection is closed.
func (e *Engine) Handshake(ctx context.Context) (*pipe.Peer, error) {
	if e.cfg.Handshake > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.Handshake)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, func() { e.conn.SetDeadline(time.Unix(1, 0)) })
	peer, err := e.handshake(ctx)
	if !stop() && err == nil {
		// The deadline fired as the handshake ended: the conn's deadline
		// is in the past, so it is unusable anyway.
		err = ctx.Err()
	}
	if err != nil {
		// However the failure showed (a read deadline, a ZAP request cut
		// short), a context that ended says why.
		switch ctx.Err() {
		case context.DeadlineExceeded:
			err = ErrHandshakeTimeout
		case context.Canceled:
			err = context.Canceled
		}
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	e.conn.SetDeadline(time.Time{})
	return peer, nil
}

func (e *Engine) handshake(ctx context.Context) (*pipe.Peer, error) {
	mech := e.cfg.Mechanism
	g := wire.AppendGreeting(make([]byte, 0, wire.GreetingSize), wire.Greeting{
		Major: 3, Minor: 1, Mechanism: mech.Name(), AsServer: mech.AsServer(),
	})
	// The signature and major version go first, the rest once the peer's
	// major is known, as libzmq does: a ZMTP 2.0 peer would read the rest
	// of a 3.x greeting as frames.
	if _, err := e.conn.Write(g[:wire.SignatureSize+1]); err != nil {
		return nil, err
	}
	// Read the signature first so a ZMTP 1.0 peer, which sends less than a
	// greeting and waits, is refused at once instead of at the timeout.
	// Its first byte already tells (a 1.0 identity frame is often just
	// `01 00`, fewer than 10 bytes).
	if err := e.r.fill(1); err != nil {
		return nil, err
	}
	if err := wire.CheckSignature(e.r.avail()); err != nil && !errors.Is(err, wire.ErrShort) {
		return nil, errZMTP1(err)
	}
	if err := e.r.fill(10); err != nil {
		return nil, err
	}
	if err := wire.CheckSignature(e.r.peek(10)); err != nil {
		return nil, errZMTP1(err)
	}
	if err := e.r.fill(11); err != nil {
		return nil, err
	}
	switch major := e.r.peek(11)[10]; {
	case major == wire.RevisionZMTP2:
		return e.handshakeV2()
	case major == wire.RevisionZMTP1:
		return nil, fmt.Errorf("%w: the peer speaks ZMTP 1.0 (revision 0), which azmq does not serve", wire.ErrVersion)
	case major < 3:
		return nil, fmt.Errorf("%w: peer speaks ZMTP major version %d", wire.ErrVersion, major)
	}
	if _, err := e.conn.Write(g[wire.SignatureSize+1:]); err != nil {
		return nil, err
	}
	if err := e.r.fill(wire.GreetingSize); err != nil {
		return nil, err
	}
	pg, err := wire.ParseGreeting(e.r.peek(wire.GreetingSize))
	if err != nil {
		return nil, err
	}
	e.r.consume(wire.GreetingSize)
	e.peerMinor = pg.Minor
	if pg.Major > 3 || pg.Minor > 1 {
		e.peerMinor = 1
	}
	if pg.Mechanism != mech.Name() {
		// Say why before closing; libzmq closes silently, but an ERROR is
		// valid here and tells a peer not to retry with the same settings.
		e.conn.Write(wire.AppendError(nil, "Invalid mechanism "+pg.Mechanism))
		return nil, fmt.Errorf("%w: peer uses %s, we use %s", ErrMechanism, pg.Mechanism, mech.Name())
	}

	local := wire.Metadata{{Name: wire.PropSocketType, Value: []byte(e.cfg.SocketType)}}
	if e.cfg.SendIdentity {
		local = append(local, wire.Property{Name: wire.PropIdentity, Value: e.cfg.Identity})
	}
	local = append(local, e.cfg.Metadata...)
	hs := mech.NewHandshake(local, security.Session{
		ZAP: e.cfg.ZAP, Domain: e.cfg.ZAPDomain, EnforceDomain: e.cfg.ZAPEnforce,
		Address: e.cfg.PeerAddress, Identity: e.cfg.Identity,
	})
	out, err := hs.Start(ctx)
	if len(out) > 0 {
		// Even on failure: out may be the ERROR command telling why.
		if _, werr := e.conn.Write(out); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return nil, err
	}
	for done := false; !done; {
		h, body, err := e.r.frame()
		if err != nil {
			if pc, ok := hs.(security.PeerCloser); ok && isPeerGone(err) {
				return nil, pc.PeerClosed(err)
			}
			return nil, err
		}
		if !h.Command() {
			return nil, fmt.Errorf("%w: data frame during the handshake", security.ErrUnexpected)
		}
		out, done, err = hs.Command(ctx, body)
		if len(out) > 0 {
			if _, werr := e.conn.Write(out); werr != nil && err == nil {
				err = werr
			}
		}
		if err != nil {
			return nil, err
		}
	}
	md := hs.PeerMetadata()
	st, ok := md.Get(wire.PropSocketType)
	if ok && e.cfg.Compatible != nil && !e.cfg.Compatible(string(st)) {
		// Tell the peer why, so a libzmq peer does not reconnect in a loop.
		e.conn.Write(wire.AppendError(nil, "Invalid socket type"))
		return nil, fmt.Errorf("%w: %s cannot talk to %s", ErrSocketType, e.cfg.SocketType, st)
	}
	e.codec = hs.Codec()
	userID, authMD := hs.Auth()
	return e.peer(md, userID, authMD), nil
}

// peer describes the peer from what it announced (md) and what ZAP said of
// it. What this side knows comes first, as in libzmq, where the first of
// two same-named properties wins: a peer that announces its own
// "Peer-Address" or "User-Id" cannot pass for another. The peer's values
// are copied into one string, so a connection keeps about what the peer
// sent (ParseMetadata caps that).
func (e *Engine) peer(md wire.Metadata, userID string, authMD wire.Metadata) *pipe.Peer {
	p := &pipe.Peer{Minor: e.peerMinor}
	n := 0
	if e.cfg.PeerAddress != "" {
		n++
	}
	if userID != "" || len(authMD) > 0 {
		n += 1 + len(authMD)
	}
	p.Props = make([]pipe.KV, 0, n+len(md))
	if e.cfg.PeerAddress != "" {
		p.Props = append(p.Props, pipe.KV{Name: "Peer-Address", Value: e.cfg.PeerAddress})
	}
	if userID != "" || len(authMD) > 0 {
		p.Props = append(p.Props, pipe.KV{Name: "User-Id", Value: userID})
		for _, prop := range authMD {
			p.Props = append(p.Props, pipe.KV{Name: prop.Name, Value: string(prop.Value)})
		}
	}
	size := 0
	for _, prop := range md {
		size += len(prop.Value)
	}
	var all strings.Builder
	all.Grow(size)
	for _, prop := range md {
		all.Write(prop.Value)
	}
	values := all.String()
	for _, prop := range md {
		v := values[:len(prop.Value)]
		values = values[len(prop.Value):]
		p.Props = append(p.Props, pipe.KV{Name: prop.Name, Value: v})
		switch {
		case equalFold(prop.Name, wire.PropSocketType):
			p.SocketType = v
		case equalFold(prop.Name, wire.PropIdentity):
			p.RoutingID = []byte(v) // at most wire.MaxIdentity bytes
		}
	}
	return p
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// PeerMinor is the peer's ZMTP minor version (0 or 1), known after the
// handshake.
func (e *Engine) PeerMinor() byte { return e.peerMinor }

// Run moves messages until the connection ends: inbound messages are
// pushed to p.In (waiting while it is full: back-pressure), outbound ones
// are taken from p.Out. When p.Out is closed and drained, Run flushes,
// closes the connection and returns nil (the socket is closing and its
// messages are delivered). Otherwise it returns why the connection ended.
// A closed p.In only stops the reading: the writer still flushes.
func (e *Engine) Run(p *pipe.Pipe) error {
	werr := make(chan error, 1)
	go func() {
		err := e.writeLoop(p.Out)
		// Drained or failed: either way the connection is over, and
		// closing it ends the reader.
		e.Close()
		werr <- err
	}()
	e.rd.out = p.Out
	rerr := e.readLoop(p.In, p.Out)
	if errors.Is(rerr, pipe.ErrClosed) {
		// The socket stopped reading; the writer finishes its linger.
		return e.aborted(cleanErr(<-werr))
	}
	e.Close()
	err := <-werr
	if rerr != nil && !isClosedErr(rerr) {
		return e.aborted(rerr)
	}
	return e.aborted(cleanErr(err))
}

// aborted is Abort's reason if there was one, else err: the closed
// connection is only a consequence of it.
func (e *Engine) aborted(err error) error {
	if a := e.abortErr.Load(); a != nil {
		return *a
	}
	return err
}

// wsaECONNRESET is Winsock's "connection reset by peer".
const wsaECONNRESET syscall.Errno = 10054

// isPeerGone reports whether a read failed because the peer closed or
// reset the connection.
func isPeerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, wsaECONNRESET)
}

func cleanErr(err error) error {
	if isClosedErr(err) {
		return nil
	}
	return err
}

func isClosedErr(err error) bool {
	return err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, errDrained)
}

// sendPong queues the PONG echoing ctx and wakes the writer. A PONG not yet
// sent is replaced, not joined: a peer that sends PINGs and never reads
// would otherwise grow the queue without end (libzmq, too, keeps one).
// Only the latest matters, as any frame proves us alive.
func (e *Engine) sendPong(ctx []byte, out *pipe.Queue) {
	e.pongMu.Lock()
	e.pong = wire.AppendPong(e.pong[:0], ctx)
	e.pongMu.Unlock()
	out.Readable().Notify()
}

// takePong appends the pending PONG, if any, to dst.
func (e *Engine) takePong(dst []byte) []byte {
	e.pongMu.Lock()
	if len(e.pong) > 0 {
		dst = append(dst, e.pong...)
		e.pong = e.pong[:0]
	}
	e.pongMu.Unlock()
	return dst
}
