package pipe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func m(s string) Msg { return Msg{Frames: [][]byte{[]byte(s)}} }

func body(x Msg) string { return string(x.Frames[0]) }

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestQueueFIFO(t *testing.T) {
	for _, hwm := range []int{0, 5, 100} {
		t.Run(fmt.Sprint("hwm=", hwm), func(t *testing.T) {
			q := NewQueue(hwm, nil, nil)
			n := 40
			if hwm > 0 && hwm < n {
				n = hwm
			}
			// Interleave to wrap the ring and grow it.
			next := 0
			for round := 0; round < 3; round++ {
				for i := 0; i < n; i++ {
					if ok, err := q.TryPush(m(fmt.Sprint(round*n + i))); !ok || err != nil {
						t.Fatalf("push %d: %v %v", i, ok, err)
					}
				}
				for i := 0; i < n; i++ {
					x, ok, _ := q.TryPop()
					if !ok || body(x) != fmt.Sprint(next) {
						t.Fatalf("pop = %q %v, want %d", body(x), ok, next)
					}
					next++
				}
			}
			if q.Len() != 0 {
				t.Fatalf("len %d", q.Len())
			}
		})
	}
}

func TestQueueHWM(t *testing.T) {
	q := NewQueue(3, nil, nil)
	for i := 0; i < 3; i++ {
		if ok, _ := q.TryPush(m("x")); !ok {
			t.Fatalf("push %d refused", i)
		}
	}
	if ok, err := q.TryPush(m("x")); ok || err != nil {
		t.Fatalf("push past HWM = %v, %v", ok, err)
	}
	if q.Len() != 3 {
		t.Fatalf("len %d", q.Len())
	}
	q.TryPop()
	if ok, _ := q.TryPush(m("y")); !ok {
		t.Fatal("push after pop refused")
	}

	// 0 is unbounded.
	u := NewQueue(0, nil, nil)
	for i := 0; i < 5000; i++ {
		if ok, _ := u.TryPush(m("x")); !ok {
			t.Fatalf("unbounded queue refused at %d", i)
		}
	}
}

func TestQueueTryPopEmpty(t *testing.T) {
	q := NewQueue(1, nil, nil)
	if _, ok, closed := q.TryPop(); ok || closed {
		t.Fatalf("empty open queue: ok=%v closed=%v", ok, closed)
	}
}

func TestQueuePopBatch(t *testing.T) {
	w := new(Signal)
	q := NewQueue(4, nil, w)
	for i := 0; i < 4; i++ {
		q.TryPush(m(fmt.Sprint(i)))
	}
	ch := w.C()
	out, closed := q.PopBatch(nil, 3)
	if len(out) != 3 || closed || body(out[0]) != "0" || body(out[2]) != "2" {
		t.Fatalf("PopBatch(3) = %d msgs, closed %v", len(out), closed)
	}
	select {
	case <-ch:
	default:
		t.Fatal("PopBatch from a full queue did not signal writable")
	}
	out, _ = q.PopBatch(out[:0], 0)
	if len(out) != 1 || body(out[0]) != "3" {
		t.Fatalf("PopBatch(all) = %d msgs", len(out))
	}
	out, closed = q.PopBatch(out[:0], 0)
	if len(out) != 0 || closed {
		t.Fatalf("PopBatch on empty = %d, %v", len(out), closed)
	}
	q.TryPush(m("last"))
	q.Close()
	out, closed = q.PopBatch(out[:0], 0)
	if len(out) != 1 || !closed {
		t.Fatalf("PopBatch after Close = %d, %v", len(out), closed)
	}
}

// A bounded batch stops at popBatchBytes: popped messages are held past
// the HWM by their owner, so large ones must not come 256 at a time.
func TestQueuePopBatchBytes(t *testing.T) {
	q := NewQueue(0, nil, nil)
	big := make([]byte, 100<<10)
	const n = 2 * popBatchBytes / (100 << 10)
	for range n {
		q.TryPush(Msg{Frames: [][]byte{big}})
	}
	out, _ := q.PopBatch(nil, 256)
	want := (popBatchBytes + len(big) - 1) / len(big)
	if len(out) != want {
		t.Fatalf("PopBatch(256) of 100 KiB messages = %d, want %d", len(out), want)
	}
	left := n - want
	q.TryPush(Msg{Frames: [][]byte{make([]byte, 2*popBatchBytes)}})
	out, _ = q.PopBatch(out[:0], 1)
	if len(out) != 1 || q.Len() != left {
		t.Fatalf("PopBatch(1) = %d, left %d, want 1, %d", len(out), q.Len(), left)
	}
	out, _ = q.PopBatch(out[:0], 0) // unbounded: every message, whatever its size
	if len(out) != left || q.Len() != 0 {
		t.Fatalf("PopBatch(0) = %d, left %d", len(out), q.Len())
	}
}

func TestQueueCloseThenDrain(t *testing.T) {
	q := NewQueue(10, nil, nil)
	q.TryPush(m("a"))
	q.TryPush(m("b"))
	q.Close()
	q.Close() // idempotent
	if !q.Closed() {
		t.Fatal("not closed")
	}
	if ok, err := q.TryPush(m("c")); ok || !errors.Is(err, ErrClosed) {
		t.Fatalf("push after Close = %v, %v", ok, err)
	}
	if err := q.Push(context.Background(), m("c"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after Close = %v", err)
	}
	for _, want := range []string{"a", "b"} {
		x, ok, closed := q.TryPop()
		if !ok || closed || body(x) != want {
			t.Fatalf("drain = %q %v %v", body(x), ok, closed)
		}
	}
	if _, ok, closed := q.TryPop(); ok || !closed {
		t.Fatalf("drained: ok=%v closed=%v", ok, closed)
	}
	if _, err := q.Pop(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop on drained closed queue = %v", err)
	}
}

func TestQueueDiscard(t *testing.T) {
	q := NewQueue(10, nil, nil)
	q.TryPush(m("a"))
	q.Discard()
	if q.Len() != 0 || !q.Closed() {
		t.Fatal("Discard left messages or an open queue")
	}
}

func TestSignalBroadcast(t *testing.T) {
	var s Signal
	s.Notify() // nobody waiting: no effect, no panic
	c1, c2 := s.C(), s.C()
	var wg sync.WaitGroup
	woke := make(chan int, 2)
	for i, c := range []<-chan struct{}{c1, c2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-c:
				woke <- i
			case <-time.After(2 * time.Second):
			}
		}()
	}
	s.Notify()
	wg.Wait()
	if len(woke) != 2 {
		t.Fatalf("%d waiters woke, want 2", len(woke))
	}
	// A channel taken after the Notify waits for the next one.
	c3 := s.C()
	select {
	case <-c3:
		t.Fatal("new channel already closed")
	default:
	}
	s.Notify()
	<-c3
}

// TestSignalSingle: a Signal of one waiter wakes it for a Notify after
// C, keeps a Notify that came before C's waiter blocked, makes no channel
// for it, and ignores a Notify with nobody armed.
func TestSignalSingle(t *testing.T) {
	s := NewSingle()
	s.Notify() // not armed: no token
	c := s.C()
	select {
	case <-c:
		t.Fatal("a token from a Notify before C")
	default:
	}
	s.Notify()
	s.Notify() // a second one adds nothing
	select {
	case <-c:
	case <-time.After(2 * time.Second):
		t.Fatal("Notify after C did not wake the waiter")
	}
	if c2 := s.C(); c2 != c {
		t.Fatal("C made a new channel")
	}
	mustWakeBlocked(t, s, s.C())
	if n := testing.AllocsPerRun(100, func() { s.C(); s.Notify(); <-s.C() }); n != 0 {
		t.Fatalf("%v allocations a wake-up, want 0", n)
	}
}

// mustWakeBlocked: a goroutine blocked on c, taken from s, wakes at s's
// next Notify.
func mustWakeBlocked(t *testing.T, s *Signal, c <-chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-c
	}()
	time.Sleep(10 * time.Millisecond)
	s.Notify()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a blocked waiter did not wake")
	}
}

// TestSignalEnter: a waiter that enters alone waits on the Signal's own
// channel (no allocation per wait); a second one at the same time gets
// the broadcast channel, and one Notify wakes both; Leave takes away a
// token nobody took, so the next wait blocks.
func TestSignalEnter(t *testing.T) {
	var s Signal
	lone := s.Enter()
	other := s.Enter()
	if lone == other {
		t.Fatal("two waiters at once share the lone waiter's channel")
	}
	s.Notify()
	for i, c := range []<-chan struct{}{lone, other} {
		select {
		case <-c:
		case <-time.After(2 * time.Second):
			t.Fatalf("waiter %d not woken", i)
		}
	}
	s.Leave(lone)
	s.Leave(other)

	c := s.Enter()
	if c != lone {
		t.Fatal("a lone waiter got a new channel")
	}
	s.Notify()
	s.Leave(c) // left without taking the token
	c = s.Enter()
	select {
	case <-c:
		t.Fatal("a token from a Notify before Enter")
	default:
	}
	mustWakeBlocked(t, &s, c)
	s.Leave(c)
	if n := testing.AllocsPerRun(100, func() { c := s.Enter(); s.Notify(); <-c; s.Leave(c) }); n != 0 {
		t.Fatalf("%v allocations a wake-up, want 0", n)
	}
}

// TestSignalEnterConcurrent: waiters that Enter, look at a counter and
// wait, against a goroutine that bumps it and Notifies, never miss a
// change: each ends when it sees the last value.
func TestSignalEnterConcurrent(t *testing.T) {
	var (
		s   Signal
		n   atomic.Int64
		wg  sync.WaitGroup
		end = int64(20000)
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := s.Enter()
				if n.Load() == end {
					s.Leave(c)
					return
				}
				select {
				case <-c:
				case <-ctx.Done():
					s.Leave(c)
					return
				}
				s.Leave(c)
			}
		}()
	}
	for i := int64(0); i < end; i++ {
		n.Add(1)
		s.Notify()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("a waiter missed the last Notify")
	}
}

// TestQueueSingleSignal: a queue read by one goroutine that waits on a
// NewSingle Signal loses no message, whatever the interleaving.
func TestQueueSingleSignal(t *testing.T) {
	q := NewQueue(4, NewSingle(), nil)
	const n = 20000
	go func() {
		for i := range n {
			if err := q.Push(context.Background(), m(fmt.Sprint(i)), nil); err != nil {
				return
			}
		}
	}()
	ctx := ctxT(t, 20*time.Second)
	for i := range n {
		x, err := q.Pop(ctx, nil)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if body(x) != fmt.Sprint(i) {
			t.Fatalf("got %q, want %d", body(x), i)
		}
	}
}

func TestQueueSignals(t *testing.T) {
	r, w := new(Signal), new(Signal)
	q := NewQueue(1, r, w)
	if q.Readable() != r || q.Writable() != w {
		t.Fatal("signals not kept")
	}
	rc := r.C()
	q.TryPush(m("a"))
	select {
	case <-rc:
	default:
		t.Fatal("push into empty queue did not signal readable")
	}
	wc := w.C()
	q.TryPop()
	select {
	case <-wc:
	default:
		t.Fatal("pop from full queue did not signal writable")
	}
	rc, wc = r.C(), w.C()
	q.Close()
	for _, c := range []<-chan struct{}{rc, wc} {
		select {
		case <-c:
		default:
			t.Fatal("Close did not signal both ends")
		}
	}
}

func TestQueuePushPopBlocking(t *testing.T) {
	q := NewQueue(1, nil, nil)
	if err := q.Push(ctxT(t, time.Second), m("a"), nil); err != nil {
		t.Fatal(err)
	}
	// Full: Push waits, and cancellation leaves nothing queued.
	if err := q.Push(ctxT(t, 20*time.Millisecond), m("b"), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Push on full = %v", err)
	}
	if q.Len() != 1 {
		t.Fatalf("len %d after cancelled Push", q.Len())
	}
	// Stop ends a waiting Push.
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- q.Push(ctxT(t, 2*time.Second), m("c"), stop) }()
	close(stop)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after stop = %v", err)
	}
	// Room lets a waiting Push through.
	go func() { done <- q.Push(ctxT(t, 2*time.Second), m("d"), nil) }()
	x, err := q.Pop(ctxT(t, time.Second), nil)
	if err != nil || body(x) != "a" {
		t.Fatalf("Pop = %q, %v", body(x), err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting Push = %v", err)
	}
	x, _ = q.Pop(ctxT(t, time.Second), nil)
	if body(x) != "d" {
		t.Fatalf("Pop = %q", body(x))
	}
	// Empty: Pop waits, cancellation takes nothing.
	if _, err := q.Pop(ctxT(t, 20*time.Millisecond), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pop on empty = %v", err)
	}
	stop2 := make(chan struct{})
	close(stop2)
	if _, err := q.Pop(context.Background(), stop2); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop after stop = %v", err)
	}
	// A waiting Pop gets a message pushed later, or ErrClosed on Close.
	res := make(chan error, 1)
	go func() {
		x, err := q.Pop(ctxT(t, 2*time.Second), nil)
		if err == nil && body(x) != "e" {
			err = fmt.Errorf("got %q", body(x))
		}
		res <- err
	}()
	q.TryPush(m("e"))
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := q.Pop(ctxT(t, 2*time.Second), nil)
		res <- err
	}()
	q.Close()
	if err := <-res; !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop on Close = %v", err)
	}
}

func TestPipe(t *testing.T) {
	p := New(2, 3, nil, nil, nil, nil)
	peer := &Pipe{In: p.Out, Out: p.In}
	if p.Peer() != nil {
		t.Fatal("peer before SetPeer")
	}
	pr := &Peer{SocketType: "DEALER", Props: []KV{{"Identity", "me"}, {"X-Foo", "bar"}}}
	p.SetPeer(pr)
	if p.Peer() != pr {
		t.Fatal("SetPeer")
	}
	for name, want := range map[string]string{"routing-id": "me", "IDENTITY": "me", "x-foo": "bar"} {
		if v, ok := pr.Property(name); !ok || v != want {
			t.Errorf("Property(%q) = %q, %v", name, v, ok)
		}
	}
	if _, ok := (*Peer)(nil).Property("x"); ok {
		t.Error("nil peer has properties")
	}
	p.Out.TryPush(m("to peer"))
	if x, ok, _ := peer.In.TryPop(); !ok || body(x) != "to peer" {
		t.Fatal("pipe directions")
	}
	p.Close()
	if !peer.In.Closed() || !peer.Out.Closed() {
		t.Fatal("Close closes both directions")
	}
}

func BenchmarkQueuePushPop(b *testing.B) {
	q := NewQueue(1000, nil, nil)
	x := m("0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		q.TryPush(x)
		q.TryPop()
	}
}

// BenchmarkQueueHandoff: one goroutine pushes messages one at a time (as
// Send does), another takes them in batches (as an engine's writer and a
// PULL with one peer do): the pipe's cost per message with both ends busy.
func BenchmarkQueueHandoff(b *testing.B) {
	q := NewQueue(1000, nil, nil)
	x := m("0123456789abcdef")
	ctx := context.Background()
	b.ReportAllocs()
	done := make(chan int)
	go func() {
		got := 0
		var batch []Msg
		for {
			r := q.Readable().C()
			var closed bool
			batch, closed = q.PopBatch(batch[:0], 64)
			got += len(batch)
			if closed {
				done <- got
				return
			}
			if len(batch) == 0 {
				<-r
			}
		}
	}()
	for b.Loop() {
		// As a socket's Send does: try first, arm the Signal only when full.
		if ok, _ := q.TryPush(x); ok {
			continue
		}
		if err := q.Push(ctx, x, nil); err != nil {
			b.Fatal(err)
		}
	}
	q.Close()
	if got := <-done; got != b.N {
		b.Fatalf("took %d messages, pushed %d", got, b.N)
	}
}

// TestQueueGrowWrapped: a ring that is full with its oldest message
// anywhere in it grows in order, through TryPush and PushBatch alike.
func TestQueueGrowWrapped(t *testing.T) {
	for _, batch := range []bool{false, true} {
		for head := range 16 {
			q := NewQueue(0, nil, nil)
			pushed, popped := 0, 0
			push := func(k int) {
				ms := make([]Msg, k)
				for i := range ms {
					ms[i] = m(fmt.Sprint(pushed))
					pushed++
				}
				if batch {
					if err := q.PushBatch(context.Background(), ms, nil); err != nil {
						t.Fatal(err)
					}
					return
				}
				for _, x := range ms {
					if ok, err := q.TryPush(x); !ok || err != nil {
						t.Fatalf("push: %v %v", ok, err)
					}
				}
			}
			// Move the head to head, fill the ring of 16, then overflow it
			// twice over.
			push(head)
			for range head {
				q.TryPop()
				popped++
			}
			push(16)
			push(40)
			for popped < pushed {
				x, ok, _ := q.TryPop()
				if !ok || body(x) != fmt.Sprint(popped) {
					t.Fatalf("batch=%v head=%d: pop = %q %v, want %d", batch, head, body(x), ok, popped)
				}
				popped++
			}
		}
	}
}
