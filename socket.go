package azmq

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/engine"
	"github.com/azmq/azmq/internal/msgcopy"
	"github.com/azmq/azmq/internal/pattern"
	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/raw"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/transport"
)

// Socket is a ZeroMQ socket. It is safe for concurrent use by many
// goroutines. Every goroutine it starts has ended when Close returns.
type Socket struct {
	zctx *Context
	typ  SocketType
	cfg  socketConfig
	pat  pattern.Socket
	// addr is pat as a pattern.Addressed, or nil: looked up once, not on
	// every RecvMsg.
	addr pattern.Addressed
	// split is pat as a pattern.Splitter (ROUTER), or nil: RecvInto takes
	// the routing id apart and copies it, with no frame list made.
	split pattern.Splitter
	cp    msgcopy.Copier // Send's copies

	mu       sync.Mutex
	closed   bool
	last     string
	binds    []*binding
	connects []*connecter
	pipes    map[*pipe.Pipe]struct{} // pipes with an engine side, closed at Close
	engines  map[link]*binding       // live connections
	solo     soloTracker
	mon      monitors
	st       stats

	wg         sync.WaitGroup
	done       chan struct{}      // closed when Close starts
	hsCtx      context.Context    // ends when Close starts: aborts handshakes
	hsCancel   context.CancelFunc //
	killCtx    context.Context    // ends when the linger is over
	killCancel context.CancelFunc
}

// binding is one Bind on tcp or ipc.
type binding struct {
	given    string
	resolved string
	l        net.Listener
	closed   bool
}

// connecter is one Connect on tcp or ipc: it dials, and redials after a
// failure, until Disconnect or Close.
type connecter struct {
	given  string
	ep     transport.Endpoint
	pipe   *pipe.Pipe // kept across reconnects; nil when each connection gets its own
	id     []byte     // the routing id its peer gets (ConnectRoutingID), or nil
	ctx    context.Context
	cancel context.CancelFunc

	mu  sync.Mutex
	eng link
}

func newSocket(z *Context, t SocketType, cfg socketConfig, pat pattern.Socket) *Socket {
	s := &Socket{
		zctx:    z,
		typ:     t,
		cfg:     cfg,
		pat:     pat,
		pipes:   make(map[*pipe.Pipe]struct{}),
		engines: make(map[link]*binding),
		done:    make(chan struct{}),
	}
	s.addr, _ = pat.(pattern.Addressed)
	s.split, _ = pat.(pattern.Splitter)
	s.hsCtx, s.hsCancel = context.WithCancel(context.Background())
	s.killCtx, s.killCancel = context.WithCancel(context.Background())
	return s
}

// Type returns the socket's type.
func (s *Socket) Type() SocketType { return s.typ }

// LastEndpoint returns the resolved endpoint of the last successful Bind,
// e.g. "tcp://127.0.0.1:41234" after Bind("tcp://127.0.0.1:*").
func (s *Socket) LastEndpoint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Send queues one message of len(parts) frames. It blocks only where the
// pattern blocks (PUSH, DEALER, REQ, PAIR at the high-water mark or with no
// peer); ctx ends the wait, and then nothing was sent. A ctx that has
// already ended still gets one attempt that does not wait: that is how to
// send without blocking. A nil error means the message was queued whole.
//
// Send copies the frames: once it returns, the caller may refill or reuse
// parts and its slices, as with io.Writer and libzmq's zmq_send.
// SendNoCopy hands the slices over instead.
func (s *Socket) Send(ctx context.Context, parts ...[]byte) error {
	if len(parts) == 0 {
		return errNoFrames
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// The copy is azmq's alone: its large frames' memory is given back
	// once they are written (pipe.Owned).
	frames, tag := s.cp.Copy(parts)
	if err := s.pat.Send(ctx, pipe.Msg{Frames: frames, Tag: tag}); err != nil {
		return s.sendErr(err)
	}
	s.countOut(parts)
	return nil
}

// sendErr says what to use instead where a type sends by address.
func (s *Socket) sendErr(err error) error {
	if err == nil || !errors.Is(err, ErrNotSupported) {
		return err
	}
	switch s.typ {
	case SERVER, PEER:
		return fmt.Errorf("azmq: Send on %s: %w: use SendTo", s.typ, err)
	case RADIO:
		return fmt.Errorf("azmq: Send on %s: %w: use SendGroup", s.typ, err)
	}
	return err
}

// SendNoCopy is Send without the copy: it takes ownership of every slice
// in parts, as libzmq's zmq_msg_send takes a message (parts itself, the
// list, is not kept: the caller may reuse it). The caller must not modify
// the slices afterwards, not even once the message has gone:
// over inproc the receiver gets the very slices, and a PUB may hand them to
// many subscribers. It pays for messages of a few KiB and more, which the
// tcp and ipc writers send from the caller's memory without copying, and
// for messages that are already the program's to give away, such as those
// Recv returned (Proxy forwards them so).
func (s *Socket) SendNoCopy(ctx context.Context, parts ...[]byte) error {
	if len(parts) == 0 {
		return errNoFrames
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// The list is copied (not the bodies) so that parts does not escape:
	// a one-frame call's variadic slice then stays on the caller's stack.
	frames, tag := s.cp.List(parts)
	if err := s.pat.Send(ctx, pipe.Msg{Frames: frames, Tag: tag}); err != nil {
		return s.sendErr(err)
	}
	s.countOut(parts)
	return nil
}

var errNoFrames = errors.New("azmq: Send: a message needs at least one frame")

// Recv waits for one whole message; ctx ends the wait, and then nothing
// was taken. The caller owns the returned slices.
func (s *Socket) Recv(ctx context.Context) ([][]byte, error) {
	m, err := s.RecvMsg(ctx)
	return m.Frames, err
}

// RecvMsg is Recv, with the properties of the connection the message came
// from.
func (s *Socket) RecvMsg(ctx context.Context) (Msg, error) {
	var m Msg
	pm, err := s.recv(ctx, &m)
	m.Frames = pm.Frames
	return m, err
}

// recv takes the next message from the pattern and counts it; m gets the
// properties of where it came from (none on error), not the frames.
func (s *Socket) recv(ctx context.Context, m *Msg) (pipe.Msg, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var (
		pm   pipe.Msg
		addr pattern.Addr
		err  error
	)
	if s.addr != nil {
		pm, addr, m.peer, err = s.addr.RecvAddr(ctx)
	} else {
		pm, m.peer, err = s.pat.Recv(ctx)
	}
	m.RoutingID, m.Group = addr.ID, addr.Group
	if err != nil {
		m.peer = nil
		return pipe.Msg{}, err
	}
	s.countIn(pm.Frames)
	return pm, nil
}

// RecvInto is RecvMsg into m, reusing m's memory: the frame list, and
// each frame's bytes where the new frame fits. It is the receive for a
// loop that handles one message at a time, as a C program reuses one
// zmq_msg_t: small messages are copied out of azmq's memory, which is
// then used again for the next ones, so such a loop allocates next to
// nothing and leaves the collector little to do. Large frames (1 KiB and
// more) are handed over, not copied, and the large frames m held before
// are given back as Release gives them.
//
// What m held before the call is azmq's again: keep nothing of
// m.Frames across calls (copy what you keep), as with bufio.Scanner's
// Bytes. On error m is left empty.
func (s *Socket) RecvInto(ctx context.Context, m *Msg) error {
	var (
		pm  pipe.Msg
		err error
	)
	if s.split != nil {
		pm, err = s.recvSplit(ctx, m)
	} else {
		pm, err = s.recv(ctx, m)
		m.Frames = copyFrames(m.Frames[:0], pm.Frames)
	}
	if pm.Tag != nil && pm.Tag.Chunk != nil {
		// Copied out: the receiver was the last user of the chunk's
		// piece.
		pm.Tag.Chunk.Done(1)
	}
	return err
}

// recvSplit is RecvInto's receive from a ROUTER: the routing id is copied
// from the pipe's, then the frames, into m.
func (s *Socket) recvSplit(ctx context.Context, m *Msg) (pipe.Msg, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	pm, id, split, peer, err := s.split.RecvSplit(ctx)
	m.RoutingID, m.Group, m.peer = 0, "", peer
	if err != nil {
		m.peer = nil
		m.Frames = m.Frames[:0]
		return pipe.Msg{}, err
	}
	old := m.Frames[:cap(m.Frames)]
	out := m.Frames[:0]
	if split {
		// Always a copy, into the first frame's memory where it fits:
		// id is the pipe's own.
		var prev []byte
		if len(old) > 0 {
			prev = old[0]
		}
		if cap(prev) < len(id) {
			prev = make([]byte, 0, max(len(id), 64))
		}
		out = append(out, append(prev[:0], id...))
	}
	m.Frames = appendFrames(out, old, pm.Frames)
	s.countIn(m.Frames)
	return pm, nil
}

// copyFrames puts src's frames into dst's memory where they fit. A small
// frame is always copied (into memory of its own where it does not fit):
// it may be cut from a chunk, or be a sender's buffer handed over inproc,
// which a later call must not write into. A large frame is taken as it
// is, and the large frame it replaces is given back as Release gives it.
func copyFrames(dst, src [][]byte) [][]byte {
	return appendFrames(dst[:0], dst[:cap(dst)], src)
}

// appendFrames is copyFrames from out's end: old is the frame list out
// began as, whose memory the frames at out's positions reuse.
func appendFrames(out, old, src [][]byte) [][]byte {
	for _, f := range src {
		i := len(out)
		var prev []byte
		if i < len(old) {
			prev = old[i] // read before out's append overwrites it
		}
		small := len(f) < bufpool.MinSize
		switch {
		case small && cap(prev) >= len(f):
			f = append(prev[:0], f...)
		case small:
			f = append(make([]byte, 0, max(len(f), 64)), f...)
		case !small && prev != nil:
			bufpool.Enable()
			bufpool.Put(prev)
		}
		out = append(out, f)
	}
	// Slots past the new message's end keep their memory for later.
	return out
}

// Subscribe adds a topic prefix (SUB, and XSUB as a convenience); an empty
// prefix subscribes to everything. On an XPUB with WithXPubManual it
// subscribes the subscriber whose (un)subscription Recv returned last.
// Other types return ErrNotSupported.
func (s *Socket) Subscribe(prefix []byte) error { return s.pat.Subscribe(prefix) }

// Unsubscribe removes one Subscribe of the prefix (XPUB with
// WithXPubManual: cancels that subscriber's topic).
func (s *Socket) Unsubscribe(prefix []byte) error { return s.pat.Unsubscribe(prefix) }

func (s *Socket) engineConfig(peerAddr string) engine.Config {
	t := pattern.Type(s.typ)
	return engine.Config{
		SocketType:   t.String(),
		Identity:     s.cfg.routingID,
		SendIdentity: pattern.SendsIdentity(t),
		Compatible:   func(p string) bool { return pattern.Compatible(t, p) },
		MaxMsgSize:   s.cfg.maxMsgSize,
		Handshake:    s.cfg.handshake,
		Heartbeat: engine.Heartbeat{
			Interval: s.cfg.hbInterval,
			Timeout:  s.cfg.hbTimeout,
			TTL:      s.cfg.hbTTL,
		},
		PeerAddress: peerAddr,
		Mechanism:   s.cfg.mech,
		ZAP:         s.zctx.askZAP,
		ZAPDomain:   s.cfg.zapDomain,
		ZAPEnforce:  s.cfg.zapEnforce,
		Metadata:    s.cfg.metadata,
	}
}

// link is one connection of a socket as the socket runs it: a ZMTP
// engine, and the other kinds of connection beside it.
type link interface {
	// Handshake makes the connection ready and tells who the peer is.
	Handshake(ctx context.Context) (*pipe.Peer, error)
	// Run moves messages between the connection and p until either ends.
	Run(p *pipe.Pipe) error
	// Abort ends the connection for the reason err (Run returns it).
	Abort(err error)
	// Close ends the connection.
	Close()
}

// newLink makes the link that runs a new stream connection: a STREAM's
// carries raw bytes, every other type's speaks ZMTP.
func (s *Socket) newLink(c net.Conn) link {
	if s.typ == STREAM {
		return raw.New(c, transport.PeerAddress(c))
	}
	cfg := s.engineConfig(transport.PeerAddress(c))
	if transport.IsWS(c) {
		// ws keeps its peers alive with WebSocket pings, in the
		// connection: ZWS peers ignore ZMTP's.
		cfg.Heartbeat = engine.Heartbeat{}
	}
	return engine.New(c, cfg)
}

// transportOptions is what ws and wss need of the socket: its mechanism
// picks the subprotocol, and its TLS config and message limit.
func (s *Socket) transportOptions() transport.Options {
	o := transport.Options{TLS: s.cfg.tlsConfig, MaxMsgSize: s.cfg.maxMsgSize, HandshakeTimeout: s.cfg.handshake}
	o.Heartbeat.Interval, o.Heartbeat.Timeout = s.cfg.hbInterval, s.cfg.hbTimeout
	if m := s.cfg.mech; m != nil {
		o.Mechanism, o.AsServer = m.Name(), m.AsServer()
	}
	s.cfg.netConfig.apply(&o)
	return o
}

func (s *Socket) newPipe() *pipe.Pipe {
	// The Out queue's reader is the one connection's writer at a time.
	return pipe.New(s.cfg.sendHWM, s.cfg.recvHWM, s.pat.Readable(), s.pat.Writable(), pipe.NewSingle(), nil)
}

// Bind listens on an endpoint: tcp://host:port (host may be *, port may be
// * or 0 for any free port), ws://host:port/path and wss://host:port/path
// (ZeroMQ over WebSocket, ZWS 2.0; wss needs WithTLSConfig), ipc://path (ipc://@name: Linux abstract
// namespace; ipc://\\.\pipe\NAME or ipc://pipe:NAME: a Windows named
// pipe), inproc://name, and for a DISH udp://host:port or a multicast
// group (see the package doc).
func (s *Socket) Bind(endpoint string) error {
	if isUDP(endpoint) { // udp: RADIO and DISH's datagram path, udp.go
		return s.bindUDP(endpoint)
	}
	ep, err := transport.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("azmq: bind %q: %w", endpoint, err)
	}
	if ep.Transport == "inproc" {
		if s.typ == STREAM {
			return fmt.Errorf("azmq: bind %q: %w", endpoint, errStreamInproc)
		}
		if err := s.bindInproc(ep.Address); err != nil {
			return fmt.Errorf("azmq: bind %q: %w", endpoint, err)
		}
		s.mu.Lock()
		s.last = endpoint
		s.mu.Unlock()
		return nil
	}
	if s.isClosed() {
		return fmt.Errorf("azmq: bind %q: %w", endpoint, ErrClosed)
	}
	if s.typ == STREAM && ep.IsWS() {
		return fmt.Errorf("azmq: bind %q: %w", endpoint, errStreamWS)
	}
	l, err := transport.ListenWith(context.Background(), ep, s.transportOptions())
	if err != nil {
		s.emit(EventBindFailed, endpoint, err)
		return fmt.Errorf("azmq: bind %q: %w", endpoint, err)
	}
	b := &binding{given: endpoint, resolved: transport.Resolved(ep, l), l: l}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return fmt.Errorf("azmq: bind %q: %w", endpoint, ErrClosed)
	}
	s.binds = append(s.binds, b)
	s.last = b.resolved
	s.wg.Add(1)
	s.mu.Unlock()
	s.emit(EventListening, b.resolved, nil)
	go s.acceptLoop(b)
	return nil
}

func (s *Socket) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Socket) acceptLoop(b *binding) {
	defer s.wg.Done()
	for {
		c, err := b.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				s.emit(EventClosed, b.resolved, nil)
				return
			}
			s.emit(EventAcceptFailed, b.resolved, err)
			if transport.Refused(err) {
				continue // one peer's bad request: the next may be good
			}
			// Out of file descriptors and the like: wait a little rather
			// than spin.
			select {
			case <-time.After(20 * time.Millisecond):
			case <-s.done:
				return
			}
			continue
		}
		s.mu.Lock()
		if s.closed || b.closed {
			s.mu.Unlock()
			c.Close()
			continue
		}
		e := s.newLink(c)
		s.engines[e] = b
		s.wg.Add(1)
		s.mu.Unlock()
		s.emit(EventAccepted, c.RemoteAddr().String(), nil)
		go s.serve(e, c.RemoteAddr().String())
	}
}

// serve runs an accepted connection: its pipe lives as long as it does.
func (s *Socket) serve(e link, addr string) {
	defer s.wg.Done()
	defer s.dropEngine(e)
	peer, err := e.Handshake(s.hsCtx)
	if err != nil {
		s.emit(EventHandshakeFailed, addr, err)
		return
	}
	s.emit(EventHandshakeSucceeded, addr, nil)
	s.emit(EventDisconnected, addr, s.runPipe(e, peer, nil))
}

// runPipe gives a connection its own pipe for its lifetime; id is the
// routing id its peer gets (ConnectRoutingID), or nil.
func (s *Socket) runPipe(e link, peer *pipe.Peer, id []byte) error {
	p := s.newPipe()
	p.SetPeer(peer)
	if !s.addPipe(p) {
		e.Close()
		return ErrClosed
	}
	defer s.removePipe(p)
	if err := s.attach(p, id); err != nil {
		e.Close()
		p.Close()
		return err
	}
	err := runEngine(e, p)
	p.In.Close()
	p.Out.Discard()
	s.patDetach(p)
	return err
}

// attach hands p to the pattern, under the routing id id if not nil.
func (s *Socket) attach(p *pipe.Pipe, id []byte) error {
	if id != nil {
		if err := s.pat.(pattern.IDAttacher).AttachID(p, id); err != nil {
			return err
		}
		s.soloChange(p, true)
		return nil
	}
	return s.patAttach(p)
}

// runEngine runs a connection on a pipe, through which the pattern may
// end it (pipe.Fail).
func runEngine(e link, p *pipe.Pipe) error {
	p.OnFail(e.Abort)
	defer p.OnFail(nil)
	if d, ok := e.(pipe.Direct); ok {
		p.Out.SetDirect(d)
		defer p.Out.SetDirect(nil)
	}
	if r, ok := e.(pipe.Reader); ok {
		p.In.SetReader(r)
		defer p.In.SetReader(nil)
	}
	return e.Run(p)
}

func (s *Socket) addPipe(p *pipe.Pipe) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.pipes[p] = struct{}{}
	return true
}

func (s *Socket) removePipe(p *pipe.Pipe) {
	s.mu.Lock()
	delete(s.pipes, p)
	s.mu.Unlock()
}

func (s *Socket) dropEngine(e link) {
	e.Close()
	s.mu.Lock()
	delete(s.engines, e)
	s.mu.Unlock()
}

// Connect connects to an endpoint. The peer need not be there yet: azmq
// retries every WithReconnectInterval, and reconnects after the peer
// restarts. Messages sent meanwhile wait in the queue (up to the
// high-water mark) unless WithImmediate(true). A RADIO connects to a
// DISH over udp://host:port or to a multicast group.
func (s *Socket) Connect(endpoint string) error {
	_, err := s.connect(endpoint)
	return err
}

// connect is Connect; it returns the connection's pipe when the socket has
// one before the connection is up (persistent), nil otherwise.
func (s *Socket) connect(endpoint string) (*pipe.Pipe, error) {
	return s.connectAs(endpoint, nil)
}

// connectAs is connect giving the peer the routing id id, if not nil
// (ConnectRoutingID has checked that s is a ROUTER or STREAM and that the
// endpoint is not inproc).
func (s *Socket) connectAs(endpoint string, id []byte) (*pipe.Pipe, error) {
	if isUDP(endpoint) { // udp: RADIO and DISH's datagram path, udp.go
		return s.connectUDP(endpoint)
	}
	ep, err := transport.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, err)
	}
	if ep.Transport == "inproc" {
		if s.typ == STREAM {
			return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, errStreamInproc)
		}
		_, p, err := s.connectInproc(ep.Address)
		if err != nil {
			return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, err)
		}
		return p, nil
	}
	if s.typ == STREAM && ep.IsWS() {
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, errStreamWS)
	}
	// Only the destination: a tcp source address ("src;dst") may have a
	// wildcard.
	if (ep.Transport == "tcp" || ep.IsWS()) && hasWildcard(destination(ep.Address)) {
		return nil, fmt.Errorf("azmq: connect %q: %w: a wildcard host or port only works for Bind", endpoint, transport.ErrEndpoint)
	}
	c := &connecter{given: endpoint, ep: ep, id: id}
	c.ctx, c.cancel = context.WithCancel(s.killCtx)
	// A ROUTER that knows its peer's id can queue for it before the
	// connection, as libzmq's does.
	if s.persistent() || (id != nil && s.typ == ROUTER && !s.cfg.immediate) {
		c.pipe = s.newPipe()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.cancel()
		return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, ErrClosed)
	}
	if id != nil && s.connectingAsLocked(id) {
		s.mu.Unlock()
		c.cancel()
		return nil, fmt.Errorf("azmq: connect %q: %w: % x", endpoint, pattern.ErrIDInUse, id)
	}
	if c.pipe != nil {
		s.pipes[c.pipe] = struct{}{}
	}
	s.connects = append(s.connects, c)
	s.wg.Add(1)
	s.mu.Unlock()
	if c.pipe != nil {
		if err := s.attach(c.pipe, id); err != nil {
			s.Disconnect(endpoint)
			s.wg.Done()
			return nil, fmt.Errorf("azmq: connect %q: %w", endpoint, err)
		}
	}
	go s.connectLoop(c)
	return c.pipe, nil
}

func hasWildcard(addr string) bool {
	for i := 0; i < len(addr); i++ {
		if addr[i] == '*' {
			return true
		}
	}
	return false
}

// persistent tells whether a connecting socket's queue exists before and
// across its connections. A ROUTER's does not: it can only address a peer
// whose routing id it has learnt. Nor does a STREAM's: raw bytes queued for
// one connection mean nothing to the next.
func (s *Socket) persistent() bool {
	return !s.cfg.immediate && s.typ != ROUTER && s.typ != STREAM
}

func (s *Socket) connectLoop(c *connecter) {
	defer s.wg.Done()
	ivl := s.cfg.reconnectIvl
	done := s.done
	first := true
	for {
		conn, err := transport.DialWith(c.ctx, c.ep, s.transportOptions())
		if c.ctx.Err() != nil {
			if conn != nil {
				conn.Close()
			}
			return
		}
		if err == nil {
			s.emit(EventConnected, c.given, nil)
			ok, herr := s.runConnection(c, conn, first)
			if !ok && s.stopReconnect(c, herr, true) {
				return
			}
			switch {
			case ok:
				first = false
				ivl = s.cfg.reconnectIvl
			case refusal(herr):
				// The peer refused us (ERROR, ZAP, wrong mechanism or
				// type): retrying at once would be a reconnect storm, and
				// libzmq would give up for good. Back off instead, however
				// WithReconnectIntervalMax is set.
				if ivl *= 2; ivl > refusedIvlMax {
					ivl = refusedIvlMax
				}
			}
		} else {
			s.emit(EventConnectDelayed, c.given, err)
			if s.stopReconnect(c, err, false) {
				return
			}
		}
		if c.ctx.Err() != nil {
			return
		}
		if s.isClosed() {
			// Closing: keep trying only while messages wait for this peer,
			// until the linger ends (killCtx).
			if c.pipe == nil || c.pipe.Out.Len() == 0 {
				return
			}
			done = nil
		}
		t := time.NewTimer(jitter(ivl))
		select {
		case <-t.C:
		case <-done:
			t.Stop()
			done = nil
		case <-c.ctx.Done():
			t.Stop()
			return
		}
		if m := s.cfg.reconnectIvlMax; m > 0 && ivl < m {
			if ivl *= 2; ivl > m {
				ivl = m
			}
		}
		s.emit(EventConnectRetried, c.given, nil)
	}
}

// refusedIvlMax caps the backoff after the peer refused the handshake.
const refusedIvlMax = 30 * time.Second

// refusal tells a handshake the peer refused from one that merely failed
// (a timeout, a dropped connection).
func refusal(err error) bool {
	var pe *security.PeerError
	return errors.As(err, &pe) || errors.Is(err, engine.ErrMechanism) || errors.Is(err, engine.ErrSocketType)
}

// jitter spreads a reconnect wait over [3/4, 5/4] of d, so that the many
// clients of a restarted server do not come back in lockstep.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d*3/4 + rand.N(d/2+1)
}

// runConnection handshakes and runs one connection of a connecter. It
// reports whether the handshake succeeded, and why not.
func (s *Socket) runConnection(c *connecter, conn net.Conn, first bool) (bool, error) {
	e := s.newLink(conn)
	s.mu.Lock()
	if c.ctx.Err() != nil {
		s.mu.Unlock()
		e.Close()
		return false, c.ctx.Err()
	}
	s.engines[e] = nil
	s.mu.Unlock()
	c.mu.Lock()
	c.eng = e
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.eng = nil
		c.mu.Unlock()
		s.dropEngine(e)
	}()
	// The handshake stops at Close unless messages wait for this peer.
	hctx := c.ctx
	if c.pipe == nil || c.pipe.Out.Len() == 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithCancel(c.ctx)
		defer cancel()
		stop := context.AfterFunc(s.hsCtx, cancel)
		defer stop()
	}
	peer, err := e.Handshake(hctx)
	if err != nil {
		s.emit(EventHandshakeFailed, c.given, err)
		return false, err
	}
	s.emit(EventHandshakeSucceeded, c.given, nil)
	if c.pipe == nil {
		err = s.runPipe(e, peer, c.id)
	} else {
		c.pipe.SetPeer(peer)
		// A ROUTER's pipe with a chosen id was attached before any
		// connection: it learns of the first one here too.
		if !first || c.id != nil {
			s.pat.Hiccup(c.pipe)
		}
		err = runEngine(e, c.pipe)
		s.pat.Hangup(c.pipe)
	}
	if errors.Is(err, raw.ErrHangup) {
		// A STREAM closed this connection itself: as in libzmq, that
		// ends the Connect too.
		c.cancel()
	}
	s.emit(EventDisconnected, c.given, err)
	return true, nil
}

// Unbind stops listening on an endpoint given to Bind (or its resolved
// form from LastEndpoint) and closes the connections accepted through it.
func (s *Socket) Unbind(endpoint string) error {
	if ep, err := transport.Parse(endpoint); err == nil && ep.Transport == "inproc" {
		if err := s.unbindInproc(ep.Address); err != nil {
			return fmt.Errorf("azmq: unbind %q: %w", endpoint, err)
		}
		return nil
	}
	s.mu.Lock()
	var b *binding
	for i, x := range s.binds {
		if x.given == endpoint || x.resolved == endpoint {
			b = x
			s.binds = append(s.binds[:i], s.binds[i+1:]...)
			break
		}
	}
	if b == nil {
		s.mu.Unlock()
		return fmt.Errorf("azmq: unbind %q: %w", endpoint, errNotBound)
	}
	b.closed = true
	var es []link
	for e, eb := range s.engines {
		if eb == b {
			es = append(es, e)
		}
	}
	s.mu.Unlock()
	b.l.Close()
	for _, e := range es {
		e.Close()
	}
	return nil
}

var (
	errNotBound     = errors.New("endpoint not bound")
	errNotConnected = errors.New("endpoint not connected")
)

// Disconnect stops connecting to an endpoint given to Connect and drops
// its connection and the messages queued for it.
func (s *Socket) Disconnect(endpoint string) error {
	if ep, err := transport.Parse(endpoint); err == nil && ep.Transport == "inproc" {
		if err := s.disconnectInproc(ep.Address); err != nil {
			return fmt.Errorf("azmq: disconnect %q: %w", endpoint, err)
		}
		return nil
	}
	s.mu.Lock()
	var cs []*connecter
	keep := s.connects[:0]
	for _, c := range s.connects {
		if c.given == endpoint || c.ep.String() == endpoint {
			cs = append(cs, c)
		} else {
			keep = append(keep, c)
		}
	}
	s.connects = keep
	for _, c := range cs {
		if c.pipe != nil {
			delete(s.pipes, c.pipe)
		}
	}
	s.mu.Unlock()
	if len(cs) == 0 {
		return fmt.Errorf("azmq: disconnect %q: %w", endpoint, errNotConnected)
	}
	for _, c := range cs {
		c.cancel()
		c.mu.Lock()
		if c.eng != nil {
			c.eng.Close()
		}
		c.mu.Unlock()
		if c.pipe != nil {
			c.pipe.In.Close()
			c.pipe.Out.Discard()
			s.patDetach(c.pipe)
		}
	}
	return nil
}

// Close closes the socket: blocked and later calls return ErrClosed,
// listeners stop, and pending outbound messages are sent for up to the
// linger (WithLinger; default 5 s) before every connection is dropped.
// Close returns when every goroutine of the socket has ended. Calling it
// again does nothing.
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.hsCancel()
	binds := s.binds
	s.binds = nil
	pipes := make([]*pipe.Pipe, 0, len(s.pipes))
	for p := range s.pipes {
		pipes = append(pipes, p)
	}
	s.mu.Unlock()

	s.pat.Close()
	s.zctx.closeInproc(s)
	s.zctx.zap.handlerClosed(s)
	for _, b := range binds {
		b.l.Close()
	}
	linger := s.cfg.linger
	for _, p := range pipes {
		p.In.Close()
		if linger == 0 {
			p.Out.Discard()
		} else {
			p.Out.Close() // the engine sends what is queued, then ends
		}
	}
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	if linger == 0 {
		s.kill()
		<-finished
	} else if linger < 0 {
		<-finished
	} else {
		t := time.NewTimer(linger)
		select {
		case <-finished:
			t.Stop()
		case <-t.C:
			s.kill()
			<-finished
		}
	}
	s.killCancel()
	s.zctx.forget(s)
	s.mon.close()
	return nil
}

// kill ends the linger: every connection is dropped now.
func (s *Socket) kill() {
	s.killCancel()
	s.mu.Lock()
	es := make([]link, 0, len(s.engines))
	for e := range s.engines {
		es = append(es, e)
	}
	s.mu.Unlock()
	for _, e := range es {
		e.Close()
	}
}
