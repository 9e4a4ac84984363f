package zap

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/z85"
)

// server is a Handler serving in its own Context, with a DEALER client
// connected to it as a ZAP client would be.
type server struct {
	h      *Handler
	zctx   *azmq.Context
	client *azmq.Socket
	ctx    context.Context // bounds every wait of the test
	cancel context.CancelFunc
	done   chan error // Serve's result
}

func startServer(t *testing.T, configure func(*Handler)) *server {
	t.Helper()
	h := NewHandler()
	if configure != nil {
		configure(h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	zctx := azmq.NewContext()
	s := &server{h: h, zctx: zctx, ctx: ctx, cancel: cancel, done: make(chan error, 1)}
	serveCtx, stop := context.WithCancel(ctx)
	go func() { s.done <- h.Serve(serveCtx, zctx) }()
	client, err := zctx.NewSocket(azmq.DEALER, azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Connect(Endpoint); err != nil {
		t.Fatal(err)
	}
	s.client = client
	t.Cleanup(func() {
		stop()
		select {
		case err := <-s.done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Serve returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
		client.Close()
		zctx.Close()
		cancel()
	})
	return s
}

// ask sends the request frames (after the delimiter) and returns the reply
// frames after the delimiter.
func (s *server) ask(t *testing.T, req ...[]byte) [][]byte {
	t.Helper()
	msg := append([][]byte{{}}, req...)
	if err := s.client.Send(s.ctx, msg...); err != nil {
		t.Fatalf("send: %v", err)
	}
	reply, err := s.client.Recv(s.ctx)
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	if len(reply) == 0 || len(reply[0]) != 0 {
		t.Fatalf("reply %q: no empty delimiter first", reply)
	}
	return reply[1:]
}

func frames(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func request(id, addr, mech string, creds ...[]byte) [][]byte {
	return append(frames("1.0", id, "global", addr, "server-id", mech), creds...)
}

func newKey(t *testing.T) ([]byte, string) {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	text, err := z85.Encode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, text
}

func TestDecisions(t *testing.T) {
	allowedRaw, allowedZ85 := newKey(t)
	otherRaw, otherZ85 := newKey(t)

	type tc struct {
		name      string
		configure func(*Handler)
		req       [][]byte
		status    string
		user      string
	}
	tests := []tc{
		{"null allowed", nil, request("1", "127.0.0.1", "NULL"), "200", ""},
		{"null denied", func(h *Handler) { h.Deny("127.0.0.1") }, request("1", "127.0.0.1", "NULL"), "400", ""},
		{"deny prefix", func(h *Handler) { h.Deny("10.0.0.0/8") }, request("1", "10.1.2.3", "NULL"), "400", ""},
		{"deny other address", func(h *Handler) { h.Deny("10.0.0.0/8") }, request("1", "192.0.2.1", "NULL"), "200", ""},
		{"deny before allow", func(h *Handler) { h.Allow("10.0.0.0/8"); h.Deny("10.0.0.1") }, request("1", "10.0.0.1", "NULL"), "400", ""},
		{"allow prefix in", func(h *Handler) { h.Allow("10.0.0.0/8") }, request("1", "10.200.0.9", "NULL"), "200", ""},
		{"allow prefix out", func(h *Handler) { h.Allow("10.0.0.0/8") }, request("1", "11.0.0.1", "NULL"), "400", ""},
		{"allow mapped v4", func(h *Handler) { h.Allow("10.0.0.0/8") }, request("1", "::ffff:10.0.0.1", "NULL"), "200", ""},
		{"allow v6", func(h *Handler) { h.Allow("::1") }, request("1", "::1", "NULL"), "200", ""},
		{"allow, empty address", func(h *Handler) { h.Allow("127.0.0.1") }, request("1", "", "NULL"), "400", ""},
		{"allow list applies to plain", func(h *Handler) { h.Allow("127.0.0.1"); h.AddUser("admin", "secret") },
			request("1", "192.0.2.1", "PLAIN", []byte("admin"), []byte("secret")), "400", ""},
		{"plain good", func(h *Handler) { h.AddUser("admin", "secret") },
			request("1", "127.0.0.1", "PLAIN", []byte("admin"), []byte("secret")), "200", "admin"},
		{"plain bad password", func(h *Handler) { h.AddUser("admin", "secret") },
			request("1", "127.0.0.1", "PLAIN", []byte("admin"), []byte("wrong")), "400", ""},
		{"plain unknown user", func(h *Handler) { h.AddUser("admin", "secret") },
			request("1", "127.0.0.1", "PLAIN", []byte("eve"), []byte("secret")), "400", ""},
		{"plain no users", nil, request("1", "127.0.0.1", "PLAIN", []byte(""), []byte("")), "400", ""},
		{"plain missing password", func(h *Handler) { h.AddUser("admin", "secret") },
			request("1", "127.0.0.1", "PLAIN", []byte("admin")), "500", ""},
		{"curve key allowed", func(h *Handler) {
			if err := h.AllowCurveKey(allowedZ85); err != nil {
				t.Fatal(err)
			}
		}, request("1", "127.0.0.1", "CURVE", allowedRaw), "200", allowedZ85},
		{"curve key not allowed", func(h *Handler) {
			if err := h.AllowCurveKey(allowedZ85); err != nil {
				t.Fatal(err)
			}
		}, request("1", "127.0.0.1", "CURVE", otherRaw), "400", ""},
		{"curve any", func(h *Handler) { h.AllowAnyCurve() }, request("1", "127.0.0.1", "CURVE", otherRaw), "200", otherZ85},
		{"curve any, denied address", func(h *Handler) { h.AllowAnyCurve(); h.Deny("127.0.0.0/8") },
			request("1", "127.0.0.1", "CURVE", otherRaw), "400", ""},
		{"curve short key", func(h *Handler) { h.AllowAnyCurve() }, request("1", "127.0.0.1", "CURVE", otherRaw[:31]), "500", ""},
		{"unknown mechanism", nil, request("1", "127.0.0.1", "GSSAPI"), "400", ""},
		{"bad version", nil, frames("2.0", "1", "", "127.0.0.1", "", "NULL"), "500", ""},
		{"bad version, short", nil, frames("0.9", "1"), "500", ""},
		{"too few frames", nil, frames("1.0", "1", "", "127.0.0.1"), "500", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.configure)
			reply := s.ask(t, tt.req...)
			if len(reply) != 6 {
				t.Fatalf("reply %q: %d frames after the delimiter, want 6", reply, len(reply))
			}
			if string(reply[0]) != "1.0" {
				t.Errorf("version %q", reply[0])
			}
			if !bytes.Equal(reply[1], tt.req[1]) {
				t.Errorf("request id %q, want %q", reply[1], tt.req[1])
			}
			if string(reply[2]) != tt.status {
				t.Errorf("status %q (%q), want %s", reply[2], reply[3], tt.status)
			}
			if string(reply[4]) != tt.user {
				t.Errorf("user id %q, want %q", reply[4], tt.user)
			}
			if len(reply[5]) != 0 {
				t.Errorf("metadata %q, want empty", reply[5])
			}
		})
	}
}

func TestRequestIDEchoed(t *testing.T) {
	s := startServer(t, nil)
	for _, id := range []string{"abc", "1", "", "\x00\xff"} {
		reply := s.ask(t, request(id, "127.0.0.1", "NULL")...)
		if string(reply[1]) != id || string(reply[2]) != "200" {
			t.Errorf("id %q: reply %q", id, reply)
		}
	}
}

// A request without a request id is ignored, and the handler keeps serving.
func TestMalformedIgnored(t *testing.T) {
	s := startServer(t, nil)
	for _, req := range [][][]byte{{}, frames("1.0")} {
		if err := s.client.Send(s.ctx, append([][]byte{{}}, req...)...); err != nil {
			t.Fatal(err)
		}
	}
	// A message without a delimiter cannot be answered either.
	if err := s.client.Send(s.ctx, []byte("1.0"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	reply := s.ask(t, request("next", "127.0.0.1", "NULL")...)
	if string(reply[1]) != "next" || string(reply[2]) != "200" {
		t.Fatalf("reply %q, want the answer to the next request", reply)
	}
}

// The configuration may change while the handler serves.
func TestReconfigureWhileServing(t *testing.T) {
	s := startServer(t, nil)
	plain := request("1", "127.0.0.1", "PLAIN", []byte("bob"), []byte("pw"))
	if got := string(s.ask(t, plain...)[2]); got != "400" {
		t.Fatalf("before AddUser: %s", got)
	}
	s.h.AddUser("bob", "pw")
	if got := string(s.ask(t, plain...)[2]); got != "200" {
		t.Fatalf("after AddUser: %s", got)
	}
	s.h.Deny("127.0.0.1")
	if got := string(s.ask(t, plain...)[2]); got != "400" {
		t.Fatalf("after Deny: %s", got)
	}
}

func TestAllowCurveKeyErrors(t *testing.T) {
	h := NewHandler()
	_, good := newKey(t)
	bad := []string{
		"",
		"short",
		strings.Repeat("0", 39),
		strings.Repeat("0", 41),
		strings.Repeat("~", 40), // outside the alphabet
		strings.Repeat("#", 40), // groups over 2^32-1
		good[:39] + " ",         // a space
	}
	for _, k := range bad {
		if err := h.AllowCurveKey(good, k); err == nil {
			t.Errorf("AllowCurveKey(%q): no error", k)
		}
	}
	if len(h.keys) != 0 {
		t.Errorf("a failed AllowCurveKey added keys: %v", h.keys)
	}
	if err := h.AllowCurveKey(good); err != nil {
		t.Fatal(err)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- NewHandler().Serve(serveCtx, zctx) }()

	// Wait until it answers, then stop it.
	client := dialHandler(t, zctx)
	if err := client.Send(ctx, append([][]byte{{}}, request("1", "", "NULL")...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve: %v, want context.Canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return after cancel")
	}
	// Its socket is closed: the endpoint can be bound again.
	again, err := zctx.NewSocket(azmq.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.Bind(Endpoint); err != nil {
		t.Fatalf("bind after Serve returned: %v", err)
	}
}

func TestSecondServeFails(t *testing.T) {
	s := startServer(t, nil)
	s.ask(t, request("1", "", "NULL")...) // the first one is bound
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	err := NewHandler().Serve(ctx, s.zctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("second Serve: %v (ctx %v), want a bind error at once", err, ctx.Err())
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Logf("second Serve: %v (not EADDRINUSE)", err)
	}
	// The first one still serves.
	if got := string(s.ask(t, request("2", "", "NULL")...)[2]); got != "200" {
		t.Fatalf("first handler after the failed second Serve: %s", got)
	}
}

func TestServeCanceledBefore(t *testing.T) {
	zctx := azmq.NewContext()
	defer zctx.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewHandler().Serve(ctx, zctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve: %v", err)
	}
	if err := NewHandler().Serve(context.Background(), nil); err == nil {
		t.Fatal("Serve with a nil Context: no error")
	}
}

// Serve ends when its Context is closed under it.
func TestServeContextClosed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	done := make(chan error, 1)
	go func() { done <- NewHandler().Serve(ctx, zctx) }()
	client := dialHandler(t, zctx)
	if err := client.Send(ctx, append([][]byte{{}}, request("1", "", "NULL")...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	zctx.Close()
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return after the Context closed")
	}
}

// Every PLAIN check digests the password given and compares two digests
// of one length, once, whether the user exists or not and whatever the
// password's length; an unknown user is compared against the dummy.
func TestPlainCheckComparesDigests(t *testing.T) {
	h := NewHandler()
	h.AddUser("admin", "secret")
	type call struct{ x, y []byte }
	var calls []call
	h.equal = func(x, y []byte) int {
		calls = append(calls, call{bytes.Clone(x), bytes.Clone(y)})
		return subtle.ConstantTimeCompare(x, y)
	}
	stored := h.users["admin"]
	for _, c := range []struct {
		user, pass string
		want       bool
		against    []byte // what the digest must be compared with
	}{
		{"admin", "secret", true, stored[:]},
		{"admin", "secreT", false, stored[:]},
		{"admin", "", false, stored[:]},
		{"admin", "secret-and-longer", false, stored[:]},
		{"admin", strings.Repeat("x", 255), false, stored[:]},
		{"eve", "secret", false, h.dummy[:]},
		{"", "", false, h.dummy[:]},
		{"Admin", "secret", false, h.dummy[:]},
	} {
		calls = nil
		if got := h.checkPassword(c.user, []byte(c.pass)); got != c.want {
			t.Errorf("%q/%q: %v, want %v", c.user, c.pass, got, c.want)
		}
		if len(calls) != 1 {
			t.Fatalf("%q/%q: %d comparisons, want 1", c.user, c.pass, len(calls))
		}
		x, y := calls[0].x, calls[0].y
		if len(x) != sha256.Size || len(y) != sha256.Size {
			t.Errorf("%q/%q: compared %d and %d bytes, want two digests of %d", c.user, c.pass, len(x), len(y), sha256.Size)
		}
		if d := h.digest([]byte(c.pass)); !bytes.Equal(x, d[:]) {
			t.Errorf("%q/%q: did not compare the password's digest", c.user, c.pass)
		}
		if !bytes.Equal(y, c.against) {
			t.Errorf("%q/%q: compared against %x, want %x", c.user, c.pass, y, c.against)
		}
	}
	// The table keeps no password, and digests depend on the Handler's key.
	if other := NewHandler().digest([]byte("secret")); bytes.Equal(other[:], stored[:]) {
		t.Error("two Handlers digest a password alike")
	}
	if bytes.Contains(stored[:], []byte("secret")) {
		t.Error("the stored digest holds the password")
	}
}

// Requests are decided concurrently, at most SetWorkers at once, and each
// reply goes out when it is ready.
func TestWorkersBoundAndOrder(t *testing.T) {
	const workers = 3
	entered := make(chan string, 10)
	release := make(chan struct{})
	s := startServer(t, func(h *Handler) {
		h.SetWorkers(workers)
		h.SetAuthFunc(func(ctx context.Context, r Request) (Decision, error) {
			entered <- r.Username
			if r.Username == "fast" {
				return Decision{Allow: true, UserID: "fast"}, nil
			}
			select {
			case <-release:
				return Decision{Allow: true, UserID: r.Username}, nil
			case <-ctx.Done():
				return Decision{}, ctx.Err()
			}
		})
	})
	send := func(id, user string) {
		t.Helper()
		req := request(id, "127.0.0.1", "PLAIN", []byte(user), []byte("pw"))
		if err := s.client.Send(s.ctx, append([][]byte{{}}, req...)...); err != nil {
			t.Fatal(err)
		}
	}
	// Two slow ones, then a fast one: the fast one is answered first.
	send("s1", "slow1")
	send("s2", "slow2")
	send("f", "fast")
	reply, err := s.client.Recv(s.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply[2]) != "f" || string(reply[3]) != "200" {
		t.Fatalf("first reply %q, want the fast request's", reply)
	}
	// Three slow ones now hold all three workers: a fourth waits.
	send("s3", "slow3")
	send("s4", "slow4")
	seen := map[string]bool{}
	for len(seen) < 5 { // slow1, slow2, fast, slow3 and, wrongly, slow4
		select {
		case u := <-entered:
			seen[u] = true
			continue
		case <-time.After(300 * time.Millisecond):
		}
		break
	}
	if len(seen) != 4 || seen["slow4"] {
		t.Fatalf("decisions started: %v, want slow1, slow2, fast and slow3 only (%d workers)", seen, workers)
	}
	close(release)
	got := map[string]bool{}
	for range 4 {
		reply, err := s.client.Recv(s.ctx)
		if err != nil {
			t.Fatal(err)
		}
		got[string(reply[2])] = string(reply[3]) == "200"
	}
	for _, id := range []string{"s1", "s2", "s3", "s4"} {
		if !got[id] {
			t.Errorf("request %s: no 200 reply (%v)", id, got)
		}
	}
}

func TestAuthFuncDecides(t *testing.T) {
	var seen []Request
	_, keyZ85 := newKey(t)
	keyRaw, _ := z85.Decode(keyZ85)
	errDown := errors.New("database down")
	s := startServer(t, func(h *Handler) {
		h.Deny("192.0.2.1")
		h.AddUser("admin", "secret") // not consulted with an AuthFunc
		h.AllowAnyCurve()            // nor this
		h.SetAuthFunc(func(ctx context.Context, r Request) (Decision, error) {
			seen = append(seen, r) // one worker at a time in this test
			switch {
			case r.Username == "down":
				return Decision{}, errDown
			case r.Mechanism == "NULL" && r.Domain == "global":
				return Decision{Allow: true}, nil
			case r.Mechanism == "CURVE" && r.PublicKey == keyZ85:
				return Decision{Allow: true, UserID: "key-owner", Text: "welcome"}, nil
			case r.Username == "bob" && r.Password == "pw":
				return Decision{Allow: true, UserID: "Bob"}, nil
			}
			return Decision{Text: "not today"}, nil
		})
		h.SetWorkers(1)
	})
	for _, c := range []struct {
		name         string
		req          [][]byte
		status, text string
		user         string
		reached      bool
	}{
		{"plain allowed", request("1", "127.0.0.1", "PLAIN", []byte("bob"), []byte("pw")), "200", "OK", "Bob", true},
		{"plain denied", request("2", "127.0.0.1", "PLAIN", []byte("admin"), []byte("secret")), "400", "not today", "", true},
		{"no decision", request("3", "127.0.0.1", "PLAIN", []byte("down"), []byte("")), "300", "temporary error: database down", "", true},
		{"curve", request("4", "127.0.0.1", "CURVE", keyRaw), "200", "welcome", "key-owner", true},
		{"null", request("5", "127.0.0.1", "NULL"), "200", "OK", "", true},
		{"address denied", request("6", "192.0.2.1", "PLAIN", []byte("bob"), []byte("pw")), "400", "address denied", "", false},
		{"malformed", request("7", "127.0.0.1", "PLAIN", []byte("bob")), "500", "malformed PLAIN request", "", false},
		{"mechanism", request("8", "127.0.0.1", "GSSAPI"), "400", "unsupported mechanism", "", false},
	} {
		seen = nil
		reply := s.ask(t, c.req...)
		if string(reply[2]) != c.status || string(reply[3]) != c.text || string(reply[4]) != c.user {
			t.Errorf("%s: %q %q user %q, want %s %q user %q", c.name, reply[2], reply[3], reply[4], c.status, c.text, c.user)
		}
		if reached := len(seen) == 1; reached != c.reached {
			t.Errorf("%s: AuthFunc called %d times, want reached=%v", c.name, len(seen), c.reached)
		}
		if c.reached {
			r := seen[0]
			if r.Domain != "global" || r.Address != "127.0.0.1" || string(r.Identity) != "server-id" || r.Mechanism != string(c.req[5]) {
				t.Errorf("%s: AuthFunc saw %+v", c.name, r)
			}
		}
	}

	// Without it, the built-in decision is back.
	s.h.SetAuthFunc(nil)
	reply := s.ask(t, request("9", "127.0.0.1", "PLAIN", []byte("admin"), []byte("secret"))...)
	if string(reply[2]) != "200" || string(reply[4]) != "admin" {
		t.Fatalf("after SetAuthFunc(nil): %q", reply)
	}
}

// Serve stops an AuthFunc that is still deciding, through its ctx, and
// waits for it before it returns.
func TestServeStopsAuthFunc(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zctx := azmq.NewContext()
	defer zctx.Close()
	entered := make(chan struct{})
	returned := make(chan struct{})
	h := NewHandler()
	h.SetAuthFunc(func(ctx context.Context, r Request) (Decision, error) {
		close(entered)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // Serve must wait for this
		close(returned)
		return Decision{}, ctx.Err()
	})
	serveCtx, stop := context.WithCancel(ctx)
	wait, err := h.Start(serveCtx, zctx)
	if err != nil {
		t.Fatal(err)
	}
	client := dialHandler(t, zctx)
	if err := client.Send(ctx, append([][]byte{{}}, request("1", "", "NULL")...)...); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the AuthFunc was not called")
	}
	stop()
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case <-returned:
	default:
		t.Fatal("Serve returned before the AuthFunc it had started")
	}
}

func TestSetWorkers(t *testing.T) {
	h := NewHandler()
	if h.workers != DefaultWorkers {
		t.Fatalf("default %d, want %d", h.workers, DefaultWorkers)
	}
	h.SetWorkers(4)
	if h.workers != 4 {
		t.Fatalf("SetWorkers(4): %d", h.workers)
	}
	for _, n := range []int{0, -1} {
		h.SetWorkers(n)
		if h.workers != DefaultWorkers {
			t.Errorf("SetWorkers(%d): %d, want the default %d", n, h.workers, DefaultWorkers)
		}
	}
}

// dialHandler is a DEALER of zctx connected to the handler's endpoint,
// closed at the test's end.
func dialHandler(t *testing.T, zctx *azmq.Context) *azmq.Socket {
	t.Helper()
	client, err := zctx.NewSocket(azmq.DEALER, azmq.WithLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if err := client.Connect(Endpoint); err != nil {
		t.Fatal(err)
	}
	return client
}
