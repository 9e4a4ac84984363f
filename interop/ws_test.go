//go:build !windows

package interop

import (
	"testing"

	"github.com/azmq/azmq"
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
func TestWSCurve(t *testing.T) {
	for _, c := range curveCases() {
		for _, azmqServer := range []bool{true, false} {
			for _, tp := range wsTopologies {
				cs := curveSetup{azmqServer: azmqServer}
				t.Run(c.name+"/"+cs.String()+"/"+tp.String(), func(t *testing.T) {
					t.Parallel()
					requireNodePeer(t)
					cs.srv, cs.cli = newKeys(t), newKeys(t)
					ctx := testCtx(t)
					s := secSocket(t, secContext(t, nil), c.azmq, append(c.opts, cs.azmqOpts()...)...)
					w := watch(t, s)
					lib := c.lib
					lib.Options = cs.libOpts(lib.Options)
					p := nodeLink(t, s, lib, tp)
					c.run(t, ctx, s, p)
					if !w.has(azmq.EventHandshakeSucceeded) {
						t.Errorf("azmq CURVE %s: no EventHandshakeSucceeded; events: %s", cs, w)
					}
				})
			}
		}
	}
}
