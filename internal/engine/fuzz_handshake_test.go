package engine

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/security"
	"github.com/azmq/azmq/internal/wire"
)

// The targets below feed arbitrary bytes to a server-side engine as all a
// client ever sends: greeting, handshake, then frames, until the bytes run
// out and the connection reads EOF. One target per mechanism, each seeded
// with what a real azmq client sent to a real server engine, so that the
// fuzzer starts past the handshake. The first argument (hsKnobs) sets up
// the server for the input: what ZAP answers, the size limit, how the bytes
// are cut into reads.
//
// Each input must end (no hang), without a panic, with what the server
// wrote and allocated bounded by the input, and without letting through a
// peer it must refuse: a PLAIN client ZAP did not allow, any client ZAP
// refused, a socket type it does not accept.

// FuzzServerHandshakeNull runs a NULL server (with ZAP when the knobs ask
// for it and name a domain, as libzmq asks ZAP for NULL only then).
func FuzzServerHandshakeNull(f *testing.F) { fuzzServerHandshake(f, nullHarness()) }

// FuzzServerHandshakePlain runs a PLAIN server, which lets a client in
// only on ZAP's 200.
func FuzzServerHandshakePlain(f *testing.F) { fuzzServerHandshake(f, plainHarness()) }

// FuzzServerHandshakeCurve runs a CURVE server whose random source restarts
// from the same seed for every input, so the recorded client's INITIATE
// carries a cookie the server accepts and its MESSAGEs open.
func FuzzServerHandshakeCurve(f *testing.F) { fuzzServerHandshake(f, curveHarness()) }

func nullHarness() *serverHarness {
	return &serverHarness{name: "NULL", mech: func() security.Mechanism { return security.Null{} }}
}

func plainHarness() *serverHarness {
	return &serverHarness{name: "PLAIN", mech: func() security.Mechanism { return security.PlainServer{} }}
}

func curveHarness() *serverHarness {
	srv := security.NewCurveServer(fuzzCurveServerSecret)
	return &serverHarness{name: "CURVE", mech: func() security.Mechanism {
		security.SetCurveServerRand(srv, rand.NewChaCha8([32]byte{'s'}))
		return srv
	}}
}

// The key pairs of libzmq's tests (PROTOCOL.md §7.9), as raw bytes.
var (
	fuzzCurveServerPublic = key32(`54 FC BA 24 E9 32 49 96 93 16 FB 61 7C 87 2B B0 C1 D1 FF 14 80 04 27 C5 94 CB FA CF 1B C2 D6 52`)
	fuzzCurveServerSecret = key32(`8E 0B DD 69 76 28 B9 1D 8F 24 55 87 EE 95 C5 B0 4D 48 96 3F 79 25 98 77 B4 9C D9 06 3A EA D3 B7`)
	fuzzCurveClientPublic = key32(`BB 88 47 1D 65 E2 65 9B 30 C5 5A 53 21 CE BB 5A AB 2B 70 A3 98 64 5C 26 DC A2 B2 FC B4 3F C5 18`)
	fuzzCurveClientSecret = key32(`7B B8 64 B4 89 AF A3 67 1F BE 69 10 1F 94 B3 89 72 F2 48 16 DF B0 1B 51 65 6B 3F EC 8D FD 08 88`)
)

func key32(s string) (k [32]byte) {
	if copy(k[:], hx(s)) != 32 {
		panic("key32: not 32 bytes")
	}
	return k
}

// hsKnobs sets up the server for one input:
//
//	bits 0-2  what ZAP answers (zapNone ... zapBroken)
//	bit 3     no ZAP domain (NULL then does not ask ZAP)
//	bit 4     no size limit (else fuzzMaxMsg)
//	bits 5-7  how many bytes each Read returns (readChunks)
type hsKnobs uint8

const (
	zapNone      = iota // Config.ZAP is nil
	zapAllow            // 200, with a User-Id and a property
	zapByRequest        // 200 if the first credential starts with an even byte (or there is none), else 400
	zapDeny             // 400
	zapTemporary        // 300
	zapFailure          // 500
	zapNoHandler        // ErrNoZAPHandler: no handler bound
	zapBroken           // another error: the request failed

	knobNoDomain = 1 << 3
	knobNoLimit  = 1 << 4
)

// readChunks is the most one Read returns, by knobs bits 5-7 (0: all).
var readChunks = [8]int{0, 1, 2, 3, 7, 64, 511, 4099}

// fuzzMaxMsg is the size limit unless knobNoLimit; checkWhole checks it.
const fuzzMaxMsg = 64 << 10

func (k hsKnobs) zapMode() int { return int(k & 7) }
func (k hsKnobs) chunk() int   { return readChunks[k>>5] }

// zapRecord is what the ZAP function was asked and answered.
type zapRecord struct {
	calls  int
	status string // of the last answer; "" for an error
	err    error
	userID string
}

// zapFunc answers as the knobs say and records it in rec.
func (k hsKnobs) zapFunc(rec *zapRecord) security.ZAPFunc {
	mode := k.zapMode()
	if mode == zapNone {
		return nil
	}
	return func(ctx context.Context, req security.ZAPRequest) (security.ZAPReply, error) {
		rec.calls++
		var rep security.ZAPReply
		var err error
		switch mode {
		case zapAllow:
			rep = allowReply(req)
		case zapByRequest:
			if len(req.Credentials) == 0 || len(req.Credentials[0]) == 0 || req.Credentials[0][0]%2 == 0 {
				rep = allowReply(req)
			} else {
				rep = security.ZAPReply{Status: "400", Text: "odd"}
			}
		case zapDeny:
			rep = security.ZAPReply{Status: "400", Text: "denied"}
		case zapTemporary:
			rep = security.ZAPReply{Status: "300", Text: "try later"}
		case zapFailure:
			rep = security.ZAPReply{Status: "500", Text: "broken"}
		case zapNoHandler:
			err = security.ErrNoZAPHandler
		default:
			err = io.ErrClosedPipe
		}
		rec.status, rec.err, rec.userID = rep.Status, err, rep.UserID
		return rep, err
	}
}

func allowReply(req security.ZAPRequest) security.ZAPReply {
	return security.ZAPReply{
		Status: "200", UserID: "user-" + req.Mechanism,
		Metadata: wire.Metadata{{Name: "X-Fuzz", Value: []byte("1")}},
	}
}

// serverHarness runs one mechanism's server engine over a streamConn.
type serverHarness struct {
	name string
	// mech returns the server mechanism for the next connection; for CURVE
	// it also restarts the server's random source.
	mech func() security.Mechanism
}

// config is the server engine's Config under knobs: a ROUTER that accepts
// DEALER, REQ and ROUTER peers.
func (h *serverHarness) config(k hsKnobs, rec *zapRecord) Config {
	cfg := Config{
		SocketType:   "ROUTER",
		SendIdentity: true,
		Compatible:   routerCompatible,
		Mechanism:    h.mech(),
		MaxMsgSize:   fuzzMaxMsg,
		Handshake:    time.Second, // a backstop: nothing here blocks
		PeerAddress:  "192.0.2.7",
		ZAP:          k.zapFunc(rec),
		ZAPDomain:    "fuzz",
	}
	if k&knobNoDomain != 0 {
		cfg.ZAPDomain = ""
	}
	if k&knobNoLimit != 0 {
		cfg.MaxMsgSize = -1
	}
	return cfg
}

func routerCompatible(t string) bool { return t == "DEALER" || t == "REQ" || t == "ROUTER" }

// serverRun is how one input went.
type serverRun struct {
	peer    *pipe.Peer
	hsErr   error
	runErr  error
	msgs    []pipe.Msg
	zap     zapRecord
	written int
}

// runTimeout bounds one input; an input never waits for anything, so
// reaching it means a hang.
const runTimeout = 10 * time.Second

// run feeds stream to a fresh server engine: Handshake, then (if it
// succeeded) Run until the stream's EOF. It fails tb on a hang or on a
// broken bound or rule.
func (h *serverHarness) run(tb testing.TB, k hsKnobs, stream []byte) serverRun {
	tb.Helper()
	var r serverRun
	conn := &streamConn{in: stream, chunk: k.chunk()}
	cfg := h.config(k, &r.zap)
	before := heapAllocs()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e := New(conn, cfg)
		defer e.Close()
		r.peer, r.hsErr = e.Handshake(context.Background())
		if r.hsErr != nil {
			return
		}
		p := pipe.New(0, 0, nil, nil, nil, nil) // unbounded: the input bounds it
		r.runErr = e.Run(p)
		for {
			m, ok, _ := p.In.TryPop()
			if !ok {
				break
			}
			r.msgs = append(r.msgs, m)
		}
	}()
	timer := time.NewTimer(runTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		tb.Fatalf("%s server: no end %v after a %d-byte stream (knobs %#x)", h.name, runTimeout, len(stream), uint8(k))
	}
	allocated := heapAllocs() - before
	r.written = conn.writtenBytes()
	h.check(tb, k, stream, &r, allocated)
	return r
}

// check holds the rules every input must keep.
func (h *serverHarness) check(tb testing.TB, k hsKnobs, stream []byte, r *serverRun, allocated uint64) {
	tb.Helper()
	// What a peer's bytes may cost: a 4 MiB body started on a declared
	// size without a limit (eagerAlloc), the engine's buffers, and per
	// input byte a bounded overhead (an empty frame is a message).
	if limit := uint64(16<<20 + 256*len(stream)); allocated > limit {
		tb.Errorf("%s server: %d bytes allocated for a %d-byte stream (limit %d)", h.name, allocated, len(stream), limit)
	}
	// The server answers: greeting, handshake commands, an ERROR, and a
	// PONG no larger than its PING (sealed ones alike).
	if limit := 1024 + 2*len(stream); r.written > limit {
		tb.Errorf("%s server: wrote %d bytes for a %d-byte stream (limit %d)", h.name, r.written, len(stream), limit)
	}
	if r.zap.calls > 1 {
		tb.Errorf("%s server: ZAP asked %d times in one handshake", h.name, r.zap.calls)
	}
	if r.hsErr == nil {
		h.checkAdmitted(tb, k, r)
		// A ZMTP 2.0 peer has no mechanism: only NULL without a ZAP
		// domain may serve it.
		if len(stream) > wire.SignatureSize && wire.CheckSignature(stream) == nil &&
			stream[wire.SignatureSize] == wire.RevisionZMTP2 && (h.name != "NULL" || k&knobNoDomain == 0) {
			tb.Errorf("%s server: a ZMTP 2.0 peer let in (knobs %#x)", h.name, uint8(k))
		}
	}
	for _, m := range r.msgs {
		if k&knobNoLimit == 0 {
			checkWhole(tb, m)
		} else if len(m.Frames) == 0 {
			tb.Error("a message with no frame")
		}
	}
}

// checkAdmitted holds the rules for a peer the handshake let in.
func (h *serverHarness) checkAdmitted(tb testing.TB, k hsKnobs, r *serverRun) {
	tb.Helper()
	z := r.zap
	asks := k.zapMode() != zapNone && (h.name != "NULL" || k&knobNoDomain == 0)
	switch {
	case asks && z.calls == 0:
		tb.Errorf("%s server: handshake done without asking ZAP", h.name)
	case z.calls > 0 && z.status == "200":
		if v, ok := r.peer.Property("User-Id"); !ok || v != z.userID {
			tb.Errorf("%s server: ZAP said User-Id %q, the peer has %q", h.name, z.userID, v)
		}
	case z.calls > 0 && errors.Is(z.err, security.ErrNoZAPHandler) && h.name != "PLAIN":
		// NULL and CURVE accept every peer when no handler is bound.
	case z.calls > 0:
		tb.Errorf("%s server: handshake done though ZAP answered %q (%v)", h.name, z.status, z.err)
	}
	if h.name == "PLAIN" && (z.calls == 0 || z.status != "200") {
		tb.Errorf("PLAIN server: client let in without ZAP's 200")
	}
	if st := r.peer.SocketType; st != "" && !routerCompatible(st) {
		tb.Errorf("%s server: a %q peer let in", h.name, st)
	}
}

func fuzzServerHandshake(f *testing.F, h *serverHarness) {
	for _, s := range recordServerSeeds(f, h) {
		for _, k := range []hsKnobs{
			zapAllow, zapByRequest, zapDeny, zapNone, zapNoHandler, zapTemporary,
			zapAllow | knobNoDomain, zapAllow | knobNoLimit,
			zapAllow | 1<<5, zapAllow | 4<<5, zapAllow | 6<<5,
		} {
			f.Add(uint8(k), s)
		}
	}
	g := greeting(3, 1, h.name)
	for _, s := range [][]byte{
		nil,
		g[:1],
		g[:10],
		g[:11],
		g[:63],
		g,
		greeting(3, 0, h.name),
		greeting(3, 1, "NOPE"),
		greeting(2, 0, h.name),
		{0x01, 0x00},
		slices.Concat(g, longHeader(wire.FlagCommand, 1<<40)),
		slices.Concat(g, []byte{0x04, 0xff}),
		slices.Concat(g, encode([]byte("data before the handshake"))),
	} {
		f.Add(uint8(zapAllow), s)
	}
	// ZMTP 2.0 clients: served by NULL without a ZAP domain, refused
	// otherwise (check holds that).
	v2 := slices.Concat(v2Greeting(5), wire.AppendFrame(nil, 0, []byte("id")),
		encode([]byte("hello")), encode([]byte("a"), make([]byte, 300)), append([]byte{0x04, 5, 4}, "PING"...))
	for _, k := range []hsKnobs{zapAllow, zapAllow | knobNoDomain, zapNone | knobNoDomain | 3<<5, zapNone | knobNoDomain | knobNoLimit} {
		f.Add(uint8(k), v2)
	}
	for _, s := range [][]byte{v2Greeting(5)[:11], v2Greeting(7), v2Greeting(200), slices.Concat(v2Greeting(5), longHeader(0, 1<<40))} {
		f.Add(uint8(zapNone|knobNoDomain), s)
	}
	f.Fuzz(func(t *testing.T, knobs uint8, stream []byte) {
		h.run(t, hsKnobs(knobs), stream)
	})
}

// What the recorded clients send after their handshake: a PING, then a
// short seed with one message, and a long one with a subscription and
// messages of every frame kind (the 2 KiB one takes the vector paths of
// CURVE's ciphers).
var (
	seedShort = []pipe.Msg{msg("hello")}
	seedLong  = []pipe.Msg{
		{Frames: [][]byte{[]byte("\x01topic")}, Tag: pipe.TagOf(pipe.Subscribe)},
		msg("hello"),
		msg("", "envelope", "body"),
		{Frames: [][]byte{make([]byte, 300)}}, // a long frame header
		{Frames: [][]byte{pattern(2 << 10)}},
		msg("after"),
	}
)

// seedClient is the client mechanism that the seeds of h are recorded from:
// one the server lets in when ZAP allows (PLAIN: user "bob", whose first
// byte is even for zapByRequest too).
func seedClient(tb testing.TB, h *serverHarness) security.Mechanism {
	switch h.name {
	case "NULL":
		return security.Null{}
	case "PLAIN":
		return security.PlainClient{Username: "bob", Password: "secret"}
	case "CURVE":
		c := security.NewCurveClient(fuzzCurveServerPublic, fuzzCurveClientPublic, fuzzCurveClientSecret)
		security.SetCurveClientRand(c, rand.NewChaCha8([32]byte{'c'}))
		return c
	}
	tb.Fatalf("no client for %s", h.name)
	return nil
}

// recordServerSeeds records what a real azmq client engine sends to a real
// server engine of h, once with seedShort and once with seedLong, and
// checks that each stream replays through the harness: handshake done,
// every message delivered.
func recordServerSeeds(tb testing.TB, h *serverHarness) [][]byte {
	tb.Helper()
	var seeds [][]byte
	for _, msgs := range [][]pipe.Msg{seedShort, seedLong} {
		stream := recordClient(tb, seedClient(tb, h), h.config(zapAllow, new(zapRecord)), msgs)
		r := h.run(tb, zapAllow, stream)
		if r.hsErr != nil {
			tb.Fatalf("%s: the recorded stream does not replay: handshake: %v", h.name, r.hsErr)
		}
		if len(r.msgs) != len(msgs) {
			tb.Fatalf("%s: the recorded stream replays %d messages, want %d (Run: %v)", h.name, len(r.msgs), len(msgs), r.runErr)
		}
		for i, m := range r.msgs {
			if !sameFrames(m.Frames, msgs[i].Frames) || m.Flags() != msgs[i].Flags() {
				tb.Fatalf("%s: replayed message %d is %s, want %s", h.name, i, short(m.Frames), short(msgs[i].Frames))
			}
		}
		seeds = append(seeds, stream)
	}
	return seeds
}

// recordClient connects a client engine with mechanism client to a server
// engine with srv over loopback TCP, sends a PING and msgs, and returns
// every byte the client wrote.
func recordClient(tb testing.TB, client security.Mechanism, srv Config, msgs []pipe.Msg) []byte {
	tb.Helper()
	a, b := tcpPair(tb)
	rec := &recordConn{Conn: b}
	se := New(a, srv)
	defer se.Close()
	ce := New(rec, Config{
		SocketType:   "DEALER",
		Identity:     []byte("seed-client"),
		SendIdentity: true,
		Mechanism:    client,
		MaxMsgSize:   -1,
		Handshake:    waitFor,
	})
	defer ce.Close()
	srvHS := goFuture(func() hsResult {
		p, err := se.Handshake(context.Background())
		return hsResult{p, err}
	})
	if _, err := ce.Handshake(context.Background()); err != nil {
		tb.Fatalf("recording %s: client handshake: %v", client.Name(), err)
	}
	if r := waitHandshake(tb, srvHS); r.err != nil {
		tb.Fatalf("recording %s: server handshake: %v", client.Name(), r.err)
	}
	// The server reads nothing more: what follows waits in the kernel's
	// buffers, far larger than these few KiB.
	p := pipe.New(0, 0, nil, nil, nil, nil)
	// A PING first (sealed, with CURVE), as the writer would send one.
	if err := ce.commands(wire.AppendPing(nil, 0, []byte("seed"))); err != nil {
		tb.Fatalf("recording %s: PING: %v", client.Name(), err)
	}
	if err := ce.w.flush(); err != nil {
		tb.Fatalf("recording %s: PING: %v", client.Name(), err)
	}
	for _, m := range msgs {
		push(tb, p.Out, m)
	}
	p.Out.Close()
	if err := ce.Run(p); err != nil {
		tb.Fatalf("recording %s: client Run: %v", client.Name(), err)
	}
	return rec.bytes()
}

// recordConn keeps a copy of everything written to the connection.
type recordConn struct {
	net.Conn
	mu  sync.Mutex
	out []byte
}

func (c *recordConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	c.out = append(c.out, b[:n]...)
	c.mu.Unlock()
	return n, err
}

func (c *recordConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.out...)
}

// streamConn is a net.Conn whose reads return one input, at most chunk
// bytes at a time (0: all that is left), then io.EOF; writes go nowhere but
// are counted. Nothing on it blocks. Deadlines in the past fail reads and
// writes, as on a real conn, so the handshake's timeout still works.
type streamConn struct {
	mu       sync.Mutex
	in       []byte
	chunk    int
	written  int
	closed   bool
	rdl, wdl time.Time
}

func (c *streamConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case !c.rdl.IsZero() && !time.Now().Before(c.rdl):
		return 0, os.ErrDeadlineExceeded
	case len(c.in) == 0:
		return 0, io.EOF
	}
	if c.chunk > 0 && len(b) > c.chunk {
		b = b[:c.chunk]
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *streamConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case !c.wdl.IsZero() && !time.Now().Before(c.wdl):
		return 0, os.ErrDeadlineExceeded
	}
	c.written += len(b)
	return len(b), nil
}

func (c *streamConn) writtenBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written
}

func (c *streamConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *streamConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.mu.Unlock()
	return nil
}

func (c *streamConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	return nil
}

func (c *streamConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return nil
}

var streamAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5555}

func (c *streamConn) LocalAddr() net.Addr  { return streamAddr }
func (c *streamConn) RemoteAddr() net.Addr { return streamAddr }

// heapAllocs is the process's cumulative heap allocation in bytes: cheap
// to read, and only this input runs while the fuzzer runs it.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestServerHandshakeReplay replays each mechanism's recorded stream under
// each ZAP answer: the server lets the client in exactly when it should,
// whatever size the reads come in.
func TestServerHandshakeReplay(t *testing.T) {
	harnesses := map[string]*serverHarness{"NULL": nullHarness(), "PLAIN": plainHarness(), "CURVE": curveHarness()}
	tests := []struct {
		mech  string
		knobs hsKnobs
		in    bool
	}{
		{"NULL", zapAllow, true},
		{"NULL", zapDeny, false},
		{"NULL", zapDeny | knobNoDomain, true}, // no domain: ZAP is not asked
		{"NULL", zapTemporary, false},
		{"NULL", zapBroken, false},
		{"NULL", zapNoHandler, true},
		{"NULL", zapNone, true},
		{"PLAIN", zapAllow, true},
		{"PLAIN", zapAllow | 1<<5, true}, // one byte per read
		{"PLAIN", zapByRequest, true},    // "bob": even first byte
		{"PLAIN", zapDeny, false},
		{"PLAIN", zapFailure, false},
		{"PLAIN", zapNoHandler, false},
		{"PLAIN", zapNone, false},
		{"CURVE", zapAllow, true},
		{"CURVE", zapAllow | 1<<5 | knobNoLimit, true},
		{"CURVE", zapByRequest, false}, // the client key starts with 0xBB: odd
		{"CURVE", zapDeny, false},
		{"CURVE", zapTemporary, false},
		{"CURVE", zapNoHandler, true},
		{"CURVE", zapNone, true},
	}
	seeds := map[string][]byte{}
	for name, h := range harnesses {
		seeds[name] = recordServerSeeds(t, h)[1]
	}
	for _, tc := range tests {
		h := harnesses[tc.mech]
		r := h.run(t, tc.knobs, seeds[tc.mech])
		if in := r.hsErr == nil; in != tc.in {
			t.Errorf("%s, knobs %#x: let in %v (%v), want %v", tc.mech, uint8(tc.knobs), in, r.hsErr, tc.in)
			continue
		}
		if tc.in && len(r.msgs) != len(seedLong) {
			t.Errorf("%s, knobs %#x: %d messages, want %d", tc.mech, uint8(tc.knobs), len(r.msgs), len(seedLong))
		}
	}
}
