//go:build !windows

package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// TestDraftIncompatible pairs azmq with zeromq.js socket types that libzmq
// will not let meet a draft type (or the reverse): the handshake fails,
// nothing is delivered either way, and an azmq receiver still serves a
// valid peer afterwards.
func TestDraftIncompatible(t *testing.T) {
	type badCase struct {
		azmq      azmq.SocketType
		lib       string
		azmqSends bool   // else zeromq.js sends
		good      string // for an azmq receiver: a valid zeromq.js type to check it afterwards
	}
	cases := []badCase{
		{azmq: azmq.CLIENT, lib: "REP", azmqSends: true},
		{azmq: azmq.CLIENT, lib: "CLIENT", azmqSends: true},
		{azmq: azmq.SCATTER, lib: "PULL", azmqSends: true},
		{azmq: azmq.RADIO, lib: "SUB", azmqSends: true},
		{azmq: azmq.SERVER, lib: "DEALER", good: "CLIENT"},
		{azmq: azmq.GATHER, lib: "PUSH", good: "SCATTER"},
		{azmq: azmq.DISH, lib: "PUB", good: "RADIO"},
		{azmq: azmq.ROUTER, lib: "CLIENT", good: "DEALER"},
		{azmq: azmq.PULL, lib: "SCATTER", good: "PUSH"},
	}
	for _, c := range cases {
		for _, tp := range tcpTopologies {
			name := "azmq-" + c.azmq.String() + "/zeromq.js-" + c.lib + "/" + tp.String()
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				requireNodePeer(t)
				ctx := testCtx(t)
				s := newSocket(t, c.azmq, azmq.WithLinger(0))
				if c.azmq == azmq.DISH {
					if err := s.Join("g"); err != nil {
						t.Fatalf("Join: %v", err)
					}
				}
				opts := map[string]any{"sndtimeo": 300, "linger": 0}
				if c.lib == "SUB" {
					opts["subscribe"] = []string{""}
				}
				if c.azmqSends {
					p := nodeLink(t, s, spec{Type: c.lib, Options: opts, Steps: []step{{"op": "interactive"}}}, tp)
					time.Sleep(200 * time.Millisecond) // let the handshake happen (and fail)
					for i := 0; i < 3; i++ {
						sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
						var err error
						if c.azmq == azmq.RADIO {
							err = s.SendGroup(sctx, "g", b("must-not-arrive"))
						} else {
							err = s.Send(sctx, b("must-not-arrive"))
						}
						cancel()
						if err != nil && !errors.Is(err, context.DeadlineExceeded) {
							t.Fatalf("azmq %v send to an incompatible zeromq.js %s: %v (want nil, queued, or a deadline)", c.azmq, c.lib, err)
						}
					}
					p.do(step{"op": "expect_none", "ms": 500})
					p.do(step{"op": "exit"})
					p.wait()
					return
				}
				st := step{"op": "send", "data": hex1(b("must-not-arrive")), "count": 3, "eagain_ok": true}
				p := nodeLink(t, s, spec{Type: c.lib, Options: opts, Steps: []step{{"op": "sleep", "ms": 200}, st}}, tp)
				if m := recvWithin(t, ctx, s, 1200*time.Millisecond); m != nil {
					t.Fatalf("azmq %v received %s from an incompatible zeromq.js %s", c.azmq, describe(m), c.lib)
				}
				p.wait()

				// The azmq socket still works with a valid peer.
				loop := step{"op": "send_loop", "messages": [][]string{{hex1(b("ok"))}}, "interval_ms": 20}
				if c.good == "RADIO" {
					loop["group"] = "g"
				}
				sp := spec{Type: c.good, Options: map[string]any{"linger": 0}, Steps: []step{loop}}
				var good *peer
				if tp.azmqBinds {
					sp.Connect = []string{s.LastEndpoint()}
					good = startNodePeer(t, sp)
					good.ready()
				} else {
					if err := s.Disconnect(p.endpoint); err != nil {
						t.Fatalf("Disconnect(%q) from the incompatible peer: %v", p.endpoint, err)
					}
					sp.Bind = []string{bindEndpoint(t, tp.transport)}
					good = startNodePeer(t, sp)
					if err := s.Connect(good.ready()); err != nil {
						t.Fatalf("Connect: %v", err)
					}
				}
				m := recv(t, ctx, s)
				if len(m) == 0 || string(m[len(m)-1]) != "ok" {
					t.Fatalf("azmq %v from a valid zeromq.js %s after the incompatible one: got %s, want [..., \"ok\"]", c.azmq, c.good, describe(m))
				}
				good.stop()
				good.wait()
			})
		}
	}
}
