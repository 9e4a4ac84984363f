//go:build !windows

package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// Helpers of the security scenarios (security_*_test.go): PLAIN, CURVE and
// ZAP between azmq and libzmq, with peer.py's security options, its
// ThreadAuthenticator ("auth") and its monitor ("events" step).

const (
	// noMsgWait is how long a refused link is watched for a message that must not pass.
	noMsgWait = 1500 * time.Millisecond
	// failWait bounds the wait for the monitor event of a failed handshake.
	failWait = 3 * time.Second
)

// curveKeys is a CURVE key pair in Z85.
type curveKeys struct{ pub, sec string }

func newKeys(t *testing.T) curveKeys {
	t.Helper()
	pub, sec, err := azmq.NewCurveKeyPair()
	if err != nil {
		t.Fatalf("NewCurveKeyPair: %v", err)
	}
	if len(pub) != 40 || len(sec) != 40 {
		t.Fatalf("NewCurveKeyPair: want two 40-character Z85 keys, got %q (%d), %d characters", pub, len(pub), len(sec))
	}
	return curveKeys{pub, sec}
}

// secContext is a fresh azmq Context, closed when the test ends. With a
// handler h, h serves ZAP in it (and is ready) before secContext returns.
func secContext(t *testing.T, h *zap.Handler) *azmq.Context {
	t.Helper()
	zctx := azmq.NewContext()
	t.Cleanup(func() { closeWithin(t, "context", zctx.Close) })
	if h == nil {
		return zctx
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, zctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("zap handler Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("zap handler Serve did not return within 10s of its ctx's end")
		}
	})
	zapReady(t, zctx, done)
	return zctx
}

// zapReady asks the handler one NULL question from an address no list
// holds, so that it is known to be bound before any handshake needs it.
func zapReady(t *testing.T, zctx *azmq.Context, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := zctx.NewSocket(azmq.DEALER, azmq.WithLinger(0))
	if err != nil {
		t.Fatalf("zap probe socket: %v", err)
	}
	defer d.Close()
	if err := d.Connect(zap.Endpoint); err != nil {
		t.Fatalf("zap probe Connect(%q): %v", zap.Endpoint, err)
	}
	if err := d.Send(ctx, []byte{}, b("1.0"), b("probe"), b(""), b("zap-probe"), b(""), b("NULL")); err != nil {
		t.Fatalf("zap probe Send: %v", err)
	}
	type result struct {
		m   [][]byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		m, err := d.Recv(ctx)
		got <- result{m, err}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("zap probe: no reply from the handler: %v", r.err)
		}
		if len(r.m) != 7 || string(r.m[2]) != "probe" {
			t.Fatalf("zap probe: malformed reply %s", describe(r.m))
		}
	case err := <-done:
		cancel()
		<-got
		t.Fatalf("zap handler Serve returned at once: %v", err)
	}
}

// secSocket makes a socket in zctx, closed when the test ends.
func secSocket(t *testing.T, zctx *azmq.Context, typ azmq.SocketType, opts ...azmq.SocketOption) *azmq.Socket {
	t.Helper()
	s, err := zctx.NewSocket(typ, opts...)
	if err != nil {
		t.Fatalf("NewSocket(%v): %v", typ, err)
	}
	t.Cleanup(func() { closeWithin(t, "socket "+typ.String(), s.Close) })
	return s
}

// watcher reads an azmq socket's monitor events (no goroutine: the test
// reads them while it waits) and remembers them for failure messages.
type watcher struct {
	t    *testing.T
	ch   <-chan azmq.Event
	seen []azmq.Event
}

// watch starts monitoring s; call it before Bind or Connect.
func watch(t *testing.T, s *azmq.Socket) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &watcher{t: t, ch: s.Monitor(ctx)}
}

// waitFor returns the first event (from now on, or among those not read
// yet) that ok accepts, or false after d.
func (w *watcher) waitFor(d time.Duration, ok func(azmq.Event) bool) (azmq.Event, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, open := <-w.ch:
			if !open {
				return azmq.Event{}, false
			}
			w.seen = append(w.seen, ev)
			if ok(ev) {
				return ev, true
			}
		case <-timer.C:
			return azmq.Event{}, false
		}
	}
}

// drain reads the events that are there now.
func (w *watcher) drain() {
	for {
		select {
		case ev, open := <-w.ch:
			if !open {
				return
			}
			w.seen = append(w.seen, ev)
		default:
			return
		}
	}
}

// has reports whether an event of kind k was seen.
func (w *watcher) has(k azmq.EventKind) bool {
	w.drain()
	for _, ev := range w.seen {
		if ev.Kind == k {
			return true
		}
	}
	return false
}

func (w *watcher) String() string {
	var parts []string
	for _, ev := range w.seen {
		s := ev.Kind.String()
		if ev.Err != nil {
			s += fmt.Sprintf("(%v)", ev.Err)
		}
		parts = append(parts, s)
	}
	if len(parts) > 30 {
		parts = append(parts[:30], fmt.Sprintf("… %d more", len(parts)-30))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// handshakeFailed waits for EventHandshakeFailed and returns it, failing
// the test if none comes within failWait. With want non-empty, the event's
// error must mention it (e.g. "400", the ZAP status of an ERROR).
func (w *watcher) handshakeFailed(who, want string) azmq.Event {
	w.t.Helper()
	ev, ok := w.waitFor(failWait, func(ev azmq.Event) bool {
		return ev.Kind == azmq.EventHandshakeFailed && (want == "" || (ev.Err != nil && strings.Contains(ev.Err.Error(), want)))
	})
	if !ok {
		if want != "" {
			w.t.Fatalf("%s: no EventHandshakeFailed with an error mentioning %q within %v; events: %s", who, want, failWait, w)
		}
		w.t.Fatalf("%s: no EventHandshakeFailed within %v; events: %s", who, failWait, w)
	}
	if ev.Err == nil {
		w.t.Errorf("%s: EventHandshakeFailed without an Err", who)
	}
	return ev
}

// noSuccess fails the test if the handshake succeeded on the azmq side.
func (w *watcher) noSuccess(who string) {
	w.t.Helper()
	if w.has(azmq.EventHandshakeSucceeded) {
		w.t.Fatalf("%s: EventHandshakeSucceeded on a link that must be refused; events: %s", who, w)
	}
}

// libEvent is one libzmq monitor event printed by peer.py's "events" step.
type libEvent struct {
	Event    string `json:"event"`
	Value    *int64 `json:"value"`
	Endpoint string `json:"endpoint"`
}

// peerEvents reads the peer's next {"events": [...]} line.
func peerEvents(p *peer) []libEvent {
	p.t.Helper()
	for {
		l := p.next()
		if k := l.kind(); k == "ack" || k == "eagain" {
			continue
		}
		var ev struct {
			Events *[]libEvent `json:"events"`
		}
		if err := json.Unmarshal([]byte(l.raw), &ev); err != nil || ev.Events == nil {
			p.failf("expected an events line, got %s", abbrev(l.raw, 300))
		}
		return *ev.Events
	}
}

func eventNames(evs []libEvent) string {
	var parts []string
	for _, e := range evs {
		s := e.Event
		if e.Value != nil && strings.HasPrefix(e.Event, "HANDSHAKE_FAILED") {
			s += fmt.Sprintf("(%d)", *e.Value)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// checkLibRefused checks the libzmq side's events of a refused link: no
// HANDSHAKE_SUCCEEDED, and a HANDSHAKE_FAILED_* event; with auth > 0 it
// must be HANDSHAKE_FAILED_AUTH with that ZAP status (what libzmq reports
// when it received an ERROR, or its own ZAP handler refused). It returns
// the failure event.
func checkLibRefused(t *testing.T, who string, evs []libEvent, auth int64) libEvent {
	t.Helper()
	var failed *libEvent
	for i, e := range evs {
		if e.Event == "HANDSHAKE_SUCCEEDED" {
			t.Fatalf("%s: libzmq reported HANDSHAKE_SUCCEEDED on a link that must be refused; events: %s", who, eventNames(evs))
		}
		if failed == nil && strings.HasPrefix(e.Event, "HANDSHAKE_FAILED") {
			failed = &evs[i]
		}
	}
	if failed == nil {
		t.Fatalf("%s: libzmq reported no HANDSHAKE_FAILED_* event; events: %s", who, eventNames(evs))
	}
	if auth > 0 && (failed.Event != "HANDSHAKE_FAILED_AUTH" || failed.Value == nil || *failed.Value != auth) {
		t.Fatalf("%s: libzmq's first handshake failure is %s, want HANDSHAKE_FAILED_AUTH(%d); events: %s", who, eventNames([]libEvent{*failed}), auth, eventNames(evs))
	}
	return *failed
}

// checkLibSucceeded checks that libzmq reported HANDSHAKE_SUCCEEDED first.
func checkLibSucceeded(t *testing.T, who string, evs []libEvent) {
	t.Helper()
	for _, e := range evs {
		if e.Event == "HANDSHAKE_SUCCEEDED" {
			return
		}
		if strings.HasPrefix(e.Event, "HANDSHAKE_FAILED") {
			break
		}
	}
	t.Fatalf("%s: libzmq reported no HANDSHAKE_SUCCEEDED before any failure; events: %s", who, eventNames(evs))
}

// recvProps returns the next message the peer printed with its "props".
func recvProps(p *peer) ([][]byte, map[string]*string) {
	p.t.Helper()
	l := p.expect("msg")
	var v struct {
		Props map[string]*string `json:"props"`
	}
	if err := json.Unmarshal([]byte(l.raw), &v); err != nil {
		p.failf("message line %s: %v", abbrev(l.raw, 200), err)
	}
	return l.frame, v.Props
}

// trySend sends m on s within d: a queued message (nil) and a send that
// could not even queue (a bound socket without a peer: DeadlineExceeded)
// are both fine on a link that is refused.
func trySend(t *testing.T, ctx context.Context, s *azmq.Socket, m [][]byte, d time.Duration) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := s.Send(c, clone(m)...); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("azmq %v Send(%s) on a refused link: %v (want nil, queued, or a deadline)", s.Type(), describe(m), err)
	}
}

// refusedSteps are the steps of a libzmq peer on a link that must be
// refused: it tries to send a message (a bound REQ without a peer could
// not even queue it), watches for noMsgWait that nothing arrives, then
// prints its monitor events, up to the first handshake event (waiting for
// one up to failWait). With send false it only watches.
func refusedSteps(send bool) []step {
	var st []step
	if send {
		st = append(st, step{"op": "send", "frames": hexFrames([][]byte{b("must-not-arrive")}), "eagain_ok": true})
	}
	return append(st,
		step{"op": "expect_none", "ms": noMsgWait.Milliseconds()},
		step{"op": "events", "ms": failWait.Milliseconds(), "until": []string{"HANDSHAKE_"}},
	)
}

// refusedOpts adds what a refused libzmq peer needs to opts: a monitor, a
// short send timeout (a send that cannot queue must not stall the run),
// no linger.
func refusedOpts(opts map[string]any) map[string]any {
	o := map[string]any{"monitor": true, "sndtimeo": 300, "linger": 0}
	for k, v := range opts {
		o[k] = v
	}
	return o
}
