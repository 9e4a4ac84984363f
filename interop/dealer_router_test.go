//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

func TestDealerRouter(t *testing.T) {
	runCases(t, topologies, dealerRouterCases())
}

// dealerRouterCases are the DEALER/ROUTER scenarios, for every transport.
func dealerRouterCases() []pairCase {
	return []pairCase{
		{
			// azmq DEALER sends, libzmq ROUTER sees [id, frames...] and echoes.
			name: "DEALER-ROUTER", azmq: azmq.DEALER,
			lib: spec{Type: "ROUTER", Steps: echoSteps(len(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				var id []byte
				for i, m := range basicMsgs {
					send(t, ctx, s, m)
					got := p.recvMsg()
					if len(got) < 1 || len(got[0]) == 0 {
						t.Fatalf("message %d as libzmq ROUTER received it: want [routing id, frames...], got %s", i, describe(got))
					}
					if id == nil {
						id = got[0]
					} else if string(got[0]) != string(id) {
						t.Fatalf("message %d: libzmq ROUTER saw routing id %x, earlier %x: one connection, one id", i, got[0], id)
					}
					checkMsg(t, fmt.Sprintf("message %d as libzmq ROUTER received it", i), got[1:], m)
					checkMsg(t, fmt.Sprintf("echo %d as azmq DEALER received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			// libzmq DEALER sends, azmq ROUTER answers to the routing id it saw.
			name: "ROUTER-DEALER", azmq: azmq.ROUTER,
			lib: spec{Type: "DEALER", Steps: sendRecvSteps(basicMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					got := recv(t, ctx, s)
					if len(got) < 1 || len(got[0]) == 0 {
						t.Fatalf("message %d as azmq ROUTER received it: want [routing id, frames...], got %s", i, describe(got))
					}
					checkMsg(t, fmt.Sprintf("message %d as azmq ROUTER received it", i), got[1:], m)
					send(t, ctx, s, cat(got[0], reply(i, m)))
					checkMsg(t, fmt.Sprintf("reply %d as libzmq DEALER received it", i), p.recvMsg(), reply(i, m))
				}
				p.wait()
			},
		},
		{
			// azmq DEALER and libzmq DEALER: the peer echoes.
			name: "DEALER-DEALER", azmq: azmq.DEALER,
			lib: spec{Type: "DEALER", Steps: echoSteps(len(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("message %d as libzmq DEALER received it", i), p.recvMsg(), m)
					checkMsg(t, fmt.Sprintf("echo %d as azmq DEALER received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
	}
}
