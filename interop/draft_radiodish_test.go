//go:build !windows

package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azmq/azmq"
)

// A DISH's JOIN reaches the RADIO some time after the connection is made;
// what the RADIO sends to the group before that is dropped, as in libzmq.
// So each scenario first sends warm-up messages to a group until one
// arrives, and then the messages it checks, in order (tcp and ipc keep it).

// joinWait bounds the warm-up: how long a JOIN may take to be seen.
const joinWait = 15 * time.Second

// groupMsg is a message as a DISH received it.
type groupMsg struct {
	group string
	body  []byte
}

func (m groupMsg) String() string { return fmt.Sprintf("%q in group %q", m.body, m.group) }

// radioUntilHeard sends warm to group on the azmq RADIO every 20ms until
// the zeromq.js DISH, running a recv step, prints it.
func radioUntilHeard(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer, group string, warm []byte) {
	t.Helper()
	deadline := time.Now().Add(joinWait)
	for time.Now().Before(deadline) {
		if err := s.SendGroup(ctx, group, bytes.Clone(warm)); err != nil {
			t.Fatalf("azmq RADIO SendGroup(%q): %v", group, err)
		}
		l, ok := p.nextWithin(20 * time.Millisecond)
		if !ok {
			continue
		}
		if m := nodeGroupMsg(p, l); m.group != group || !bytes.Equal(m.body, warm) {
			t.Fatalf("zeromq.js DISH received %v, want %q in group %q", m, warm, group)
		}
		return
	}
	t.Fatalf("zeromq.js DISH received nothing sent to group %q in %v: its JOIN never took effect", group, joinWait)
}

// dishUntilHeard has the zeromq.js RADIO, in interactive mode, send warm
// to group every 20ms until the azmq DISH receives it.
func dishUntilHeard(t *testing.T, ctx context.Context, s *azmq.Socket, p *peer, group string, warm []byte) {
	t.Helper()
	p.do(step{"op": "send_loop", "group": group, "messages": [][]string{{hex1(warm)}}, "interval_ms": 20,
		"max_ms": joinWait.Milliseconds()})
	wctx, cancel := context.WithTimeout(ctx, joinWait)
	defer cancel()
	m, err := s.RecvMsg(wctx)
	if err != nil {
		t.Fatalf("azmq DISH: nothing sent to group %q came within %v (its JOIN never took effect?): %v", abbrev(group, 40), joinWait, err)
	}
	if m.Group != group || len(m.Frames) != 1 || !bytes.Equal(m.Frames[0], warm) {
		t.Fatalf("azmq DISH received %s in group %q, want %q in group %q", describe(m.Frames), m.Group, warm, group)
	}
	p.stop()
	p.expect("sent")
	p.ack("send_loop")
}

// nodeGroupMsg is the message of a zeromq.js DISH's line; any other line
// fails the test.
func nodeGroupMsg(p *peer, l peerLine) groupMsg {
	p.t.Helper()
	if l.kind() != "msg" || l.Group == nil {
		p.failf("expected a message with its group, got %s", abbrev(l.raw, 300))
	}
	return groupMsg{*l.Group, p.body1(l)}
}

// nodeRecvUntil reads what the zeromq.js DISH prints (in a recv_until
// step) up to the message whose body is until, leaving out warm-ups: the
// bodies in skip.
func nodeRecvUntil(p *peer, until []byte, skip ...[]byte) []groupMsg {
	p.t.Helper()
	var got []groupMsg
	for {
		l := p.next()
		if l.kind() == "ack" {
			continue
		}
		m := nodeGroupMsg(p, l)
		if bytes.Equal(m.body, until) {
			return got
		}
		if !isOneOf(m.body, skip) {
			got = append(got, m)
		}
	}
}

// dishRecvUntil receives on the azmq DISH up to the message whose body is
// until, leaving out the bodies in skip.
func dishRecvUntil(t *testing.T, ctx context.Context, s *azmq.Socket, until []byte, skip ...[]byte) []groupMsg {
	t.Helper()
	var got []groupMsg
	for {
		m, err := s.RecvMsg(ctx)
		if err != nil {
			t.Fatalf("azmq DISH RecvMsg (waiting for %q): %v", until, err)
		}
		if len(m.Frames) != 1 {
			t.Fatalf("azmq DISH received %s in group %q: want one frame", describe(m.Frames), m.Group)
		}
		if bytes.Equal(m.Frames[0], until) {
			return got
		}
		if !isOneOf(m.Frames[0], skip) {
			got = append(got, groupMsg{m.Group, m.Frames[0]})
		}
	}
}

func isOneOf(m []byte, set [][]byte) bool {
	for _, s := range set {
		if bytes.Equal(m, s) {
			return true
		}
	}
	return false
}

// checkGroupMsgs fails the test unless got is want, in order.
func checkGroupMsgs(t *testing.T, what string, got, want []groupMsg) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = got[i].group == want[i].group && bytes.Equal(got[i].body, want[i].body)
	}
	if !ok {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// inGroup is msgs, each in group g.
func inGroup(g string, msgs ...[]byte) []groupMsg {
	var out []groupMsg
	for _, m := range msgs {
		out = append(out, groupMsg{g, m})
	}
	return out
}

var (
	warm1 = b("warm-g1")
	warm2 = b("warm-g2")
)

func TestDraftRadioDish(t *testing.T) {
	for _, tp := range topologies {
		t.Run("RADIO-DISH/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			azmqRadioNodeDish(t, tp)
		})
		t.Run("DISH-RADIO/"+tp.String(), func(t *testing.T) {
			t.Parallel()
			requireNodePeer(t)
			azmqDishNodeRadio(t, tp)
		})
	}
}

// azmqRadioNodeDish: azmq RADIO sends, zeromq.js DISH receives: a group
// joined before the connection, one joined after it, one left, and one
// never joined.
func azmqRadioNodeDish(t *testing.T, tp topo) {
	ctx := testCtx(t)
	s := newSocket(t, azmq.RADIO)
	p := nodeLink(t, s, spec{Type: "DISH", Options: map[string]any{"join": []string{"g1"}},
		Steps: []step{{"op": "interactive"}}}, tp)
	sendGroup := func(g string, m []byte) {
		t.Helper()
		if err := s.SendGroup(ctx, g, bytes.Clone(m)); err != nil {
			t.Fatalf("azmq RADIO SendGroup(%q, %q): %v", g, m, err)
		}
	}

	// g1, joined before the connection.
	p.do(step{"op": "recv", "timeout_ms": joinWait.Milliseconds()})
	radioUntilHeard(t, ctx, s, p, "g1", warm1)
	p.ack("recv")
	sendGroup("other", b("not joined"))
	for _, m := range draftMsgs {
		sendGroup("g1", m)
	}
	sendGroup("other", b("not joined"))
	sendGroup("g1", b("end1"))
	p.do(step{"op": "recv_until", "bodies": []string{hex1(b("end1"))}})
	checkGroupMsgs(t, "zeromq.js DISH, group g1 joined before connecting", nodeRecvUntil(p, b("end1"), warm1), inGroup("g1", draftMsgs...))
	p.ack("recv_until")

	// g2, joined after.
	p.do(step{"op": "join", "group": "g2"})
	p.ack("join")
	p.do(step{"op": "recv", "timeout_ms": joinWait.Milliseconds()})
	radioUntilHeard(t, ctx, s, p, "g2", warm2)
	p.ack("recv")
	sendGroup("g1", b("to g1"))
	sendGroup("g2", b("to g2"))
	sendGroup("other", b("not joined"))
	sendGroup("g2", b("end2"))
	p.do(step{"op": "recv_until", "bodies": []string{hex1(b("end2"))}})
	checkGroupMsgs(t, "zeromq.js DISH, g1 and g2 (joined after connecting)", nodeRecvUntil(p, b("end2"), warm2),
		[]groupMsg{{"g1", b("to g1")}, {"g2", b("to g2")}})
	p.ack("recv_until")

	// g1 left: nothing sent to it arrives any more.
	p.do(step{"op": "leave", "group": "g1"})
	p.ack("leave")
	for i := 0; i < 3; i++ {
		sendGroup("g1", b("after leave"))
	}
	sendGroup("g2", b("still g2"))
	sendGroup("g2", b("end3"))
	p.do(step{"op": "recv_until", "bodies": []string{hex1(b("end3"))}})
	checkGroupMsgs(t, "zeromq.js DISH, after leaving g1", nodeRecvUntil(p, b("end3"), warm2), inGroup("g2", b("still g2")))
	p.ack("recv_until")
	p.do(step{"op": "exit"})
	p.wait()
}

// azmqDishNodeRadio: zeromq.js RADIO sends, azmq DISH receives, as above
// the other way round.
func azmqDishNodeRadio(t *testing.T, tp topo) {
	ctx := testCtx(t)
	s := newSocket(t, azmq.DISH)
	if err := s.Join("g1"); err != nil {
		t.Fatalf("azmq DISH Join(g1) before connecting: %v", err)
	}
	p := nodeLink(t, s, spec{Type: "RADIO", Steps: []step{{"op": "interactive"}}}, tp)
	send := func(g string, m []byte) {
		t.Helper()
		p.do(step{"op": "send", "group": g, "data": hex1(m)})
	}
	warmUp := func(g string, warm []byte) {
		t.Helper()
		dishUntilHeard(t, ctx, s, p, g, warm)
	}

	// g1, joined before the connection.
	warmUp("g1", warm1)
	send("other", b("not joined"))
	for _, m := range draftMsgs {
		send("g1", m)
	}
	send("other", b("not joined"))
	send("g1", b("end1"))
	checkGroupMsgs(t, "azmq DISH, group g1 joined before connecting", dishRecvUntil(t, ctx, s, b("end1"), warm1), inGroup("g1", draftMsgs...))

	// g2, joined after.
	if err := s.Join("g2"); err != nil {
		t.Fatalf("azmq DISH Join(g2) once connected: %v", err)
	}
	warmUp("g2", warm2)
	send("g1", b("to g1"))
	send("g2", b("to g2"))
	send("other", b("not joined"))
	send("g2", b("end2"))
	checkGroupMsgs(t, "azmq DISH, g1 and g2 (joined after connecting)", dishRecvUntil(t, ctx, s, b("end2"), warm2),
		[]groupMsg{{"g1", b("to g1")}, {"g2", b("to g2")}})

	// g1 left: nothing sent to it arrives any more.
	if err := s.Leave("g1"); err != nil {
		t.Fatalf("azmq DISH Leave(g1): %v", err)
	}
	if err := s.Leave("never joined"); err == nil {
		t.Fatalf("azmq DISH Leave of a group not joined: no error (libzmq: EINVAL)")
	}
	for i := 0; i < 3; i++ {
		send("g1", b("after leave"))
	}
	send("g2", b("still g2"))
	send("g2", b("end3"))
	checkGroupMsgs(t, "azmq DISH, after leaving g1", dishRecvUntil(t, ctx, s, b("end3"), warm2), inGroup("g2", b("still g2")))
	p.do(step{"op": "exit"})
	p.wait()
}

// TestDraftRadioDishLongGroup: a group of libzmq's longest, 255 bytes,
// joined and sent to both ways round; one byte more is refused by azmq.
func TestDraftRadioDishLongGroup(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 16)[:255]
	tp := topo{"tcp", true}
	t.Run("RADIO-DISH", func(t *testing.T) {
		t.Parallel()
		requireNodePeer(t)
		ctx := testCtx(t)
		s := newSocket(t, azmq.RADIO)
		if err := s.SendGroup(ctx, long+"x", b("too long")); !errors.Is(err, azmq.ErrGroupTooLong) {
			t.Fatalf("azmq RADIO SendGroup to a 256-byte group: %v, want ErrGroupTooLong", err)
		}
		p := nodeLink(t, s, spec{Type: "DISH", Options: map[string]any{"join": []string{long}},
			Steps: []step{{"op": "interactive"}}}, tp)
		p.do(step{"op": "recv", "timeout_ms": joinWait.Milliseconds()})
		radioUntilHeard(t, ctx, s, p, long, warm1)
		p.ack("recv")
		p.do(step{"op": "exit"})
		p.wait()
	})
	t.Run("DISH-RADIO", func(t *testing.T) {
		t.Parallel()
		requireNodePeer(t)
		ctx := testCtx(t)
		s := newSocket(t, azmq.DISH)
		if err := s.Join(long + "x"); !errors.Is(err, azmq.ErrGroupTooLong) {
			t.Fatalf("azmq DISH Join of a 256-byte group: %v, want ErrGroupTooLong", err)
		}
		if err := s.Join(long); err != nil {
			t.Fatalf("azmq DISH Join of a 255-byte group: %v", err)
		}
		p := nodeLink(t, s, spec{Type: "RADIO", Steps: []step{{"op": "interactive"}}}, tp)
		dishUntilHeard(t, ctx, s, p, long, warm1)
		p.do(step{"op": "exit"})
		p.wait()
	})
}
