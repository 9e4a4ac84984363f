package azmq

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/security"
)

// fakeZAP is a ZAP handler the test drives by hand: a ROUTER bound on the
// ZAP endpoint of z.
func fakeZAP(t *testing.T, z *Context) *Socket {
	t.Helper()
	r := newSock(t, z, ROUTER, WithLinger(0))
	if err := r.Bind("inproc://" + zapEndpoint); err != nil {
		t.Fatal(err)
	}
	return r
}

// zapAsk is one askZAP running in the background.
type zapAsk struct {
	done chan struct{}
	rep  security.ZAPReply
	err  error
}

func startAsk(ctx context.Context, z *Context, user string) *zapAsk {
	a := &zapAsk{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.rep, a.err = z.askZAP(ctx, security.ZAPRequest{
			Domain: "d", Address: "127.0.0.1", Mechanism: "PLAIN",
			Credentials: [][]byte{[]byte(user), []byte("pw")},
		})
	}()
	return a
}

func (a *zapAsk) wait(t *testing.T) (security.ZAPReply, error) {
	t.Helper()
	select {
	case <-a.done:
		return a.rep, a.err
	case <-time.After(5 * time.Second):
		t.Fatal("askZAP did not return within 5 s")
		return security.ZAPReply{}, nil
	}
}

// request is a request as the fake handler received it: its envelope and
// its frames after the delimiter.
type request struct {
	env   [][]byte
	id    string
	user  string
	frame [][]byte
}

func recvRequest(t *testing.T, ctx context.Context, r *Socket) request {
	t.Helper()
	m, err := r.Recv(ctx)
	if err != nil {
		t.Fatalf("handler Recv: %v", err)
	}
	// [routing id, delimiter, version, id, domain, address, identity, mechanism, user, password]
	if len(m) != 10 || len(m[1]) != 0 || string(m[2]) != "1.0" {
		t.Fatalf("request %q", m)
	}
	return request{env: m[:2], id: string(m[3]), user: string(m[8]), frame: m[2:]}
}

func (q request) reply(t *testing.T, ctx context.Context, r *Socket, tail ...string) {
	t.Helper()
	msg := append([][]byte{}, q.env...)
	for _, s := range tail {
		msg = append(msg, []byte(s))
	}
	if err := r.Send(ctx, msg...); err != nil {
		t.Fatalf("handler Send: %v", err)
	}
}

func (q request) ok(t *testing.T, ctx context.Context, r *Socket) {
	t.Helper()
	q.reply(t, ctx, r, "1.0", q.id, "200", "OK", "uid:"+q.user, "")
}

func (z *Context) zapWaiting() int {
	z.zap.mu.Lock()
	defer z.zap.mu.Unlock()
	return len(z.zap.waiting)
}

// Requests are pipelined: all are sent before any is answered, each has
// an id of its own, and replies in any order reach the right asker.
func TestZAPClientPipelines(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	r := fakeZAP(t, z)
	const n = 5
	asks := make([]*zapAsk, n)
	for i := range asks {
		asks[i] = startAsk(ctx, z, fmt.Sprint("user", i))
	}
	reqs := make([]request, n)
	ids := make(map[string]bool)
	for i := range reqs {
		reqs[i] = recvRequest(t, ctx, r)
		if ids[reqs[i].id] {
			t.Fatalf("request id %q used twice", reqs[i].id)
		}
		ids[reqs[i].id] = true
	}
	for i := n - 1; i >= 0; i-- { // the reverse order
		reqs[i].ok(t, ctx, r)
	}
	for i, a := range asks {
		rep, err := a.wait(t)
		if err != nil || rep.Status != "200" || rep.UserID != fmt.Sprint("uid:user", i) {
			t.Errorf("ask %d: %+v, %v", i, rep, err)
		}
	}
	if w := z.zapWaiting(); w != 0 {
		t.Errorf("%d requests still waiting", w)
	}
}

// Replies the client cannot use are dropped without harm; a malformed
// reply to a request fails that request only.
func TestZAPClientMalformedReplies(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	r := fakeZAP(t, z)
	bad := startAsk(ctx, z, "bad")
	qBad := recvRequest(t, ctx, r)
	good := startAsk(ctx, z, "good")
	qGood := recvRequest(t, ctx, r)

	for _, tail := range [][]string{
		{},                                   // the delimiter alone
		{"1.0"},                              // no request id
		{"1.0", "999", "200", "OK", "u", ""}, // an unknown id
		{"1.0", qGood.id + "x", "200", "", "", ""}, // another unknown id
	} {
		qGood.reply(t, ctx, r, tail...)
	}
	// No delimiter: the id would be read from the wrong frame.
	if err := r.Send(ctx, qGood.env[0], []byte("1.0"), []byte(qGood.id), []byte("200")); err != nil {
		t.Fatal(err)
	}
	// A bad status for a known id fails that request.
	qBad.reply(t, ctx, r, "1.0", qBad.id, "201", "", "", "")
	if _, err := bad.wait(t); !errors.Is(err, errZAPReply) {
		t.Fatalf("bad status: %v, want errZAPReply", err)
	}
	select {
	case <-good.done:
		t.Fatalf("the good request ended on a reply meant for none: %+v, %v", good.rep, good.err)
	default:
	}
	qGood.ok(t, ctx, r)
	if rep, err := good.wait(t); err != nil || rep.UserID != "uid:good" {
		t.Fatalf("good: %+v, %v", rep, err)
	}

	// Wrong frame counts and versions, for known ids.
	for _, tail := range [][]string{
		{"1.0", "ID", "200", "OK", "u"},
		{"1.0", "ID", "200", "OK", "u", "", "extra"},
		{"2.0", "ID", "200", "OK", "u", ""},
		{"1.0", "ID", "200", "OK", "u", "\xff"}, // metadata that does not parse
	} {
		a := startAsk(ctx, z, "x")
		q := recvRequest(t, ctx, r)
		for i := range tail {
			if tail[i] == "ID" {
				tail[i] = q.id
			}
		}
		q.reply(t, ctx, r, tail...)
		if _, err := a.wait(t); !errors.Is(err, errZAPReply) {
			t.Errorf("reply %q: %v, want errZAPReply", tail, err)
		}
	}
	if w := z.zapWaiting(); w != 0 {
		t.Errorf("%d requests still waiting", w)
	}
}

// A request whose ctx ends stops waiting at once; its late reply is
// dropped and the next request is answered.
func TestZAPClientCtxEnds(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	r := fakeZAP(t, z)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	a := startAsk(short, z, "late")
	q := recvRequest(t, ctx, r)
	if _, err := a.wait(t); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ask: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the ask took %v to notice its ctx ending after 100ms", d)
	}
	if w := z.zapWaiting(); w != 0 {
		t.Errorf("%d requests still waiting after their ctx ended", w)
	}
	q.ok(t, ctx, r) // late
	next := startAsk(ctx, z, "next")
	recvRequest(t, ctx, r).ok(t, ctx, r)
	if rep, err := next.wait(t); err != nil || rep.UserID != "uid:next" {
		t.Fatalf("next: %+v, %v", rep, err)
	}
}

// No handler bound: ErrNoZAPHandler, before and after one serves. A
// handler that closes fails what it left unanswered; one that binds later
// gets the requests from then on.
func TestZAPClientHandlerComesAndGoes(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	if _, err := startAsk(ctx, z, "none").wait(t); !errors.Is(err, security.ErrNoZAPHandler) {
		t.Fatalf("no handler: %v", err)
	}

	r1 := fakeZAP(t, z)
	a := startAsk(ctx, z, "first")
	recvRequest(t, ctx, r1).ok(t, ctx, r1)
	if rep, err := a.wait(t); err != nil || rep.UserID != "uid:first" {
		t.Fatalf("first handler: %+v, %v", rep, err)
	}
	orphan := startAsk(ctx, z, "orphan")
	recvRequest(t, ctx, r1)
	r1.Close()
	if _, err := orphan.wait(t); !errors.Is(err, errZAPHandlerGone) {
		t.Fatalf("request left by a closed handler: %v, want errZAPHandlerGone", err)
	}
	if _, err := startAsk(ctx, z, "none").wait(t); !errors.Is(err, security.ErrNoZAPHandler) {
		t.Fatalf("handler closed: %v", err)
	}

	r2 := fakeZAP(t, z)
	a = startAsk(ctx, z, "second")
	recvRequest(t, ctx, r2).ok(t, ctx, r2)
	if rep, err := a.wait(t); err != nil || rep.UserID != "uid:second" {
		t.Fatalf("second handler: %+v, %v", rep, err)
	}

	// Unbound but open: new requests find no handler; another that binds
	// then takes over, and what the first had not answered fails.
	pending := startAsk(ctx, z, "pending")
	recvRequest(t, ctx, r2)
	if err := r2.Unbind("inproc://" + zapEndpoint); err != nil {
		t.Fatal(err)
	}
	if _, err := startAsk(ctx, z, "none").wait(t); !errors.Is(err, security.ErrNoZAPHandler) {
		t.Fatalf("handler unbound: %v", err)
	}
	r3 := fakeZAP(t, z)
	a = startAsk(ctx, z, "third")
	q := recvRequest(t, ctx, r3)
	if _, err := pending.wait(t); !errors.Is(err, errZAPHandlerGone) {
		t.Fatalf("request left by an unbound handler: %v, want errZAPHandlerGone", err)
	}
	q.ok(t, ctx, r3)
	if rep, err := a.wait(t); err != nil || rep.UserID != "uid:third" {
		t.Fatalf("third handler: %+v, %v", rep, err)
	}
	// r2 never hears of requests sent after it was replaced.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if m, err := r2.Recv(short); err == nil {
		t.Fatalf("the replaced handler received %q", m)
	}
}

// Context.Close ends waiting requests and the reader, and later requests
// fail with ErrClosed.
func TestZAPClientContextClose(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	r := fakeZAP(t, z)
	a := startAsk(ctx, z, "waiting")
	recvRequest(t, ctx, r)
	z.Close()
	if _, err := a.wait(t); err == nil {
		t.Fatal("a request survived Context.Close")
	}
	if _, err := startAsk(ctx, z, "after").wait(t); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
