package azmq

import (
	"fmt"
	"sync"

	"github.com/azmq/azmq/internal/pattern"
)

// Context owns sockets and the inproc endpoints they share. Sockets of
// different contexts cannot talk over inproc. A Context is safe for
// concurrent use.
type Context struct {
	mu      sync.Mutex
	closed  bool
	sockets map[*Socket]struct{}
	inproc  map[string]*Socket          // bound inproc names
	pending map[string][]*inprocPending // connects waiting for a bind
	links   []*inprocLink
	zap     zapClient // asks the ZAP handler for every handshake that needs it
}

// NewContext makes a Context.
func NewContext(opts ...ContextOption) *Context {
	c := &Context{
		sockets: make(map[*Socket]struct{}),
		inproc:  make(map[string]*Socket),
		pending: make(map[string][]*inprocPending),
	}
	c.zap.z = c
	for _, o := range opts {
		o(c)
	}
	return c
}

var (
	defaultOnce sync.Once
	defaultCtx  *Context
)

// NewSocket makes a socket on a process-wide default Context.
func NewSocket(t SocketType, opts ...SocketOption) (*Socket, error) {
	defaultOnce.Do(func() { defaultCtx = NewContext() })
	return defaultCtx.NewSocket(t, opts...)
}

// NewSocket makes a socket of type t. Options are validated here.
func (c *Context) NewSocket(t SocketType, opts ...SocketOption) (*Socket, error) {
	if !pattern.Type(t).Valid() {
		return nil, fmt.Errorf("azmq: NewSocket: unknown socket type %d", int(t))
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.reconnectIvlMax > 0 && cfg.reconnectIvlMax < cfg.reconnectIvl {
		return nil, fmt.Errorf("azmq: WithReconnectIntervalMax(%v) is below WithReconnectInterval(%v)", cfg.reconnectIvlMax, cfg.reconnectIvl)
	}
	if t == STREAM && cfg.mech != nil {
		// Raw bytes have no handshake: a STREAM with PLAIN or CURVE would
		// send in clear what its program believes protected (libzmq
		// ignores the option silently).
		return nil, fmt.Errorf("azmq: NewSocket(STREAM): a STREAM sends raw bytes: no PLAIN or CURVE: %w", ErrNotSupported)
	}
	if cfg.zapEnforce && cfg.zapDomain == "" && cfg.mechOpt == "WithPlainServer" {
		// libzmq asserts here; a PLAIN server asks ZAP for every client,
		// and RFC 27 has no request without a domain.
		return nil, fmt.Errorf("azmq: NewSocket: WithZAPEnforceDomain with WithPlainServer needs WithZAPDomain")
	}
	if err := cfg.checkTypes(t); err != nil {
		return nil, err
	}
	pat, err := pattern.New(pattern.Type(t), pattern.Options{
		RouterMandatory: cfg.routerMandatory, MaxSubscriptionBytes: cfg.maxSubBytes,
		PubSub: cfg.pubsubConfig.pattern(), Routing: cfg.routerConfig.pattern(),
	})
	if err != nil {
		return nil, err
	}
	s := newSocket(c, t, cfg, pat)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		pat.Close()
		return nil, fmt.Errorf("azmq: NewSocket: %w", ErrClosed)
	}
	c.sockets[s] = struct{}{}
	return s, nil
}

// Close closes every socket of the context, in parallel, each honouring
// its linger, and returns when all have finished, and so has the
// goroutine that reads the ZAP handler's replies. Later NewSocket calls
// fail with ErrClosed.
func (c *Context) Close() error {
	c.mu.Lock()
	c.closed = true
	socks := make([]*Socket, 0, len(c.sockets))
	for s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Close()
		}()
	}
	wg.Wait()
	c.zap.shutdown()
	return nil
}

func (c *Context) forget(s *Socket) {
	c.mu.Lock()
	delete(c.sockets, s)
	c.mu.Unlock()
}
