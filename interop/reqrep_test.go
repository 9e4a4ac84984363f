//go:build !windows

package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/azmq/azmq"
)

// basicMsgs are the messages of the pair scenarios: single and multipart,
// with empty frames and frames either side of the 255/256-byte boundary
// between short and long frames.
var basicMsgs = [][][]byte{
	{b("hello")},
	{b("multi"), {}, b("p"), pattern(255, 1), pattern(256, 2), {}},
	{{}},
	{b("last")},
}

// reply is the answer to request m in the scenarios where azmq answers.
func reply(i int, m [][]byte) [][]byte {
	return cat(fmt.Sprintf("reply-%d", i), m)
}

func echoSteps(n int) []step { return []step{{"op": "echo", "count": n}} }

func recvSteps(n int) []step { return []step{{"op": "recv", "count": n}} }

func sendSteps(msgs [][][]byte) []step {
	var st []step
	for _, m := range msgs {
		st = append(st, step{"op": "send", "frames": hexFrames(m)})
	}
	return st
}

// sendRecvSteps sends each message and receives one after each.
func sendRecvSteps(msgs [][][]byte) []step {
	var st []step
	for _, m := range msgs {
		st = append(st, step{"op": "send", "frames": hexFrames(m)}, step{"op": "recv"})
	}
	return st
}

// withEmpty puts an empty delimiter frame in front of every message.
func withEmpty(msgs [][][]byte) [][][]byte {
	out := make([][][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = cat([]byte{}, m)
	}
	return out
}

func TestReqRep(t *testing.T) {
	runCases(t, topologies, reqRepCases())
}

// reqRepCases are the REQ/REP and its kin scenarios, for every transport.
func reqRepCases() []pairCase {
	return []pairCase{
		{
			// azmq REQ asks, libzmq REP echoes.
			name: "REQ-REP", azmq: azmq.REQ,
			lib: spec{Type: "REP", Steps: echoSteps(len(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					send(t, ctx, s, m)
					checkMsg(t, fmt.Sprintf("request %d as libzmq REP received it", i), p.recvMsg(), m)
					checkMsg(t, fmt.Sprintf("reply %d as azmq REQ received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			// libzmq REQ asks, azmq REP answers.
			name: "REP-REQ", azmq: azmq.REP,
			lib: spec{Type: "REQ", Steps: sendRecvSteps(basicMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					checkMsg(t, fmt.Sprintf("request %d as azmq REP received it", i), recv(t, ctx, s), m)
					send(t, ctx, s, reply(i, m))
					checkMsg(t, fmt.Sprintf("reply %d as libzmq REQ received it", i), p.recvMsg(), reply(i, m))
				}
				p.wait()
			},
		},
		{
			// azmq REQ asks, libzmq ROUTER echoes the envelope and all.
			name: "REQ-ROUTER", azmq: azmq.REQ,
			lib: spec{Type: "ROUTER", Steps: echoSteps(len(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					send(t, ctx, s, m)
					got := p.recvMsg()
					if len(got) < 2 || len(got[0]) == 0 || len(got[1]) != 0 {
						t.Fatalf("request %d as libzmq ROUTER received it: want [routing id, empty delimiter, body...], got %s", i, describe(got))
					}
					checkMsg(t, fmt.Sprintf("request %d body as libzmq ROUTER received it", i), got[2:], m)
					checkMsg(t, fmt.Sprintf("reply %d as azmq REQ received it", i), recv(t, ctx, s), m)
				}
				p.wait()
			},
		},
		{
			// libzmq REQ asks, azmq ROUTER answers by hand.
			name: "ROUTER-REQ", azmq: azmq.ROUTER,
			lib: spec{Type: "REQ", Steps: sendRecvSteps(basicMsgs)},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					got := recv(t, ctx, s)
					if len(got) < 2 || len(got[0]) == 0 || len(got[1]) != 0 {
						t.Fatalf("request %d as azmq ROUTER received it: want [routing id, empty delimiter, body...], got %s", i, describe(got))
					}
					checkMsg(t, fmt.Sprintf("request %d body as azmq ROUTER received it", i), got[2:], m)
					send(t, ctx, s, cat(got[0], []byte{}, reply(i, m)))
					checkMsg(t, fmt.Sprintf("reply %d as libzmq REQ received it", i), p.recvMsg(), reply(i, m))
				}
				p.wait()
			},
		},
		{
			// azmq DEALER speaks to libzmq REP with a hand-made envelope.
			name: "DEALER-REP", azmq: azmq.DEALER,
			lib: spec{Type: "REP", Steps: echoSteps(len(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					send(t, ctx, s, cat([]byte{}, m))
					checkMsg(t, fmt.Sprintf("request %d as libzmq REP received it", i), p.recvMsg(), m)
					checkMsg(t, fmt.Sprintf("reply %d as azmq DEALER received it", i), recv(t, ctx, s), cat([]byte{}, m))
				}
				p.wait()
			},
		},
		{
			// libzmq DEALER speaks to azmq REP with a hand-made envelope.
			name: "REP-DEALER", azmq: azmq.REP,
			lib: spec{Type: "DEALER", Steps: sendRecvSteps(withEmpty(basicMsgs))},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for i, m := range basicMsgs {
					checkMsg(t, fmt.Sprintf("request %d as azmq REP received it", i), recv(t, ctx, s), m)
					send(t, ctx, s, reply(i, m))
					checkMsg(t, fmt.Sprintf("reply %d as libzmq DEALER received it", i), p.recvMsg(), cat([]byte{}, reply(i, m)))
				}
				p.wait()
			},
		},
	}
}
