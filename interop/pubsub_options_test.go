//go:build !windows

package interop

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// Interop of the publish-subscribe options with libzmq 4.3.4: each option
// on the azmq side against a plain or like-minded libzmq peer, and on the
// libzmq side (sockopts) against azmq.

// quiet is how long a test waits to see that nothing more comes.
const quiet = 300 * time.Millisecond

// recvFor collects what s receives until quiet passes with nothing.
func recvFor(t *testing.T, ctx context.Context, s *azmq.Socket) []string {
	t.Helper()
	var got []string
	for range 100 {
		m := recvWithin(t, ctx, s, quiet)
		if m == nil {
			return got
		}
		got = append(got, fmt.Sprintf("%q", bytes.Join(m, []byte("|"))))
	}
	t.Fatal("more than 100 messages")
	return nil
}

// TestXPubVerboseInterop: an azmq XPUB with a libzmq SUB and an azmq SUB
// holding the same topic. The libzmq SUB subscribes twice and cancels
// (libzmq sends the cancel when its count reaches zero): by default the
// XPUB's application sees none of it (the azmq SUB came first and stays);
// WithXPubVerbose shows both subscriptions; WithXPubVerboser the cancel
// too.
func TestXPubVerboseInterop(t *testing.T) {
	cases := []struct {
		name                string
		opts                []azmq.SocketOption
		first, again, leave []string
	}{
		{"default", nil, nil, nil, nil},
		{"verbose", []azmq.SocketOption{azmq.WithXPubVerbose(true)}, []string{`"\x01T"`}, []string{`"\x01T"`}, nil},
		{"verboser", []azmq.SocketOption{azmq.WithXPubVerboser(true)}, []string{`"\x01T"`}, []string{`"\x01T"`}, []string{`"\x00T"`}},
	}
	for _, c := range cases {
		for _, tp := range tcpTopologies {
			t.Run(c.name+"/"+tp.String(), func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				x := newSocket(t, azmq.XPUB, c.opts...)
				local := fmt.Sprintf("inproc://verbose-%s-%t", c.name, tp.azmqBinds)
				if err := x.Bind(local); err != nil {
					t.Fatal(err)
				}
				z := azmq.NewContext()
				t.Cleanup(func() { closeWithin(t, "context", z.Close) })
				sub, err := z.NewSocket(azmq.SUB)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { closeWithin(t, "SUB", sub.Close) })
				sub.Subscribe(b("T"))
				// inproc between two Contexts is not a thing: use tcp.
				if err := x.Bind("tcp://127.0.0.1:*"); err != nil {
					t.Fatal(err)
				}
				if err := sub.Connect(x.LastEndpoint()); err != nil {
					t.Fatal(err)
				}
				checkMsg(t, "the azmq SUB's subscription", recv(t, ctx, x), [][]byte{b("\x01T")})

				p := link(t, x, spec{Type: "SUB", Options: map[string]any{"subscribe": []string{"54"}},
					Steps: []step{{"op": "interactive"}}}, tp)
				// A bound libzmq socket takes in a new connection (and sends
				// it its subscriptions) only while its thread is in a zmq
				// call: a drain, not a wait on stdin.
				p.do(step{"op": "drain", "ms": quiet.Milliseconds()})
				p.expect("drained")
				if got := recvFor(t, ctx, x); fmt.Sprint(got) != fmt.Sprint(c.first) {
					t.Fatalf("libzmq SUB subscribes: XPUB Recv %v, want %v", got, c.first)
				}
				p.do(step{"op": "subscribe", "topic": "54"})
				p.expect("ack")
				if got := recvFor(t, ctx, x); fmt.Sprint(got) != fmt.Sprint(c.again) {
					t.Fatalf("libzmq SUB subscribes again: XPUB Recv %v, want %v", got, c.again)
				}
				for range 2 {
					p.do(step{"op": "unsubscribe", "topic": "54"})
					p.expect("ack")
				}
				if got := recvFor(t, ctx, x); fmt.Sprint(got) != fmt.Sprint(c.leave) {
					t.Fatalf("libzmq SUB cancels (the azmq SUB still holds T): XPUB Recv %v, want %v", got, c.leave)
				}
				p.do(step{"op": "exit"})
				p.wait()
			})
		}
	}
}

// pubsubOptionCases are the scenarios run over tcp, both directions.
func pubsubOptionCases() []pairCase {
	return []pairCase{
		{
			// A libzmq XPUB with XPUB_VERBOSE sees both of an azmq SUB's
			// subscriptions to one topic: azmq sends each, as libzmq.
			name: "libzmq-XPUB-verbose/azmq-SUB", azmq: azmq.SUB,
			lib: spec{Type: "XPUB", Options: map[string]any{"sockopts": map[string]any{"XPUB_VERBOSE": 1}},
				Steps: []step{{"op": "recv"}, {"op": "recv"}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				s.Subscribe(b("T"))
				checkMsg(t, "libzmq XPUB's first", p.recvMsg(), [][]byte{b("\x01T")})
				s.Subscribe(b("T"))
				checkMsg(t, "libzmq XPUB's second", p.recvMsg(), [][]byte{b("\x01T")})
				p.wait()
			},
		},
		{
			// azmq XPUB with WithXPubManual: the libzmq SUB's "news" is
			// not applied; the application subscribes it to news.sport.
			name: "azmq-XPUB-manual/libzmq-SUB", azmq: azmq.XPUB, opts: []azmq.SocketOption{azmq.WithXPubManual(true)},
			lib: spec{Type: "SUB", Options: map[string]any{"subscribe": hexFrames([][]byte{b("news")})},
				Steps: []step{{"op": "recv", "count": 5}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				checkMsg(t, "azmq XPUB Recv", recv(t, ctx, s), [][]byte{b("\x01news")})
				if err := s.Subscribe(b("news.sport")); err != nil {
					t.Fatal(err)
				}
				publishUntil(t, ctx, s, p, 5, [][][]byte{{b("news.weather")}, {b("news.sport")}}, func(n int, m [][]byte) {
					checkMsg(t, fmt.Sprintf("libzmq SUB message %d", n), m, [][]byte{b("news.sport")})
				})
				p.wait()
			},
		},
		{
			// libzmq XPUB with XPUB_MANUAL subscribes the azmq SUB (which
			// asked for "news") to news.sport only.
			name: "libzmq-XPUB-manual/azmq-SUB", azmq: azmq.SUB,
			lib: spec{Type: "XPUB", Options: map[string]any{"sockopts": map[string]any{"XPUB_MANUAL": 1}},
				Steps: []step{
					{"op": "recv"},
					{"op": "setsockopt", "name": "SUBSCRIBE", "value": hexFrames([][]byte{b("news.sport")})[0]},
					{"op": "send_loop", "messages": [][]string{hexFrames([][]byte{b("news.weather")}), hexFrames([][]byte{b("news.sport")})}},
				}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				s.Subscribe(b("news"))
				checkMsg(t, "libzmq XPUB Recv", p.recvMsg(), [][]byte{b("\x01news")})
				for n := range 5 {
					checkMsg(t, fmt.Sprintf("azmq SUB message %d", n), recv(t, ctx, s), [][]byte{b("news.sport")})
				}
				p.stop()
				p.wait()
			},
		},
		{
			// The welcome of an azmq XPUB reaches a libzmq SUB subscribed
			// to its prefix.
			name: "azmq-XPUB-welcome/libzmq-SUB", azmq: azmq.XPUB, opts: []azmq.SocketOption{azmq.WithXPubWelcomeMsg(b("W-hello"))},
			lib: spec{Type: "SUB", Options: map[string]any{"subscribe": hexFrames([][]byte{b("W")})},
				Steps: []step{{"op": "recv"}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				checkMsg(t, "libzmq SUB", p.recvMsg(), [][]byte{b("W-hello")})
				checkMsg(t, "azmq XPUB Recv", recv(t, ctx, s), [][]byte{b("\x01W")})
				p.wait()
			},
		},
		{
			// The welcome of a libzmq XPUB reaches an azmq SUB.
			name: "libzmq-XPUB-welcome/azmq-SUB", azmq: azmq.SUB,
			lib: spec{Type: "XPUB", Options: map[string]any{"sockopts": map[string]any{"XPUB_WELCOME_MSG": hexFrames([][]byte{b("W-hello")})[0]}},
				Steps: []step{{"op": "recv"}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				s.Subscribe(b("W"))
				checkMsg(t, "azmq SUB", recv(t, ctx, s), [][]byte{b("W-hello")})
				checkMsg(t, "libzmq XPUB Recv", p.recvMsg(), [][]byte{b("\x01W")})
				p.wait()
			},
		},
		{
			// A libzmq XPUB with XPUB_NODROP and a send HWM of 10 to an
			// azmq SUB that reads nothing for 500 ms: azmq's back-pressure
			// makes libzmq wait, and every message arrives.
			name: "libzmq-XPUB-nodrop/azmq-SUB", azmq: azmq.SUB, opts: []azmq.SocketOption{azmq.WithRecvHWM(10)},
			lib: spec{Type: "XPUB", Options: map[string]any{"sndhwm": 10, "sockopts": map[string]any{"XPUB_NODROP": 1}},
				Steps: []step{{"op": "recv"}, {"op": "send", "count": noDropCount,
					"frames": []any{hexFrames([][]byte{b("d")})[0], map[string]any{"fill": 120, "len": noDropSize}}}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				s.Subscribe(b("d"))
				checkMsg(t, "libzmq XPUB Recv", p.recvMsg(), [][]byte{b("\x01d")})
				time.Sleep(500 * time.Millisecond)
				for i := range noDropCount {
					if m := recv(t, ctx, s); len(m) != 2 || len(m[1]) != noDropSize {
						t.Fatalf("azmq SUB message %d: %s", i, describe(m))
					}
				}
				if m := recvWithin(t, ctx, s, quiet); m != nil {
					t.Fatalf("azmq SUB: a message more: %s", describe(m))
				}
				p.wait()
			},
		},
		invertCase("SUB"),
		invertCase("XSUB"),
		{
			// A libzmq PUB with INVERT_MATCHING, an azmq SUB with
			// WithInvertMatching subscribed to "a": only what is not "a".
			name: "libzmq-PUB-invert/azmq-SUB-invert", azmq: azmq.SUB, opts: []azmq.SocketOption{azmq.WithInvertMatching(true)},
			lib: spec{Type: "PUB", Options: map[string]any{"sockopts": map[string]any{"INVERT_MATCHING": 1}},
				Steps: []step{{"op": "send_loop", "messages": [][]string{hexFrames([][]byte{b("a1")}), hexFrames([][]byte{b("b1")})}}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				s.Subscribe(b("a"))
				for n := range 10 {
					checkMsg(t, fmt.Sprintf("azmq SUB message %d", n), recv(t, ctx, s), [][]byte{b("b1")})
				}
				p.stop()
				p.wait()
			},
		},
		{
			// An azmq PULL with WithConflate, after a burst of multipart
			// messages from a libzmq PUSH, holds the last one, whole.
			name: "libzmq-PUSH/azmq-PULL-conflate", azmq: azmq.PULL, opts: []azmq.SocketOption{azmq.WithConflate(true)},
			lib: spec{Type: "PUSH", Steps: burst(100, "tail")},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				p.wait() // sent, and flushed within linger
				time.Sleep(quiet)
				checkMsg(t, "azmq PULL", recv(t, ctx, s), [][]byte{b("m99"), b("tail")})
				if m := recvWithin(t, ctx, s, quiet); m != nil {
					t.Fatalf("azmq PULL got %s after the last message", describe(m))
				}
			},
		},
		{
			// A libzmq PULL with CONFLATE keeps the last of an azmq PUSH's
			// burst.
			name: "azmq-PUSH/libzmq-PULL-conflate", azmq: azmq.PUSH,
			lib: spec{Type: "PULL", Options: map[string]any{"sockopts": map[string]any{"CONFLATE": 1}},
				Steps: []step{{"op": "sleep", "ms": 500}, {"op": "recv"}, {"op": "expect_none", "ms": quiet.Milliseconds()}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i := range 100 {
					send(t, ctx, s, [][]byte{b(fmt.Sprint("m", i))})
				}
				checkMsg(t, "libzmq PULL", p.recvMsg(), [][]byte{b("m99")})
				p.wait()
			},
		},
	}
}

// burst is the steps of a libzmq peer sending m0..m(n-1), each followed
// by the frame tail.
func burst(n int, tail string) []step {
	var st []step
	for i := range n {
		st = append(st, step{"op": "send", "frames": hexFrames([][]byte{b(fmt.Sprint("m", i)), b(tail)})})
	}
	return st
}

// invertCase: an azmq XPUB with WithInvertMatching sends a libzmq
// subscriber to "a" only what does not start with "a". The libzmq SUB sets
// INVERT_MATCHING too (it filters likewise); the XSUB does not filter, so
// what it gets is what the XPUB chose.
func invertCase(sub string) pairCase {
	opts := map[string]any{"subscribe": hexFrames([][]byte{b("a")})}
	if sub == "SUB" {
		opts["sockopts"] = map[string]any{"INVERT_MATCHING": 1}
	}
	return pairCase{
		name: "azmq-XPUB-invert/libzmq-" + sub, azmq: azmq.XPUB, opts: []azmq.SocketOption{azmq.WithInvertMatching(true)},
		lib: spec{Type: sub, Options: opts, Steps: []step{{"op": "recv", "count": 10}}},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			// Once the XPUB has the subscription, it sends by it.
			checkMsg(t, "azmq XPUB Recv", recv(t, ctx, s), [][]byte{b("\x01a")})
			publishUntil(t, ctx, s, p, 10, [][][]byte{{b("a1")}, {b("b1")}, {b("c1")}}, func(n int, m [][]byte) {
				if len(m) != 1 || strings.HasPrefix(string(m[0]), "a") {
					t.Fatalf("libzmq %s message %d: %s, which matches its topic", sub, n, describe(m))
				}
			})
			p.wait()
		},
	}
}

// publishUntil sends msgs in turn every 5 ms until the peer has printed n
// messages, each handed to check.
func publishUntil(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer, n int, msgs [][][]byte, check func(int, [][]byte)) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(lineTimeout)
	got, sent := 0, 0
	for got < n {
		select {
		case <-tick.C:
			send(t, ctx, s, msgs[sent%len(msgs)])
			sent++
		case l, ok := <-p.lines:
			if !ok {
				p.failf("ended after %d messages (%s)", got, p.exitStatus())
			}
			if l.kind() != "msg" {
				p.failf("unexpected line %s", abbrev(l.raw, 200))
			}
			check(got, l.frame)
			got++
		case <-deadline:
			t.Fatalf("the peer got %d of %d messages within %v (%d sent)", got, n, lineTimeout, sent)
		}
	}
}

func TestPubSubOptionsInterop(t *testing.T) {
	runCases(t, tcpTopologies, pubsubOptionCases())
}

// Figures of TestXPubNoDropInterop: more than the socket buffers, the
// HWMs and the engines between them can hold.
const (
	noDropCount = 8000
	noDropSize  = 4 << 10
)

// TestXPubNoDropInterop: an azmq PUB with WithXPubNoDrop and a send HWM of
// 10 publishes 32 MiB to a libzmq SUB that reads nothing for 500 ms:
// every message arrives (Send waited). Without the option, at the same
// pace, messages are dropped: the test tells the two apart.
func TestXPubNoDropInterop(t *testing.T) {
	for _, nodrop := range []bool{true, false} {
		for _, tp := range tcpTopologies {
			t.Run(fmt.Sprintf("nodrop=%t/%s", nodrop, tp), func(t *testing.T) {
				requirePeer(t)
				ctx := testCtx(t)
				s := newSocket(t, azmq.PUB, azmq.WithXPubNoDrop(nodrop), azmq.WithSendHWM(10))
				p := link(t, s, spec{Type: "SUB",
					Options: map[string]any{"subscribe": hexFrames([][]byte{b("h"), b("d")}), "rcvhwm": 10},
					// It drops the hellos still queued itself once it has
					// cancelled "h": the drain counts the data alone.
					Steps: []step{{"op": "recv"}, {"op": "unsubscribe", "topic": hexFrames([][]byte{b("h")})[0]},
						{"op": "sleep", "ms": 500}, {"op": "drain", "ms": 4000}}}, tp)
				// Hellos until the SUB's subscriptions are in place.
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
			wait:
				for range 1000 {
					send(t, ctx, s, [][]byte{b("h")})
					select {
					case l := <-p.lines:
						if l.kind() != "msg" {
							p.failf("unexpected line %s", abbrev(l.raw, 200))
						}
						break wait
					case <-tick.C:
					}
				}
				body := bytes.Repeat([]byte{'x'}, noDropSize)
				start := time.Now()
				for i := range noDropCount {
					send(t, ctx, s, [][]byte{b("d"), []byte(fmt.Sprint(i)), body})
				}
				took := time.Since(start)
				drained := *p.expect("drained").Drained
				want := noDropCount
				t.Logf("%d messages sent in %v; the SUB drained %d of %d", noDropCount, took.Round(time.Millisecond), drained, want)
				if nodrop && drained != want {
					t.Errorf("with WithXPubNoDrop the SUB got %d messages, want %d: some were dropped", drained, want)
				}
				if !nodrop && drained >= want {
					t.Errorf("without WithXPubNoDrop the SUB got all %d messages: the test does not reach the HWM", drained)
				}
				p.wait()
			})
		}
	}
}

// TestXPubLastValueInterop: with WithXPubManualLastValue, once the azmq
// XPUB's application has received a libzmq SUB's subscription and
// applied it, the next message goes to that SUB alone (an azmq SUB of the
// same topic misses it), and the one after to both.
func TestXPubLastValueInterop(t *testing.T) {
	requirePeer(t)
	ctx := testCtx(t)
	x := newSocket(t, azmq.XPUB, azmq.WithXPubManualLastValue(true))
	other := newSocket(t, azmq.SUB)
	if err := x.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	other.Subscribe(b("a"))
	if err := other.Connect(x.LastEndpoint()); err != nil {
		t.Fatal(err)
	}
	checkMsg(t, "azmq XPUB Recv (azmq SUB)", recv(t, ctx, x), [][]byte{b("\x01a")})
	if err := x.Subscribe(b("a")); err != nil {
		t.Fatal(err)
	}
	p := startPeer(t, spec{Type: "SUB", Connect: []string{x.LastEndpoint()},
		Options: map[string]any{"subscribe": hexFrames([][]byte{b("a")})},
		Steps:   []step{{"op": "recv", "count": 2}}})
	p.ready()
	checkMsg(t, "azmq XPUB Recv (libzmq SUB)", recv(t, ctx, x), [][]byte{b("\x01a")})
	if err := x.Subscribe(b("a")); err != nil {
		t.Fatal(err)
	}
	send(t, ctx, x, [][]byte{b("a-last")})
	send(t, ctx, x, [][]byte{b("a-next")})
	checkMsg(t, "libzmq SUB first", p.recvMsg(), [][]byte{b("a-last")})
	checkMsg(t, "libzmq SUB second", p.recvMsg(), [][]byte{b("a-next")})
	checkMsg(t, "azmq SUB", recv(t, ctx, other), [][]byte{b("a-next")})
	p.wait()
}

// TestLibXPubLastValueInterop: the same from a libzmq XPUB with
// XPUB_MANUAL_LAST_VALUE to two azmq SUBs: what azmq implements is what
// libzmq 4.3.4 does.
func TestLibXPubLastValueInterop(t *testing.T) {
	requirePeer(t)
	ctx := testCtx(t)
	a := hexFrames([][]byte{b("a")})[0]
	p := startPeer(t, spec{Type: "XPUB", Bind: []string{bindEndpoint(t, "tcp")},
		Options: map[string]any{"sockopts": map[string]any{"XPUB_MANUAL_LAST_VALUE": 1}},
		Steps: []step{
			{"op": "recv"}, {"op": "setsockopt", "name": "SUBSCRIBE", "value": a},
			{"op": "recv"}, {"op": "setsockopt", "name": "SUBSCRIBE", "value": a},
			{"op": "send", "frames": hexFrames([][]byte{b("a-last")})},
			{"op": "send", "frames": hexFrames([][]byte{b("a-next")})},
		}})
	ep := p.ready()
	first, second := newSocket(t, azmq.SUB), newSocket(t, azmq.SUB)
	for i, s := range []*azmq.Socket{first, second} {
		s.Subscribe(b("a"))
		if err := s.Connect(ep); err != nil {
			t.Fatal(err)
		}
		checkMsg(t, fmt.Sprintf("libzmq XPUB Recv %d", i), p.recvMsg(), [][]byte{b("\x01a")})
	}
	checkMsg(t, "the last subscriber's first", recv(t, ctx, second), [][]byte{b("a-last")})
	checkMsg(t, "the last subscriber's second", recv(t, ctx, second), [][]byte{b("a-next")})
	checkMsg(t, "the first subscriber's", recv(t, ctx, first), [][]byte{b("a-next")})
	p.wait()
}
