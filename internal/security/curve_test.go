package security

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"

	"github.com/azmq/azmq/internal/wire"
)

func curveHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

func curveKey32(s string) (k [32]byte) {
	b := curveHex(s)
	if len(b) != 32 {
		panic("key of " + s)
	}
	copy(k[:], b)
	return k
}

// libzmq's test keys, PROTOCOL §7.9.
var (
	curveClientPub = curveKey32("BB88471D65E2659B30C55A5321CEBB5AAB2B70A398645C26DCA2B2FCB43FC518")
	curveClientSec = curveKey32("7BB864B489AFA3671FBE69101F94B38972F24816DFB01B51656B3FEC8DFD0888")
	curveServerPub = curveKey32("54FCBA24E93249969316FB617C872BB0C1D1FF14800427C594CBFACF1BC2D652")
	curveServerSec = curveKey32("8E0BDD697628B91D8F245587EE95C5B04D48963F79259877B49CD9063AEAD3B7")
)

// PROTOCOL §7.11.
var (
	vecCurveHelloBox = curveHex(`
		3FC780D97CA169864DD85DEEE9599A695B6A48AB29F486181E07D0CE626EA1D2
		F7413ADB9692FBE1327A7EA60C93D4D355AB4F765756B3787193AF9155F64666
		68FA6CABB8F0123FB4A112499C31DE7A`)
	vecCurveMessageBox = curveHex(`E11BEFC295CEAECF842823CE538EB32AA4317CE5C449`)
	vecCurveBeforenm   = curveKey32("0E8790CB0DC8703AF2533CC8594EECFBF62CA560A66EBEE1259CC0A30435C6F3")
)

// curveRand is a deterministic random source: the given bytes first, then
// a ChaCha8 stream.
func curveRand(seed byte, first ...[]byte) io.Reader {
	rs := make([]io.Reader, 0, len(first)+1)
	for _, b := range first {
		rs = append(rs, bytes.NewReader(b))
	}
	return io.MultiReader(append(rs, mrand.NewChaCha8([32]byte{seed}))...)
}

func curveDealerMD() wire.Metadata {
	return wire.Metadata{
		{Name: wire.PropSocketType, Value: []byte("DEALER")},
		{Name: wire.PropIdentity, Value: []byte("dd")},
	}
}

func curveRouterMD() wire.Metadata {
	return wire.Metadata{
		{Name: wire.PropSocketType, Value: []byte("ROUTER")},
		{Name: wire.PropIdentity, Value: []byte{}},
	}
}

// curveZAP answers every request with rep/err and records the requests.
type curveZAP struct {
	mu   sync.Mutex
	rep  ZAPReply
	err  error
	reqs []ZAPRequest
}

func (z *curveZAP) ask(_ context.Context, req ZAPRequest) (ZAPReply, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.reqs = append(z.reqs, req)
	return z.rep, z.err
}

func curveSession(z *curveZAP) Session {
	s := Session{Domain: "global", Address: "192.0.2.9", Identity: []byte("srv")}
	if z != nil {
		s.ZAP = z.ask
	}
	return s
}

func newCurveMechs() (*CurveServer, *CurveClient) {
	return NewCurveServer(curveServerSec), NewCurveClient(curveServerPub, curveClientPub, curveClientSec)
}

// curveBody checks that frame is exactly one command frame and returns its
// body.
func curveBody(t testing.TB, frame []byte) []byte {
	t.Helper()
	h, n, err := wire.ParseFrameHeader(frame)
	if err != nil {
		t.Fatalf("frame header % x: %v", frame[:min(len(frame), 9)], err)
	}
	if !h.Command() || h.More() {
		t.Fatalf("flags %#02x: not a single command frame", frame[0])
	}
	if uint64(len(frame)-n) != h.Size {
		t.Fatalf("frame of %d bytes says %d", len(frame)-n, h.Size)
	}
	if (n == wire.LongHeaderSize) != (h.Size > wire.MaxShortSize) {
		t.Fatalf("%d-byte body with a %d-byte header", h.Size, n)
	}
	return frame[n:]
}

// curveRun is one handshake, stopped at the first error.
type curveRun struct {
	hello, welcome, initiate, ready []byte
	cliErr, srvErr                  error
	srvDone, cliDone                bool
}

func runCurve(t testing.TB, cli, srv Handshake) curveRun {
	t.Helper()
	ctx := context.Background()
	var r curveRun
	if out, err := srv.Start(ctx); err != nil || len(out) != 0 {
		t.Fatalf("server Start = % x, %v", out, err)
	}
	if r.hello, r.cliErr = cli.Start(ctx); r.cliErr != nil {
		return r
	}
	var done bool
	if r.welcome, done, r.srvErr = srv.Command(ctx, curveBody(t, r.hello)); r.srvErr != nil || done {
		if done {
			t.Fatal("server done at HELLO")
		}
		return r
	}
	if r.initiate, done, r.cliErr = cli.Command(ctx, curveBody(t, r.welcome)); r.cliErr != nil || done {
		if done {
			t.Fatal("client done at WELCOME")
		}
		return r
	}
	if r.ready, r.srvDone, r.srvErr = srv.Command(ctx, curveBody(t, r.initiate)); r.srvErr != nil {
		return r
	}
	var out []byte
	if out, r.cliDone, r.cliErr = cli.Command(ctx, curveBody(t, r.ready)); len(out) != 0 {
		t.Fatalf("client answered READY with % x", out)
	}
	return r
}

// curveEstablished runs a good handshake and returns both codecs.
func curveEstablished(t testing.TB) (cli, srv *curveCodec) {
	t.Helper()
	sm, cm := newCurveMechs()
	ch, sh := cm.NewHandshake(curveDealerMD(), Session{}), sm.NewHandshake(curveRouterMD(), Session{})
	r := runCurve(t, ch, sh)
	if r.cliErr != nil || r.srvErr != nil || !r.cliDone || !r.srvDone {
		t.Fatalf("handshake: client %v %v, server %v %v", r.cliDone, r.cliErr, r.srvDone, r.srvErr)
	}
	return ch.Codec().(*curveCodec), sh.Codec().(*curveCodec)
}

func TestCurveKeys(t *testing.T) {
	if got := NewCurveServer(curveServerSec).Public(); got != curveServerPub {
		t.Errorf("server public = %x", got)
	}
	lit := &CurveServer{Secret: curveServerSec}
	if got := lit.Public(); got != curveServerPub {
		t.Errorf("literal server public = %x", got)
	}
	if got := curvePublic(&curveClientSec); got != curveClientPub {
		t.Errorf("client public = %x", got)
	}
	pub, sec, err := GenerateCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := curve25519.X25519(sec[:], curve25519.Basepoint)
	if !bytes.Equal(pub[:], want) {
		t.Error("generated public key does not match its secret")
	}
	pub2, sec2, _ := GenerateCurveKeyPair()
	if pub2 == pub || sec2 == sec {
		t.Error("two key pairs are equal")
	}
	if _, _, err := curveKeyPair(bytes.NewReader(make([]byte, 31))); err == nil {
		t.Error("short random source accepted")
	}
}

func TestCurveMechanism(t *testing.T) {
	sm, cm := newCurveMechs()
	for _, tt := range []struct {
		m      Mechanism
		server bool
	}{{sm, true}, {cm, false}} {
		if tt.m.Name() != "CURVE" || tt.m.AsServer() != tt.server {
			t.Errorf("%T: Name %q AsServer %v", tt.m, tt.m.Name(), tt.m.AsServer())
		}
		h := tt.m.NewHandshake(nil, Session{})
		if h.Codec() != nil || h.PeerMetadata() != nil {
			t.Errorf("%T: codec or metadata before the handshake", tt.m)
		}
		if _, err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Start(context.Background()); !errors.Is(err, ErrUnexpected) {
			t.Errorf("%T: second Start: %v", tt.m, err)
		}
	}
}

// TestCurveVectors checks PROTOCOL §7.11 with the client test pair as C'
// and the server test pair as S.
func TestCurveVectors(t *testing.T) {
	var pre [32]byte
	box.Precompute(&pre, &curveServerPub, &curveClientSec)
	if pre != vecCurveBeforenm {
		t.Errorf("box.Precompute = %x", pre)
	}
	for _, k := range []struct{ pub, sec [32]byte }{
		{curveServerPub, curveClientSec}, {curveClientPub, curveServerSec},
	} {
		got, ok := curveShared(&k.pub, &k.sec)
		if !ok || got != vecCurveBeforenm {
			t.Errorf("curveShared = %x, %v", got, ok)
		}
	}

	cm := NewCurveClient(curveServerPub, curveClientPub, curveClientSec)
	cm.rand = curveRand(1, curveClientSec[:]) // c' := the client test secret
	hello, err := cm.NewHandshake(nil, Session{}).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := curveHex("04 c8 05 48 45 4c 4c 4f 01 00")
	want = append(want, make([]byte, 72)...)
	want = append(want, curveClientPub[:]...)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 1)
	want = append(want, vecCurveHelloBox...)
	if !bytes.Equal(hello, want) {
		t.Errorf("HELLO =\n% x\nwant\n% x", hello, want)
	}
	// The server opens it.
	sh := NewCurveServer(curveServerSec).NewHandshake(nil, Session{})
	if out, _, err := sh.Command(context.Background(), curveBody(t, hello)); err != nil || len(out) != 2+curveWelcomeSize {
		t.Errorf("server on the vector HELLO: %d bytes, %v", len(out), err)
	}

	cli := newCurveCodec(&vecCurveBeforenm, 3, 0, curveprefixC(), curveprefixS())
	msg, err := cli.Seal(nil, 0, []byte("Hello"))
	if err != nil {
		t.Fatal(err)
	}
	want = append(curveHex("00 26 07 4d 45 53 53 41 47 45 00 00 00 00 00 00 00 03"), vecCurveMessageBox...)
	if !bytes.Equal(msg, want) {
		t.Errorf("MESSAGE =\n% x\nwant\n% x", msg, want)
	}
	srv := newCurveCodec(&vecCurveBeforenm, 2, 2, curveprefixS(), curveprefixC())
	if f, data, err := srv.Open(0, msg[2:]); err != nil || f != 0 || string(data) != "Hello" {
		t.Errorf("Open = %#x %q %v", f, data, err)
	}
}

func curveprefixC() string { return curvePrefixMessageC }
func curveprefixS() string { return curvePrefixMessageS }

func TestCurveHandshake(t *testing.T) {
	sm, cm := newCurveMechs()
	ch, sh := cm.NewHandshake(curveDealerMD(), Session{}), sm.NewHandshake(curveRouterMD(), curveSession(nil))
	r := runCurve(t, ch, sh)
	if r.cliErr != nil || r.srvErr != nil || !r.cliDone || !r.srvDone {
		t.Fatalf("client %v %v, server %v %v", r.cliDone, r.cliErr, r.srvDone, r.srvErr)
	}
	// Sizes and framing, PROTOCOL §7.10.
	mdCli, mdSrv := wire.MetadataLen(curveDealerMD()), wire.MetadataLen(curveRouterMD())
	for _, f := range []struct {
		name  string
		frame []byte
		head  []byte
		size  int
	}{
		{"HELLO", r.hello, []byte{0x04, 0xc8, 5, 'H'}, 202},
		{"WELCOME", r.welcome, []byte{0x04, 0xa8, 7, 'W'}, 170},
		{"INITIATE", r.initiate, binary.BigEndian.AppendUint64([]byte{0x06}, uint64(257+mdCli)), 266 + mdCli},
		{"READY", r.ready, []byte{0x04, byte(30 + mdSrv), 5, 'R'}, 32 + mdSrv},
	} {
		if len(f.frame) != f.size || !bytes.HasPrefix(f.frame, f.head) {
			t.Errorf("%s: %d bytes starting % x", f.name, len(f.frame), f.frame[:min(len(f.frame), 11)])
		}
	}
	if mdCli != 37 || len(r.ready) != 2+65 {
		t.Errorf("DEALER metadata %d bytes, ROUTER READY %d bytes (libzmq: 37, 65)", mdCli, len(r.ready)-2)
	}
	// Short nonces: HELLO=1, INITIATE=2; READY=1.
	if n := binary.BigEndian.Uint64(r.hello[2+112:]); n != 1 {
		t.Errorf("HELLO nonce %d", n)
	}
	if n := binary.BigEndian.Uint64(r.initiate[9+105:]); n != 2 {
		t.Errorf("INITIATE nonce %d", n)
	}
	if n := binary.BigEndian.Uint64(r.ready[2+6:]); n != 1 {
		t.Errorf("READY nonce %d", n)
	}
	// Both learned the other's metadata.
	for _, m := range []struct {
		h    Handshake
		want wire.Metadata
	}{{ch, curveRouterMD()}, {sh, curveDealerMD()}} {
		got := m.h.PeerMetadata()
		if !bytes.Equal(wire.AppendMetadata(nil, got), wire.AppendMetadata(nil, m.want)) {
			t.Errorf("peer metadata %v, want %v", got, m.want)
		}
	}
	if id, md := sh.Auth(); id != "" || md != nil {
		t.Errorf("Auth without ZAP = %q %v", id, md)
	}
	// First MESSAGEs: client nonce 3, server nonce 2.
	cc, sc := ch.Codec(), sh.Codec()
	if cc == nil || sc == nil {
		t.Fatal("no codec")
	}
	m, _ := cc.Seal(nil, 0, []byte("x"))
	if n := binary.BigEndian.Uint64(m[2+8:]); n != 3 || len(m) != 2+34 {
		t.Errorf("client's first MESSAGE nonce %d, %d bytes", n, len(m))
	}
	m, _ = sc.Seal(nil, 0, []byte("x"))
	if n := binary.BigEndian.Uint64(m[2+8:]); n != 2 {
		t.Errorf("server's first MESSAGE nonce %d", n)
	}
	// Commands after the handshake are unexpected.
	for _, h := range []Handshake{ch, sh} {
		if _, _, err := h.Command(context.Background(), curveBody(t, r.ready)); !errors.Is(err, ErrUnexpected) {
			t.Errorf("%T: READY after done: %v", h, err)
		}
	}
}

// TestCurveHandshakeEmptyMetadata: READY is 30 bytes with no metadata.
func TestCurveHandshakeEmptyMetadata(t *testing.T) {
	sm, cm := newCurveMechs()
	ch, sh := cm.NewHandshake(nil, Session{}), sm.NewHandshake(nil, Session{})
	r := runCurve(t, ch, sh)
	if !r.cliDone || !r.srvDone || len(r.ready) != 32 || len(r.initiate) != 266 {
		t.Fatalf("done %v %v, READY %d, INITIATE %d, errors %v %v", r.cliDone, r.srvDone, len(r.ready), len(r.initiate), r.cliErr, r.srvErr)
	}
	if ch.PeerMetadata() != nil || sh.PeerMetadata() != nil {
		t.Error("metadata from nothing")
	}
}

// curveStep runs a handshake up to the server's INITIATE, letting the test
// change the frames on the way. It returns the first error and which side
// made it.
type curveEdit struct {
	cli      func(*CurveClient)
	srv      func(*CurveServer)
	hello    func([]byte) []byte
	welcome  func([]byte) []byte
	initiate func(t *testing.T, frame []byte, st *curveState) []byte
	ready    func([]byte) []byte
	// initSrv replaces the server that receives INITIATE (given the HELLO).
	initSrv func(t *testing.T, hello []byte) Handshake
}

// curveState is what a test may use to forge an INITIATE.
type curveState struct {
	cm *CurveClient
	sm *CurveServer
	sh *curveServerHandshake
}

func runCurveEdit(t *testing.T, e curveEdit) (side string, err error) {
	t.Helper()
	ctx := context.Background()
	sm, cm := newCurveMechs()
	if e.cli != nil {
		e.cli(cm)
	}
	if e.srv != nil {
		e.srv(sm)
	}
	ch := cm.NewHandshake(curveDealerMD(), Session{}).(*curveClientHandshake)
	sh := sm.NewHandshake(curveRouterMD(), Session{}).(*curveServerHandshake)
	st := &curveState{cm: cm, sm: sm, sh: sh}
	edit := func(f func([]byte) []byte, b []byte) []byte {
		if f != nil {
			return f(append([]byte(nil), b...))
		}
		return b
	}
	hello, err := ch.Start(ctx)
	if err != nil {
		return "client", err
	}
	hello = edit(e.hello, hello)
	welcome, _, err := sh.Command(ctx, hello[2:])
	if err != nil {
		if len(welcome) != 0 {
			t.Errorf("server answered a bad HELLO: % x", welcome)
		}
		return "server", err
	}
	welcome = edit(e.welcome, welcome)
	initiate, _, err := ch.Command(ctx, welcome[2:])
	if err != nil {
		if len(initiate) != 0 {
			t.Errorf("client answered a bad WELCOME: % x", initiate)
		}
		return "client", err
	}
	if e.initiate != nil {
		initiate = e.initiate(t, append([]byte(nil), initiate...), st)
	}
	var target Handshake = sh
	if e.initSrv != nil {
		target = e.initSrv(t, hello)
	}
	ready, done, err := target.Command(ctx, curveBody(t, initiate))
	if err != nil {
		if len(ready) != 0 {
			t.Errorf("server answered a bad INITIATE: % x", ready)
		}
		return "server", err
	}
	if !done {
		t.Fatal("server not done after INITIATE")
	}
	ready = edit(e.ready, ready)
	out, done, err := ch.Command(ctx, curveBody(t, ready))
	if len(out) != 0 {
		t.Errorf("client answered READY: % x", out)
	}
	if err != nil {
		return "client", err
	}
	if !done {
		t.Fatal("client not done after READY")
	}
	return "", nil
}

// forgeInitiate rebuilds the INITIATE of st's connection, changing what
// mod changes. The keys come from the cookie, which the test opens with the
// connection's cookie key: DH(c', S') = DH(s', C') and DH(c, S') = DH(s', C).
func forgeInitiate(t *testing.T, frame []byte, st *curveState, mod func(*curveInitiateParams)) []byte {
	t.Helper()
	data := curveBody(t, frame)[9:]
	clientT, tsec, ok := st.sh.openCookie(data[:curveCookieSize])
	if !ok {
		t.Fatal("cannot open the cookie")
	}
	key, _ := curveShared(&clientT, &tsec)
	vouchKey, _ := curveShared(&st.cm.Public, &tsec)
	p := curveInitiateParams{
		cookie:   append([]byte(nil), data[:curveCookieSize]...),
		nonce:    binary.BigEndian.Uint64(data[curveCookieSize:]),
		key:      &key,
		vouchKey: &vouchKey,
		vouchN:   [16]byte{1, 2, 3},
		client:   st.cm.Public,
		clientT:  clientT,
		server:   st.cm.ServerPublic,
		md:       curveDealerMD(),
	}
	mod(&p)
	return appendCurveInitiate(nil, p)
}

func TestCurveHandshakeFailures(t *testing.T) {
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			if i < 0 {
				i += len(b)
			}
			b[i] ^= 0x20
			return b
		}
	}
	resize := func(n int) func([]byte) []byte {
		return func(b []byte) []byte {
			body := b[2:]
			if n < len(body) {
				body = body[:n]
			} else {
				body = append(body, make([]byte, n-len(body))...)
			}
			return wire.AppendFrame(nil, wire.FlagCommand, body)
		}
	}
	otherServer := func(t *testing.T, hello []byte) Handshake {
		// Same long-term key, other cookie key.
		h := NewCurveServer(curveServerSec).NewHandshake(nil, Session{})
		if _, _, err := h.Command(context.Background(), hello[2:]); err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name string
		e    curveEdit
		side string
		want error
	}{
		{name: "ok", e: curveEdit{}},
		{name: "wrong-server-key", side: "server", want: ErrCurveAuth,
			e: curveEdit{cli: func(c *CurveClient) { c.ServerPublic = curveClientPub }}},
		{name: "hello-short", side: "server", want: wire.ErrMalformed, e: curveEdit{hello: resize(199)}},
		{name: "hello-long", side: "server", want: wire.ErrMalformed, e: curveEdit{hello: resize(201)}},
		{name: "hello-version-2.0", side: "server", want: wire.ErrMalformed, e: curveEdit{hello: func(b []byte) []byte { b[2+6] = 2; return b }}},
		{name: "hello-version-1.1", side: "server", want: wire.ErrMalformed, e: curveEdit{hello: func(b []byte) []byte { b[2+7] = 1; return b }}},
		{name: "hello-padding-ignored", e: curveEdit{hello: func(b []byte) []byte { b[2+20] = 0xff; return b }}},
		{name: "hello-box-tampered", side: "server", want: ErrCurveAuth, e: curveEdit{hello: flip(-1)}},
		{name: "hello-nonce-tampered", side: "server", want: ErrCurveAuth, e: curveEdit{hello: flip(2 + 119)}},
		{name: "hello-client-key-tampered", side: "server", want: ErrCurveAuth, e: curveEdit{hello: flip(2 + 80)}},
		{name: "hello-low-order-key", side: "server", want: ErrCurveAuth, e: curveEdit{hello: func(b []byte) []byte {
			clear(b[2+80 : 2+112])
			return b
		}}},
		{name: "welcome-short", side: "client", want: wire.ErrMalformed, e: curveEdit{welcome: resize(167)}},
		{name: "welcome-long", side: "client", want: wire.ErrMalformed, e: curveEdit{welcome: resize(169)}},
		{name: "welcome-tampered", side: "client", want: ErrCurveAuth, e: curveEdit{welcome: flip(2 + 100)}},
		{name: "welcome-nonce-tampered", side: "client", want: ErrCurveAuth, e: curveEdit{welcome: flip(2 + 8)}},
		{name: "cookie-other-server", side: "server", want: ErrCurveAuth, e: curveEdit{initSrv: otherServer}},
		{name: "cookie-tampered", side: "server", want: ErrCurveAuth, e: curveEdit{
			initiate: func(_ *testing.T, b []byte, _ *curveState) []byte { b[9+9+40] ^= 1; return b }}},
		{name: "cookie-nonce-tampered", side: "server", want: ErrCurveAuth, e: curveEdit{
			initiate: func(_ *testing.T, b []byte, _ *curveState) []byte { b[9+9+3] ^= 1; return b }}},
		{name: "initiate-box-tampered", side: "server", want: ErrCurveAuth, e: curveEdit{
			initiate: func(_ *testing.T, b []byte, _ *curveState) []byte { b[len(b)-1] ^= 1; return b }}},
		{name: "initiate-short", side: "server", want: wire.ErrMalformed, e: curveEdit{
			initiate: func(_ *testing.T, b []byte, _ *curveState) []byte {
				return wire.AppendFrame(nil, wire.FlagCommand, b[9:9+256])
			}}},
		{name: "initiate-nonce-replayed", side: "server", want: ErrCurveNonce, e: curveEdit{
			initiate: func(t *testing.T, b []byte, st *curveState) []byte {
				return forgeInitiate(t, b, st, func(p *curveInitiateParams) { p.nonce = 1 })
			}}},
		{name: "initiate-nonce-higher", e: curveEdit{
			initiate: func(t *testing.T, b []byte, st *curveState) []byte {
				return forgeInitiate(t, b, st, func(p *curveInitiateParams) { p.nonce = 1000 })
			}}},
		{name: "forged-initiate-ok", e: curveEdit{
			initiate: func(t *testing.T, b []byte, st *curveState) []byte {
				return forgeInitiate(t, b, st, func(*curveInitiateParams) {})
			}}},
		{name: "vouch-wrong-transient", side: "server", want: ErrCurveAuth, e: curveEdit{
			initiate: func(t *testing.T, b []byte, st *curveState) []byte {
				return forgeInitiate(t, b, st, func(p *curveInitiateParams) { p.clientT[0] ^= 1 })
			}}},
		{name: "vouch-wrong-server-ignored", e: curveEdit{ // libzmq checks only C'
			initiate: func(t *testing.T, b []byte, st *curveState) []byte {
				return forgeInitiate(t, b, st, func(p *curveInitiateParams) { p.server[0] ^= 1 })
			}}},
		{name: "vouch-by-other-client", side: "server", want: ErrCurveAuth, e: curveEdit{
			initiate: func(t *testing.T, b []byte, st *curveState) []byte {
				// C claims the server key, but the vouch is sealed by c.
				return forgeInitiate(t, b, st, func(p *curveInitiateParams) { p.client = curveServerPub })
			}}},
		{name: "initiate-bad-metadata", side: "server", want: wire.ErrMalformed, e: curveEdit{
			initiate: func(t *testing.T, b []byte, st *curveState) []byte {
				return forgeInitiate(t, b, st, func(p *curveInitiateParams) {
					p.md = wire.Metadata{{Name: "a\x01", Value: nil}}
				})
			}}},
		{name: "ready-tampered", side: "client", want: ErrCurveAuth, e: curveEdit{ready: flip(-3)}},
		{name: "ready-short", side: "client", want: wire.ErrMalformed, e: curveEdit{ready: resize(29)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			side, err := runCurveEdit(t, tt.e)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("%s: %v", side, err)
				}
				return
			}
			if side != tt.side || !errors.Is(err, tt.want) {
				t.Fatalf("%s: %v; want %s: %v", side, err, tt.side, tt.want)
			}
		})
	}
}

// TestCurveCookieOtherConnection: the cookie of one connection does not
// complete another one's handshake, although the same server sealed it.
func TestCurveCookieOtherConnection(t *testing.T) {
	ctx := context.Background()
	sm, cm := newCurveMechs()
	c1, c2 := cm.NewHandshake(nil, Session{}), cm.NewHandshake(nil, Session{})
	s1, s2 := sm.NewHandshake(nil, Session{}), sm.NewHandshake(nil, Session{})
	h1, _ := c1.Start(ctx)
	h2, _ := c2.Start(ctx)
	w1, _, err := s1.Command(ctx, h1[2:])
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s2.Command(ctx, h2[2:]); err != nil {
		t.Fatal(err)
	}
	i1, _, err := c1.Command(ctx, w1[2:])
	if err != nil {
		t.Fatal(err)
	}
	if out, _, err := s2.Command(ctx, curveBody(t, i1)); !errors.Is(err, ErrCurveAuth) || len(out) != 0 {
		t.Errorf("INITIATE on another connection: % x, %v", out, err)
	}
	if _, done, err := s1.Command(ctx, curveBody(t, i1)); !done || err != nil {
		t.Errorf("INITIATE on its connection: %v", err)
	}
}

// TestCurveReplay: the bytes a client sent on one connection, replayed on
// a new one, get nowhere: the new connection's WELCOME carries a cookie
// under a new key, so the recorded INITIATE's cookie does not open. Neither
// does a second INITIATE on the connection the cookie was made for.
func TestCurveReplay(t *testing.T) {
	ctx := context.Background()
	sm, cm := newCurveMechs()
	c := cm.NewHandshake(nil, Session{})
	s1 := sm.NewHandshake(nil, Session{})
	hello, _ := c.Start(ctx)
	welcome, _, err := s1.Command(ctx, hello[2:])
	if err != nil {
		t.Fatal(err)
	}
	initiate, _, err := c.Command(ctx, welcome[2:])
	if err != nil {
		t.Fatal(err)
	}
	if _, done, err := s1.Command(ctx, curveBody(t, initiate)); !done || err != nil {
		t.Fatalf("the real INITIATE: done %v, %v", done, err)
	}
	for i := range 3 {
		s := sm.NewHandshake(nil, Session{})
		if _, _, err := s.Command(ctx, hello[2:]); err != nil {
			t.Fatalf("replayed HELLO %d: %v", i, err) // a HELLO proves nothing: it is answered
		}
		out, done, err := s.Command(ctx, curveBody(t, initiate))
		if done || len(out) != 0 || !errors.Is(err, ErrCurveAuth) {
			t.Fatalf("replayed INITIATE %d: out % x, done %v, err %v; want ErrCurveAuth", i, out, done, err)
		}
	}
	// The handshake that succeeded forgot its cookie key.
	if _, _, ok := s1.(*curveServerHandshake).openCookie(curveBody(t, initiate)[9 : 9+curveCookieSize]); ok {
		t.Error("the cookie still opens after INITIATE")
	}
}

func TestCurveUnexpected(t *testing.T) {
	ctx := context.Background()
	sm, cm := newCurveMechs()
	ready := []byte("\x05READY")
	for _, tt := range []struct {
		name  string
		h     func() Handshake
		body  []byte
		want  error
		peerE string
	}{
		{"server-ready-first", func() Handshake { return sm.NewHandshake(nil, Session{}) }, ready, ErrUnexpected, ""},
		{"server-initiate-first", func() Handshake { return sm.NewHandshake(nil, Session{}) }, []byte("\x08INITIATE"), ErrUnexpected, ""},
		{"server-error", func() Handshake { return sm.NewHandshake(nil, Session{}) }, []byte("\x05ERROR\x03400"), ErrUnexpected, ""},
		{"server-garbage", func() Handshake { return sm.NewHandshake(nil, Session{}) }, []byte{0}, wire.ErrMalformed, ""},
		{"server-hello-lowercase", func() Handshake { return sm.NewHandshake(nil, Session{}) }, append([]byte("\x05hello"), make([]byte, 194)...), ErrUnexpected, ""},
		{"client-hello", func() Handshake { h := cm.NewHandshake(nil, Session{}); h.Start(ctx); return h }, append([]byte("\x05HELLO"), make([]byte, 194)...), ErrUnexpected, ""},
		{"client-ready-before-welcome", func() Handshake { h := cm.NewHandshake(nil, Session{}); h.Start(ctx); return h }, append(ready, make([]byte, 24)...), ErrUnexpected, ""},
		{"client-error", func() Handshake { h := cm.NewHandshake(nil, Session{}); h.Start(ctx); return h }, []byte("\x05ERROR\x03400"), nil, "400"},
		{"client-error-malformed", func() Handshake { h := cm.NewHandshake(nil, Session{}); h.Start(ctx); return h }, []byte("\x05ERROR\x09"), wire.ErrMalformed, ""},
		{"client-ping", func() Handshake { h := cm.NewHandshake(nil, Session{}); h.Start(ctx); return h }, []byte("\x04PING\x00\x00"), ErrUnexpected, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h()
			out, done, err := h.Command(ctx, tt.body)
			if len(out) != 0 || done {
				t.Errorf("out % x, done %v", out, done)
			}
			if tt.peerE != "" {
				var pe *PeerError
				if !errors.As(err, &pe) || pe.Reason != tt.peerE {
					t.Fatalf("err = %v, want PeerError %q", err, tt.peerE)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// A failed handshake stays failed.
			if _, _, err := h.Command(ctx, tt.body); err == nil {
				t.Error("second command accepted")
			}
		})
	}
}

func TestCurveZAP(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name     string
		zap      *curveZAP
		nilZAP   bool
		done     bool
		errFrame []byte // what the server sends instead of READY
		status   string // *ZAPError
		want     error
		userID   string
	}{
		{name: "no-zap", nilZAP: true, done: true},
		{name: "no-handler", zap: &curveZAP{err: ErrNoZAPHandler}, done: true},
		{name: "200", zap: &curveZAP{rep: ZAPReply{Status: "200", UserID: "alice",
			Metadata: wire.Metadata{{Name: "X-Role", Value: []byte("ops")}}}}, done: true, userID: "alice"},
		{name: "300", zap: &curveZAP{rep: ZAPReply{Status: "300", Text: "later"}}, status: "300"},
		{name: "400", zap: &curveZAP{rep: ZAPReply{Status: "400", Text: "no"}}, status: "400",
			errFrame: curveHex("04 0a 05 45 52 52 4f 52 03 34 30 30")},
		{name: "500", zap: &curveZAP{rep: ZAPReply{Status: "500"}}, status: "500",
			errFrame: curveHex("04 0a 05 45 52 52 4f 52 03 35 30 30")},
		{name: "zap-fails", zap: &curveZAP{err: errBoom}, want: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, cm := newCurveMechs()
			var z *curveZAP
			if !tt.nilZAP {
				z = tt.zap
			}
			ch, sh := cm.NewHandshake(curveDealerMD(), Session{}), sm.NewHandshake(curveRouterMD(), curveSession(z))
			r := runCurve(t, ch, sh)
			if r.srvDone != tt.done {
				t.Fatalf("server done %v, err %v", r.srvDone, r.srvErr)
			}
			if z != nil {
				if len(z.reqs) != 1 {
					t.Fatalf("%d ZAP requests", len(z.reqs))
				}
				q := z.reqs[0]
				if q.Domain != "global" || q.Address != "192.0.2.9" || string(q.Identity) != "srv" ||
					q.Mechanism != "CURVE" || len(q.Credentials) != 1 || !bytes.Equal(q.Credentials[0], curveClientPub[:]) {
					t.Errorf("ZAP request %+v", q)
				}
			}
			if tt.done {
				if r.srvErr != nil || r.cliErr != nil || !r.cliDone {
					t.Fatalf("errors %v %v", r.srvErr, r.cliErr)
				}
				id, md := sh.Auth()
				if id != tt.userID || (tt.userID != "" && len(md) != 1) {
					t.Errorf("Auth = %q %v", id, md)
				}
				return
			}
			if tt.want != nil {
				if !errors.Is(r.srvErr, tt.want) || len(r.ready) != 0 {
					t.Fatalf("err %v, out % x", r.srvErr, r.ready)
				}
				return
			}
			var ze *ZAPError
			if !errors.As(r.srvErr, &ze) || ze.Status != tt.status {
				t.Fatalf("err = %v, want ZAPError %s", r.srvErr, tt.status)
			}
			if !bytes.Equal(r.ready, tt.errFrame) {
				t.Fatalf("out = % x, want % x", r.ready, tt.errFrame)
			}
			if sh.Codec() != nil {
				t.Error("codec after a refusal")
			}
			if len(tt.errFrame) > 0 {
				_, _, err := ch.Command(context.Background(), curveBody(t, r.ready))
				var pe *PeerError
				if !errors.As(err, &pe) || pe.Reason != tt.status {
					t.Errorf("client on ERROR: %v", err)
				}
			}
		})
	}
}

func TestCurveMessages(t *testing.T) {
	cli, srv := curveEstablished(t)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	tests := []struct {
		name  string
		flags byte
		body  []byte
		inner byte
	}{
		{"empty", 0, nil, 0},
		{"hello", 0, []byte("Hello"), 0},
		{"more", wire.FlagMore, []byte("part"), 0x01},
		{"command", wire.FlagCommand, []byte("\x04PING\x00\x00"), 0x02},
		{"more-command", wire.FlagMore | wire.FlagCommand, []byte("x"), 0x03},
		{"long-flag-ignored", wire.FlagLong, []byte("y"), 0},
		{"222-short-frame", 0, make([]byte, 222), 0},
		{"223-long-frame", 0, make([]byte, 223), 0},
		{"1MiB", wire.FlagMore, big, 0x01},
	}
	for _, dir := range []struct {
		name     string
		from, to *curveCodec
	}{{"client-to-server", cli, srv}, {"server-to-client", srv, cli}} {
		for _, tt := range tests {
			t.Run(dir.name+"/"+tt.name, func(t *testing.T) {
				prefix := []byte("keep")
				nonce := dir.from.send
				frame, err := dir.from.Seal(prefix, tt.flags, tt.body)
				if err != nil {
					t.Fatal(err)
				}
				if string(frame[:4]) != "keep" {
					t.Fatal("Seal lost dst")
				}
				frame = frame[4:]
				h, n, err := wire.ParseFrameHeader(frame)
				if err != nil {
					t.Fatal(err)
				}
				size := 33 + len(tt.body)
				wantFlags := byte(0)
				if size > 255 {
					wantFlags = wire.FlagLong
				}
				if frame[0] != wantFlags || h.Size != uint64(size) || len(frame) != n+size {
					t.Fatalf("outer flags %#02x, size %d, frame %d", frame[0], h.Size, len(frame))
				}
				body := frame[n:]
				if string(body[:8]) != "\x07MESSAGE" || binary.BigEndian.Uint64(body[8:]) != nonce {
					t.Fatalf("body starts % x", body[:16])
				}
				// The inner flags, as libzmq sees them.
				pnonce := curveShortNonce(dir.from.sendPrefix, nonce)
				plain, ok := box.OpenAfterPrecomputation(nil, body[16:], &pnonce, &dir.from.key)
				if !ok || plain[0] != tt.inner {
					t.Fatalf("inner flags %#02x (%v)", plain[0], ok)
				}
				f, data, err := dir.to.Open(h.Flags, body)
				if err != nil {
					t.Fatal(err)
				}
				if f != tt.flags&(wire.FlagMore|wire.FlagCommand) || !bytes.Equal(data, tt.body) {
					t.Fatalf("Open = %#02x, %d bytes", f, len(data))
				}
			})
		}
	}
}

func TestCurveOpenErrors(t *testing.T) {
	cli, srv := curveEstablished(t)
	seal := func(c *curveCodec, body string) []byte {
		f, err := c.Seal(nil, 0, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		_, n, _ := wire.ParseFrameHeader(f)
		return f[n:]
	}
	m1, m2 := seal(cli, "one"), seal(cli, "two")
	if _, _, err := srv.Open(0, m2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Open(0, m2); !errors.Is(err, ErrCurveNonce) {
		t.Errorf("replay: %v", err)
	}
	if _, _, err := srv.Open(0, m1); !errors.Is(err, ErrCurveNonce) {
		t.Errorf("reordered: %v", err)
	}
	// Gaps are fine; a command frame outside is accepted too.
	seal(cli, "skipped")
	if f, data, err := srv.Open(wire.FlagCommand, seal(cli, "four")); err != nil || f != 0 || string(data) != "four" {
		t.Errorf("after a gap: %#x %q %v", f, data, err)
	}
	m := seal(cli, "tamper")
	for i := 16; i < len(m); i++ {
		b := append([]byte(nil), m...)
		b[i] ^= 0x80
		if _, _, err := srv.Open(0, b); !errors.Is(err, ErrCurveAuth) {
			t.Fatalf("byte %d tampered: %v", i, err)
		}
	}
	// A higher forged nonce fails the box and does not move the window.
	b := append([]byte(nil), m...)
	binary.BigEndian.PutUint64(b[8:], math.MaxUint64)
	if _, _, err := srv.Open(0, b); !errors.Is(err, ErrCurveAuth) {
		t.Errorf("forged nonce: %v", err)
	}
	if _, data, err := srv.Open(0, m); err != nil || string(data) != "tamper" {
		t.Errorf("after the failures: %q %v", data, err)
	}
	// Our own direction's prefix does not open.
	if _, _, err := cli.Open(0, seal(cli, "self")); !errors.Is(err, ErrCurveAuth) {
		t.Errorf("own MESSAGE opened: %v", err)
	}
	for _, bad := range [][]byte{
		nil,
		m[:32],
		append([]byte("\x07MESSAGf"), m[8:]...),
		append([]byte("\x05READY\x00\x00"), m[8:]...),
	} {
		if _, _, err := srv.Open(0, bad); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("% x: %v", bad[:min(len(bad), 8)], err)
		}
	}
}

func TestCurveNonceExhaustion(t *testing.T) {
	cli, srv := curveEstablished(t)
	cli.send = math.MaxUint64 - 1
	f, err := cli.Seal(nil, 0, []byte("last"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Open(0, f[2:]); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Seal(nil, 0, []byte("wrap")); !errors.Is(err, ErrCurveNonce) {
		t.Errorf("Seal at 2^64-1: %v", err)
	}
	if cli.send != math.MaxUint64 {
		t.Errorf("counter moved to %d", cli.send)
	}
	srv.recv = math.MaxUint64
	m := append([]byte("\x07MESSAGE"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	m = append(m, make([]byte, 17)...)
	if _, _, err := srv.Open(0, m); !errors.Is(err, ErrCurveNonce) {
		t.Errorf("Open after 2^64-1: %v", err)
	}
}

func TestCurveSealAllocs(t *testing.T) {
	cli, _ := curveEstablished(t)
	body := make([]byte, 1000)
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(100, func() {
		buf, _ = cli.Seal(buf[:0], 0, body)
	}); n != 0 {
		t.Errorf("Seal with room in dst: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		_, _ = cli.Seal(nil, 0, body)
	}); n != 1 {
		t.Errorf("Seal into nil: %v allocations", n)
	}
}

func BenchmarkCurveSeal16(b *testing.B)  { benchCurveSeal(b, 16) }
func BenchmarkCurveSeal64K(b *testing.B) { benchCurveSeal(b, 64<<10) }

func benchCurveSeal(b *testing.B, n int) {
	cli, _ := curveEstablished(b)
	body := make([]byte, n)
	buf := make([]byte, 0, n+64)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = cli.Seal(buf[:0], 0, body)
	}
}

func BenchmarkCurveOpen16(b *testing.B)  { benchCurveOpen(b, 16) }
func BenchmarkCurveOpen64K(b *testing.B) { benchCurveOpen(b, 64<<10) }

// benchCurveOpen opens a copy of the same MESSAGE again and again (Open
// decrypts in place), as the engine opens a copy of the read buffer.
func benchCurveOpen(b *testing.B, n int) {
	cli, srv := curveEstablished(b)
	f, _ := cli.Seal(nil, 0, make([]byte, n))
	_, hl, _ := wire.ParseFrameHeader(f)
	msg := f[hl:]
	body := make([]byte, len(msg))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		copy(body, msg)
		srv.recv = 0
		if _, _, err := srv.Open(0, body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCurveBoxIsSecretbox: MESSAGE's own XSalsa20-Poly1305 seals what
// box.SealAfterPrecomputation seals and opens what it opens, in place,
// leaving a box that does not open as it was.
func TestCurveBoxIsSecretbox(t *testing.T) {
	var key [32]byte
	var prefix [16]byte
	var sub [32]byte
	rng := mrand.New(mrand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 15, 30, 31, 32, 33, 63, 64, 65, 100, 1000, 4096, 65536, 65537 + 31} {
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		for i := range prefix {
			prefix[i] = byte(rng.Uint32())
		}
		short := rng.Uint64()
		nonce := curveShortNonce(string(prefix[:]), short)
		sub = curveSubKey(string(prefix[:]), &key)
		inner := byte(rng.Uint32())
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		want := box.SealAfterPrecomputation([]byte("pre"), append([]byte{inner}, body...), &nonce, &key)
		got := curveSealMessage([]byte("pre"), inner, body, &sub, short)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: sealed differently from secretbox", n)
		}
		sealed := slices.Clone(got[3:])
		for _, i := range []int{0, 15, 16, min(17, len(sealed)-1), len(sealed) - 1} {
			bad := slices.Clone(sealed)
			bad[i] ^= 1
			keep := slices.Clone(bad)
			if _, ok := curveOpenInPlace(bad, &sub, short); ok || !bytes.Equal(bad, keep) {
				t.Fatalf("%d bytes, byte %d flipped: opened %v, box changed %v", n, i, ok, !bytes.Equal(bad, keep))
			}
		}
		plain, ok := curveOpenInPlace(got[3:], &sub, short)
		if !ok || len(plain) != 1+n || plain[0] != inner || !bytes.Equal(plain[1:], body) {
			t.Fatalf("%d bytes: did not open in place (%v)", n, ok)
		}
		if &plain[0] != &got[3+box.Overhead] {
			t.Fatalf("%d bytes: plaintext not in place", n)
		}
		if _, ok := box.OpenAfterPrecomputation(nil, sealed, &nonce, &key); !ok {
			t.Fatalf("%d bytes: secretbox does not open it", n)
		}
	}
	if _, ok := curveOpenInPlace(make([]byte, box.Overhead-1), &sub, 1); ok {
		t.Fatal("a box shorter than its tag opened")
	}
}

func TestCurveOpenAllocs(t *testing.T) {
	cli, srv := curveEstablished(t)
	f, _ := cli.Seal(nil, 0, make([]byte, 1000))
	_, hl, _ := wire.ParseFrameHeader(f)
	msg := f[hl:]
	body := make([]byte, len(msg))
	if n := testing.AllocsPerRun(100, func() {
		copy(body, msg)
		srv.recv = 0
		if _, _, err := srv.Open(0, body); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Open: %v allocations", n)
	}
}
