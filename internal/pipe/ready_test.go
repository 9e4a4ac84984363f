package pipe

import "testing"

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
