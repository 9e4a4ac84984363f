package zap

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/z85"
)

// Endpoint is where a ZAP handler binds, as RFC 27 prescribes.
const Endpoint = "inproc://zeromq.zap.01"

// Status codes of a ZAP reply (RFC 27).
const (
	StatusOK        = "200" // the client is authenticated
	StatusTempError = "300" // a temporary error: try again later
	StatusDenied    = "400" // the client is denied
	StatusError     = "500" // the request is malformed, or the handler failed
)

// version is the only ZAP version there is.
const version = "1.0"

// DefaultWorkers is how many requests a Handler decides at once unless
// SetWorkers says otherwise: enough that a few slow decisions (an AuthFunc
// asking a database) leave room for the others, few enough that a flood
// of handshakes cannot start an unbounded number of them. The built-in
// lists decide in microseconds and need no more.
const DefaultWorkers = 16

// Handler answers ZAP requests (RFC 27) for the sockets of one azmq.Context.
// The zero value is not usable; create one with NewHandler. A Handler is safe
// for concurrent use, and it may be configured while it serves.
type Handler struct {
	mu      sync.RWMutex
	policy                     // the global policy: domains without one of their own
	domains map[string]*policy // Domain's policies
	auth    AuthFunc
	workers int
	recheck time.Duration // how often a certificate directory is looked at

	// Passwords are kept and compared as HMAC-SHA-256 digests under a key
	// of this Handler's own: every comparison is of two values of one
	// length, whatever the password's length.
	key   [32]byte
	dummy digest                // compared against when the user is unknown
	equal func(x, y []byte) int // subtle.ConstantTimeCompare; tests watch it
}

// digest is a password as the Handler keeps it.
type digest [sha256.Size]byte

// NewHandler returns a Handler with empty lists: it lets NULL clients from
// any address pass and denies every PLAIN and CURVE client until users or
// keys are added.
func NewHandler() *Handler {
	h := &Handler{
		policy:  newPolicy(),
		domains: make(map[string]*policy),
		workers: DefaultWorkers,
		recheck: DirRecheck,
		equal:   subtle.ConstantTimeCompare,
	}
	// crypto/rand.Read does not fail (it crashes the program rather than
	// return weak bytes).
	rand.Read(h.key[:])
	rand.Read(h.dummy[:])
	return h
}

// Request is a ZAP request as an AuthFunc sees it: a well-formed one, for
// the NULL, PLAIN or CURVE mechanism, from an address the allow and deny
// lists let through.
type Request struct {
	Domain    string // the server socket's ZAP domain (azmq.WithZAPDomain); may be empty
	Address   string // the client's IP address, without a port
	Identity  []byte // the server socket's own routing id, as libzmq sends it
	Mechanism string // "NULL", "PLAIN" or "CURVE"
	Username  string // PLAIN: the user name the client gave
	Password  string // PLAIN: its password
	PublicKey string // CURVE: the client's long-term public key, in Z85
}

// Decision is what an AuthFunc decides of a request.
type Decision struct {
	// Allow lets the client pass (status 200); false refuses it (400).
	Allow bool
	// UserID is an allowed client's User-Id, which the server socket's
	// messages from it carry (azmq.Msg.Property("User-Id")).
	UserID string
	// Text is the status text; empty means "OK" or "denied". The client
	// never sees it, but the server socket's monitor reports it on a
	// refusal.
	Text string
}

// AuthFunc makes a Handler's decision for it, for example by asking a
// database or a remote service. It may be slow: the Handler runs up to
// SetWorkers of them at once, so a slow one holds up no other request.
// ctx ends when the Handler stops serving; f must return then, since
// Serve waits for it. The handshake that asked waits no longer than its
// handshake timeout (azmq.WithHandshakeTimeout, 30 s by default): bound
// f's own waits below that, or a late decision holds a worker for
// nothing. An error means no decision could be made: the client gets
// status 300, a temporary failure, which drops its connection without
// telling it to give up, so it tries again later.
type AuthFunc func(ctx context.Context, req Request) (Decision, error)

// SetAuthFunc makes f decide every request the address lists let
// through (those of the request's domain policy, see Domain), in place of
// the user tables, the CURVE key lists and directories and AllowAnyCurve,
// which f may keep or ignore as it likes. Requests that
// are malformed or name another mechanism never reach f. A nil f goes back
// to the built-in decision.
func (h *Handler) SetAuthFunc(f AuthFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.auth = f
}

// SetWorkers sets how many requests the Handler decides at once; n < 1
// restores DefaultWorkers. When all of them are busy, further requests
// wait in the handler socket's queue. It applies to the Serve and Start
// calls made after it.
func (h *Handler) SetWorkers(n int) {
	if n < 1 {
		n = DefaultWorkers
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.workers = n
}

// digest is the form in which a password is kept and compared.
func (h *Handler) digest(password []byte) digest {
	m := hmac.New(sha256.New, h.key[:])
	m.Write(password)
	var d digest
	m.Sum(d[:0])
	return d
}

// checkPassword reports whether username is in the user table with this
// password. Its work does not depend on whether the user exists, nor on
// the length of either password, so its timing tells neither: it always
// digests the password given and compares two digests in constant time,
// the stored one or, for an unknown user, a dummy. h.mu is held.
func (h *Handler) checkPassword(username string, password []byte) bool {
	return h.checkPasswordIn(h.users, username, password)
}

// checkPasswordIn is checkPassword against the user table of a policy.
func (h *Handler) checkPasswordIn(users map[string]digest, username string, password []byte) bool {
	want, known := users[username]
	if !known {
		want = h.dummy
	}
	got := h.digest(password)
	same := h.equal(got[:], want[:])
	knownBit := 0
	if known {
		knownBit = 1
	}
	return same&knownBit == 1
}

// Serve binds a ROUTER socket on inproc://zeromq.zap.01 in zctx and answers
// ZAP requests until ctx ends; it then returns ctx.Err(). It returns a bind
// error at once, for instance when another handler is bound in zctx
// already, and an error wrapping azmq.ErrClosed when zctx is closed under
// it. It decides up to SetWorkers requests at once, each in a goroutine
// of its own; when it stops, it cancels the ctx of the decisions still
// running and waits for them. Serve closes its socket before it returns.
func (h *Handler) Serve(ctx context.Context, zctx *azmq.Context) error {
	sock, err := h.bind(ctx, zctx)
	if err != nil {
		return err
	}
	return h.loop(ctx, sock)
}

// Start is Serve with the bind done before it returns: once Start returns
// nil, every handshake of zctx is answered by h. It serves in a goroutine
// until ctx ends; wait waits for that goroutine and returns what Serve
// would have.
func (h *Handler) Start(ctx context.Context, zctx *azmq.Context) (wait func() error, err error) {
	sock, err := h.bind(ctx, zctx)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- h.loop(ctx, sock) }()
	var once sync.Once
	var result error
	return func() error {
		once.Do(func() { result = <-done })
		return result
	}, nil
}

func (h *Handler) bind(ctx context.Context, zctx *azmq.Context) (*azmq.Socket, error) {
	if zctx == nil {
		return nil, errors.New("zap: Serve: nil azmq.Context")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sock, err := zctx.NewSocket(azmq.ROUTER, azmq.WithLinger(0))
	if err != nil {
		return nil, fmt.Errorf("zap: %w", err)
	}
	if err := sock.Bind(Endpoint); err != nil {
		sock.Close()
		return nil, fmt.Errorf("zap: bind %s: %w", Endpoint, err)
	}
	return sock, nil
}

// loop answers requests on a bound socket until ctx ends, then closes it.
// It receives; each request is decided and answered by a worker goroutine
// of its own, at most h.workers at once, so replies go out as they are
// ready rather than in the order the requests came.
func (h *Handler) loop(ctx context.Context, sock *azmq.Socket) error {
	h.mu.RLock()
	n := h.workers
	h.mu.RUnlock()
	// Cancelled when loop returns, for whatever reason, so that workers
	// (and AuthFuncs) stop and loop can wait for them.
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		sock.Close()
	}()
	slots := make(chan struct{}, n)
	for {
		// Take a request only once a worker is free for it: meanwhile
		// requests wait in the socket's queue, bounded by its HWM.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		frames, err := sock.Recv(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("zap: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			reply := h.answer(wctx, frames)
			if reply == nil || wctx.Err() != nil {
				return
			}
			// A ROUTER drops what it cannot deliver; wctx bounds the call
			// anyway. An error concerns this one client, or the socket
			// closed, which Recv reports to loop.
			sock.Send(wctx, reply...)
		}()
	}
}

// answer builds the reply to one request as a ROUTER received it
// ([routing id, ..., empty delimiter, request frames...]), or returns nil
// when the request cannot be answered.
func (h *Handler) answer(ctx context.Context, frames [][]byte) [][]byte {
	// The envelope is everything up to and including the first empty frame
	// after the routing id.
	delim := -1
	for i := 1; i < len(frames); i++ {
		if len(frames[i]) == 0 {
			delim = i
			break
		}
	}
	if delim < 0 {
		return nil
	}
	envelope, req := frames[:delim+1], frames[delim+1:]
	if len(req) < 2 {
		return nil // no request id to answer to
	}
	status, text, user := h.decide(ctx, req)
	reply := make([][]byte, 0, len(envelope)+6)
	for _, f := range envelope {
		reply = append(reply, bytes.Clone(f))
	}
	return append(reply,
		[]byte(version),
		bytes.Clone(req[1]), // the request id, echoed exactly
		[]byte(status),
		[]byte(text),
		[]byte(user),
		[]byte{}, // metadata: none
	)
}

// decide returns status, status text and user id for a request
// [version, request id, domain, address, identity, mechanism, credentials...].
func (h *Handler) decide(ctx context.Context, req [][]byte) (status, text, user string) {
	if string(req[0]) != version {
		return StatusError, "bad version", ""
	}
	if len(req) < 6 {
		return StatusError, "malformed request", ""
	}
	r := Request{
		Domain:    string(req[2]),
		Address:   string(req[3]),
		Identity:  bytes.Clone(req[4]),
		Mechanism: string(req[5]),
	}
	creds := req[6:]

	h.mu.RLock()
	p := h.policyFor(r.Domain)
	addr, addrOK := parseAddr(r.Address)
	if p.deny.contains(r.Address, addr, addrOK) {
		h.mu.RUnlock()
		return StatusDenied, "address denied", ""
	}
	if !p.allow.empty() && !p.allow.contains(r.Address, addr, addrOK) {
		h.mu.RUnlock()
		return StatusDenied, "address not allowed", ""
	}
	switch r.Mechanism {
	case "NULL":
		if len(creds) != 0 {
			h.mu.RUnlock()
			return StatusError, "malformed NULL request", ""
		}
	case "PLAIN":
		if len(creds) != 2 {
			h.mu.RUnlock()
			return StatusError, "malformed PLAIN request", ""
		}
		r.Username, r.Password = string(creds[0]), string(creds[1])
	case "CURVE":
		key, err := curveKey(creds)
		if err != nil {
			h.mu.RUnlock()
			return StatusError, "malformed CURVE request", ""
		}
		r.PublicKey = key
	default:
		h.mu.RUnlock()
		return StatusDenied, "unsupported mechanism", ""
	}
	if auth := h.auth; auth != nil {
		h.mu.RUnlock() // f may take its time; configuration goes on meanwhile
		return ask(ctx, auth, r)
	}
	switch r.Mechanism {
	case "PLAIN":
		ok := h.checkPasswordIn(p.users, r.Username, creds[1])
		h.mu.RUnlock()
		if !ok {
			return StatusDenied, "invalid username or password", ""
		}
		return StatusOK, "OK", r.Username
	case "CURVE":
		_, ok := p.keys[r.PublicKey]
		ok = ok || p.anyCurve
		// The directories are read outside h.mu: a re-read does file I/O,
		// and configuration need not wait for it. p.dirs is replaced, never
		// changed in place.
		dirs, recheck := p.dirs, h.recheck
		h.mu.RUnlock()
		if ok {
			return StatusOK, "OK", r.PublicKey
		}
		var failed error
		for _, d := range dirs {
			in, err := d.has(r.PublicKey, recheck)
			if in {
				return StatusOK, "OK", r.PublicKey
			}
			if err != nil && failed == nil {
				failed = err
			}
		}
		if failed != nil {
			// Fail closed, but as a temporary error: a directory caught
			// half-edited reads again at the client's next attempt.
			return StatusTempError, "certificate directory unreadable: " + failed.Error(), ""
		}
		return StatusDenied, "key not allowed", ""
	}
	h.mu.RUnlock()
	return StatusOK, "OK", "" // NULL
}

// curveKey is the client key of a CURVE request, in Z85.
func curveKey(creds [][]byte) (string, error) {
	if len(creds) != 1 || len(creds[0]) != 32 {
		return "", errors.New("want one 32-byte key")
	}
	return z85.Encode(creds[0])
}

// ask turns what an AuthFunc decides into a reply's status, text and user.
func ask(ctx context.Context, f AuthFunc, r Request) (status, text, user string) {
	d, err := f(ctx, r)
	switch {
	case err != nil:
		return StatusTempError, "temporary error: " + err.Error(), ""
	case !d.Allow:
		if d.Text == "" {
			d.Text = "denied"
		}
		return StatusDenied, d.Text, ""
	}
	if d.Text == "" {
		d.Text = "OK"
	}
	return StatusOK, d.Text, d.UserID
}

// addrList is an allow or deny list.
type addrList struct {
	prefixes []netip.Prefix
	literals map[string]struct{} // entries that are no address: matched as text
}

func (l *addrList) empty() bool { return len(l.prefixes) == 0 && len(l.literals) == 0 }

func (l *addrList) add(entries []string) {
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			l.prefixes = append(l.prefixes, p.Masked())
			continue
		}
		if a, ok := parseAddr(e); ok {
			l.prefixes = append(l.prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		if l.literals == nil {
			l.literals = make(map[string]struct{})
		}
		l.literals[e] = struct{}{}
	}
}

// contains reports whether the address frame text (parsed as a, when ok)
// is on the list.
func (l *addrList) contains(text string, a netip.Addr, ok bool) bool {
	if _, hit := l.literals[text]; hit {
		return true
	}
	if !ok {
		return false
	}
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr parses an address frame: an IP address, perhaps in brackets,
// with its zone and any IPv4-in-IPv6 mapping removed.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
