//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

func TestDraftScatterGather(t *testing.T) {
	n := len(draftMsgs)
	runNodeCases(t, topologies, []pairCase{
		{
			// azmq SCATTER sends, zeromq.js GATHER receives in order.
			name: "SCATTER-GATHER", azmq: azmq.SCATTER,
			lib: spec{Type: "GATHER", Steps: []step{{"op": "recv", "count": n}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for _, m := range draftMsgs {
					send(t, ctx, s, [][]byte{m})
				}
				for i, m := range draftMsgs {
					checkMsg(t, fmt.Sprintf("message %d as zeromq.js GATHER received it", i), p.recvMsg(), [][]byte{m})
				}
				p.wait()
			},
		},
		{
			// zeromq.js SCATTER sends, azmq GATHER receives in order.
			name: "GATHER-SCATTER", azmq: azmq.GATHER,
			lib: spec{Type: "SCATTER", Steps: bodySteps(draftMsgs, nil)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range draftMsgs {
					checkMsg(t, fmt.Sprintf("message %d as azmq GATHER received it", i), recv(t, ctx, s), [][]byte{m})
				}
				p.wait()
			},
		},
	})
}
