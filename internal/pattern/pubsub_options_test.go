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

func psOpts(o PubSubOptions) Options { return Options{PubSub: o} }

// recvAll takes what x has for the application until a short wait finds
// nothing more.
func recvAll(t *testing.T, x Socket) []string {
	t.Helper()
	var got []string
	for range 1000 {
		m, _, err := x.Recv(timeout(t, short))
		if errors.Is(err, context.DeadlineExceeded) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strs(m)...)
	}
	t.Fatal("more than 1000 messages")
	return nil
}

// TestXPubVerbose: by default a repeated subscription is not handed on;
// VerboseSubs hands on each; VerboseUnsubs also each cancel and, when a
// subscriber leaves, each of its topics, held elsewhere or not.
func TestXPubVerbose(t *testing.T) {
	cases := []struct {
		name          string
		o             PubSubOptions
		subs, cancels []string // what Recv returns for the script below
		detach        []string
	}{
		{"default", PubSubOptions{}, []string{"\x01a"}, []string{"\x00a"}, []string{"\x00b"}},
		{"verbose", PubSubOptions{VerboseSubs: true}, []string{"\x01a", "\x01a", "\x01a"}, []string{"\x00a"}, []string{"\x00b"}},
		{"verboser", PubSubOptions{VerboseSubs: true, VerboseUnsubs: true},
			[]string{"\x01a", "\x01a", "\x01a"}, []string{"\x00a", "\x00a"}, []string{"\x00b", "\x00c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := newSock(t, XPUB, psOpts(c.o))
			p1 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
			p2 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
			peerSend(t, p1, subscribeMsg("a"))
			peerSend(t, p1, subscribeMsg("a")) // the same pipe again
			peerSend(t, p2, subscribeMsg("a")) // another pipe
			if got := recvAll(t, x); !slices.Equal(got, c.subs) {
				t.Fatalf("subscriptions: Recv %q, want %q", got, c.subs)
			}
			peerSend(t, p1, cancelMsg("a")) // p2 still holds a
			peerSend(t, p2, cancelMsg("a")) // the last one
			if got := recvAll(t, x); !slices.Equal(got, c.cancels) {
				t.Fatalf("cancels: Recv %q, want %q", got, c.cancels)
			}
			peerSend(t, p1, subscribeMsg("b"))
			peerSend(t, p1, subscribeMsg("c"))
			peerSend(t, p2, subscribeMsg("c"))
			recvAll(t, x)
			p1.Close()
			x.Detach(p1)
			got := recvAll(t, x)
			slices.Sort(got)
			if !slices.Equal(got, c.detach) {
				t.Fatalf("detach: Recv %q, want %q", got, c.detach)
			}
			// The subscriptions still work as before.
			send(t, x, "cat")
			popStrs(t, p2, "cat")
		})
	}
}

// TestXPubManual: subscriptions are handed on and not applied; Subscribe
// applies a topic to the subscriber whose subscription Recv returned
// last, Unsubscribe cancels it; a subscriber that left takes none.
func TestXPubManual(t *testing.T) {
	x := newSock(t, XPUB, psOpts(PubSubOptions{Manual: true}))
	p1 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	p2 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	if err := x.Subscribe([]byte("z")); err != nil { // no subscriber yet: nothing
		t.Fatal(err)
	}
	peerSend(t, p1, subscribeMsg("a"))
	expect(t, x, "\x01a")
	send(t, x, "apple")
	empty(t, p1) // not applied by itself
	subscribe(t, x, "b")
	send(t, x, "apple")
	send(t, x, "banana")
	send(t, x, "zebra")
	popStrs(t, p1, "banana")
	empty(t, p1)
	empty(t, p2)

	// Every repeat is handed on; the last Recv picks the pipe.
	peerSend(t, p2, subscribeMsg("a"))
	peerSend(t, p2, subscribeMsg("a"))
	expect(t, x, "\x01a")
	expect(t, x, "\x01a")
	subscribe(t, x, "a")
	send(t, x, "apple")
	popStrs(t, p2, "apple")
	empty(t, p1)
	peerSend(t, p2, cancelMsg("a"))
	expect(t, x, "\x00a")
	unsubscribe(t, x, "a")
	send(t, x, "apple")
	empty(t, p2)

	// A subscriber that leaves: a cancel for each topic it asked for,
	// and no pipe left to apply anything to.
	peerSend(t, p1, subscribeMsg("c"))
	expect(t, x, "\x01c")
	p1.Close()
	x.Detach(p1)
	got := recvAll(t, x)
	slices.Sort(got)
	if want := []string{"\x00a", "\x00c"}; !slices.Equal(got, want) {
		t.Fatalf("detach: Recv %q, want %q", got, want)
	}
	subscribe(t, x, "d") // nobody: does nothing
	send(t, x, "dog")
	empty(t, p2)

	// Without Manual, Subscribe on XPUB is not supported.
	plain := newSock(t, XPUB, Options{})
	if err := plain.Subscribe([]byte("a")); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Subscribe on XPUB without Manual: %v", err)
	}
}

// TestXPubManualLimit: topics a subscriber asks for count toward
// MaxSubscriptionBytes under Manual too.
func TestXPubManualLimit(t *testing.T) {
	x := newSock(t, XPUB, Options{MaxSubscriptionBytes: 2 * SubscriptionCost([]byte("t0")), PubSub: PubSubOptions{Manual: true}})
	p := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	failed := make(chan error, 1)
	p.OnFail(func(err error) { failed <- err })
	for i := range 3 {
		peerSend(t, p, subscribeMsg(fmt.Sprintf("t%d", i)))
	}
	recvAll(t, x)
	select {
	case err := <-failed:
		if !errors.Is(err, ErrTooManySubscriptions) {
			t.Fatalf("failed with %v", err)
		}
	default:
		t.Fatal("the third topic did not fail the subscriber")
	}
}

// TestXPubLastValue: after Recv returns a subscription, the next message
// goes only to that subscriber (if it matches); the one after to all.
func TestXPubLastValue(t *testing.T) {
	x := newSock(t, XPUB, psOpts(PubSubOptions{Manual: true, LastValue: true}))
	p1 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	p2 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	peerSend(t, p1, subscribeMsg("a"))
	expect(t, x, "\x01a")
	subscribe(t, x, "a")
	send(t, x, "a1")
	send(t, x, "a2")
	popStrs(t, p1, "a1")
	popStrs(t, p1, "a2")

	peerSend(t, p2, subscribeMsg("a"))
	expect(t, x, "\x01a")
	subscribe(t, x, "a")
	send(t, x, "a-last") // the last value, for p2 alone
	send(t, x, "a3")     // everyone's again
	popStrs(t, p2, "a-last")
	popStrs(t, p2, "a3")
	popStrs(t, p1, "a3")
	empty(t, p1)

	// A message the last subscriber does not match goes to nobody.
	p3 := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	peerSend(t, p3, subscribeMsg("b"))
	expect(t, x, "\x01b")
	send(t, x, "a4")
	send(t, x, "a5")
	popStrs(t, p1, "a5")
	popStrs(t, p2, "a5")
	empty(t, p1)
	empty(t, p2)
	empty(t, p3)
}

// TestPubNoDrop: at a subscriber's HWM, Send waits instead of dropping;
// an ended ctx makes it fail with nothing sent to anyone; room lets it
// through, to every subscriber once.
func TestPubNoDrop(t *testing.T) {
	for _, typ := range []Type{PUB, XPUB} {
		t.Run(typ.String(), func(t *testing.T) {
			s := newSock(t, typ, psOpts(PubSubOptions{NoDrop: true}))
			slow := raw(t, s, 2, &pipe.Peer{SocketType: "SUB"})
			fast := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
			other := raw(t, s, 2, &pipe.Peer{SocketType: "SUB"})
			peerSend(t, slow, subscribeMsg("a"))
			peerSend(t, fast, subscribeMsg("a"))
			peerSend(t, other, subscribeMsg("b"))
			if typ == XPUB {
				recvAll(t, s)
			}
			send(t, s, "a1")
			send(t, s, "a2")
			// slow is full: a does not go, b does.
			send(t, s, "b1")
			send(t, s, "b2")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := s.Send(ctx, msg("a3")); !errors.Is(err, context.Canceled) {
				t.Fatalf("Send with an ended ctx at the HWM: %v", err)
			}
			if err := s.Send(timeout(t, short), msg("a3")); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send at the HWM: %v, want it to wait", err)
			}
			if n := fast.Out.Len(); n != 2 {
				t.Fatalf("fast got %d messages, want 2 (none of the failed ones)", n)
			}
			done := make(chan error, 1)
			go func() { done <- s.Send(timeout(t, 2*time.Second), msg("a3")) }()
			select {
			case err := <-done:
				t.Fatalf("Send returned %v with no room", err)
			case <-time.After(short):
			}
			popStrs(t, slow, "a1")
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			popStrs(t, slow, "a2")
			popStrs(t, slow, "a3")
			popStrs(t, fast, "a1")
			popStrs(t, fast, "a2")
			popStrs(t, fast, "a3")
			empty(t, fast)
			popStrs(t, other, "b1")
			popStrs(t, other, "b2")
			empty(t, other)

			// Close ends a waiting Send.
			send(t, s, "a4")
			send(t, s, "a5")
			go func() { done <- s.Send(context.Background(), msg("a6")) }()
			time.Sleep(short)
			s.Close()
			if err := <-done; !errors.Is(err, ErrClosed) {
				t.Fatalf("Send waiting at Close: %v", err)
			}
		})
	}
}

// TestPubWelcome: each new subscriber gets the welcome message first, a
// persistent pipe again on its new connection.
func TestPubWelcome(t *testing.T) {
	for _, typ := range []Type{PUB, XPUB} {
		t.Run(typ.String(), func(t *testing.T) {
			s := newSock(t, typ, psOpts(PubSubOptions{Welcome: []byte("hello")}))
			p1 := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
			p2 := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
			popStrs(t, p1, "hello")
			popStrs(t, p2, "hello")
			empty(t, p1)
			s.Hiccup(p1)
			popStrs(t, p1, "hello")
			empty(t, p2)
			// Copies: changing one leaves the other.
			s.Hiccup(p2)
			s.Hiccup(p1)
			a, b := peerRecv(t, p1), peerRecv(t, p2)
			a.Frames[0][0] = 'X'
			if string(b.Frames[0]) != "hello" {
				t.Fatalf("the subscribers share the welcome's bytes: %q", b.Frames[0])
			}
		})
	}
	// None by default.
	s := newSock(t, PUB, Options{})
	p := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
	s.Hiccup(p)
	empty(t, p)
}

// TestInvertMatching: PUB/XPUB send to the subscribers that do not match
// (one with no topic gets all); SUB keeps what matches none of its topics.
func TestInvertMatching(t *testing.T) {
	for _, typ := range []Type{PUB, XPUB} {
		t.Run(typ.String(), func(t *testing.T) {
			s := newSock(t, typ, psOpts(PubSubOptions{Invert: true}))
			pa := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
			pab := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
			none := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
			peerSend(t, pa, subscribeMsg("a"))
			peerSend(t, pab, subscribeMsg("a"))
			peerSend(t, pab, subscribeMsg("b"))
			for _, m := range []string{"apple", "banana", "cherry"} {
				send(t, s, m)
			}
			popStrs(t, pa, "banana")
			popStrs(t, pa, "cherry")
			empty(t, pa)
			popStrs(t, pab, "cherry")
			empty(t, pab)
			popStrs(t, none, "apple")
			popStrs(t, none, "banana")
			popStrs(t, none, "cherry")
		})
	}
	t.Run("SUB", func(t *testing.T) {
		s := newSock(t, SUB, psOpts(PubSubOptions{Invert: true}))
		p := raw(t, s, 100, &pipe.Peer{SocketType: "PUB"})
		subscribe(t, s, "a", "b")
		popSub(t, p, subscribeMsg("a")) // the publisher is told as usual
		popSub(t, p, subscribeMsg("b"))
		for _, m := range []string{"apple", "banana", "cherry", "date"} {
			peerSend(t, p, msg(m))
		}
		expect(t, s, "cherry")
		expect(t, s, "date")
		nothing(t, s)
	})
	t.Run("both", func(t *testing.T) {
		pub := newSock(t, PUB, psOpts(PubSubOptions{Invert: true}))
		sub := newSock(t, SUB, psOpts(PubSubOptions{Invert: true}))
		connect(t, pub, sub, PUB, SUB, 100)
		subscribe(t, sub, "x")
		for _, m := range []string{"x1", "y1", "x2", "z1"} {
			send(t, pub, m)
		}
		expect(t, sub, "y1")
		expect(t, sub, "z1")
		nothing(t, sub)
	})
}

// TestConflate: the reader gets only the newest message, whole (multipart
// too), and the writer never waits for room; a SUB's subscriptions are
// not conflated; without the option nothing is lost.
func TestConflate(t *testing.T) {
	c := psOpts(PubSubOptions{Conflate: true})
	t.Run("PULL", func(t *testing.T) {
		s := newSock(t, PULL, c)
		p := raw(t, s, 1000, &pipe.Peer{SocketType: "PUSH"})
		for i := range 10 {
			peerSend(t, p, msg(fmt.Sprint("m", i), "part2"))
		}
		expect(t, s, "m9", "part2")
		nothing(t, s)
	})
	t.Run("PUSH", func(t *testing.T) {
		s := newSock(t, PUSH, c)
		p := raw(t, s, 1000, &pipe.Peer{SocketType: "PULL"})
		for i := range 10 {
			send(t, s, fmt.Sprint("m", i))
		}
		popStrs(t, p, "m9")
		empty(t, p)
	})
	t.Run("PUSH-PULL", func(t *testing.T) {
		push := newSock(t, PUSH, Options{})
		pull := newSock(t, PULL, c)
		connect(t, pull, push, PULL, PUSH, 5)
		for i := range 20 { // more than the HWM: never waits
			send(t, push, fmt.Sprint("m", i))
		}
		expect(t, pull, "m19")
		nothing(t, pull)
	})
	t.Run("DEALER", func(t *testing.T) {
		s := newSock(t, DEALER, c)
		p := raw(t, s, 1000, &pipe.Peer{SocketType: "DEALER"})
		for i := range 5 {
			send(t, s, fmt.Sprint("out", i))
			peerSend(t, p, msg(fmt.Sprint("in", i)))
		}
		popStrs(t, p, "out4")
		empty(t, p)
		expect(t, s, "in4")
		nothing(t, s)
	})
	t.Run("PUB-SUB", func(t *testing.T) {
		pub := newSock(t, PUB, c)
		sub := newSock(t, SUB, c)
		pp, _ := connect(t, pub, sub, PUB, SUB, 1000)
		subscribe(t, sub, "a", "b", "c") // none may be lost
		for _, m := range []string{"a1", "b1", "c1", "d1", "c2"} {
			send(t, pub, m)
		}
		if n := pp.Out.Len(); n != 1 {
			t.Fatalf("%d messages queued, want 1", n)
		}
		expect(t, sub, "c2")
		nothing(t, sub)
	})
	t.Run("off", func(t *testing.T) {
		s := newSock(t, PULL, Options{})
		p := raw(t, s, 1000, &pipe.Peer{SocketType: "PUSH"})
		for i := range 3 {
			peerSend(t, p, msg(fmt.Sprint("m", i)))
		}
		expect(t, s, "m0")
		expect(t, s, "m1")
		expect(t, s, "m2")
	})
}

// TestXPubPendingBytes: what an application does not Recv is bounded in
// bytes as well as in count; the newest is kept.
func TestXPubPendingBytes(t *testing.T) {
	q := &pending{max: 1000, maxBytes: 100}
	for i := range 50 {
		q.push(msg(fmt.Sprintf("%09d", i)), nil, nil, false) // 9 bytes each
	}
	if q.bytes > 100 || q.len() != 11 {
		t.Fatalf("%d entries of %d bytes held, want 11 within 100", q.len(), q.bytes)
	}
	e, _ := q.pop()
	if string(e.m.Frames[0]) != "000000039" {
		t.Fatalf("oldest kept %q, want 000000039", e.m.Frames[0])
	}
	for q.len() > 0 {
		q.pop()
	}
	if q.bytes != 0 {
		t.Fatalf("empty queue counts %d bytes", q.bytes)
	}
}

// TestXPubLastWords: what a subscriber sent just before it left, and the
// application had not yet seen, is reported, then cancelled.
func TestXPubLastWords(t *testing.T) {
	x := newSock(t, XPUB, Options{})
	p := raw(t, x, 100, &pipe.Peer{SocketType: "SUB"})
	peerSend(t, p, subscribeMsg("w"))
	p.Close()
	x.Detach(p)
	if got, want := recvAll(t, x), []string{"\x01w", "\x00w"}; !slices.Equal(got, want) {
		t.Fatalf("Recv %q, want %q", got, want)
	}
}

// TestPubIgnoresXPubOptions: a PUB made with the options only XPUB has
// (the socket layer refuses them) works as a plain PUB.
func TestPubIgnoresXPubOptions(t *testing.T) {
	s := newSock(t, PUB, psOpts(PubSubOptions{VerboseSubs: true, VerboseUnsubs: true, Manual: true, LastValue: true}))
	p := raw(t, s, 100, &pipe.Peer{SocketType: "SUB"})
	peerSend(t, p, subscribeMsg("a"))
	peerSend(t, p, cancelMsg("b"))
	send(t, s, "apple")
	popStrs(t, p, "apple")
	if err := s.Subscribe([]byte("a")); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Subscribe on PUB: %v", err)
	}
	p.Close()
	s.Detach(p)
}
