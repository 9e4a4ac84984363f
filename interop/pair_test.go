//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

func TestPair(t *testing.T) {
	runCases(t, topologies, []pairCase{
		{
			// azmq PAIR speaks first; libzmq PAIR echoes.
			name: "PAIR-PAIR/azmq-first", azmq: azmq.PAIR,
			lib: spec{Type: "PAIR", Steps: echoSteps(len(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("message %d as libzmq PAIR received it", i), p.recvMsg(), m)
					checkMsg(t, fmt.Sprintf("echo %d as azmq PAIR received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			// libzmq PAIR speaks first; azmq PAIR answers.
			name: "PAIR-PAIR/libzmq-first", azmq: azmq.PAIR,
			lib: spec{Type: "PAIR", Steps: sendRecvSteps(basicMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					checkMsg(t, fmt.Sprintf("message %d as azmq PAIR received it", i), recv(t, ctx, s), m)
					send(t, ctx, s, reply(i, m))
					checkMsg(t, fmt.Sprintf("reply %d as libzmq PAIR received it", i), p.recvMsg(), reply(i, m))
				}
				p.wait()
			},
		},
	})
}
