package security

import (
	"context"
	crand "crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/salsa20/salsa"

	fastpoly "github.com/azmq/azmq/internal/poly1305"
	fastsalsa "github.com/azmq/azmq/internal/salsa"
	"github.com/azmq/azmq/internal/wire"
)

// CURVE (RFC 25, CurveZMQ RFC 26) as libzmq 4.3 speaks it: PROTOCOL §2.3,
// G15, G16, §7.10. Notation: S/s the server's long-term key pair, C/c the
// client's, S'/s' and C'/c' the per-connection transient pairs.

// ErrCurveAuth is a CURVE box, cookie or vouch that does not open, or whose
// contents do not match what the handshake established: the peer is not who
// it claims to be, or the bytes were altered.
var ErrCurveAuth = errors.New("security: CURVE authentication failed")

// ErrCurveNonce is a CURVE short nonce that does not increase (a replayed or
// reordered command or MESSAGE), or a send counter that would wrap.
var ErrCurveNonce = errors.New("security: CURVE nonce out of order")

// Command body sizes (PROTOCOL §7.10).
const (
	curveHelloSize    = 200 // exact
	curveWelcomeSize  = 168 // exact
	curveCookieSize   = 96  // 16-byte nonce + secretbox[C' + s']
	curveInitiateMin  = 257 // + metadata
	curveReadyMin     = 30  // + metadata
	curveMessageMin   = 33  // + data
	curveMessageHead  = 16  // "\x07MESSAGE" + short nonce
	curveVouchBoxSize = 80  // box[C' + S]
	curveInitiateHead = 32 + 16 + curveVouchBoxSize
)

// Inner MESSAGE flags (the first plaintext byte).
const (
	curveInnerMore    = 0x01
	curveInnerCommand = 0x02 // libzmq's extension: PING, PONG, SUBSCRIBE, CANCEL
)

// Nonce prefixes (PROTOCOL §7.10).
const (
	curvePrefixHello    = "CurveZMQHELLO---"
	curvePrefixWelcome  = "WELCOME-"
	curvePrefixCookie   = "COOKIE--"
	curvePrefixInitiate = "CurveZMQINITIATE"
	curvePrefixVouch    = "VOUCH---"
	curvePrefixReady    = "CurveZMQREADY---"
	curvePrefixMessageC = "CurveZMQMESSAGEC" // client → server
	curvePrefixMessageS = "CurveZMQMESSAGES" // server → client
)

var (
	curveMessageName = []byte("\x07MESSAGE")
	curveVer         = []byte{1, 0}
	curveZeros       [72]byte
)

// GenerateCurveKeyPair makes a fresh long-term CURVE key pair from
// crypto/rand.
func GenerateCurveKeyPair() (public, secret [32]byte, err error) {
	return curveKeyPair(crand.Reader)
}

// curveKeyPair reads a secret key from r and derives its public key.
func curveKeyPair(r io.Reader) (public, secret [32]byte, err error) {
	if _, err = io.ReadFull(r, secret[:]); err != nil {
		return public, secret, fmt.Errorf("security: CURVE key: %w", err)
	}
	return curvePublic(&secret), secret, nil
}

// curvePublic derives the public key of a secret key.
func curvePublic(secret *[32]byte) (public [32]byte) {
	p, err := curve25519.X25519(secret[:], curve25519.Basepoint)
	if err != nil { // impossible with the base point
		panic(err)
	}
	copy(public[:], p)
	return public
}

// curveShared is crypto_box_beforenm: the box key of a peer's public key and
// our secret key, as box.Precompute computes it. Unlike box.Precompute it
// refuses a low-order peer key (an all-zero shared secret) as libsodium
// does.
func curveShared(peer, secret *[32]byte) (key [32]byte, ok bool) {
	s, err := curve25519.X25519(secret[:], peer[:])
	if err != nil {
		return key, false
	}
	var in [32]byte
	var zero [16]byte
	copy(in[:], s)
	salsa.HSalsa20(&key, &zero, &in, &salsa.Sigma)
	clear(in[:])
	clear(s)
	return key, true
}

// curveShortNonce is a 24-byte nonce: a 16-byte prefix and a big-endian counter.
func curveShortNonce(prefix string, n uint64) (nonce [24]byte) {
	copy(nonce[:], prefix)
	binary.BigEndian.PutUint64(nonce[16:], n)
	return nonce
}

// curveLongNonce is a 24-byte nonce: an 8-byte prefix and 16 given bytes.
func curveLongNonce(prefix string, b []byte) (nonce [24]byte) {
	copy(nonce[:], prefix)
	copy(nonce[8:], b[:16])
	return nonce
}

func curveRandom(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("security: CURVE random: %w", err)
	}
	return nil
}

// curveNextNonce returns the counter's value and advances it; it never wraps.
func curveNextNonce(c *uint64) (uint64, error) {
	if *c == math.MaxUint64 {
		return 0, fmt.Errorf("%w: send nonce exhausted", ErrCurveNonce)
	}
	n := *c
	*c++
	return n, nil
}

// CurveServer is the server side of CURVE: it holds the long-term secret key
// s; clients must know the matching public key S. One CurveServer serves
// any number of connections and is safe for concurrent use.
type CurveServer struct {
	// Secret is the server's long-term secret key s.
	Secret [32]byte

	pubOnce sync.Once
	public  [32]byte

	rand io.Reader // nil: crypto/rand (tests inject)
}

// NewCurveServer returns a CURVE server with the long-term secret key s; its
// public key S is derived at once.
func NewCurveServer(secret [32]byte) *CurveServer {
	s := &CurveServer{Secret: secret}
	s.Public()
	return s
}

// Public is the server's long-term public key S, derived from Secret.
func (s *CurveServer) Public() [32]byte {
	s.pubOnce.Do(func() { s.public = curvePublic(&s.Secret) })
	return s.public
}

// Name implements Mechanism.
func (*CurveServer) Name() string { return "CURVE" }

// AsServer implements Mechanism: true.
func (*CurveServer) AsServer() bool { return true }

// NewHandshake implements Mechanism.
func (s *CurveServer) NewHandshake(local wire.Metadata, sess Session) Handshake {
	s.Public()
	return &curveServerHandshake{m: s, local: local, sess: sess, nonce: 1}
}

func (s *CurveServer) random() io.Reader {
	if s.rand != nil {
		return s.rand
	}
	return crand.Reader
}

// CurveClient is the client side of CURVE: it knows the server's public key
// S and holds its own long-term key pair C/c.
type CurveClient struct {
	// ServerPublic is the server's long-term public key S.
	ServerPublic [32]byte
	// Public and Secret are the client's long-term key pair C and c.
	Public, Secret [32]byte

	rand io.Reader // nil: crypto/rand (tests inject)
}

// NewCurveClient returns a CURVE client that expects the server key S and
// proves itself with the key pair C/c.
func NewCurveClient(serverPublic, public, secret [32]byte) *CurveClient {
	return &CurveClient{ServerPublic: serverPublic, Public: public, Secret: secret}
}

// Name implements Mechanism.
func (*CurveClient) Name() string { return "CURVE" }

// AsServer implements Mechanism: false.
func (*CurveClient) AsServer() bool { return false }

// NewHandshake implements Mechanism.
func (c *CurveClient) NewHandshake(local wire.Metadata, _ Session) Handshake {
	return &curveClientHandshake{m: c, local: local, nonce: 1}
}

func (c *CurveClient) random() io.Reader {
	if c.rand != nil {
		return c.rand
	}
	return crand.Reader
}

// Handshake states.
const (
	curveStart = iota
	curveExpectHello
	curveExpectWelcome
	curveExpectInitiate
	curveExpectReady
	curveDone
	curveFailed
)

// curveClientHandshake is one connection's client state machine.
type curveClientHandshake struct {
	m     *CurveClient
	local wire.Metadata
	state int
	nonce uint64 // next short nonce to send

	tpub, tsec [32]byte // C', c'
	helloKey   [32]byte // beforenm(S, c'): HELLO and WELCOME boxes
	key        [32]byte // beforenm(S', c'): INITIATE, READY, MESSAGE

	peer  wire.Metadata
	codec *curveCodec
}

func (h *curveClientHandshake) fail(err error) ([]byte, bool, error) {
	h.state = curveFailed
	clear(h.tsec[:])
	clear(h.helloKey[:])
	clear(h.key[:])
	return nil, false, err
}

// Start makes the transient pair C'/c' and sends HELLO.
func (h *curveClientHandshake) Start(context.Context) ([]byte, error) {
	if h.state != curveStart {
		return nil, fmt.Errorf("%w: CURVE handshake already started", ErrUnexpected)
	}
	var err error
	h.tpub, h.tsec, err = curveKeyPair(h.m.random())
	if err != nil {
		_, _, err = h.fail(err)
		return nil, err
	}
	var ok bool
	if h.helloKey, ok = curveShared(&h.m.ServerPublic, &h.tsec); !ok {
		_, _, err = h.fail(fmt.Errorf("%w: server public key of low order", ErrCurveAuth))
		return nil, err
	}
	n, _ := curveNextNonce(&h.nonce)
	var sn [8]byte
	binary.BigEndian.PutUint64(sn[:], n)
	nonce := curveShortNonce(curvePrefixHello, n)
	sig := box.SealAfterPrecomputation(make([]byte, 0, 80), curveZeros[:64], &nonce, &h.helloKey)
	h.state = curveExpectWelcome
	return wire.AppendCommand(make([]byte, 0, 2+curveHelloSize), wire.CmdHello,
		curveVer, curveZeros[:72], h.tpub[:], sn[:], sig), nil
}

func (h *curveClientHandshake) Command(_ context.Context, body []byte) ([]byte, bool, error) {
	name, data, err := wire.ParseCommand(body)
	if err != nil {
		return h.fail(err)
	}
	switch {
	case string(name) == wire.CmdError && h.state != curveDone && h.state != curveFailed:
		reason, err := wire.ParseError(data)
		if err != nil {
			return h.fail(fmt.Errorf("security: ERROR: %w", err))
		}
		return h.fail(&PeerError{Reason: reason})
	case string(name) == wire.CmdWelcome && h.state == curveExpectWelcome:
		out, err := h.welcome(body, data)
		if err != nil {
			return h.fail(err)
		}
		return out, false, nil
	case string(name) == wire.CmdReady && h.state == curveExpectReady:
		if err := h.ready(body, data); err != nil {
			return h.fail(err)
		}
		return nil, true, nil
	}
	return h.fail(fmt.Errorf("%w %q during CURVE handshake", ErrUnexpected, name))
}

// ErrCurveServerKey is a CURVE server that closed the connection on the
// client's HELLO: what a server does (libzmq's as azmq's) when the HELLO
// box does not open, that is, when the client holds another public key
// for it than its own.
var ErrCurveServerKey = errors.New("security: the CURVE server closed the connection on HELLO: is the server public key the client was given the server's?")

// PeerClosed implements PeerCloser: a server that hangs up right after
// HELLO could not open it.
func (h *curveClientHandshake) PeerClosed(err error) error {
	if h.state == curveExpectWelcome {
		return fmt.Errorf("%w (%w)", ErrCurveServerKey, err)
	}
	return err
}

// welcome opens WELCOME and answers INITIATE.
func (h *curveClientHandshake) welcome(body, data []byte) ([]byte, error) {
	if len(body) != curveWelcomeSize {
		return nil, fmt.Errorf("%w: CURVE WELCOME of %d bytes, want %d", wire.ErrMalformed, len(body), curveWelcomeSize)
	}
	nonce := curveLongNonce(curvePrefixWelcome, data[:16])
	var buf [128]byte
	plain, ok := box.OpenAfterPrecomputation(buf[:0], data[16:], &nonce, &h.helloKey)
	clear(h.helloKey[:])
	if !ok {
		return nil, fmt.Errorf("%w: WELCOME box", ErrCurveAuth)
	}
	var serverT [32]byte
	copy(serverT[:], plain[:32])
	if h.key, ok = curveShared(&serverT, &h.tsec); !ok {
		return nil, fmt.Errorf("%w: server transient key of low order", ErrCurveAuth)
	}
	clear(h.tsec[:])
	vouchKey, ok := curveShared(&serverT, &h.m.Secret)
	if !ok {
		return nil, fmt.Errorf("%w: server transient key of low order", ErrCurveAuth)
	}
	defer clear(vouchKey[:])
	var vn [16]byte
	if err := curveRandom(h.m.random(), vn[:]); err != nil {
		return nil, err
	}
	n, err := curveNextNonce(&h.nonce)
	if err != nil {
		return nil, err
	}
	h.state = curveExpectReady
	return appendCurveInitiate(nil, curveInitiateParams{
		cookie:   plain[32:128],
		nonce:    n,
		key:      &h.key,
		vouchKey: &vouchKey,
		vouchN:   vn,
		client:   h.m.Public,
		clientT:  h.tpub,
		server:   h.m.ServerPublic,
		md:       h.local,
	}), nil
}

// curveInitiateParams is everything an INITIATE command is made of.
type curveInitiateParams struct {
	cookie   []byte
	nonce    uint64
	key      *[32]byte // beforenm(S', c')
	vouchKey *[32]byte // beforenm(S', c)
	vouchN   [16]byte
	client   [32]byte // C
	clientT  [32]byte // C' inside the vouch
	server   [32]byte // S inside the vouch
	md       wire.Metadata
}

// appendCurveInitiate appends the INITIATE frame: cookie, short nonce and
// Box[C + vouch nonce + vouch + metadata](C'→S').
func appendCurveInitiate(dst []byte, p curveInitiateParams) []byte {
	var vouchPlain [64]byte
	copy(vouchPlain[:], p.clientT[:])
	copy(vouchPlain[32:], p.server[:])
	vnonce := curveLongNonce(curvePrefixVouch, p.vouchN[:])

	plain := make([]byte, 0, curveInitiateHead+wire.MetadataLen(p.md))
	plain = append(plain, p.client[:]...)
	plain = append(plain, p.vouchN[:]...)
	plain = box.SealAfterPrecomputation(plain, vouchPlain[:], &vnonce, p.vouchKey)
	plain = wire.AppendMetadata(plain, p.md)

	var sn [8]byte
	binary.BigEndian.PutUint64(sn[:], p.nonce)
	nonce := curveShortNonce(curvePrefixInitiate, p.nonce)
	sealed := box.SealAfterPrecomputation(make([]byte, 0, len(plain)+box.Overhead), plain, &nonce, p.key)
	return wire.AppendCommand(dst, wire.CmdInitiate, p.cookie, sn[:], sealed)
}

// ready opens READY and makes the codec.
func (h *curveClientHandshake) ready(body, data []byte) error {
	if len(body) < curveReadyMin {
		return fmt.Errorf("%w: CURVE READY of %d bytes", wire.ErrMalformed, len(body))
	}
	// The first nonce from the server has nothing to be compared with
	// (libzmq takes it as it comes); MESSAGEs must then exceed it.
	n := binary.BigEndian.Uint64(data)
	nonce := curveShortNonce(curvePrefixReady, n)
	plain, ok := box.OpenAfterPrecomputation(nil, data[8:], &nonce, &h.key)
	if !ok {
		return fmt.Errorf("%w: READY box", ErrCurveAuth)
	}
	md, err := wire.ParseMetadata(plain)
	if err != nil {
		return fmt.Errorf("security: READY: %w", err)
	}
	h.peer = md
	h.codec = newCurveCodec(&h.key, h.nonce, n, curvePrefixMessageC, curvePrefixMessageS)
	clear(h.key[:])
	h.state = curveDone
	return nil
}

func (h *curveClientHandshake) PeerMetadata() wire.Metadata             { return h.peer }
func (h *curveClientHandshake) Auth() (userID string, md wire.Metadata) { return "", nil }

func (h *curveClientHandshake) Codec() Codec {
	if h.codec == nil {
		return nil
	}
	return h.codec
}

// curveServerHandshake is one connection's server state machine. Between
// WELCOME and INITIATE it holds C', HELLO's nonce and the cookie key: s'
// travels in the cookie.
//
// The cookie key K is made for this connection alone (as libzmq does) and
// forgotten after INITIATE. A cookie is therefore good for one connection
// and one INITIATE: an attacker who replays a recorded HELLO and INITIATE
// on a new connection gets a WELCOME under a new K, and the recorded
// cookie, sealed under the old one, does not open. A K shared by all
// connections would let that replay through, since the recorded cookie
// holds the C' of the replayed HELLO and the s' that opens the recorded
// INITIATE and MESSAGEs.
type curveServerHandshake struct {
	m     *CurveServer
	local wire.Metadata
	sess  Session
	state int
	nonce uint64 // next short nonce to send

	clientT   [32]byte // C' from HELLO
	peerNonce uint64   // last short nonce received
	cookieKey [32]byte // K, this connection's; cleared after INITIATE

	peer   wire.Metadata
	userID string
	authMD wire.Metadata
	codec  *curveCodec
}

func (h *curveServerHandshake) fail(out []byte, err error) ([]byte, bool, error) {
	h.state = curveFailed
	clear(h.cookieKey[:])
	return out, false, err
}

// sealCookie appends the cookie of this connection: a 16-byte nonce and
// secretbox[C' + s'](K), under a K made for it.
func (h *curveServerHandshake) sealCookie(dst []byte, serverTSecret *[32]byte) ([]byte, error) {
	if err := curveRandom(h.m.random(), h.cookieKey[:]); err != nil {
		return nil, err
	}
	var n [16]byte
	if err := curveRandom(h.m.random(), n[:]); err != nil {
		return nil, err
	}
	var plain [64]byte
	copy(plain[:], h.clientT[:])
	copy(plain[32:], serverTSecret[:])
	defer clear(plain[:])
	nonce := curveLongNonce(curvePrefixCookie, n[:])
	dst = append(dst, n[:]...)
	return secretbox.Seal(dst, plain[:], &nonce, &h.cookieKey), nil
}

// openCookie recovers C' and s' from a cookie sealed for this connection.
func (h *curveServerHandshake) openCookie(cookie []byte) (clientT, serverTSecret [32]byte, ok bool) {
	nonce := curveLongNonce(curvePrefixCookie, cookie[:16])
	var buf [64]byte
	plain, ok := secretbox.Open(buf[:0], cookie[16:], &nonce, &h.cookieKey)
	if ok && len(plain) == 64 {
		copy(clientT[:], plain[:32])
		copy(serverTSecret[:], plain[32:])
	} else {
		ok = false
	}
	clear(buf[:])
	return clientT, serverTSecret, ok
}

// Start sends nothing: the client speaks first.
func (h *curveServerHandshake) Start(context.Context) ([]byte, error) {
	if h.state != curveStart {
		return nil, fmt.Errorf("%w: CURVE handshake already started", ErrUnexpected)
	}
	h.state = curveExpectHello
	return nil, nil
}

func (h *curveServerHandshake) Command(ctx context.Context, body []byte) ([]byte, bool, error) {
	if h.state == curveStart {
		h.state = curveExpectHello
	}
	name, data, err := wire.ParseCommand(body)
	if err != nil {
		return h.fail(nil, err)
	}
	switch {
	case string(name) == wire.CmdHello && h.state == curveExpectHello:
		out, err := h.hello(body, data)
		if err != nil {
			return h.fail(nil, err)
		}
		h.state = curveExpectInitiate
		return out, false, nil
	case string(name) == wire.CmdInitiate && h.state == curveExpectInitiate:
		out, err := h.initiate(ctx, body, data)
		if err != nil {
			return h.fail(out, err)
		}
		h.state = curveDone
		return out, true, nil
	}
	return h.fail(nil, fmt.Errorf("%w %q during CURVE handshake", ErrUnexpected, name))
}

// hello checks HELLO and answers WELCOME. As libzmq, the padding and the
// signature's contents are not checked: that the box opens is the proof.
func (h *curveServerHandshake) hello(body, data []byte) ([]byte, error) {
	if len(body) != curveHelloSize {
		return nil, fmt.Errorf("%w: CURVE HELLO of %d bytes, want %d", wire.ErrMalformed, len(body), curveHelloSize)
	}
	if data[0] != 1 || data[1] != 0 {
		return nil, fmt.Errorf("%w: CURVE HELLO version %d.%d", wire.ErrMalformed, data[0], data[1])
	}
	copy(h.clientT[:], data[74:106])
	n := binary.BigEndian.Uint64(data[106:114])
	key, ok := curveShared(&h.clientT, &h.m.Secret)
	if !ok {
		return nil, fmt.Errorf("%w: client transient key of low order", ErrCurveAuth)
	}
	defer clear(key[:])
	nonce := curveShortNonce(curvePrefixHello, n)
	var buf [64]byte
	if _, ok := box.OpenAfterPrecomputation(buf[:0], data[114:], &nonce, &key); !ok {
		return nil, fmt.Errorf("%w: HELLO box", ErrCurveAuth)
	}
	h.peerNonce = n

	tpub, tsec, err := curveKeyPair(h.m.random())
	if err != nil {
		return nil, err
	}
	defer clear(tsec[:])
	plain := make([]byte, 0, 32+curveCookieSize)
	plain = append(plain, tpub[:]...)
	if plain, err = h.sealCookie(plain, &tsec); err != nil {
		return nil, err
	}
	var wn [16]byte
	if err := curveRandom(h.m.random(), wn[:]); err != nil {
		return nil, err
	}
	nonce = curveLongNonce(curvePrefixWelcome, wn[:])
	sealed := box.SealAfterPrecomputation(make([]byte, 0, len(plain)+box.Overhead), plain, &nonce, &key)
	return wire.AppendCommand(make([]byte, 0, 2+curveWelcomeSize), wire.CmdWelcome, wn[:], sealed), nil
}

// initiate checks INITIATE, asks ZAP and answers READY (or ERROR).
func (h *curveServerHandshake) initiate(ctx context.Context, body, data []byte) ([]byte, error) {
	if len(body) < curveInitiateMin {
		return nil, fmt.Errorf("%w: CURVE INITIATE of %d bytes", wire.ErrMalformed, len(body))
	}
	clientT, tsec, ok := h.openCookie(data[:curveCookieSize])
	clear(h.cookieKey[:]) // one INITIATE per cookie
	defer clear(tsec[:])
	if !ok {
		return nil, fmt.Errorf("%w: INITIATE cookie", ErrCurveAuth)
	}
	if subtle.ConstantTimeCompare(clientT[:], h.clientT[:]) != 1 {
		return nil, fmt.Errorf("%w: INITIATE cookie of another connection", ErrCurveAuth)
	}
	n := binary.BigEndian.Uint64(data[curveCookieSize:])
	if n <= h.peerNonce {
		return nil, fmt.Errorf("%w: INITIATE nonce %d after %d", ErrCurveNonce, n, h.peerNonce)
	}
	key, ok := curveShared(&clientT, &tsec)
	if !ok {
		return nil, fmt.Errorf("%w: client transient key of low order", ErrCurveAuth)
	}
	defer clear(key[:])
	nonce := curveShortNonce(curvePrefixInitiate, n)
	plain, ok := box.OpenAfterPrecomputation(nil, data[curveCookieSize+8:], &nonce, &key)
	if !ok {
		return nil, fmt.Errorf("%w: INITIATE box", ErrCurveAuth)
	}
	var client [32]byte
	copy(client[:], plain[:32])
	vouchKey, ok := curveShared(&client, &tsec)
	if !ok {
		return nil, fmt.Errorf("%w: client key of low order", ErrCurveAuth)
	}
	defer clear(vouchKey[:])
	nonce = curveLongNonce(curvePrefixVouch, plain[32:48])
	var buf [64]byte
	vouch, ok := box.OpenAfterPrecomputation(buf[:0], plain[48:curveInitiateHead], &nonce, &vouchKey)
	if !ok {
		return nil, fmt.Errorf("%w: INITIATE vouch", ErrCurveAuth)
	}
	// As libzmq: the vouch must name this connection's C'; its S is not
	// checked.
	if subtle.ConstantTimeCompare(vouch[:32], clientT[:]) != 1 {
		return nil, fmt.Errorf("%w: vouch for another transient key", ErrCurveAuth)
	}
	h.peerNonce = n

	// As libzmq: with the domain enforced, no domain means no ZAP (RFC 27
	// has no request without one), and a domain means a handler must
	// answer.
	if h.sess.ZAP != nil && (h.sess.Domain != "" || !h.sess.EnforceDomain) {
		rep, err := h.sess.ZAP(ctx, ZAPRequest{
			Domain: h.sess.Domain, Address: h.sess.Address,
			Identity: h.sess.Identity, Mechanism: "CURVE",
			Credentials: [][]byte{append([]byte(nil), client[:]...)},
		})
		switch {
		case errors.Is(err, ErrNoZAPHandler) && h.sess.EnforceDomain:
			return nil, fmt.Errorf("security: ZAP domain %q enforced: %w", h.sess.Domain, err)
		case errors.Is(err, ErrNoZAPHandler):
		case err != nil:
			return nil, err
		case rep.Status != "200":
			return refuse(rep)
		default:
			h.userID, h.authMD = rep.UserID, rep.Metadata
		}
	}
	md, err := wire.ParseMetadata(plain[curveInitiateHead:])
	if err != nil {
		return nil, fmt.Errorf("security: INITIATE: %w", err)
	}
	h.peer = md

	rn, err := curveNextNonce(&h.nonce)
	if err != nil {
		return nil, err
	}
	var sn [8]byte
	binary.BigEndian.PutUint64(sn[:], rn)
	nonce = curveShortNonce(curvePrefixReady, rn)
	mdb := wire.AppendMetadata(make([]byte, 0, wire.MetadataLen(h.local)), h.local)
	sealed := box.SealAfterPrecomputation(make([]byte, 0, len(mdb)+box.Overhead), mdb, &nonce, &key)
	h.codec = newCurveCodec(&key, h.nonce, n, curvePrefixMessageS, curvePrefixMessageC)
	return wire.AppendCommand(nil, wire.CmdReady, sn[:], sealed), nil
}

func (h *curveServerHandshake) PeerMetadata() wire.Metadata { return h.peer }

func (h *curveServerHandshake) Auth() (string, wire.Metadata) { return h.userID, h.authMD }

func (h *curveServerHandshake) Codec() Codec {
	if h.codec == nil {
		return nil
	}
	return h.codec
}

// curveCodec boxes frames as MESSAGE commands once the handshake is done.
// Seal and Open may run at the same time (they share only the read-only
// key), but neither may run concurrently with itself.
type curveCodec struct {
	key        [32]byte // beforenm(peer transient public, own transient secret)
	send       uint64   // next nonce to send
	recv       uint64   // last nonce received
	sendPrefix string
	recvPrefix string
	// XSalsa20's subkeys, HSalsa20(key, prefix): a MESSAGE nonce is the
	// direction's 16-byte prefix and an 8-byte counter, and HSalsa20 reads
	// only the first 16 bytes, so the subkey is the same for every MESSAGE
	// of a direction and need not be derived again for each.
	sendSub, recvSub [32]byte
}

// newCurveCodec returns the codec of an established connection: key is
// beforenm(peer transient public, own transient secret), send the next
// nonce to send, recv the last one received.
func newCurveCodec(key *[32]byte, send, recv uint64, sendPrefix, recvPrefix string) *curveCodec {
	return &curveCodec{key: *key, send: send, recv: recv, sendPrefix: sendPrefix, recvPrefix: recvPrefix,
		sendSub: curveSubKey(sendPrefix, key), recvSub: curveSubKey(recvPrefix, key)}
}

// Seal appends a data frame (never COMMAND, never MORE: G15) carrying
// MESSAGE: short nonce and Box[inner flags + body]. wire.FlagMore becomes
// the inner MORE bit and wire.FlagCommand the inner COMMAND bit. body is
// encrypted straight into dst, whose free capacity it must not overlap.
func (c *curveCodec) Seal(dst []byte, flags byte, body []byte) ([]byte, error) {
	n, err := curveNextNonce(&c.send)
	if err != nil {
		return dst, err
	}
	size := curveMessageMin + len(body)
	if need := len(dst) + wire.FrameHeaderLen(size) + size; cap(dst) < need {
		dst = append(make([]byte, 0, need), dst...)
	}
	dst = wire.AppendFrameHeader(dst, 0, size)
	dst = append(dst, curveMessageName...)
	dst = binary.BigEndian.AppendUint64(dst, n)

	var inner byte
	if flags&wire.FlagMore != 0 {
		inner |= curveInnerMore
	}
	if flags&wire.FlagCommand != 0 {
		inner |= curveInnerCommand
	}
	return curveSealMessage(dst, inner, body, &c.sendSub, n), nil
}

// Open unboxes a MESSAGE. The outer flags do not matter (libzmq sends data
// frames but a command frame is accepted too); the result's flags are
// wire.FlagMore and wire.FlagCommand from the inner flags, the other inner
// bits being ignored as libzmq does. The nonce must exceed the last one.
// Open decrypts in place: the data returned is a part of body, which is
// left as it was when the box does not open.
func (c *curveCodec) Open(_ byte, body []byte) (byte, []byte, error) {
	if len(body) < curveMessageMin || string(body[:8]) != string(curveMessageName) {
		return 0, nil, fmt.Errorf("%w: not a CURVE MESSAGE (%d bytes)", wire.ErrMalformed, len(body))
	}
	n := binary.BigEndian.Uint64(body[8:])
	if n <= c.recv {
		return 0, nil, fmt.Errorf("%w: MESSAGE nonce %d after %d", ErrCurveNonce, n, c.recv)
	}
	plain, ok := curveOpenInPlace(body[curveMessageHead:], &c.recvSub, n)
	if !ok {
		return 0, nil, fmt.Errorf("%w: MESSAGE box", ErrCurveAuth)
	}
	c.recv = n
	var flags byte
	if plain[0]&curveInnerMore != 0 {
		flags |= wire.FlagMore
	}
	if plain[0]&curveInnerCommand != 0 {
		flags |= wire.FlagCommand
	}
	return flags, plain[1:], nil
}

// MESSAGE's box is NaCl's secretbox (XSalsa20-Poly1305), as
// box.SealAfterPrecomputation and box.OpenAfterPrecomputation compute it.
// It is spelled out here because secretbox refuses overlapping buffers: the
// MESSAGE path seals the inner flags and the body without first copying
// them into one plaintext buffer, and opens in place, without a second
// buffer (and a second copy) for every message received. The tests check
// it against secretbox byte for byte.

// curveSubKey is the XSalsa20 subkey of the boxes whose nonces start with
// prefix (16 bytes): HSalsa20 of the key and that half of the nonce.
func curveSubKey(prefix string, key *[32]byte) (subKey [32]byte) {
	var hNonce [16]byte
	copy(hNonce[:], prefix)
	salsa.HSalsa20(&subKey, &hNonce, key, &salsa.Sigma)
	return subKey
}

// curveBoxStart starts the box of the short nonce n under subKey: the
// Salsa20 counter block, and the first keystream block, whose first half is
// the Poly1305 key and whose second half encrypts the first 32 bytes of
// plaintext.
func curveBoxStart(subKey *[32]byte, n uint64) (counter [16]byte, block [64]byte) {
	binary.BigEndian.PutUint64(counter[:8], n)
	salsa.XORKeyStream(block[:], block[:], &counter, subKey)
	counter[8] = 1 // the rest of the plaintext starts at block 1
	return counter, block
}

// curveSealMessage appends the box of the plaintext inner + body under the
// subkey of the nonce's prefix and the short nonce n: the Poly1305 tag, then
// the ciphertext. body must not overlap dst's free
// capacity.
func curveSealMessage(dst []byte, inner byte, body []byte, subKey *[32]byte, n uint64) []byte {
	counter, block := curveBoxStart(subKey, n)
	start := len(dst)
	// Every byte of the box is written below: no need to copy or clear.
	dst = slices.Grow(dst, box.Overhead+1+len(body))[:start+box.Overhead+1+len(body)]
	ct := dst[start+box.Overhead:]
	ct[0] = inner ^ block[32]
	head := min(len(body), 31)
	for i, b := range body[:head] {
		ct[1+i] = b ^ block[33+i]
	}
	if len(body) > head {
		fastsalsa.XORKeyStream(ct[32:], body[head:], &counter, subKey)
	}
	var polyKey [32]byte
	copy(polyKey[:], block[:32])
	var tag [fastpoly.TagSize]byte
	fastpoly.Sum(&tag, ct, &polyKey)
	copy(dst[start:], tag[:])
	return dst
}

// curveOpenInPlace opens a box (tag, then ciphertext; subKey and n as for
// curveSealMessage) over itself and
// returns the plaintext, a part of b. b is not touched when the tag does
// not match.
func curveOpenInPlace(b []byte, subKey *[32]byte, n uint64) ([]byte, bool) {
	if len(b) < box.Overhead {
		return nil, false
	}
	counter, block := curveBoxStart(subKey, n)
	var polyKey [32]byte
	copy(polyKey[:], block[:32])
	var tag [fastpoly.TagSize]byte
	copy(tag[:], b)
	ct := b[box.Overhead:]
	if !fastpoly.Verify(&tag, ct, &polyKey) {
		return nil, false
	}
	head := min(len(ct), 32)
	for i := range ct[:head] {
		ct[i] ^= block[32+i]
	}
	if len(ct) > head {
		fastsalsa.XORKeyStream(ct[head:], ct[head:], &counter, subKey)
	}
	return ct, true
}
