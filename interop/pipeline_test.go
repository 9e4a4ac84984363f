//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

func TestPipeline(t *testing.T) {
	runCases(t, topologies, pipelineCases())
}

// pipelineCases are the PUSH/PULL scenarios, for every transport.
func pipelineCases() []pairCase {
	return []pairCase{
		{
			// azmq PUSH sends, libzmq PULL receives in order.
			name: "PUSH-PULL", azmq: azmq.PUSH,
			lib: spec{Type: "PULL", Steps: recvSteps(len(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for _, m := range basicMsgs {
					send(t, ctx, s, m)
				}
				for i, m := range basicMsgs {
					checkMsg(t, fmt.Sprintf("message %d as libzmq PULL received it", i), p.recvMsg(), m)
				}
				p.wait()
			},
		},
		{
			// libzmq PUSH sends, azmq PULL receives in order.
			name: "PULL-PUSH", azmq: azmq.PULL,
			lib: spec{Type: "PUSH", Steps: sendSteps(basicMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					checkMsg(t, fmt.Sprintf("message %d as azmq PULL received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
	}
}
