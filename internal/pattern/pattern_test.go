package pattern

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/azmq/azmq/internal/pipe"
)

func TestNew(t *testing.T) {
	for typ := PAIR; typ <= XSUB; typ++ {
		s, err := New(typ, Options{})
		if err != nil || s == nil {
			t.Fatalf("New(%v) = %v, %v", typ, s, err)
		}
		s.Close()
	}
	if _, err := New(Type(99), Options{}); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("New(99) error = %v", err)
	}
}

func TestNotSupported(t *testing.T) {
	ctx := timeout(t, time.Second)
	for _, typ := range []Type{SUB, PULL} {
		if err := newSock(t, typ, Options{}).Send(ctx, msg("x")); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%v Send = %v", typ, err)
		}
	}
	for _, typ := range []Type{PUB, PUSH} {
		if _, _, err := newSock(t, typ, Options{}).Recv(ctx); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%v Recv = %v", typ, err)
		}
	}
	for _, typ := range []Type{PAIR, PUB, REQ, REP, DEALER, ROUTER, PULL, PUSH, XPUB} {
		s := newSock(t, typ, Options{})
		if err := s.Subscribe([]byte("a")); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%v Subscribe = %v", typ, err)
		}
		if err := s.Unsubscribe([]byte("a")); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%v Unsubscribe = %v", typ, err)
		}
	}
}

func TestPair(t *testing.T) {
	a, b, c := newSock(t, PAIR, Options{}), newSock(t, PAIR, Options{}), newSock(t, PAIR, Options{})

	// No peer: Send blocks.
	if err := a.Send(timeout(t, short), msg("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send with no peer = %v", err)
	}
	pa, _ := connect(t, a, b, PAIR, PAIR, 10)
	send(t, a, "ping", "2")
	expect(t, b, "ping", "2")
	send(t, b, "pong")
	expect(t, a, "pong")

	// A second peer is refused.
	p := pipe.New(10, 10, a.Readable(), a.Writable(), c.Readable(), c.Writable())
	if err := a.Attach(p); !errors.Is(err, ErrPeerRefused) {
		t.Fatalf("second Attach = %v", err)
	}
	// After the first goes, a new one is taken.
	pa.Close()
	a.Detach(pa)
	if err := a.Attach(p); err != nil {
		t.Fatalf("Attach after Detach = %v", err)
	}
}

func TestPushHWMBlocksAndCancels(t *testing.T) {
	s := newSock(t, PUSH, Options{})
	// No peer: blocks, and a peer arriving unblocks it.
	done := make(chan error, 1)
	go func() { done <- s.Send(timeout(t, 2*time.Second), msg("early")) }()
	select {
	case err := <-done:
		t.Fatalf("Send with no peer returned %v", err)
	case <-time.After(short):
	}
	p := raw(t, s, 2, nil)
	if err := <-done; err != nil {
		t.Fatalf("Send after Attach = %v", err)
	}
	send(t, s, "b")
	// Full: a cancelled Send queues nothing.
	if err := s.Send(timeout(t, short), msg("c")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send on full pipe = %v", err)
	}
	if n := p.Out.Len(); n != 2 {
		t.Fatalf("queue length %d after a cancelled Send, want 2", n)
	}
	// An already-ended ctx is a non-blocking attempt.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, msg("d")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with cancelled ctx on full pipe = %v", err)
	}
	// Room unblocks a waiting Send.
	go func() { done <- s.Send(timeout(t, 2*time.Second), msg("e")) }()
	popStrs(t, p, "early")
	if err := <-done; err != nil {
		t.Fatalf("Send after room = %v", err)
	}
	popStrs(t, p, "b")
	popStrs(t, p, "e")
	empty(t, p)
}

func TestPushRoundRobin(t *testing.T) {
	push := newSock(t, PUSH, Options{})
	var pulls []Socket
	for i := 0; i < 3; i++ {
		q := newSock(t, PULL, Options{})
		connect(t, push, q, PUSH, PULL, 100)
		pulls = append(pulls, q)
	}
	for i := 0; i < 6; i++ {
		send(t, push, fmt.Sprint(i))
	}
	for i, q := range pulls {
		expect(t, q, fmt.Sprint(i))
		expect(t, q, fmt.Sprint(i+3))
	}
}

func TestDealerRoundRobin(t *testing.T) {
	d := newSock(t, DEALER, Options{})
	var ps []*pipe.Pipe
	for i := 0; i < 3; i++ {
		ps = append(ps, raw(t, d, 100, nil))
	}
	for i := 0; i < 6; i++ {
		send(t, d, "", fmt.Sprint(i))
	}
	for i, p := range ps {
		popStrs(t, p, "", fmt.Sprint(i))
		popStrs(t, p, "", fmt.Sprint(i+3))
		empty(t, p)
	}
	// Receive: frames untouched, from any peer.
	peerSend(t, ps[1], msg("a", "", "b"))
	expect(t, d, "a", "", "b")
}

func TestLBSkipsFullPipes(t *testing.T) {
	d := newSock(t, DEALER, Options{})
	small, big := raw(t, d, 1, nil), raw(t, d, 10, nil)
	for _, f := range []string{"a", "b", "c", "d"} {
		send(t, d, f)
	}
	popStrs(t, small, "a")
	empty(t, small)
	popStrs(t, big, "b")
	popStrs(t, big, "c")
	popStrs(t, big, "d")
	// A closing pipe is skipped too.
	big.Close()
	send(t, d, "e")
	popStrs(t, small, "e")
}

func TestFairQueue(t *testing.T) {
	s := newSock(t, PULL, Options{})
	flood, quiet := raw(t, s, 0, nil), raw(t, s, 0, nil)
	for i := 0; i < 1000; i++ {
		peerSend(t, flood, msg("flood"))
	}
	peerSend(t, quiet, msg("quiet"))
	for i := 0; i < 3; i++ {
		if got := recv(t, s); got[0] == "quiet" {
			return
		}
	}
	t.Fatal("the quiet peer's message did not come within 3 receives")
}

func TestFairQueueDropsClosedAndDetached(t *testing.T) {
	s := newSock(t, PULL, Options{})
	a, b := raw(t, s, 0, nil), raw(t, s, 0, nil)
	peerSend(t, a, msg("a1"))
	peerSend(t, a, msg("a2"))
	// Detached with input: what it sent is still delivered.
	a.Close()
	s.Detach(a)
	expect(t, s, "a1")
	expect(t, s, "a2")
	peerSend(t, b, msg("b1"))
	expect(t, s, "b1")
	b.Close()
	nothing(t, s)
	f := s.(*pull)
	f.mu.Lock()
	n := len(f.fq.pipes)
	f.mu.Unlock()
	if n != 0 {
		t.Fatalf("fq holds %d pipes, want 0", n)
	}
}

// TestFairQueueTurns: with few peers (scanned) and many (listed as they
// get input), each peer with input gives one message a turn; and as peers
// go, crossing back to scanning, every message they sent still comes.
func TestFairQueueTurns(t *testing.T) {
	for _, n := range []int{3, fqListAbove + 24} {
		t.Run(fmt.Sprint(n, " peers"), func(t *testing.T) {
			s := newSock(t, PULL, Options{})
			ps := make([]*pipe.Pipe, n)
			for i := range ps {
				ps[i] = raw(t, s, 0, nil)
			}
			f := s.(*pull)
			f.mu.Lock()
			listed := f.fq.listed
			f.mu.Unlock()
			if listed != (n > fqListAbove) {
				t.Fatalf("%d pipes: listed %v", n, listed)
			}
			// Every other peer talks, three messages each.
			talking := 0
			for i, p := range ps {
				if i%2 == 0 {
					talking++
					for k := range 3 {
						peerSend(t, p, msg(fmt.Sprint(i, "/", k)))
					}
				}
			}
			for round := range 3 {
				seen := map[string]bool{}
				for range talking {
					got := recv(t, s)[0]
					var i, k int
					fmt.Sscanf(got, "%d/%d", &i, &k)
					if k != round || seen[fmt.Sprint(i)] {
						t.Fatalf("round %d: got %q after %v", round, got, seen)
					}
					seen[fmt.Sprint(i)] = true
				}
			}
			nothing(t, s)
			// Peers go, each with a message not yet read, one after the
			// other and read in between: each message comes.
			for i, p := range ps {
				peerSend(t, p, msg(fmt.Sprint("last ", i)))
				p.Close()
				s.Detach(p)
				expect(t, s, fmt.Sprint("last ", i))
			}
			nothing(t, s)
			f.mu.Lock()
			left, listed := len(f.fq.pipes), f.fq.listed
			f.mu.Unlock()
			if left != 0 || listed {
				t.Fatalf("after every peer went: %d pipes, listed %v", left, listed)
			}
		})
	}
}

func TestCloseUnblocks(t *testing.T) {
	cases := []struct {
		typ  Type
		send bool
	}{
		{PULL, false}, {PUSH, true}, {PAIR, true}, {PAIR, false}, {DEALER, true},
		{DEALER, false}, {ROUTER, false}, {REP, false}, {SUB, false}, {XSUB, false},
		{XPUB, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/send=%v", c.typ, c.send), func(t *testing.T) {
			s := newSock(t, c.typ, Options{})
			done := make(chan error, 1)
			go func() {
				var err error
				if c.send {
					err = s.Send(timeout(t, 2*time.Second), msg("x"))
				} else {
					_, _, err = s.Recv(timeout(t, 2*time.Second))
				}
				done <- err
			}()
			select {
			case err := <-done:
				t.Fatalf("returned before Close: %v", err)
			case <-time.After(short):
			}
			s.Close()
			if err := <-done; !errors.Is(err, ErrClosed) {
				t.Fatalf("after Close: %v, want ErrClosed", err)
			}
			// Later calls fail too, even ones that would not block.
			if err := s.Send(context.Background(), msg("x")); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotSupported) {
				t.Fatalf("Send after Close = %v", err)
			}
			if _, _, err := s.Recv(context.Background()); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotSupported) && !errors.Is(err, ErrState) {
				t.Fatalf("Recv after Close = %v", err)
			}
		})
	}
}

func TestRecvReturnsPeer(t *testing.T) {
	s := newSock(t, PULL, Options{})
	peer := &pipe.Peer{SocketType: "PUSH", Props: []pipe.KV{{Name: "X", Value: "y"}}}
	p := raw(t, s, 0, peer)
	peerSend(t, p, msg("m"))
	_, got, err := s.Recv(timeout(t, time.Second))
	if err != nil || got != peer {
		t.Fatalf("Recv peer = %v, %v", got, err)
	}
}

func TestConcurrentPushPull(t *testing.T) {
	const senders, each = 4, 500
	push, pull := newSock(t, PUSH, Options{}), newSock(t, PULL, Options{})
	connect(t, push, pull, PUSH, PULL, 10)
	var wg sync.WaitGroup
	for i := 0; i < senders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if err := push.Send(timeout(t, 5*time.Second), msg("m")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < senders*each; i++ {
		recv(t, pull)
	}
	wg.Wait()
}

func BenchmarkPushPull(b *testing.B) {
	push, pull := newSock(b, PUSH, Options{}), newSock(b, PULL, Options{})
	connect(b, push, pull, PUSH, PULL, 1000)
	ctx := context.Background()
	m := msg("0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if err := push.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
		if _, _, err := pull.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPushPullConcurrent(b *testing.B) {
	push, pull := newSock(b, PUSH, Options{}), newSock(b, PULL, Options{})
	connect(b, push, pull, PUSH, PULL, 1000)
	ctx := context.Background()
	m := msg("0123456789abcdef")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, _, err := pull.Recv(ctx); err != nil {
				return // closed below
			}
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if err := push.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	pull.Close()
	<-done
}

// TestPullReadAhead: with one peer, PULL takes what it queued in one go
// and delivers it in order with that peer, also after the peer has gone;
// a second peer waits at most one batch, then the two take turns.
func TestPullReadAhead(t *testing.T) {
	s := newSock(t, PULL, Options{})
	peerA := &pipe.Peer{SocketType: "PUSH"}
	a := raw(t, s, 0, peerA)
	const n = 3 * readAhead
	for i := 0; i < n; i++ {
		peerSend(t, a, msg(fmt.Sprint(i)))
	}
	m, from, err := s.Recv(timeout(t, time.Second))
	if err != nil || strs(m)[0] != "0" || from != peerA {
		t.Fatalf("first Recv = %q, %v, %v", strs(m), from, err)
	}
	if got := a.In.Len(); got != n-readAhead {
		t.Fatalf("%d messages left queued after one Recv, want %d (one batch taken)", got, n-readAhead)
	}
	b := raw(t, s, 0, &pipe.Peer{SocketType: "PUSH"})
	peerSend(t, b, msg("b"))
	next, gotB := 1, false
	for i := 0; i < readAhead+1 && !gotB; i++ {
		got := recv(t, s)[0]
		if got == "b" {
			gotB = true
			continue
		}
		if got != fmt.Sprint(next) {
			t.Fatalf("Recv = %q, want %d: out of order", got, next)
		}
		next++
	}
	if !gotB {
		t.Fatalf("the second peer's message did not come within %d receives", readAhead+1)
	}
	// What the first peer sent is delivered, in order, after it has gone.
	a.Close()
	s.Detach(a)
	for ; next < n; next++ {
		m, from, err := s.Recv(timeout(t, time.Second))
		if err != nil || strs(m)[0] != fmt.Sprint(next) || from != peerA {
			t.Fatalf("Recv = %q, %v, %v; want %d from the first peer", strs(m), from, err, next)
		}
	}
	nothing(t, s)
}

// TestPushOnlyPeer: the lone-peer path follows peers coming and going: one
// peer gets everything, two take turns, a closed and detached peer gets
// nothing more, and with none left Send waits.
func TestPushOnlyPeer(t *testing.T) {
	s := newSock(t, PUSH, Options{})
	a := raw(t, s, 10, nil)
	send(t, s, "a1")
	send(t, s, "a2")
	popStrs(t, a, "a1")
	popStrs(t, a, "a2")
	b := raw(t, s, 10, nil)
	send(t, s, "x")
	send(t, s, "y")
	if a.Out.Len() != 1 || b.Out.Len() != 1 {
		t.Fatalf("queued %d and %d, want one each", a.Out.Len(), b.Out.Len())
	}
	peerRecv(t, a)
	peerRecv(t, b)
	a.Close()
	s.Detach(a)
	send(t, s, "b1")
	popStrs(t, b, "b1")
	b.Close()
	s.Detach(b)
	if err := s.Send(timeout(t, short), msg("none")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send with no peer = %v, want a wait", err)
	}
	if a.Out.Len()+b.Out.Len() != 0 {
		t.Fatal("a closed, detached peer got a message")
	}
}
