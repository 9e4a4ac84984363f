package pipe

import (
	"context"
	"testing"
	"time"
)

// TestQueueConflate: a conflating queue holds the newest message only,
// through TryPush, Push and PushBatch, never refusing one; SetHWM does not
// undo it; messages queued before it was set are cut to the newest.
func TestQueueConflate(t *testing.T) {
	q := NewQueue(100, nil, nil)
	for _, s := range []string{"a", "b", "c"} {
		if ok, err := q.TryPush(Msg{Frames: [][]byte{[]byte(s)}}); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	q.SetConflate()
	q.SetHWM(50)
	pop := func(want string) {
		t.Helper()
		m, ok, _ := q.TryPop()
		if !ok || string(m.Frames[0]) != want {
			t.Fatalf("pop = %v %v, want %q", m.Frames, ok, want)
		}
		if _, ok, _ := q.TryPop(); ok {
			t.Fatal("more than one message held")
		}
	}
	pop("c")
	for _, s := range []string{"d", "e"} {
		if ok, err := q.TryPush(Msg{Frames: [][]byte{[]byte(s)}}); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if q.Full() {
		t.Fatal("a conflating queue reports full")
	}
	pop("e")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range []string{"f", "g"} {
		if err := q.Push(ctx, Msg{Frames: [][]byte{[]byte(s)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	pop("g")
	var batch []Msg
	for _, s := range []string{"h", "i", "j", "k"} {
		batch = append(batch, Msg{Frames: [][]byte{[]byte(s), []byte("2")}})
	}
	if err := q.PushBatch(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	pop("k")
	q.Close()
	if ok, err := q.TryPush(Msg{}); ok || err != ErrClosed {
		t.Fatalf("push to closed: %v %v", ok, err)
	}
}

// TestQueueFull: Full is true at the HWM only, and never for a closed or
// unbounded queue.
func TestQueueFull(t *testing.T) {
	q := NewQueue(2, nil, nil)
	for i := range 2 {
		if q.Full() {
			t.Fatalf("full with %d of 2", i)
		}
		q.TryPush(Msg{})
	}
	if !q.Full() {
		t.Fatal("not full at the HWM")
	}
	q.Close()
	if q.Full() {
		t.Fatal("a closed queue reports full")
	}
	u := NewQueue(0, nil, nil)
	for range 100 {
		u.TryPush(Msg{})
	}
	if u.Full() {
		t.Fatal("an unbounded queue reports full")
	}
}
