//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

// frameMsgs cover frame sizes: empty, 1 byte, 255 (the largest short frame),
// 256 (the smallest long frame) and 1 MiB, alone and mixed in one message.
var frameMsgs = [][][]byte{
	{{}},
	{{}, {}, {}},
	{pattern(1, 3)},
	{pattern(255, 4)},
	{pattern(256, 5)},
	{pattern(1<<20, 6)},
	{{}, pattern(1, 7), pattern(255, 8), pattern(256, 9), pattern(1<<20, 10), {}},
}

// TestFrames sends frameMsgs both ways, checked byte for byte on both sides.
func TestFrames(t *testing.T) {
	runCases(t, topologies, []pairCase{
		{
			name: "PAIR-PAIR", azmq: azmq.PAIR,
			lib: spec{Type: "PAIR", Steps: echoSteps(len(frameMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range frameMsgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("message %d as libzmq PAIR received it", i), p.recvMsg(), m)
					checkMsg(t, fmt.Sprintf("echo %d as azmq PAIR received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			name: "DEALER-ROUTER", azmq: azmq.DEALER,
			lib: spec{Type: "ROUTER", Steps: echoSteps(len(frameMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range frameMsgs {
					send(t, ctx, s, m)
					got := p.recvMsg()
					if len(got) < 1 {
						t.Fatalf("message %d as libzmq ROUTER received it: no routing id", i)
					}
					checkMsg(t, fmt.Sprintf("message %d as libzmq ROUTER received it", i), got[1:], m)
					checkMsg(t, fmt.Sprintf("echo %d as azmq DEALER received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			name: "ROUTER-DEALER", azmq: azmq.ROUTER,
			lib: spec{Type: "DEALER", Steps: sendRecvSteps(frameMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range frameMsgs {
					got := recv(t, ctx, s)
					if len(got) < 1 {
						t.Fatalf("message %d as azmq ROUTER received it: no routing id", i)
					}
					checkMsg(t, fmt.Sprintf("message %d as azmq ROUTER received it", i), got[1:], m)
					send(t, ctx, s, cat(got[0], m))
					checkMsg(t, fmt.Sprintf("echo %d as libzmq DEALER received it", i), p.recvMsg(), m)
				}
				p.wait()
			},
		},
		{
			name: "PUSH-PULL", azmq: azmq.PUSH,
			lib: spec{Type: "PULL", Steps: recvSteps(len(frameMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range frameMsgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("message %d as libzmq PULL received it", i), p.recvMsg(), m)
				}
				p.wait()
			},
		},
		{
			name: "PULL-PUSH", azmq: azmq.PULL,
			lib: spec{Type: "PUSH", Steps: sendSteps(frameMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range frameMsgs {
					checkMsg(t, fmt.Sprintf("message %d as azmq PULL received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			name: "REQ-REP", azmq: azmq.REQ,
			lib: spec{Type: "REP", Steps: echoSteps(len(frameMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range frameMsgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("request %d as libzmq REP received it", i), p.recvMsg(), m)
					checkMsg(t, fmt.Sprintf("reply %d as azmq REQ received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			name: "REP-REQ", azmq: azmq.REP,
			lib: spec{Type: "REQ", Steps: sendRecvSteps(frameMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range frameMsgs {
					checkMsg(t, fmt.Sprintf("request %d as azmq REP received it", i), recv(t, ctx, s), m)
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("reply %d as libzmq REQ received it", i), p.recvMsg(), m)
				}
				p.wait()
			},
		},
	})
}
