//go:build !windows

package interop

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// The request-reply options against libzmq 4.3.4: ROUTER_HANDOVER,
// PROBE_ROUTER, REQ_CORRELATE, REQ_RELAXED and CONNECT_ROUTING_ID.
// (ROUTER_NOTIFY is a draft option that Debian's libzmq is built
// without: it is tested azmq to azmq in the root package.)

// TestRouterHandoverInterop: two libzmq DEALERs announce the same routing
// id to an azmq ROUTER. By default the second is ignored; with
// WithRouterHandover(true) it takes the id over and the first connection
// is dropped.
func TestRouterHandoverInterop(t *testing.T) {
	for _, handover := range []bool{false, true} {
		name := map[bool]string{false: "default", true: "handover"}[handover]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, azmq.ROUTER, azmq.WithRouterHandover(handover))
			if err := s.Bind(bindEndpoint(t, "tcp")); err != nil {
				t.Fatal(err)
			}
			ep := s.LastEndpoint()
			id := hex1(b("dup"))
			// The first must not come back by itself once dropped.
			firstSteps := []step{{"op": "send", "frames": []string{hex1(b("one"))}}}
			if handover {
				firstSteps = append(firstSteps, step{"op": "events", "ms": 15000, "until": []string{"DISCONNECTED"}})
			} else {
				firstSteps = append(firstSteps, step{"op": "recv"})
			}
			first := startPeer(t, spec{Type: "DEALER", Connect: []string{ep},
				Options: map[string]any{"routing_id": id, "monitor": true, "sockopts": map[string]any{"RECONNECT_IVL": -1}},
				Steps:   firstSteps})
			first.ready()
			checkMsg(t, "from the first", recv(t, ctx, s), cat("dup", "one"))

			secondSteps := []step{{"op": "send", "frames": []string{hex1(b("two"))}}}
			if handover {
				secondSteps = append(secondSteps, step{"op": "recv"})
			} else {
				secondSteps = append(secondSteps, step{"op": "expect_none", "ms": 500})
			}
			second := startPeer(t, spec{Type: "DEALER", Connect: []string{ep},
				Options: map[string]any{"routing_id": id}, Steps: secondSteps})
			second.ready()
			if !handover {
				if m := recvWithin(t, ctx, s, time.Second); m != nil {
					t.Fatalf("the ignored second DEALER's message arrived: %s", describe(m))
				}
				send(t, ctx, s, cat("dup", "reply"))
				checkMsg(t, "first DEALER received", first.recvMsg(), cat("reply"))
				first.wait()
				second.wait()
				return
			}
			checkMsg(t, "from the second", recv(t, ctx, s), cat("dup", "two"))
			send(t, ctx, s, cat("dup", "reply"))
			checkMsg(t, "second DEALER received", second.recvMsg(), cat("reply"))
			second.wait()
			l := first.next()
			if !strings.Contains(l.raw, `"DISCONNECTED"`) {
				first.failf("first DEALER's events %s: want its connection dropped", abbrev(l.raw, 300))
			}
			first.wait()
		})
	}
}

// TestProbeRouterInterop: an azmq DEALER, REQ or ROUTER with
// WithProbeRouter(true) makes a libzmq ROUTER receive [id, ""] on
// connection, which can then address it first; and an azmq ROUTER
// receives a libzmq DEALER's probe likewise.
func TestProbeRouterInterop(t *testing.T) {
	var cases []pairCase
	for _, typ := range []azmq.SocketType{azmq.DEALER, azmq.REQ, azmq.ROUTER} {
		libSteps := []step{{"op": "recv"}, {"op": "send", "frames": lastFrames("{last0}", hex1(b("hello")))}}
		if typ == azmq.REQ {
			// A REQ takes a reply only: the ROUTER answers its request,
			// which comes after the probe.
			libSteps = []step{{"op": "recv"}, {"op": "recv"}, {"op": "send", "frames": lastFrames("{last0}", "", hex1(b("hello")))}}
		}
		cases = append(cases, pairCase{
			name: "azmq-" + typ.String() + "-probes/libzmq-ROUTER", azmq: typ,
			opts: []azmq.SocketOption{azmq.WithProbeRouter(true), azmq.WithRoutingID(b("azmq"))},
			lib:  spec{Type: "ROUTER", Steps: libSteps},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				checkMsg(t, "libzmq ROUTER received", p.recvMsg(), cat("azmq", ""))
				if typ == azmq.REQ {
					send(t, ctx, s, cat("q"))
					checkMsg(t, "libzmq ROUTER received", p.recvMsg(), cat("azmq", "", "q"))
				}
				got := recv(t, ctx, s)
				if typ == azmq.ROUTER && len(got) > 0 {
					got = got[1:] // the libzmq ROUTER's generated id
				}
				checkMsg(t, "azmq received", got, cat("hello"))
				p.wait()
			},
		})
	}
	cases = append(cases, pairCase{
		name: "azmq-ROUTER/libzmq-DEALER-probes", azmq: azmq.ROUTER,
		lib: spec{Type: "DEALER", Options: map[string]any{"routing_id": hex1(b("lib")), "sockopts": map[string]any{"PROBE_ROUTER": 1}},
			Steps: []step{{"op": "recv"}}},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			checkMsg(t, "azmq ROUTER received", recv(t, ctx, s), cat("lib", ""))
			send(t, ctx, s, cat("lib", "first word"))
			checkMsg(t, "libzmq DEALER received", p.recvMsg(), cat("first word"))
			p.wait()
		},
	})
	runCases(t, topologies, cases)
}

// lastFrames turns "{last0}" into peer.py's {"last": 0}, hex into hex.
func lastFrames(fs ...string) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		if f == "{last0}" {
			out[i] = map[string]any{"last": 0}
		} else {
			out[i] = f
		}
	}
	return out
}

// TestReqCorrelateInterop: an azmq REQ with WithReqCorrelate puts the
// 4-byte request id in front of the delimiter (a libzmq ROUTER sees it),
// a libzmq REP returns it, and with WithReqRelaxed a reply to an earlier
// request is dropped. And the other way: a libzmq REQ with REQ_CORRELATE
// and REQ_RELAXED talks to azmq's REP and ROUTER.
func TestReqCorrelateInterop(t *testing.T) {
	both := []azmq.SocketOption{azmq.WithReqCorrelate(true), azmq.WithReqRelaxed(true)}
	cases := []pairCase{{
		name: "azmq-REQ-correlate/libzmq-ROUTER", azmq: azmq.REQ, opts: both[:1],
		lib: spec{Type: "ROUTER", Steps: []step{{"op": "recv"},
			{"op": "send", "frames": []any{map[string]any{"last": 0}, map[string]any{"last": 1}, "", hex1(b("r1"))}}}},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			send(t, ctx, s, cat("q1"))
			got := p.recvMsg()
			if len(got) != 4 || len(got[1]) != 4 || len(got[2]) != 0 || string(got[3]) != "q1" {
				t.Fatalf("libzmq ROUTER received %s: want [id, 4-byte request id, \"\", \"q1\"]", describe(got))
			}
			checkMsg(t, "azmq REQ received", recv(t, ctx, s), cat("r1"))
			p.wait()
		},
	}, {
		name: "azmq-REQ-correlate-relaxed/libzmq-REP", azmq: azmq.REQ, opts: both,
		lib: spec{Type: "REP", Steps: []step{{"op": "echo", "count": 3}}},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			// q1 goes unanswered by the REQ's reckoning: its reply,
			// echoed all the same, is dropped.
			send(t, ctx, s, cat("q1"))
			send(t, ctx, s, cat("q2"))
			checkMsg(t, "reply", recv(t, ctx, s), cat("q2"))
			send(t, ctx, s, cat("q3"))
			checkMsg(t, "reply", recv(t, ctx, s), cat("q3"))
			for _, q := range []string{"q1", "q2", "q3"} {
				checkMsg(t, "libzmq REP received", p.recvMsg(), cat(q))
			}
			p.wait()
		},
	}, {
		name: "azmq-REP/libzmq-REQ-correlate-relaxed", azmq: azmq.REP,
		lib: spec{Type: "REQ", Options: map[string]any{"sockopts": map[string]any{"REQ_CORRELATE": 1, "REQ_RELAXED": 1}},
			Steps: []step{
				{"op": "send", "frames": []string{hex1(b("q1"))}},
				{"op": "send", "frames": []string{hex1(b("q2"))}},
				{"op": "recv"}}},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			for _, q := range []string{"q1", "q2"} {
				m := recv(t, ctx, s)
				checkMsg(t, "azmq REP received", m, cat(q))
				send(t, ctx, s, cat("re:"+q))
			}
			checkMsg(t, "libzmq REQ received", p.recvMsg(), cat("re:q2"))
			p.wait()
		},
	}, {
		name: "azmq-ROUTER/libzmq-REQ-correlate", azmq: azmq.ROUTER,
		lib: spec{Type: "REQ", Options: map[string]any{"routing_id": hex1(b("req")), "sockopts": map[string]any{"REQ_CORRELATE": 1}},
			Steps: []step{{"op": "send", "frames": []string{hex1(b("q"))}}, {"op": "recv"}}},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			m := recv(t, ctx, s)
			if len(m) != 4 || string(m[0]) != "req" || len(m[1]) != 4 || len(m[2]) != 0 || string(m[3]) != "q" {
				t.Fatalf("azmq ROUTER received %s: want [\"req\", 4-byte request id, \"\", \"q\"]", describe(m))
			}
			bad := append([]byte{}, m[1]...)
			bad[0]++
			send(t, ctx, s, cat("req", bad, "", "wrong id")) // libzmq drops it
			send(t, ctx, s, cat("req", m[1], "", "r"))
			checkMsg(t, "libzmq REQ received", p.recvMsg(), cat("r"))
			p.wait()
		},
	}}
	runCases(t, topologies, cases)
}

// TestConnectRoutingIDInterop: an azmq ROUTER names its peer before
// connecting to a libzmq ROUTER, and sends first; an azmq STREAM's
// connection to a libzmq STREAM gets the id it chose.
func TestConnectRoutingIDInterop(t *testing.T) {
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run("ROUTER/"+transport, func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, azmq.ROUTER, azmq.WithRoutingID(b("azmq")), azmq.WithRouterMandatory(true))
			p := startPeer(t, spec{Type: "ROUTER", Bind: []string{bindEndpoint(t, transport)},
				Steps: []step{{"op": "recv"}, {"op": "send", "frames": []any{map[string]any{"last": 0}, hex1(b("back"))}}}})
			ep := p.ready()
			if err := s.ConnectRoutingID(ep, b("srv")); err != nil {
				t.Fatal(err)
			}
			// Addressable at once: the message waits for the connection.
			send(t, ctx, s, cat("srv", "hello"))
			checkMsg(t, "libzmq ROUTER received", p.recvMsg(), cat("azmq", "hello"))
			checkMsg(t, "azmq ROUTER received", recv(t, ctx, s), cat("srv", "back"))
			p.wait()
		})
		t.Run("STREAM/"+transport, func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, azmq.STREAM)
			p := startPeer(t, spec{Type: "STREAM", Bind: []string{bindEndpoint(t, transport)},
				Steps: []step{{"op": "recv"}, {"op": "recv_raw", "len": 4},
					{"op": "send", "frames": []any{map[string]any{"last": 0}, hex1(b("pong"))}}}})
			ep := p.ready()
			if err := s.ConnectRoutingID(ep, b("conn")); err != nil {
				t.Fatal(err)
			}
			checkMsg(t, "azmq STREAM's connection", recv(t, ctx, s), cat("conn", ""))
			if m := p.recvMsg(); len(m) != 2 || len(m[1]) != 0 {
				t.Fatalf("libzmq STREAM's connection notice %s", describe(m))
			}
			send(t, ctx, s, cat("conn", "ping"))
			if m := p.recvMsg(); len(m) != 2 || string(m[1]) != "ping" {
				t.Fatalf("libzmq STREAM received %s", describe(m))
			}
			checkMsg(t, "azmq STREAM received", recv(t, ctx, s), cat("conn", "pong"))
			p.wait()
		})
	}
}
