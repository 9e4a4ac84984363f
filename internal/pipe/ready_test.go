package pipe

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestQueueReady: Ready follows "a message to pop, or closed" through
// every way a queue changes.
func TestQueueReady(t *testing.T) {
	q := NewQueue(2, nil, nil)
	check := func(step string, want bool) {
		t.Helper()
		if got := q.Ready(); got != want {
			t.Fatalf("%s: Ready() = %v, want %v", step, got, want)
		}
	}
	check("new", false)
	q.TryPush(Msg{Frames: [][]byte{{1}}})
	check("one pushed", true)
	q.TryPush(Msg{Frames: [][]byte{{2}}})
	q.TryPop()
	check("one of two popped", true)
	q.TryPop()
	check("both popped", false)
	if err := q.PushBatch(t.Context(), []Msg{{}, {}}, nil); err != nil {
		t.Fatal(err)
	}
	check("batch pushed", true)
	q.PopBatch(nil, 0)
	check("batch popped", false)
	q.TryPush(Msg{})
	q.SetConflate()
	check("conflating, one kept", true)
	q.TryPop()
	check("conflating, popped", false)
	q.Close()
	check("closed", true)
	d := NewQueue(0, nil, nil)
	d.TryPush(Msg{})
	d.Discard()
	if !d.Ready() {
		t.Fatal("discarded: Ready() = false, want true (closed)")
	}
}

// popAll takes from l until it is empty, as a fair queue does, and says
// which pipe each message came from.
func popAll(l *ReadyList, names map[*Pipe]string) []string {
	var got []string
	for p := l.Next(); p != nil; p = l.Next() {
		x, ok, _, more := p.In.TryPopListed()
		if ok {
			got = append(got, names[p]+":"+body(x))
		}
		if ok && more {
			l.Requeue(p)
		}
	}
	return got
}

// TestReadyList: pipes join the list when their queue gets a message,
// take turns one message each, leave it when empty or closed and
// drained, and come back with their next message.
func TestReadyList(t *testing.T) {
	var l ReadyList
	a, b, c := New(0, 0, nil, nil, nil, nil), New(0, 0, nil, nil, nil, nil), New(0, 0, nil, nil, nil, nil)
	names := map[*Pipe]string{a: "a", b: "b", c: "c"}
	a.In.TryPush(m("1")) // ready before it is listed: listed at once
	for _, p := range []*Pipe{a, b, c} {
		p.In.SetList(&l, p)
	}
	b.In.TryPush(m("1"))
	b.In.TryPush(m("2"))
	b.In.TryPush(m("3"))
	a.In.TryPush(m("2"))
	if n := l.Len(); n != 2 {
		t.Fatalf("%d pipes listed, want 2 (c has nothing)", n)
	}
	want := []string{"a:1", "b:1", "a:2", "b:2", "b:3"}
	if got := popAll(&l, names); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("popped %v, want %v (turns)", got, want)
	}
	c.In.TryPush(m("1"))
	a.In.TryPush(m("3"))
	if got, want := popAll(&l, names), []string{"c:1", "a:3"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("popped %v, want %v (in the order they became ready)", got, want)
	}

	// Closed: listed until drained, then gone for good.
	b.In.TryPush(m("4"))
	b.In.Close()
	p := l.Next()
	if x, ok, _, more := p.In.TryPopListed(); p != b || !ok || body(x) != "4" || !more {
		t.Fatalf("Next %s, pop %v more %v: want b:4, and more (the close)", names[p], ok, more)
	}
	if _, ok, closed, _ := b.In.TryPopListed(); ok || !closed {
		t.Fatalf("closed and drained: ok %v closed %v", ok, closed)
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("%d listed after the closed pipe drained", n)
	}

	// Drop and SetList(nil): never listed again.
	a.In.TryPush(m("5"))
	a.In.SetList(nil, nil)
	l.Drop(a)
	a.In.TryPush(m("6"))
	if n := l.Len(); n != 0 {
		t.Fatalf("%d listed after Drop", n)
	}
}

// TestReadyListConcurrent: pushers on many pipes and one reader lose no
// message: every pipe with input is listed, whatever the interleaving of
// a push with the pop that empties its queue.
func TestReadyListConcurrent(t *testing.T) {
	const pipes, each = 8, 2000
	var l ReadyList
	sig := new(Signal)
	ps := make([]*Pipe, pipes)
	for i := range ps {
		ps[i] = New(0, 16, sig, nil, nil, nil)
		ps[i].In.SetList(&l, ps[i])
	}
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				if err := p.In.Push(context.Background(), m(fmt.Sprint(i, ":", k)), nil); err != nil {
					t.Errorf("push: %v", err)
					return
				}
			}
		}()
	}
	next := make([]int, pipes)
	ctx := ctxT(t, 20*time.Second)
	for n := 0; n < pipes*each; {
		ch := sig.C()
		p := l.Next()
		if p == nil {
			select {
			case <-ch:
			case <-ctx.Done():
				t.Fatalf("%d of %d messages, then nothing listed", n, pipes*each)
			}
			continue
		}
		x, ok, _, more := p.In.TryPopListed()
		if !ok {
			continue
		}
		if more {
			l.Requeue(p)
		}
		var i, k int
		fmt.Sscanf(body(x), "%d:%d", &i, &k)
		if k != next[i] {
			t.Fatalf("pipe %d: message %d, want %d", i, k, next[i])
		}
		next[i]++
		n++
	}
	wg.Wait()
	if n := l.Len(); n != 0 {
		t.Fatalf("%d pipes listed with nothing left", n)
	}
}
