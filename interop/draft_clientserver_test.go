//go:build !windows

package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/azmq/azmq"
)

// draftMsgs are the bodies sent each way in the draft types' scenarios
// (one frame each): an empty one and one longer than a short frame.
var draftMsgs = [][]byte{b("one"), {}, pattern(300, 3), b("last")}

// bodySteps sends each of msgs as one send step (plus extra, e.g. a group).
func bodySteps(msgs [][]byte, extra step) []step {
	var st []step
	for _, m := range msgs {
		s := step{"op": "send", "data": hex1(m)}
		for k, v := range extra {
			s[k] = v
		}
		st = append(st, s)
	}
	return st
}

func hex1(m []byte) string { return hexFrames([][]byte{m})[0] }

// replyTo is what azmq's SERVER answers to body m.
func replyTo(m []byte) []byte { return append(b("re:"), m...) }

func TestDraftClientServer(t *testing.T) {
	n := len(draftMsgs)
	runNodeCases(t, topologies, []pairCase{
		{
			// azmq CLIENT asks, zeromq.js SERVER echoes each message to the
			// routing id it came from.
			name: "CLIENT-SERVER", azmq: azmq.CLIENT,
			lib: spec{Type: "SERVER", Steps: []step{{"op": "echo", "count": n}}},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				for _, m := range draftMsgs {
					send(t, ctx, s, [][]byte{m})
				}
				for i, m := range draftMsgs {
					checkMsg(t, fmt.Sprintf("echo %d as azmq CLIENT received it", i), recv(t, ctx, s), [][]byte{m})
				}
				var id uint32
				for i, m := range draftMsgs {
					l := p.expect("msg")
					checkMsg(t, fmt.Sprintf("message %d as zeromq.js SERVER received it", i), l.frame, [][]byte{m})
					if l.RoutingID == nil || *l.RoutingID == 0 {
						t.Fatalf("zeromq.js SERVER: message %d has routing id %v, want one not zero", i, l.RoutingID)
					}
					if i > 0 && *l.RoutingID != id {
						t.Fatalf("zeromq.js SERVER: message %d came from routing id %d, the ones before from %d: one CLIENT, one id", i, *l.RoutingID, id)
					}
					id = *l.RoutingID
				}
				p.wait()
			},
		},
		{
			// zeromq.js CLIENT asks, azmq SERVER answers each with SendTo
			// to the routing id RecvMsg gave; then an id that is no
			// connection's is refused.
			name: "SERVER-CLIENT", azmq: azmq.SERVER,
			lib: spec{Type: "CLIENT", Steps: append(bodySteps(draftMsgs, nil), step{"op": "recv", "count": n})},
			run: func(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer) {
				var id uint32
				for i, want := range draftMsgs {
					m, err := s.RecvMsg(ctx)
					if err != nil {
						t.Fatalf("azmq SERVER RecvMsg %d: %v", i, err)
					}
					checkMsg(t, fmt.Sprintf("message %d as azmq SERVER received it", i), m.Frames, [][]byte{want})
					if m.RoutingID == 0 {
						t.Fatalf("azmq SERVER: message %d has routing id 0", i)
					}
					if i > 0 && m.RoutingID != id {
						t.Fatalf("azmq SERVER: message %d came from routing id %d, the ones before from %d: one CLIENT, one id", i, m.RoutingID, id)
					}
					id = m.RoutingID
					if err := s.SendTo(ctx, id, replyTo(want)); err != nil {
						t.Fatalf("azmq SERVER SendTo(%d) reply %d: %v", id, i, err)
					}
				}
				for i, m := range draftMsgs {
					checkMsg(t, fmt.Sprintf("reply %d as zeromq.js CLIENT received it", i), [][]byte{p.body1(p.expect("msg"))}, [][]byte{replyTo(m)})
				}
				unknown := id + 1
				if unknown == 0 {
					unknown = 1
				}
				err := s.SendTo(ctx, unknown, b("nobody"))
				if !errors.Is(err, azmq.ErrHostUnreachable) {
					t.Fatalf("azmq SERVER SendTo(%d), an id no CLIENT has: %v, want ErrHostUnreachable", unknown, err)
				}
				if !strings.Contains(err.Error(), strconv.FormatUint(uint64(unknown), 10)) {
					t.Errorf("azmq SERVER SendTo(%d): the error %q does not name the id", unknown, err)
				}
				p.wait()
			},
		},
	})
}

// TestDraftServerTwoClients: an azmq SERVER answers two zeromq.js CLIENTs,
// each through its own routing id, and each gets only its own answers.
func TestDraftServerTwoClients(t *testing.T) {
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, azmq.SERVER)
			if err := s.Bind(bindEndpoint(t, transport)); err != nil {
				t.Fatalf("azmq SERVER Bind: %v", err)
			}
			const each = 3
			names := []string{"a", "b"}
			peers := map[string]*peer{}
			for _, name := range names {
				var msgs [][]byte
				for i := 0; i < each; i++ {
					msgs = append(msgs, b(fmt.Sprintf("%s%d", name, i)))
				}
				p := startNodePeer(t, spec{Type: "CLIENT", Connect: []string{s.LastEndpoint()},
					Steps: append(bodySteps(msgs, nil), step{"op": "recv", "count": each})})
				p.ready()
				peers[name] = p
			}
			ids := map[string]uint32{}
			for i := 0; i < 2*each; i++ {
				m, err := s.RecvMsg(ctx)
				if err != nil {
					t.Fatalf("azmq SERVER RecvMsg: %v", err)
				}
				if len(m.Frames) != 1 || len(m.Frames[0]) != 2 {
					t.Fatalf("azmq SERVER received %s, want a 2-byte body", describe(m.Frames))
				}
				name := string(m.Frames[0][:1])
				if old, ok := ids[name]; ok && old != m.RoutingID {
					t.Fatalf("CLIENT %s's messages came from routing ids %d and %d", name, old, m.RoutingID)
				}
				ids[name] = m.RoutingID
				if err := s.SendTo(ctx, m.RoutingID, replyTo(m.Frames[0])); err != nil {
					t.Fatalf("azmq SERVER SendTo(%d): %v", m.RoutingID, err)
				}
			}
			if len(ids) != 2 || ids["a"] == ids["b"] || ids["a"] == 0 || ids["b"] == 0 {
				t.Fatalf("routing ids of the two CLIENTs: %v, want two different ones, not zero", ids)
			}
			for _, name := range names {
				p := peers[name]
				for i := 0; i < each; i++ {
					got := p.body1(p.expect("msg"))
					want := replyTo(b(fmt.Sprintf("%s%d", name, i)))
					if !bytes.Equal(got, want) {
						t.Fatalf("zeromq.js CLIENT %s got reply %q, want %q", name, got, want)
					}
				}
				p.wait()
			}
		})
	}
}

// TestDraftClientsOfNodeServer: two azmq CLIENTs of one zeromq.js SERVER,
// which answers each through the routing id it saw.
func TestDraftClientsOfNodeServer(t *testing.T) {
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			ctx := testCtx(t)
			p := startNodePeer(t, spec{Type: "SERVER", Bind: []string{bindEndpoint(t, transport)},
				Steps: []step{{"op": "echo", "count": 4}}})
			ep := p.ready()
			var clients []*azmq.Socket
			for i := 0; i < 2; i++ {
				c := newSocket(t, azmq.CLIENT)
				if err := c.Connect(ep); err != nil {
					t.Fatalf("azmq CLIENT Connect(%q): %v", ep, err)
				}
				clients = append(clients, c)
			}
			for r := 0; r < 2; r++ {
				for i, c := range clients {
					send(t, ctx, c, [][]byte{b(fmt.Sprintf("c%d-%d", i, r))})
				}
			}
			for i, c := range clients {
				for r := 0; r < 2; r++ {
					checkMsg(t, fmt.Sprintf("azmq CLIENT %d, echo %d", i, r), recv(t, ctx, c), [][]byte{b(fmt.Sprintf("c%d-%d", i, r))})
				}
			}
			ids := map[byte]uint32{}
			for i := 0; i < 4; i++ {
				l := p.expect("msg")
				body := p.body1(l)
				if l.RoutingID == nil || len(body) < 2 {
					p.failf("a message line without a routing id or a client: %s", l.raw)
				}
				if old, ok := ids[body[1]]; ok && old != *l.RoutingID {
					t.Fatalf("zeromq.js SERVER saw azmq CLIENT %c under routing ids %d and %d", body[1], old, *l.RoutingID)
				}
				ids[body[1]] = *l.RoutingID
			}
			if len(ids) != 2 || ids['0'] == ids['1'] {
				t.Fatalf("routing ids zeromq.js SERVER gave the two azmq CLIENTs: %v, want two different ones", ids)
			}
			p.wait()
		})
	}
}

// TestDraftSingleFrame: a multipart Send on the draft types that take one
// frame is refused before anything reaches the peer, and the socket goes
// on; Send without an address where one is needed is not supported.
func TestDraftSingleFrame(t *testing.T) {
	for _, c := range []struct {
		azmq azmq.SocketType
		lib  string
	}{{azmq.CLIENT, "SERVER"}, {azmq.SCATTER, "GATHER"}} {
		t.Run(c.azmq.String(), func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			ctx := testCtx(t)
			s := newSocket(t, c.azmq)
			p := nodeLink(t, s, spec{Type: c.lib, Steps: []step{
				{"op": "recv"}, {"op": "expect_none", "ms": 300},
			}}, topo{"tcp", false})
			if err := s.Send(ctx, b("part1"), b("part2")); !errors.Is(err, azmq.ErrMultipart) {
				t.Fatalf("azmq %v Send of two frames: %v, want ErrMultipart", c.azmq, err)
			}
			send(t, ctx, s, [][]byte{b("single")})
			checkMsg(t, "what zeromq.js "+c.lib+" received", p.recvMsg(), [][]byte{b("single")})
			p.wait()
		})
	}
	t.Run("no-address", func(t *testing.T) {
		ctx := testCtx(t)
		for _, typ := range []azmq.SocketType{azmq.SERVER, azmq.RADIO} {
			s := newSocket(t, typ)
			if err := s.Send(ctx, b("where to?")); !errors.Is(err, azmq.ErrNotSupported) {
				t.Errorf("azmq %v Send without a routing id or group: %v, want ErrNotSupported", typ, err)
			}
		}
	})
}
