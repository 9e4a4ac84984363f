//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/azmq/azmq"
	"github.com/azmq/azmq/zap"
)

// ZeroMQ over WebSocket (ZWS 2.0) against the libzmq of zeromq.js, whose
// draft build has ws:// (no wss://): the tcp scenarios again, over ws, with
// each side binding in turn.

// wsTopologies: ws, azmq binding and zeromq.js binding.
var wsTopologies = []topo{{"ws", true}, {"ws", false}}

func TestWSReqRep(t *testing.T) { runNodeCases(t, wsTopologies, reqRepCases()) }

func TestWSDealerRouter(t *testing.T) { runNodeCases(t, wsTopologies, dealerRouterCases()) }

func TestWSPipeline(t *testing.T) { runNodeCases(t, wsTopologies, pipelineCases()) }

// TestWSPubSub: subscriptions and unsubscriptions travel as ZWS data
// messages, both ways; an azmq XPUB sees them as libzmq's SUB sent them,
// an azmq XSUB sends them to libzmq's PUB. (peer.mjs's XSUB cannot
// subscribe: zeromq.js has no API for it.)
func TestWSPubSub(t *testing.T) {
	runNodeCases(t, wsTopologies, []pairCase{
		goPublishes("PUB", "SUB"), libPublishes("PUB", "SUB"),
		goPublishes("XPUB", "SUB"), libPublishes("PUB", "XSUB"),
	})
}

// TestWSCurve: CURVE over ws (subprotocol ZWS2.0/CURVE), azmq the server
// and the client in turn, each side binding in turn; 1 MiB messages.
func TestWSCurve(t *testing.T) { runCurveCases(t, wsTopologies, requireNodePeer, nodeLink) }

// TestWSHeartbeat: both ends ping every 50 ms (WebSocket pings: libzmq's
// ws engine ignores ZMTP PINGs) and drop a peer silent for 200 ms; a
// second of idleness must drop nothing, each side answering the other's
// pings, before a request and its reply pass.
func TestWSHeartbeat(t *testing.T) {
	const idle = time.Second
	hbOpts := map[string]any{"heartbeat_ivl": 50, "heartbeat_timeout": 200}
	runNodeCases(t, wsTopologies, []pairCase{{
		name: "REQ-REP", azmq: azmq.REQ,
		opts: []azmq.SocketOption{azmq.WithHeartbeat(50*time.Millisecond, 200*time.Millisecond, 0)},
		lib:  spec{Type: "REP", Options: hbOpts, Steps: []step{{"op": "echo", "count": 1, "timeout_ms": 10000}}},
		run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
			w := watch(t, s)
			time.Sleep(idle)
			m := [][]byte{b("after a second of pings")}
			send(t, ctx, s, m)
			checkMsg(t, "request as libzmq REP received it", p.recvMsg(), m)
			checkMsg(t, "reply as azmq REQ received it", recv(t, ctx, s), m)
			// Before the peer exits, which ends the connection.
			if w.has(azmq.EventDisconnected) || w.has(azmq.EventConnectRetried) {
				t.Fatalf("the connection dropped while idle: %s", w)
			}
			p.wait()
		},
	}})
}

// TestWSPlain: PLAIN over ws (subprotocol ZWS2.0/PLAIN), a zeromq.js
// client and an azmq server whose ZAP handler checks the password, each
// side binding in turn.
func TestWSPlain(t *testing.T) {
	msgs := basicMsgs
	for _, tp := range wsTopologies {
		t.Run("azmq-REP-server/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			ctx := testCtx(t)
			h := zap.NewHandler()
			h.AddUser("admin", "secret")
			s := secSocket(t, secContext(t, h), azmq.REP, azmq.WithPlainServer())
			p := nodeLink(t, s, spec{Type: "REQ", Steps: sendRecvSteps(msgs),
				Options: map[string]any{"plain_username": "admin", "plain_password": "secret"}}, tp)
			for i, m := range msgs {
				got, err := s.RecvMsg(ctx)
				if err != nil {
					t.Fatal(err)
				}
				checkMsg(t, fmt.Sprintf("request %d as azmq REP received it", i), got.Frames, m)
				if u, _ := got.Property("User-Id"); u != "admin" {
					t.Fatalf("User-Id = %q", u)
				}
				send(t, ctx, s, reply(i, m))
				checkMsg(t, fmt.Sprintf("reply %d as libzmq REQ received it", i), p.recvMsg(), reply(i, m))
			}
			p.wait()
		})
	}
}
