//go:build !windows

package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// TestRoutingID checks explicit routing ids both ways: libzmq's ROUTER sees
// the id azmq sets with WithRoutingID, and azmq's ROUTER sees the id libzmq
// sets with ZMQ_ROUTING_ID (as the first frame and as the Routing-Id property).
func TestRoutingID(t *testing.T) {
	var cases []pairCase
	for _, typ := range []azmq.SocketType{azmq.DEALER, azmq.REQ} {
		id := b("azmq-" + typ.String() + "-id")
		cases = append(cases, pairCase{
			name: "azmq-" + typ.String() + "-id/libzmq-ROUTER", azmq: typ,
			opts: []azmq.SocketOption{azmq.WithRoutingID(id)},
			lib:  spec{Type: "ROUTER", Steps: echoSteps(1)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				send(t, ctx, s, [][]byte{b("hi")})
				got := p.recvMsg()
				if len(got) < 2 || string(got[0]) != string(id) {
					t.Fatalf("libzmq ROUTER received %s: want routing id %q first", describe(got), id)
				}
				checkMsg(t, "echo as azmq received it", recv(t, ctx, s), [][]byte{b("hi")})
				p.wait()
			},
		})
	}
	for _, lib := range []string{"DEALER", "REQ"} {
		id := b("libzmq-" + lib + "-id")
		body := [][]byte{b("hi")}
		if lib == "REQ" {
			body = [][]byte{{}, b("hi")}
		}
		cases = append(cases, pairCase{
			name: "azmq-ROUTER/libzmq-" + lib + "-id", azmq: azmq.ROUTER,
			lib: spec{Type: lib, Options: map[string]any{"routing_id": hexFrames([][]byte{id})[0]},
				Steps: []step{{"op": "send", "frames": []string{"6869"}}, {"op": "recv"}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				msg, err := s.RecvMsg(ctx)
				if err != nil {
					t.Fatalf("azmq ROUTER RecvMsg: %v", err)
				}
				checkMsg(t, "azmq ROUTER received", msg.Frames, cat(id, body))
				if v, ok := msg.Property("Socket-Type"); !ok || v != lib {
					t.Errorf("Property(\"Socket-Type\") = %q, %v; want %q, true", v, ok, lib)
				}
				if v, ok := msg.Property("Routing-Id"); !ok || v != string(id) {
					t.Errorf("Property(\"Routing-Id\") = %q, %v; want %q, true (the peer's Identity)", v, ok, id)
				}
				send(t, ctx, s, cat(id, body[:len(body)-1], "reply"))
				checkMsg(t, "libzmq "+lib+" received", p.recvMsg(), [][]byte{b("reply")})
				p.wait()
			},
		})
	}
	cases = append(cases, pairCase{
		// Without an id azmq sends an empty Identity: libzmq makes up its
		// own 5-byte id, 00 and a counter.
		name: "azmq-DEALER-no-id/libzmq-ROUTER", azmq: azmq.DEALER,
		lib: spec{Type: "ROUTER", Steps: echoSteps(1)},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			send(t, ctx, s, [][]byte{b("hi")})
			got := p.recvMsg()
			if len(got) != 2 || len(got[0]) != 5 || got[0][0] != 0 {
				t.Fatalf("libzmq ROUTER received %s: want [a generated 5-byte id 00xxxxxxxx, \"hi\"]", describe(got))
			}
			checkMsg(t, "echo as azmq received it", recv(t, ctx, s), [][]byte{b("hi")})
			p.wait()
		},
	})
	runCases(t, topologies, cases)
}

// TestRouterRouter connects two ROUTERs with explicit ids. The connecting
// side must know the bound side's id and sends to it once the handshake is
// done, retrying while ROUTER_MANDATORY says the peer is unknown.
func TestRouterRouter(t *testing.T) {
	azmqID, libID := b("azmq-router"), b("libzmq-router")
	for _, tp := range topologies {
		t.Run(tp.String(), func(t *testing.T) {
			t.Parallel()
			requirePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, azmq.ROUTER, azmq.WithRoutingID(azmqID), azmq.WithRouterMandatory(true))
			opts := map[string]any{"routing_id": hexFrames([][]byte{libID})[0], "router_mandatory": true}
			if tp.azmqBinds {
				// libzmq connects and speaks first.
				p := link(t, s, spec{Type: "ROUTER", Options: opts, Steps: []step{
					{"op": "send", "frames": hexFrames([][]byte{azmqID, b("hello")}), "retry_ms": 5000},
					{"op": "recv"},
				}}, tp)
				checkMsg(t, "azmq ROUTER received", recv(t, ctx, s), [][]byte{libID, b("hello")})
				send(t, ctx, s, [][]byte{libID, b("reply")})
				checkMsg(t, "libzmq ROUTER received", p.recvMsg(), [][]byte{azmqID, b("reply")})
				p.wait()
				return
			}
			// azmq connects and speaks first.
			p := link(t, s, spec{Type: "ROUTER", Options: opts, Steps: echoSteps(1)}, tp)
			deadline := time.Now().Add(5 * time.Second)
			for tries := 1; ; tries++ {
				err := s.Send(ctx, libID, b("hello"))
				if err == nil {
					break
				}
				if !errors.Is(err, azmq.ErrHostUnreachable) || time.Now().After(deadline) {
					t.Fatalf("azmq ROUTER Send to %q (try %d): %v", libID, tries, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			checkMsg(t, "libzmq ROUTER received", p.recvMsg(), [][]byte{azmqID, b("hello")})
			checkMsg(t, "azmq ROUTER received the echo", recv(t, ctx, s), [][]byte{libID, b("hello")})
			p.wait()
		})
	}
}

// TestRouterMandatory: with WithRouterMandatory(true) a send to an unknown
// id fails with ErrHostUnreachable; without it the message is dropped
// silently. Either way a known peer still gets its message.
func TestRouterMandatory(t *testing.T) {
	known := b("known-peer")
	for _, mandatory := range []bool{true, false} {
		for _, tp := range tcpTopologies {
			name := "mandatory=false/" + tp.String()
			if mandatory {
				name = "mandatory=true/" + tp.String()
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				requirePeer(t)
				ctx := testCtx(t)
				s := newSocket(t, azmq.ROUTER, azmq.WithRouterMandatory(mandatory))
				p := link(t, s, spec{Type: "DEALER", Options: map[string]any{"routing_id": hexFrames([][]byte{known})[0]},
					Steps: []step{{"op": "send", "frames": []string{"6869"}}, {"op": "recv"}}}, tp)
				checkMsg(t, "azmq ROUTER received", recv(t, ctx, s), [][]byte{known, b("hi")})
				err := s.Send(ctx, b("no-such-peer"), b("lost"))
				switch {
				case mandatory && !errors.Is(err, azmq.ErrHostUnreachable):
					t.Errorf("Send to an unknown id with WithRouterMandatory(true): %v, want ErrHostUnreachable", err)
				case !mandatory && err != nil:
					t.Errorf("Send to an unknown id without mandatory routing: %v, want nil (dropped silently)", err)
				}
				send(t, ctx, s, [][]byte{known, b("found")})
				checkMsg(t, "libzmq DEALER received", p.recvMsg(), [][]byte{b("found")})
				p.wait()
			})
		}
	}
}
