package azmq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

// zapEndpoint is where a ZAP handler binds, in the same Context (RFC 27).
const zapEndpoint = "zeromq.zap.01"

// errZAPHandlerGone fails the requests still unanswered when the handler
// they were sent to closes, or another handler takes its place: no reply
// can come back to them. It refuses the peer (unlike ErrNoZAPHandler,
// which lets CURVE and NULL peers pass), since its request was never
// decided.
var errZAPHandlerGone = errors.New("azmq: the ZAP handler went away before it answered")

var errZAPReply = errors.New("azmq: malformed ZAP reply")

// zapClient is a Context's one connection to its ZAP handler. Every
// server-side handshake that needs ZAP sends its request through it under
// a request id of its own, so many requests are outstanding at once and
// a slow answer to one peer holds up no other. A reader goroutine hands
// each reply to the handshake waiting for its id.
//
// Lock order: zapClient.mu, then Context.mu.
type zapClient struct {
	z *Context

	mu      sync.Mutex
	closed  bool                      // the Context closed: no new DEALER
	sock    *Socket                   // the DEALER; nil until first needed
	target  *Socket                   // the handler sock is joined to
	next    uint64                    // the last request id handed out
	waiting map[string]chan zapResult // by request id; each is buffered (1)
	stop    context.CancelFunc        // ends the reader
	wg      sync.WaitGroup            // the reader
}

type zapResult struct {
	rep security.ZAPReply
	err error
}

// askZAP sends one request to the Context's ZAP handler and waits for its
// reply (RFC 27), or for ctx to end. It returns security.ErrNoZAPHandler
// when no handler is bound.
func (z *Context) askZAP(ctx context.Context, req security.ZAPRequest) (security.ZAPReply, error) {
	c := &z.zap
	sock, id, ch, err := c.register()
	if err != nil {
		return security.ZAPReply{}, err
	}
	frames := [][]byte{{}, []byte("1.0"), []byte(id), []byte(req.Domain), []byte(req.Address),
		req.Identity, []byte(req.Mechanism)}
	frames = append(frames, req.Credentials...)
	if err := sock.Send(ctx, frames...); err != nil {
		c.forget(id)
		return security.ZAPReply{}, fmt.Errorf("azmq: ZAP request: %w", err)
	}
	select {
	case r := <-ch:
		return r.rep, r.err
	case <-ctx.Done():
		// A reply that comes later finds no one waiting and is dropped.
		c.forget(id)
		return security.ZAPReply{}, fmt.Errorf("azmq: ZAP reply: %w", ctx.Err())
	}
}

// register picks a request id and a slot for its reply. It makes the
// DEALER when first needed, and joins it to the handler bound now.
func (c *zapClient) register() (*Socket, string, chan zapResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, "", nil, fmt.Errorf("azmq: ZAP request: %w", ErrClosed)
	}
	c.z.mu.Lock()
	h := c.z.inproc[zapEndpoint]
	c.z.mu.Unlock()
	if h == nil {
		return nil, "", nil, security.ErrNoZAPHandler
	}
	if c.sock == nil {
		d, err := c.z.NewSocket(DEALER, WithLinger(0))
		if err != nil {
			return nil, "", nil, fmt.Errorf("azmq: ZAP client: %w", err)
		}
		ctx, stop := context.WithCancel(context.Background())
		c.sock, c.stop, c.target = d, stop, nil
		if c.waiting == nil {
			c.waiting = make(map[string]chan zapResult)
		}
		c.wg.Add(1)
		go c.read(ctx, d)
	}
	if c.target != h {
		// A handler unbound and another bound: requests sent to the old one
		// can get no answer now, and new ones must go to the new one.
		c.failAll(errZAPHandlerGone)
		c.sock.disconnectInproc(zapEndpoint) // not joined yet: nothing to undo
		joined, _, err := c.sock.connectInproc(zapEndpoint)
		if err != nil {
			c.target = nil
			c.sock.disconnectInproc(zapEndpoint)
			return nil, "", nil, fmt.Errorf("azmq: ZAP client: connect inproc://%s: %w", zapEndpoint, err)
		}
		c.target = joined
		if joined == nil { // unbound in the meantime
			c.sock.disconnectInproc(zapEndpoint)
			return nil, "", nil, security.ErrNoZAPHandler
		}
	}
	c.next++
	id := strconv.FormatUint(c.next, 10)
	ch := make(chan zapResult, 1)
	c.waiting[id] = ch
	return c.sock, id, ch, nil
}

// forget drops the slot of a request nobody waits for any more.
func (c *zapClient) forget(id string) {
	c.mu.Lock()
	delete(c.waiting, id)
	c.mu.Unlock()
}

// failAll ends every wait with err. c.mu is held.
func (c *zapClient) failAll(err error) {
	for id, ch := range c.waiting {
		ch <- zapResult{err: err}
		delete(c.waiting, id)
	}
}

// handlerClosed is told of every socket of the Context that closes: if it
// was the handler, the requests it had not answered fail now instead of
// waiting for their handshake timeout.
func (c *zapClient) handlerClosed(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target == s {
		c.target = nil
		c.failAll(errZAPHandlerGone)
	}
}

// read hands each reply to the request waiting for its id, until ctx ends
// or the DEALER closes. A reply no one waits for (a late one, an unknown
// id, one without a delimiter) is dropped; a malformed reply to a known
// id fails that request.
func (c *zapClient) read(ctx context.Context, sock *Socket) {
	defer c.wg.Done()
	for {
		f, err := sock.Recv(ctx)
		if err != nil {
			c.mu.Lock()
			if c.sock == sock {
				c.sock, c.target = nil, nil
				c.failAll(fmt.Errorf("azmq: ZAP reply: %w", err))
			}
			c.mu.Unlock()
			return
		}
		if len(f) < 3 || len(f[0]) != 0 {
			continue // no request id to match
		}
		c.mu.Lock()
		ch, ok := c.waiting[string(f[2])]
		delete(c.waiting, string(f[2]))
		c.mu.Unlock()
		if !ok {
			continue
		}
		rep, err := parseZAPReply(f)
		ch <- zapResult{rep: rep, err: err} // never blocks: the slot holds one
	}
}

// shutdown stops the reader and waits for it. After it, no request can be
// sent. It runs when the Context closes, after its sockets have.
func (c *zapClient) shutdown() {
	c.mu.Lock()
	c.closed = true
	stop, sock := c.stop, c.sock
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	if sock != nil {
		sock.Close()
	}
	c.wg.Wait()
}

// parseZAPReply checks a reply as the DEALER received it: [delimiter,
// version, request id, status, status text, user id, metadata]. The
// request id was matched already.
func parseZAPReply(f [][]byte) (security.ZAPReply, error) {
	if len(f) != 7 || len(f[0]) != 0 {
		return security.ZAPReply{}, fmt.Errorf("%w: %d frames", errZAPReply, len(f))
	}
	if string(f[1]) != "1.0" {
		return security.ZAPReply{}, fmt.Errorf("%w: version %q", errZAPReply, f[1])
	}
	st := string(f[3])
	if len(st) != 3 || st[0] < '2' || st[0] > '5' || st[1:] != "00" {
		return security.ZAPReply{}, fmt.Errorf("%w: status %q", errZAPReply, st)
	}
	md, err := wire.ParseMetadata(f[6])
	if err != nil {
		return security.ZAPReply{}, fmt.Errorf("%w: metadata: %v", errZAPReply, err)
	}
	return security.ZAPReply{Status: st, Text: string(f[4]), UserID: string(f[5]), Metadata: md}, nil
}
