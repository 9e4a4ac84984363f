//go:build !windows

package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// TestIncompatible pairs azmq with libzmq socket types that must refuse each
// other (RFC 37's table): nothing may be delivered either way, nothing may
// crash or hang, and an azmq receiver still serves a valid peer afterwards.
func TestIncompatible(t *testing.T) {
	type badCase struct {
		azmq      azmq.SocketType
		lib       string
		azmqSends bool   // else libzmq sends
		good      string // for an azmq receiver: a valid libzmq type to check it afterwards
	}
	cases := []badCase{
		{azmq: azmq.PUSH, lib: "PUSH", azmqSends: true},
		{azmq: azmq.REQ, lib: "PULL", azmqSends: true},
		{azmq: azmq.PUB, lib: "PULL", azmqSends: true},
		{azmq: azmq.PAIR, lib: "SUB", azmqSends: true},
		{azmq: azmq.DEALER, lib: "PAIR", azmqSends: true},
		{azmq: azmq.PULL, lib: "PUB", good: "PUSH"},
		{azmq: azmq.PULL, lib: "REQ", good: "PUSH"},
		{azmq: azmq.SUB, lib: "PUSH", good: "PUB"},
		{azmq: azmq.ROUTER, lib: "PUB", good: "DEALER"},
		{azmq: azmq.PAIR, lib: "DEALER", good: "PAIR"},
	}
	for _, c := range cases {
		for _, tp := range tcpTopologies {
			name := "azmq-" + c.azmq.String() + "/libzmq-" + c.lib + "/" + tp.String()
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				s := newSocket(t, c.azmq, azmq.WithLinger(0))
				if c.azmq == azmq.SUB {
					if err := s.Subscribe(nil); err != nil {
						t.Fatalf("Subscribe: %v", err)
					}
				}
				opts := map[string]any{"sndtimeo": 300, "linger": 0}
				if c.lib == "SUB" {
					opts["subscribe"] = []string{""}
				}
				if c.azmqSends {
					p := link(t, s, spec{Type: c.lib, Options: opts, Steps: []step{{"op": "interactive"}}}, tp)
					time.Sleep(200 * time.Millisecond) // let the handshake happen (and fail)
					sends := 3
					if c.azmq == azmq.REQ {
						sends = 1 // a second would be ErrState: no reply comes
					}
					for i := 0; i < sends; i++ {
						sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
						err := s.Send(sctx, b("must-not-arrive"))
						cancel()
						if err != nil && !errors.Is(err, context.DeadlineExceeded) {
							t.Fatalf("azmq %v Send to an incompatible libzmq %s: %v (want nil, queued, or a deadline)", c.azmq, c.lib, err)
						}
					}
					p.do(step{"op": "expect_none", "ms": 500})
					p.do(step{"op": "exit"})
					p.wait()
					return
				}
				count := 3
				if c.lib == "REQ" {
					count = 1
				}
				p := link(t, s, spec{Type: c.lib, Options: opts, Steps: []step{
					{"op": "sleep", "ms": 200},
					{"op": "send", "frames": hexFrames([][]byte{b("must-not-arrive")}), "count": count, "eagain_ok": true},
				}}, tp)
				if m := recvWithin(t, ctx, s, 1200*time.Millisecond); m != nil {
					t.Fatalf("azmq %v received %s from an incompatible libzmq %s", c.azmq, describe(m), c.lib)
				}
				p.wait()

				// The azmq socket still works with a valid peer.
				var good *peer
				sp := spec{Type: c.good, Options: map[string]any{"linger": 0}, Steps: []step{
					{"op": "send_loop", "messages": [][]string{hexFrames([][]byte{b("ok")})}, "interval_ms": 20},
				}}
				if tp.azmqBinds {
					sp.Connect = []string{s.LastEndpoint()}
					good = startPeer(t, sp)
					good.ready()
				} else {
					if err := s.Disconnect(p.endpoint); err != nil {
						t.Fatalf("Disconnect(%q) from the incompatible peer: %v", p.endpoint, err)
					}
					sp.Bind = []string{bindEndpoint(t, tp.transport)}
					good = startPeer(t, sp)
					if err := s.Connect(good.ready()); err != nil {
						t.Fatalf("Connect: %v", err)
					}
				}
				m := recv(t, ctx, s)
				if len(m) == 0 || string(m[len(m)-1]) != "ok" {
					t.Fatalf("azmq %v from a valid libzmq %s after the incompatible one: got %s, want [..., \"ok\"]", c.azmq, c.good, describe(m))
				}
				good.stop()
				good.wait()
			})
		}
	}
}
