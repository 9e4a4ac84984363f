package azmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestClientServerAllTransports(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			srv := newSock(t, z, SERVER)
			c1 := newSock(t, z, CLIENT)
			c2 := newSock(t, z, CLIENT)
			bindConnect(t, srv, c1, ep)
			if err := c2.Connect(srv.LastEndpoint()); err != nil {
				t.Fatal(err)
			}
			ids := map[string]uint32{}
			for i := 0; i < 3; i++ {
				for _, c := range []struct {
					s    *Socket
					name string
				}{{c1, "one"}, {c2, "two"}} {
					mustSend(t, ctx, c.s, fmt.Sprintf("%s-%d", c.name, i))
					m, err := srv.RecvMsg(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if m.RoutingID == 0 {
						t.Fatalf("RoutingID 0 for %q", m.Frames)
					}
					who := strings.Split(string(m.Frames[0]), "-")[0]
					if prev, ok := ids[who]; ok && prev != m.RoutingID {
						t.Fatalf("%s's routing id changed: %d then %d", who, prev, m.RoutingID)
					}
					ids[who] = m.RoutingID
					if err := srv.SendTo(ctx, m.RoutingID, append([]byte("re:"), m.Frames[0]...)); err != nil {
						t.Fatal(err)
					}
					mustRecv(t, ctx, c.s, "re:"+string(m.Frames[0]))
				}
			}
			if ids["one"] == ids["two"] {
				t.Fatalf("two clients share routing id %d", ids["one"])
			}
			var unknown uint32 = 1
			for unknown == ids["one"] || unknown == ids["two"] {
				unknown++
			}
			err := srv.SendTo(ctx, unknown, []byte("x"))
			if !errors.Is(err, ErrHostUnreachable) || !strings.Contains(err.Error(), fmt.Sprint(unknown)) {
				t.Fatalf("SendTo unknown id: %v, want ErrHostUnreachable naming %d", err, unknown)
			}
		})
	}
}

func TestDraftBadCalls(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	srv := newSock(t, z, SERVER)
	cli := newSock(t, z, CLIENT)
	radio := newSock(t, z, RADIO)
	dish := newSock(t, z, DISH)
	sc := newSock(t, z, SCATTER)
	ch := newSock(t, z, CHANNEL)
	peer := newSock(t, z, PEER)
	long := strings.Repeat("g", 256)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"CLIENT multipart", cli.Send(ctx, []byte("a"), []byte("b")), ErrMultipart},
		{"SCATTER multipart", sc.Send(ctx, []byte("a"), []byte("b")), ErrMultipart},
		{"CHANNEL multipart", ch.SendNoCopy(ctx, []byte("a"), []byte("b")), ErrMultipart},
		{"SERVER Send", srv.Send(ctx, []byte("a")), ErrNotSupported},
		{"PEER Send", peer.Send(ctx, []byte("a")), ErrNotSupported},
		{"RADIO Send", radio.Send(ctx, []byte("a")), ErrNotSupported},
		{"DISH Send", dish.Send(ctx, []byte("a")), ErrNotSupported},
		{"CLIENT SendTo", cli.SendTo(ctx, 1, []byte("a")), ErrNotSupported},
		{"SERVER SendGroup", srv.SendGroup(ctx, "g", []byte("a")), ErrNotSupported},
		{"RADIO Join", radio.Join("g"), ErrNotSupported},
		{"SERVER SendTo unknown", srv.SendTo(ctx, 7, []byte("a")), ErrHostUnreachable},
		{"RADIO long group", radio.SendGroup(ctx, long, []byte("a")), ErrGroupTooLong},
		{"DISH long group", dish.Join(long), ErrGroupTooLong},
		{"DISH leave not joined", dish.Leave("nope"), ErrState},
		{"CLIENT ConnectPeer", func() error { _, err := cli.ConnectPeer("tcp://127.0.0.1:1"); return err }(), ErrNotSupported},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if err := dish.Join("g"); err != nil {
		t.Fatal(err)
	}
	if err := dish.Join("g"); !errors.Is(err, ErrState) {
		t.Errorf("Join twice: %v, want ErrState", err)
	}
	if _, err := radio.Recv(ctx); !errors.Is(err, ErrNotSupported) {
		t.Errorf("RADIO Recv: %v, want ErrNotSupported", err)
	}
}

func TestDraftCompatibility(t *testing.T) {
	ctx := testCtx(t)
	z := NewContext()
	defer z.Close()
	// A CLIENT refuses a REP, and a DEALER a SERVER, at the handshake.
	for _, pair := range [][2]SocketType{{CLIENT, REP}, {SERVER, DEALER}, {RADIO, SUB}, {SCATTER, PULL}, {CHANNEL, PAIR}, {PEER, SERVER}} {
		b := newSock(t, z, pair[1])
		c := newSock(t, z, pair[0])
		events := c.Monitor(ctx)
		bindConnect(t, b, c, "tcp://127.0.0.1:*")
		for ev := range events {
			if ev.Kind == EventHandshakeFailed {
				break
			}
			if ev.Kind == EventHandshakeSucceeded {
				t.Fatalf("%v connected to %v", pair[0], pair[1])
			}
		}
		b.Close()
		c.Close()
	}
}

func TestScatterGather(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			sc := newSock(t, z, SCATTER)
			g1 := newSock(t, z, GATHER)
			g2 := newSock(t, z, GATHER)
			bindConnect(t, sc, g1, ep)
			if err := g2.Connect(sc.LastEndpoint()); err != nil {
				t.Fatal(err)
			}
			// Wait for both: a SCATTER sends only to connected GATHERs.
			waitPeers(t, ctx, sc, 2)
			for i := 0; i < 4; i++ {
				mustSend(t, ctx, sc, fmt.Sprint(i))
			}
			got := map[string]bool{}
			for _, g := range []*Socket{g1, g2, g1, g2} {
				got[string(mustRecv(t, ctx, g)[0])] = true
			}
			if len(got) != 4 {
				t.Fatalf("received %v", got)
			}
		})
	}
}

// waitPeers waits until s has n handshaken connections, from its monitor
// or, over inproc, at once.
func waitPeers(t *testing.T, ctx context.Context, s *Socket, n int) {
	t.Helper()
	if strings.HasPrefix(s.LastEndpoint(), "inproc://") {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		k := len(s.pipes)
		s.mu.Unlock()
		if k >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%v: %d connections, want %d", s.Type(), k, n)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("%v: fewer than %d connections", s.Type(), n)
}

func TestChannel(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			a := newSock(t, z, CHANNEL)
			b := newSock(t, z, CHANNEL)
			bindConnect(t, a, b, ep)
			mustSend(t, ctx, b, "ping")
			mustRecv(t, ctx, a, "ping")
			mustSend(t, ctx, a, "pong")
			mustRecv(t, ctx, b, "pong")
		})
	}
}

func TestPeer(t *testing.T) {
	for name, ep := range endpoints(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			z := NewContext()
			defer z.Close()
			hub := newSock(t, z, PEER)
			a := newSock(t, z, PEER)
			b := newSock(t, z, PEER)
			if err := hub.Bind(ep); err != nil {
				t.Fatal(err)
			}
			ida, err := a.ConnectPeer(hub.LastEndpoint())
			if err != nil || ida == 0 {
				t.Fatalf("ConnectPeer: %d, %v", ida, err)
			}
			idb, err := b.ConnectPeer(hub.LastEndpoint())
			if err != nil {
				t.Fatal(err)
			}
			// Each PEER addresses the hub by the id ConnectPeer gave; the
			// hub answers by the id it saw.
			for _, c := range []struct {
				s  *Socket
				id uint32
			}{{a, ida}, {b, idb}} {
				if err := c.s.SendTo(ctx, c.id, []byte("hello")); err != nil {
					t.Fatal(err)
				}
				m, err := hub.RecvMsg(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := hub.SendTo(ctx, m.RoutingID, []byte("hi")); err != nil {
					t.Fatal(err)
				}
				got, err := c.s.RecvMsg(ctx)
				if err != nil || string(got.Frames[0]) != "hi" || got.RoutingID != c.id {
					t.Fatalf("RecvMsg = %q from %d, %v; want hi from %d", got.Frames, got.RoutingID, err, c.id)
				}
			}
		})
	}
}

func TestRadioDish(t *testing.T) {
	for name, ep := range endpoints(t) {
		for _, dishBinds := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/dishBinds=%v", name, dishBinds), func(t *testing.T) {
				ctx := testCtx(t)
				z := NewContext()
				defer z.Close()
				radio := newSock(t, z, RADIO)
				dish := newSock(t, z, DISH)
				// One group joined before the connection, one after.
				if err := dish.Join("early"); err != nil {
					t.Fatal(err)
				}
				if dishBinds {
					bindConnect(t, dish, radio, ep)
				} else {
					bindConnect(t, radio, dish, ep)
				}
				if err := dish.Join("late"); err != nil {
					t.Fatal(err)
				}
				m := radioUntil(t, ctx, radio, dish, "late", "x")
				if m.Group != "late" || string(m.Frames[0]) != "x" {
					t.Fatalf("got %q in %q", m.Frames, m.Group)
				}
				// Groups not joined are not delivered; joined ones are, in order.
				for _, g := range []string{"other", "early", "late"} {
					if err := radio.SendGroup(ctx, g, []byte("to "+g)); err != nil {
						t.Fatal(err)
					}
				}
				for _, g := range []string{"early", "late"} {
					m, err := dish.RecvMsg(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if m.Group != g || string(m.Frames[0]) != "to "+g {
						t.Fatalf("got %q in %q, want %q", m.Frames, m.Group, g)
					}
				}
				// After a Leave, the RADIO stops sending the group.
				if err := dish.Leave("early"); err != nil {
					t.Fatal(err)
				}
				radioUntil(t, ctx, radio, dish, "late", "fence")
				radio.SendGroup(ctx, "early", []byte("gone"))
				radio.SendGroup(ctx, "late", []byte("last"))
				m, err := dish.RecvMsg(ctx)
				if err != nil || m.Group != "late" || string(m.Frames[0]) != "last" {
					t.Fatalf("after Leave: %q in %q, %v", m.Frames, m.Group, err)
				}
			})
		}
	}
}

// radioUntil sends data to group until dish receives it (the JOIN has
// reached the RADIO), draining earlier copies, and returns it.
func radioUntil(t *testing.T, ctx context.Context, radio, dish *Socket, group, data string) Msg {
	t.Helper()
	for i := 0; i < 500; i++ {
		if err := radio.SendGroup(ctx, group, []byte(data)); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		m, err := dish.RecvMsg(rctx)
		cancel()
		if err == nil {
			// Drain copies sent while the first was on its way.
			for {
				dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				_, err := dish.RecvMsg(dctx)
				cancel()
				if err != nil {
					break
				}
			}
			return m
		}
	}
	t.Fatalf("the DISH received nothing in %q", group)
	return Msg{}
}
