package pattern

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

func subscribe(t testing.TB, s Socket, topics ...string) {
	t.Helper()
	for _, tp := range topics {
		if err := s.Subscribe([]byte(tp)); err != nil {
			t.Fatal(err)
		}
	}
}

func unsubscribe(t testing.TB, s Socket, topics ...string) {
	t.Helper()
	for _, tp := range topics {
		if err := s.Unsubscribe([]byte(tp)); err != nil {
			t.Fatal(err)
		}
	}
}

func subscribeMsg(topic string) pipe.Msg {
	return pipe.Msg{Frames: [][]byte{append([]byte{1}, topic...)}, Tag: pipe.TagOf(pipe.Subscribe)}
}

func cancelMsg(topic string) pipe.Msg {
	return pipe.Msg{Frames: [][]byte{append([]byte{0}, topic...)}, Tag: pipe.TagOf(pipe.Cancel)}
}

// popSub checks that p's Out holds the (un)subscription m next.
func popSub(t testing.TB, p *pipe.Pipe, want pipe.Msg) {
	t.Helper()
	got := peerRecv(t, p)
	if got.Flags() != want.Flags() || !slices.Equal(strs(got), strs(want)) {
		t.Fatalf("peer got %q flags %d, want %q flags %d", strs(got), got.Flags(), strs(want), want.Flags())
	}
}

func TestPubSubFiltering(t *testing.T) {
	pub := newSock(t, PUB, Options{})
	s1, s2, s3 := newSock(t, SUB, Options{}), newSock(t, SUB, Options{}), newSock(t, SUB, Options{})
	p1, _ := connect(t, pub, s1, PUB, SUB, 100)
	p2, _ := connect(t, pub, s2, PUB, SUB, 100)
	p3, _ := connect(t, pub, s3, PUB, SUB, 100)
	subscribe(t, s1, "a")
	subscribe(t, s2, "ban", "b") // both match "banana": it must come once
	subscribe(t, s3, "")         // everything

	for _, m := range [][]string{{"apple", "1"}, {"banana"}, {"cherry"}, {"avocado"}} {
		send(t, pub, m...)
	}
	expect(t, s1, "apple", "1")
	expect(t, s1, "avocado")
	if n := p1.Out.Len(); n != 0 {
		t.Fatalf("s1 has %d more", n)
	}
	expect(t, s2, "banana")
	if n := p2.Out.Len(); n != 0 {
		t.Fatalf("s2 has %d more", n)
	}
	if n := p3.Out.Len(); n != 4 {
		t.Fatalf("s3 has %d, want 4", n)
	}

	// Unsubscribe: nothing more for s1.
	unsubscribe(t, s1, "a")
	send(t, pub, "apple")
	if n := p1.Out.Len(); n != 0 {
		t.Fatalf("s1 got %d after unsubscribing", n)
	}
}

func TestPubSetSemantics(t *testing.T) {
	pub := newSock(t, PUB, Options{})
	p := raw(t, pub, 10, &pipe.Peer{SocketType: "SUB"})
	// Twice the same subscription, one cancel: gone (a set, not a count).
	peerSend(t, p, subscribeMsg("a"))
	peerSend(t, p, subscribeMsg("a"))
	peerSend(t, p, cancelMsg("a"))
	send(t, pub, "a")
	empty(t, p)
	// The 3.0 data form counts the same; other data is dropped.
	peerSend(t, p, msg("\x01t"))
	peerSend(t, p, msg("junk"))
	peerSend(t, p, msg(""))
	send(t, pub, "topic")
	popStrs(t, p, "topic")
	peerSend(t, p, msg("\x00t"))
	send(t, pub, "topic")
	empty(t, p)
}

func TestPubFullPipeDropsWholeMessageNeverBlocks(t *testing.T) {
	pub := newSock(t, PUB, Options{})
	full := raw(t, pub, 2, &pipe.Peer{SocketType: "SUB"})
	roomy := raw(t, pub, 100, &pipe.Peer{SocketType: "SUB"})
	peerSend(t, full, subscribeMsg(""))
	peerSend(t, roomy, subscribeMsg(""))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 5; i++ {
			if err := pub.Send(context.Background(), msg("a", "b", "c")); err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("PUB Send blocked")
	}
	if n := full.Out.Len(); n != 2 {
		t.Fatalf("full pipe holds %d, want 2", n)
	}
	for i := 0; i < 2; i++ {
		popStrs(t, full, "a", "b", "c")
	}
	if n := roomy.Out.Len(); n != 5 {
		t.Fatalf("other pipe holds %d, want 5", n)
	}
	// Fan-out gives each pipe its own frame list.
	m1, m2 := peerRecv(t, roomy), peerRecv(t, roomy)
	m1.Frames[0] = nil
	if m2.Frames[0] == nil {
		t.Fatal("frame lists shared between messages")
	}
}

func TestPubDetachDropsSubscriptions(t *testing.T) {
	s := newSock(t, PUB, Options{})
	p := raw(t, s, 10, &pipe.Peer{SocketType: "SUB"})
	peerSend(t, p, subscribeMsg("x"))
	send(t, s, "x1")
	popStrs(t, p, "x1")
	p.Close()
	s.Detach(p)
	send(t, s, "x2")
	ps := s.(*pub)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.pipes) != 0 || len(ps.subs.t.root.kids) != 0 || ps.subs.t.root.hasValue() {
		t.Fatalf("PUB still holds state after Detach")
	}
}

func TestSubFiltersLocally(t *testing.T) {
	s := newSock(t, SUB, Options{})
	p := raw(t, s, 10, &pipe.Peer{SocketType: "PUB"})
	subscribe(t, s, "a")
	peerSend(t, p, msg("apple"))
	peerSend(t, p, msg("banana"))
	peerSend(t, p, msg("avocado", "2"))
	expect(t, s, "apple")
	expect(t, s, "avocado", "2")
	nothing(t, s)
}

func TestSubCountsAndResends(t *testing.T) {
	s := newSock(t, SUB, Options{})
	p := raw(t, s, 100, &pipe.Peer{SocketType: "PUB"})
	subscribe(t, s, "a", "b", "a")
	popSub(t, p, subscribeMsg("a"))
	popSub(t, p, subscribeMsg("b"))
	popSub(t, p, subscribeMsg("a")) // sent every time
	unsubscribe(t, s, "a")          // count 2 -> 1: nothing sent
	empty(t, p)
	unsubscribe(t, s, "a")
	popSub(t, p, cancelMsg("a"))
	unsubscribe(t, s, "never") // unknown: nil, nothing sent
	empty(t, p)

	s.Hiccup(p)
	popSub(t, p, subscribeMsg("b"))
	empty(t, p)

	// A new pipe gets the whole set on Attach.
	subscribe(t, s, "")
	popSub(t, p, subscribeMsg(""))
	q := raw(t, s, 100, &pipe.Peer{SocketType: "PUB"})
	var got []string
	for q.Out.Len() > 0 {
		m := peerRecv(t, q)
		if m.Flags() != pipe.Subscribe {
			t.Fatalf("flags %d", m.Flags())
		}
		got = append(got, string(m.Frames[0]))
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"\x01", "\x01b"}) {
		t.Fatalf("resent %q", got)
	}
}

func TestXPubNotifications(t *testing.T) {
	x := newSock(t, XPUB, Options{})
	p1 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	p2 := raw(t, x, 100, &pipe.Peer{SocketType: "XSUB"})

	peerSend(t, p1, subscribeMsg("a"))
	expect(t, x, "\x01a") // first subscriber
	peerSend(t, p2, msg("\x01a"))
	peerSend(t, p2, msg("marker1")) // data is handed on as is
	expect(t, x, "marker1")         // no notice for the second subscriber
	peerSend(t, p1, cancelMsg("a"))
	peerSend(t, p1, msg("marker2"))
	expect(t, x, "marker2") // p2 still holds a
	peerSend(t, p2, cancelMsg("a"))
	expect(t, x, "\x00a") // the last one left

	// Detach reports what no one else holds.
	peerSend(t, p1, subscribeMsg("b"))
	peerSend(t, p1, subscribeMsg("c"))
	peerSend(t, p2, subscribeMsg("c"))
	expect(t, x, "\x01b")
	expect(t, x, "\x01c")
	p1.Close()
	x.Detach(p1)
	expect(t, x, "\x00b")
	nothing(t, x)

	// XPUB sends like PUB.
	send(t, x, "cat")
	send(t, x, "bat")
	popStrs(t, p2, "cat")
	empty(t, p2)
}

func TestXPubWithSubSockets(t *testing.T) {
	x := newSock(t, XPUB, Options{})
	s := newSock(t, SUB, Options{})
	connect(t, x, s, XPUB, SUB, 100)
	subscribe(t, s, "news")
	expect(t, x, "\x01news")
	send(t, x, "news: hi")
	send(t, x, "sport")
	expect(t, s, "news: hi")
	unsubscribe(t, s, "news")
	expect(t, x, "\x00news")
}

func TestXPubPendingBounded(t *testing.T) {
	q := &pending{max: 3}
	for i := 0; i < 10; i++ {
		q.push(msg(string(rune('0'+i))), nil, nil, false)
	}
	if q.len() != 3 {
		t.Fatalf("len %d", q.len())
	}
	for _, want := range []string{"7", "8", "9"} {
		e, ok := q.pop()
		if !ok || string(e.m.Frames[0]) != want {
			t.Fatalf("pop = %q %v, want %q", strs(e.m), ok, want)
		}
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from empty")
	}
}

func TestXSubForwards(t *testing.T) {
	x := newSock(t, XSUB, Options{})
	p := raw(t, x, 100, &pipe.Peer{SocketType: "PUB"})
	send(t, x, "\x01a")
	m := peerRecv(t, p)
	if m.Flags() != 0 || string(m.Frames[0]) != "\x01a" {
		t.Fatalf("forwarded %q flags %d", strs(m), m.Flags())
	}
	send(t, x, "\x01a")
	popStrs(t, p, "\x01a")
	send(t, x, "upstream", "2")
	popStrs(t, p, "upstream", "2")
	send(t, x, "\x00a") // count 2 -> 1: not forwarded
	empty(t, p)

	// A new publisher, and a reconnect, get the set, flagged.
	q := raw(t, x, 100, &pipe.Peer{SocketType: "PUB"})
	popSub(t, q, subscribeMsg("a"))
	x.Hiccup(p)
	popSub(t, p, subscribeMsg("a"))

	send(t, x, "\x00a")
	popStrs(t, p, "\x00a")
	popStrs(t, q, "\x00a")

	// Subscribe works as on SUB; Recv does not filter.
	subscribe(t, x, "z")
	popSub(t, p, subscribeMsg("z"))
	peerSend(t, p, msg("anything"))
	expect(t, x, "anything")
}

func TestXSubXPubChain(t *testing.T) {
	// SUB -> XPUB | XSUB -> PUB, the proxy pattern.
	pub, xsub, xpub, s := newSock(t, PUB, Options{}), newSock(t, XSUB, Options{}),
		newSock(t, XPUB, Options{}), newSock(t, SUB, Options{})
	connect(t, pub, xsub, PUB, XSUB, 100)
	connect(t, xpub, s, XPUB, SUB, 100)
	subscribe(t, s, "t")
	m, _, err := xpub.Recv(timeout(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := xsub.Send(timeout(t, time.Second), m); err != nil {
		t.Fatal(err)
	}
	send(t, pub, "t1")
	send(t, pub, "u1")
	m, _, err = xsub.Recv(timeout(t, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := xpub.Send(timeout(t, time.Second), m); err != nil {
		t.Fatal(err)
	}
	expect(t, s, "t1")
}

// TestPubSubscriptionLimit: a subscriber whose topics would cost more than
// MaxSubscriptionBytes is failed (its connection ends) and the topic that
// broke the limit is not taken; repeats and cancels are counted exactly;
// other subscribers are not disturbed; inproc subscribers have no limit.
func TestPubSubscriptionLimit(t *testing.T) {
	for _, typ := range []Type{PUB, XPUB} {
		t.Run(typ.String(), func(t *testing.T) {
			topic := func(i int) string { return fmt.Sprintf("%08d", i) } // cost 2*8+256 = 272
			const perTopic = 272
			pub := newSock(t, typ, Options{MaxSubscriptionBytes: 10 * perTopic})
			p, other := raw(t, pub, 100, &pipe.Peer{SocketType: "SUB"}), raw(t, pub, 100, &pipe.Peer{SocketType: "SUB"})
			var failed []error
			p.OnFail(func(err error) { failed = append(failed, err) })
			other.OnFail(func(err error) { t.Errorf("the other subscriber failed: %v", err) })
			peerSend(t, other, subscribeMsg("a"))
			for i := range 10 {
				peerSend(t, p, subscribeMsg(topic(i)))
				peerSend(t, p, subscribeMsg(topic(i))) // a repeat costs nothing
			}
			peerSend(t, p, cancelMsg(topic(0)))
			peerSend(t, p, subscribeMsg(topic(10))) // fits again: 10 topics
			send(t, pub, "a")
			if len(failed) != 0 {
				t.Fatalf("failed at the limit: %v", failed)
			}
			peerSend(t, p, subscribeMsg(topic(11))) // the 11th
			send(t, pub, "a")
			if len(failed) != 1 || !errors.Is(failed[0], ErrTooManySubscriptions) {
				t.Fatalf("failed %v, want once ErrTooManySubscriptions", failed)
			}
			send(t, pub, topic(11))
			send(t, pub, topic(10))
			var got []string
			for p.Out.Len() > 0 {
				got = append(got, strs(peerRecv(t, p))[0])
			}
			if !slices.Equal(got, []string{topic(10)}) {
				t.Errorf("the failed subscriber got %q, want only %q", got, topic(10))
			}
			if n := other.Out.Len(); n != 2 {
				t.Errorf("the other subscriber has %d messages, want 2", n)
			}
		})
	}
	t.Run("inproc", func(t *testing.T) {
		pub := newSock(t, PUB, Options{MaxSubscriptionBytes: 300})
		p := raw(t, pub, 100, &pipe.Peer{SocketType: "SUB"})
		p.Inproc = true
		p.OnFail(func(err error) { t.Errorf("an inproc subscriber failed: %v", err) })
		for i := range 5 {
			peerSend(t, p, subscribeMsg(fmt.Sprint(i)))
		}
		send(t, pub, "4")
		popStrs(t, p, "4")
	})
}
