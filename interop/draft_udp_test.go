//go:build !windows

package interop

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// RADIO and DISH over udp://, as libzmq has them: the DISH binds, the
// RADIO connects, and each datagram carries its group (a RADIO sends every
// group; the DISH keeps the ones it joined). Datagrams may be lost, though
// on loopback they are not in practice: the sender repeats its messages,
// a bounded number of times, until each one has arrived.

// udpTries bounds the rounds of sends, udpRound the wait after each.
const (
	udpTries = 200
	udpRound = 25 * time.Millisecond
)

var udpMsgs = [][]byte{b("u1"), b("u2"), pattern(500, 9)}

func TestDraftRadioDishUDP(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "*"} {
		t.Run("RADIO-DISH/bind-"+host, func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			azmqRadioNodeDishUDP(t, host)
		})
		t.Run("DISH-RADIO/bind-"+host, func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			azmqDishNodeRadioUDP(t, host)
		})
	}
}

// azmqRadioNodeDishUDP: azmq RADIO connects over udp to a zeromq.js DISH
// bound to host, joined to g1; what goes to another group must not come.
func azmqRadioNodeDishUDP(t *testing.T, host string) {
	ctx := testCtx(t)
	port := freeUDPPort(t)
	p := startNodePeer(t, spec{Type: "DISH", Bind: []string{udpEndpoint(host, port)},
		Options: map[string]any{"join": []string{"g1"}}, Steps: []step{{"op": "interactive"}}})
	p.ready()
	s := newSocket(t, azmq.RADIO)
	ep := udpEndpoint("127.0.0.1", port)
	if err := s.Connect(ep); err != nil {
		t.Fatalf("azmq RADIO Connect(%q): %v", ep, err)
	}
	var bodies []string
	for _, m := range udpMsgs {
		bodies = append(bodies, hex1(m))
	}
	p.do(step{"op": "recv_until", "bodies": bodies, "timeout_ms": (udpTries * udpRound).Milliseconds() + 5000})
	seen := map[string]bool{}
	for try := 0; len(seen) < len(udpMsgs); try++ {
		if try == udpTries {
			t.Fatalf("zeromq.js DISH over udp: after %d rounds of sends it has %d of the %d messages", udpTries, len(seen), len(udpMsgs))
		}
		for _, m := range append([][]byte{b("not joined")}, udpMsgs...) {
			g := "g1"
			if string(m) == "not joined" {
				g = "other"
			}
			if err := s.SendGroup(ctx, g, bytes.Clone(m)); err != nil {
				t.Fatalf("azmq RADIO SendGroup(%q) over udp: %v", g, err)
			}
		}
		deadline := time.Now().Add(udpRound)
		for len(seen) < len(udpMsgs) {
			l, ok := p.nextWithin(time.Until(deadline))
			if !ok {
				break
			}
			m := nodeGroupMsg(p, l)
			if m.group != "g1" || !isOneOf(m.body, udpMsgs) {
				t.Fatalf("zeromq.js DISH over udp received %v, want only the messages to g1", m)
			}
			seen[string(m.body)] = true
		}
	}
	p.ack("recv_until")
	p.do(step{"op": "exit"})
	p.wait()
}

// azmqDishNodeRadioUDP: a zeromq.js RADIO connects over udp to an azmq
// DISH bound to host, joined to g1; it sends to g1 and to another group.
func azmqDishNodeRadioUDP(t *testing.T, host string) {
	ctx := testCtx(t)
	s := newSocket(t, azmq.DISH)
	if err := s.Join("g1"); err != nil {
		t.Fatalf("azmq DISH Join: %v", err)
	}
	ep := "udp://" + net.JoinHostPort(host, "*")
	if err := s.Bind(ep); err != nil {
		t.Fatalf("azmq DISH Bind(%q): %v", ep, err)
	}
	_, ps, err := net.SplitHostPort(strings.TrimPrefix(s.LastEndpoint(), "udp://"))
	if err != nil {
		t.Fatalf("azmq DISH bound %q: %v", s.LastEndpoint(), err)
	}
	port, _ := strconv.Atoi(ps)
	msgs := [][]string{{hex1(b("not joined"))}}
	groups := []string{"other"}
	for _, m := range udpMsgs {
		msgs = append(msgs, []string{hex1(m)})
		groups = append(groups, "g1")
	}
	p := startNodePeer(t, spec{Type: "RADIO", Connect: []string{udpEndpoint("127.0.0.1", port)}, Steps: []step{
		{"op": "send_loop", "messages": msgs, "groups": groups, "interval_ms": 5, "max_ms": (udpTries * udpRound).Milliseconds()},
	}})
	p.ready()
	rctx, cancel := context.WithTimeout(ctx, udpTries*udpRound)
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < len(udpMsgs) {
		m, err := s.RecvMsg(rctx)
		if err != nil {
			t.Fatalf("azmq DISH over udp: %d of the %d messages in %v: %v", len(seen), len(udpMsgs), udpTries*udpRound, err)
		}
		if m.Group != "g1" || len(m.Frames) != 1 || !isOneOf(m.Frames[0], udpMsgs) {
			t.Fatalf("azmq DISH over udp received %s in group %q, want only the messages to g1", describe(m.Frames), m.Group)
		}
		seen[string(m.Frames[0])] = true
	}
	p.stop()
	p.expect("sent")
	p.wait()
}
