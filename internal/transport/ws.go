package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Options is what the transports need from the socket: most of it is for
// ws and wss; Net is for tcp and ipc.
type Options struct {
	Mechanism  string      // the socket's mechanism name ("" = NULL): picks the subprotocol
	AsServer   bool        // the socket's mechanism is a server (PLAIN or CURVE)
	TLS        *tls.Config // wss: the certificate to serve, or the roots to trust
	MaxMsgSize int64       // WithMaxMsgSize (< 0: none): bounds a ws message
	// HandshakeTimeout bounds a dial's WebSocket upgrade (0: none); the
	// ZMTP handshake that follows has the engine's own.
	HandshakeTimeout time.Duration
	// Heartbeat: WebSocket pings every Interval, the connection closed
	// when a pong takes longer than Timeout (0: Interval). Interval 0: off.
	Heartbeat struct{ Interval, Timeout time.Duration }
	// Net: tcp's (and ipc's) socket-level settings, net.go.
	Net Net
}

func (o Options) mech() string {
	if o.Mechanism == "" {
		return "NULL"
	}
	return o.Mechanism
}

// peerAsServer is the as-server bit of the greeting synthesized for the
// peer: the opposite role of ours under PLAIN and CURVE.
func (o Options) peerAsServer() bool {
	return o.mech() != "NULL" && !o.AsServer
}

// wsHeaderTimeout bounds how long a client may take to send its upgrade
// request.
const wsHeaderTimeout = 10 * time.Second

// IsWS reports whether e is a ws:// or wss:// endpoint.
func (e Endpoint) IsWS() bool { return e.Transport == "ws" || e.Transport == "wss" }

// splitWS splits a ws address "host:port[/path]" into its validated
// host:port and its path ("/" when none is given).
func splitWS(addr string) (tcpAddr, string, string, error) {
	hostport, path := addr, "/"
	// An IPv6 literal holds no '/', so the first one starts the path.
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		hostport, path = addr[:i], addr[i:]
	}
	a, err := splitTCP(hostport)
	if err != nil {
		return tcpAddr{}, "", "", err
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '*' {
			return tcpAddr{}, "", "", bad(fmt.Sprintf("invalid character %q in ws path", c))
		}
	}
	return a, hostport, path, nil
}

// hasCertificate reports whether cfg can serve TLS.
func hasCertificate(cfg *tls.Config) bool {
	return cfg != nil && (len(cfg.Certificates) > 0 || cfg.GetCertificate != nil || cfg.GetConfigForClient != nil)
}

// wsListener serves the upgrade of one path on its own http.Server and
// hands the upgraded connections to Accept. A request that fails to
// upgrade is an Accept error, so the socket's monitor tells why.
type wsListener struct {
	tcp      net.Listener
	srv      *http.Server
	path     string
	o        Options
	resolved string

	results chan acceptResult
	done    chan struct{}

	mu       sync.Mutex
	closed   bool
	handlers sync.WaitGroup
	serving  sync.WaitGroup
	once     sync.Once
}

type acceptResult struct {
	c   net.Conn
	err error
}

func listenWS(ctx context.Context, ep Endpoint, o Options) (net.Listener, error) {
	if err := ep.check(); err != nil {
		return nil, err
	}
	_, hostport, path, err := splitWS(ep.Address)
	if err != nil {
		return nil, err
	}
	if ep.Transport == "wss" && !hasCertificate(o.TLS) {
		return nil, ErrTLSConfig
	}
	tl, err := listenTCP(ctx, hostport, o.Net)
	if err != nil {
		return nil, err
	}
	l := &wsListener{
		tcp: tl, path: path, o: o,
		results: make(chan acceptResult),
		done:    make(chan struct{}),
	}
	tcpResolved := Resolved(Endpoint{Transport: "tcp", Address: hostport}, tl)
	l.resolved = ep.Transport + "://" + strings.TrimPrefix(tcpResolved, "tcp://") + path
	var inner net.Listener = corkListener{tl}
	if ep.Transport == "wss" {
		cfg := o.TLS.Clone()
		cfg.NextProtos = []string{"http/1.1"} // WebSocket upgrades need HTTP/1.1
		inner = tls.NewListener(tl, cfg)
	}
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		ReadHeaderTimeout: wsHeaderTimeout,
		// Failed TLS handshakes and the like are the peer's business;
		// they must not reach the program's log.
		ErrorLog: log.New(io.Discard, "", 0),
		// Idle keep-alive connections (plain HTTP clients) are closed.
		IdleTimeout: wsHeaderTimeout,
		// The upgrade finds its connection's corkConn here (below TLS).
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn()
			}
			if cc, ok := c.(*corkConn); ok {
				return context.WithValue(ctx, corkKey{}, cc)
			}
			return ctx
		},
	}
	l.serving.Add(1)
	go func() {
		defer l.serving.Done()
		l.srv.Serve(inner)
	}()
	return l, nil
}

func (l *wsListener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	l.handlers.Add(1)
	l.mu.Unlock()
	defer l.handlers.Done()
	// A dedicated endpoint takes any Origin, as libzmq's does: who may
	// talk is the security mechanism's call.
	c, err := upgrade(w, r, l.o, true)
	select {
	case l.results <- acceptResult{c, err}:
	case <-l.done:
		if c != nil {
			c.Close()
		}
	}
}

// Refused reports whether an Accept error is a request the listener
// refused (no upgrade, no common subprotocol): that peer's failure, after
// which the listener goes on at once.
func Refused(err error) bool {
	return errors.Is(err, ErrWSUpgrade) || errors.Is(err, ErrWSSubprotocol)
}

// Accept returns the next upgraded connection, or the reason a request
// could not be upgraded (wrapping ErrWSUpgrade or ErrWSSubprotocol).
func (l *wsListener) Accept() (net.Conn, error) {
	select {
	case r := <-l.results:
		if r.err != nil {
			return nil, fmt.Errorf("transport: accept %s: %w", l.resolved, r.err)
		}
		return r.c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops listening; connections already accepted stay open.
func (l *wsListener) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.done)
		err = l.srv.Close()
		l.serving.Wait()
		l.handlers.Wait()
	})
	return err
}

func (l *wsListener) Addr() net.Addr { return l.tcp.Addr() }

func (l *wsListener) resolvedEndpoint() string { return l.resolved }

// Upgrade answers an HTTP request with a WebSocket upgrade to ZWS 2.0 and
// returns the connection, ready for the engine. A request that is no
// upgrade or offers no subprotocol for o.Mechanism is answered with an
// HTTP error, and the error says why. The Origin must match the Host, as
// browsers' same-origin rule would have it: a socket mounted on a web
// server must not be reachable from any page a visitor opens.
func Upgrade(w http.ResponseWriter, r *http.Request, o Options) (net.Conn, error) {
	return upgrade(w, r, o, false)
}

func upgrade(w http.ResponseWriter, r *http.Request, o Options, anyOrigin bool) (net.Conn, error) {
	if !headerHas(r.Header, "Upgrade", "websocket") || r.Header.Get("Sec-WebSocket-Key") == "" {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this endpoint speaks ZeroMQ over WebSocket (ZWS 2.0)", http.StatusUpgradeRequired)
		return nil, fmt.Errorf("%w: %s %s from %s", ErrWSUpgrade, r.Method, r.URL.Path, r.RemoteAddr)
	}
	offers := headerTokens(r.Header, "Sec-WebSocket-Protocol")
	proto, ok := selectProtocol(offers, o.mech())
	if !ok {
		http.Error(w, "no ZWS 2.0 subprotocol for mechanism "+o.mech(), http.StatusBadRequest)
		return nil, fmt.Errorf("%w: %s offers %q, this socket uses %s", ErrWSSubprotocol, r.RemoteAddr, offers, o.mech())
	}
	var zc atomic.Pointer[zwsConn]
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{proto},
		InsecureSkipVerify: anyOrigin,
		CompressionMode:    websocket.CompressionDisabled,
		OnPongReceived:     func(context.Context, []byte) { pongTo(&zc) },
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWSUpgrade, err)
	}
	limit := messageLimit(o.MaxMsgSize)
	ws.SetReadLimit(limit + 1) // ours (next) reports it first
	mech, _ := mechanismOf(proto)
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	var remote net.Addr = stringAddr(r.RemoteAddr)
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		remote = net.TCPAddrFromAddrPort(ap)
	}
	c := newZWSConn(ws, mech, o.peerAsServer(), limit, local, remote)
	c.bare = proto == zwsBare
	c.cork, _ = r.Context().Value(corkKey{}).(*corkConn)
	zc.Store(c)
	c.heartbeat(o.Heartbeat.Interval, o.Heartbeat.Timeout)
	return c, nil
}

// pongTo tells the connection, once made, that a pong came.
func pongTo(zc *atomic.Pointer[zwsConn]) {
	if c := zc.Load(); c != nil {
		c.alive()
	}
}

// stringAddr is a remote address net/http gave in a form not ip:port.
type stringAddr string

func (a stringAddr) Network() string { return "ws" }
func (a stringAddr) String() string  { return string(a) }

// headerTokens returns the comma-separated tokens of every h[name].
func headerTokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func headerHas(h http.Header, name, token string) bool {
	for _, t := range headerTokens(h, name) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

func dialWS(ctx context.Context, ep Endpoint, o Options) (net.Conn, error) {
	if err := ep.check(); err != nil {
		return nil, err
	}
	a, _, _, err := splitWS(ep.Address)
	if err != nil {
		return nil, err
	}
	if a.host == wildcard {
		return nil, bad(`host "*" is only valid for bind`)
	}
	if a.wildcardPort() {
		return nil, bad(fmt.Sprintf("port %q is only valid for bind", a.port))
	}
	// The raw connection's addresses, for Peer-Address; the transport
	// dials on a goroutine of its own.
	if o.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.HandshakeTimeout)
		defer cancel()
	}
	var raw atomic.Pointer[corkConn]
	d := o.Net.dialer(netip.AddrPort{}, false) // keepalive, buffers, TOS, device: not the SOCKS proxy
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cc := &corkConn{Conn: c}
			raw.Store(cc)
			return cc, nil
		},
		DisableKeepAlives: true,
		// No proxy from the environment: a ZeroMQ endpoint is dialed
		// directly, as tcp:// is.
		Proxy: nil,
	}
	if o.TLS != nil {
		tr.TLSClientConfig = o.TLS.Clone()
	}
	defer tr.CloseIdleConnections()
	offers := offer(o.mech())
	var zc atomic.Pointer[zwsConn]
	ws, resp, err := websocket.Dial(ctx, ep.String(), &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: tr},
		Subprotocols:    offers,
		CompressionMode: websocket.CompressionDisabled,
		OnPongReceived:  func(context.Context, []byte) { pongTo(&zc) },
	})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusBadRequest {
			return nil, fmt.Errorf("%w (offered %q): %w", ErrWSSubprotocol, offers, err)
		}
		return nil, err
	}
	mech, ok := mechanismOf(ws.Subprotocol())
	if !ok || mech != o.mech() {
		ws.CloseNow()
		return nil, fmt.Errorf("%w: server chose %q, we offered %q", ErrWSSubprotocol, ws.Subprotocol(), offers)
	}
	limit := messageLimit(o.MaxMsgSize)
	ws.SetReadLimit(limit + 1)
	cc := raw.Load()
	if cc == nil {
		ws.CloseNow()
		return nil, fmt.Errorf("transport: ws: upgraded without a connection of ours")
	}
	c := newZWSConn(ws, mech, o.peerAsServer(), limit, cc.LocalAddr(), cc.RemoteAddr())
	c.bare = ws.Subprotocol() == zwsBare
	c.cork = cc
	zc.Store(c)
	c.heartbeat(o.Heartbeat.Interval, o.Heartbeat.Timeout)
	return c, nil
}
