//go:build !windows

package interop

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// curveMsgs are the messages of the CURVE exchanges: the basic ones, then
// 1 MiB single- and multipart messages, which must arrive byte for byte.
var curveMsgs = append(append([][][]byte{}, basicMsgs...),
	[][]byte{pattern(1<<20, 5)},
	[][]byte{b("big"), pattern(1<<20, 6), {}, b("tail")},
)

// curveSetup is who is the CURVE server, and the keys of both ends.
type curveSetup struct {
	azmqServer bool
	srv, cli   curveKeys
}

func (c curveSetup) String() string {
	if c.azmqServer {
		return "azmq-server"
	}
	return "azmq-client"
}

// azmqOpts are the azmq side's security options.
func (c curveSetup) azmqOpts() []azmq.SocketOption {
	if c.azmqServer {
		return []azmq.SocketOption{azmq.WithCurveServer(c.srv.sec)}
	}
	return []azmq.SocketOption{azmq.WithCurveClient(c.srv.pub, c.cli.pub, c.cli.sec)}
}

// libOpts adds the libzmq side's security options to opts (a copy).
func (c curveSetup) libOpts(opts map[string]any) map[string]any {
	o := map[string]any{}
	for k, v := range opts {
		o[k] = v
	}
	if c.azmqServer {
		o["curve_serverkey"] = c.srv.pub
		o["curve_publickey"] = c.cli.pub
		o["curve_secretkey"] = c.cli.sec
	} else {
		o["curve_server"] = true
		o["curve_secretkey"] = c.srv.sec
	}
	return o
}

const curvePubCount = 8 // PUB/SUB messages received over CURVE

// TestSecurityCurve: REQ/REP, DEALER/ROUTER and PUB/SUB over CURVE, each
// azmq socket type against libzmq, azmq the CURVE server and the client in
// turn, over tcp both ways round; REQ/REP and DEALER/ROUTER carry 1 MiB
// messages both ways.
func TestSecurityCurve(t *testing.T) {
	t.Parallel()
	runCurveCases(t, tcpTopologies, requirePeer, link)
}

// runCurveCases runs curveCases against a peer (require checks that it
// can run, connect links it to the azmq socket), azmq the CURVE server
// and the client in turn, on each topology.
func runCurveCases(t *testing.T, topologies []topo, require func(*testing.T), connect func(*testing.T, *azmq.Socket, spec, topo) *peer) {
	for _, c := range curveCases() {
		for _, azmqServer := range []bool{true, false} {
			for _, tp := range topologies {
				cs := curveSetup{azmqServer: azmqServer}
				t.Run(c.name+"/"+cs.String()+"/"+tp.String(), func(t *testing.T) {
					t.Parallel()
					require(t)
					cs.srv, cs.cli = newKeys(t), newKeys(t)
					ctx := testCtx(t)
					s := secSocket(t, secContext(t, nil), c.azmq, append(c.opts, cs.azmqOpts()...)...)
					w := watch(t, s)
					lib := c.lib
					lib.Options = cs.libOpts(lib.Options)
					p := connect(t, s, lib, tp)
					c.run(t, ctx, s, p)
					if !w.has(azmq.EventHandshakeSucceeded) {
						t.Errorf("azmq CURVE %s: no EventHandshakeSucceeded; events: %s", cs, w)
					}
				})
			}
		}
	}
}

// TestSecurityCurveWrongServerKey: a CURVE client that holds the wrong
// server public key cannot get through: its HELLO box does not open. No
// message passes, neither side crashes, and the failure is reported.
func TestSecurityCurveWrongServerKey(t *testing.T) {
	t.Parallel()
	for _, tp := range tcpTopologies {
		// azmq is the client, with a wrong key for the libzmq server.
		t.Run("azmq-client/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			srv, cli, other := newKeys(t), newKeys(t), newKeys(t)
			s := secSocket(t, secContext(t, nil), azmq.REQ, azmq.WithCurveClient(other.pub, cli.pub, cli.sec), azmq.WithLinger(0))
			w := watch(t, s)
			p := link(t, s, spec{Type: "REP",
				Options: refusedOpts(map[string]any{"curve_server": true, "curve_secretkey": srv.sec}),
				Steps:   refusedSteps(false)}, tp)
			trySend(t, ctx, s, [][]byte{b("must-not-arrive")}, noMsgWait/5)
			// libzmq closes without ERROR when HELLO does not open: the
			// failed handshake says what that most likely means.
			ev, ok := w.waitFor(failWait, func(ev azmq.Event) bool {
				return ev.Kind == azmq.EventHandshakeFailed && errors.Is(ev.Err, azmq.ErrCurveServerKey)
			})
			if !ok {
				t.Fatalf("azmq CURVE client with a wrong server key: no EventHandshakeFailed with ErrCurveServerKey within %v; events: %s", failWait, w)
			}
			t.Logf("azmq CURVE client: %v: %v", ev.Kind, ev.Err)
			evs := peerEvents(p)
			failed := checkLibRefused(t, "libzmq CURVE server", evs, 0)
			t.Logf("libzmq CURVE server: %s", eventNames([]libEvent{failed}))
			p.wait()
			w.noSuccess("azmq CURVE client with a wrong server key")
		})

		// libzmq is the client, with a wrong key for the azmq server.
		t.Run("azmq-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			srv, cli, other := newKeys(t), newKeys(t), newKeys(t)
			s := secSocket(t, secContext(t, nil), azmq.REP, azmq.WithCurveServer(srv.sec), azmq.WithLinger(0))
			w := watch(t, s)
			p := link(t, s, spec{Type: "REQ",
				Options: refusedOpts(map[string]any{"curve_serverkey": other.pub, "curve_publickey": cli.pub, "curve_secretkey": cli.sec}),
				Steps:   refusedSteps(true)}, tp)
			ev := w.handshakeFailed("azmq CURVE server, client with a wrong server key", "")
			t.Logf("azmq CURVE server: %v: %v", ev.Kind, ev.Err)
			if m := recvWithin(t, ctx, s, noMsgWait); m != nil {
				t.Fatalf("azmq CURVE server received %s from a client with the wrong server key", describe(m))
			}
			evs := peerEvents(p)
			failed := checkLibRefused(t, "libzmq CURVE client", evs, 0)
			t.Logf("libzmq CURVE client: %s", eventNames([]libEvent{failed}))
			p.wait()
			w.noSuccess("azmq CURVE server")
		})
	}
}

// curveCases are the CURVE scenarios; the caller sets up the keys.
func curveCases() []pairCase {
	pubMsg := func(i int) [][]byte { return [][]byte{b("curve-pub"), b(fmt.Sprintf("m%d", i))} }
	return []pairCase{
		{
			name: "REQ-REP", azmq: azmq.REQ,
			lib: spec{Type: "REP", Steps: echoSteps(len(curveMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range curveMsgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("request %d as libzmq REP received it", i), p.recvMsg(), m)
					checkMsg(t, fmt.Sprintf("reply %d as azmq REQ received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			name: "REP-REQ", azmq: azmq.REP,
			lib: spec{Type: "REQ", Steps: sendRecvSteps(curveMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range curveMsgs {
					checkMsg(t, fmt.Sprintf("request %d as azmq REP received it", i), recv(t, ctx, s), m)
					send(t, ctx, s, reply(i, m))
					checkMsg(t, fmt.Sprintf("reply %d as libzmq REQ received it", i), p.recvMsg(), reply(i, m))
				}
				p.wait()
			},
		},
		{
			name: "DEALER-ROUTER", azmq: azmq.DEALER,
			lib: spec{Type: "ROUTER", Steps: echoSteps(len(curveMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range curveMsgs {
					send(t, ctx, s, m)
					got := p.recvMsg()
					if len(got) < 2 || len(got[0]) == 0 {
						t.Fatalf("message %d as libzmq ROUTER received it: want [routing id, body...], got %s", i, describe(got))
					}
					checkMsg(t, fmt.Sprintf("message %d body as libzmq ROUTER received it", i), got[1:], m)
					checkMsg(t, fmt.Sprintf("echo %d as azmq DEALER received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			name: "ROUTER-DEALER", azmq: azmq.ROUTER,
			lib: spec{Type: "DEALER", Steps: sendRecvSteps(curveMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range curveMsgs {
					got := recv(t, ctx, s)
					if len(got) < 2 || len(got[0]) == 0 {
						t.Fatalf("message %d as azmq ROUTER received it: want [routing id, body...], got %s", i, describe(got))
					}
					checkMsg(t, fmt.Sprintf("message %d body as azmq ROUTER received it", i), got[1:], m)
					send(t, ctx, s, cat(got[0], reply(i, m)))
					checkMsg(t, fmt.Sprintf("reply %d as libzmq DEALER received it", i), p.recvMsg(), reply(i, m))
				}
				p.wait()
			},
		},
		{
			// azmq publishes until the libzmq subscriber has curvePubCount
			// messages (the first ones go before the subscription arrives).
			name: "PUB-SUB", azmq: azmq.PUB,
			lib: spec{Type: "SUB", Options: map[string]any{"subscribe": []string{""}},
				Steps: []step{{"op": "recv", "count": curvePubCount}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				deadline := time.After(lineTimeout)
				n, sent, last := 0, 0, -1
				for n < curvePubCount {
					select {
					case <-tick.C:
						send(t, ctx, s, pubMsg(sent))
						sent++
					case l, ok := <-p.lines:
						if !ok {
							p.failf("ended after %d messages (%s)", n, p.exitStatus())
						}
						if l.kind() != "msg" {
							p.failf("unexpected line %s", abbrev(l.raw, 200))
						}
						var i int
						if len(l.frame) != 2 || string(l.frame[0]) != "curve-pub" {
							t.Fatalf("libzmq SUB message %d: got %s, want [\"curve-pub\", \"m<i>\"]", n, describe(l.frame))
						}
						if _, err := fmt.Sscanf(string(l.frame[1]), "m%d", &i); err != nil || i <= last || i >= sent {
							t.Fatalf("libzmq SUB message %d: %q after m%d (%d published)", n, l.frame[1], last, sent)
						}
						last = i
						n++
					case <-deadline:
						t.Fatalf("libzmq SUB got %d of %d messages within %v (%d published)", n, curvePubCount, lineTimeout, sent)
					}
				}
				p.wait()
			},
		},
		{
			name: "SUB-PUB", azmq: azmq.SUB,
			lib: spec{Type: "PUB", Steps: []step{{"op": "send_loop",
				"messages": [][]string{hexFrames(pubMsg(0)), hexFrames(pubMsg(1))}, "interval_ms": 5}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				if err := s.Subscribe(b("curve-")); err != nil {
					t.Fatalf("azmq SUB Subscribe: %v", err)
				}
				for n := 0; n < curvePubCount; n++ {
					m := recv(t, ctx, s)
					if d0, d1 := diffMsg(m, pubMsg(0)), diffMsg(m, pubMsg(1)); d0 != "" && d1 != "" {
						t.Fatalf("azmq SUB message %d: %s", n, d0)
					}
				}
				p.stop()
				p.wait()
			},
		},
	}
}
