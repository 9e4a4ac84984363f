package bufpool

import (
	"runtime"
	"testing"
	"unsafe"
)

func TestClasses(t *testing.T) {
	if got := size(0); got != MinSize {
		t.Fatalf("size(0) = %d, want %d", got, MinSize)
	}
	if got := size(classes - 1); got != MaxSize {
		t.Fatalf("size(last) = %d, want %d", got, MaxSize)
	}
	for c := 1; c < classes; c++ {
		if size(c) <= size(c-1) {
			t.Fatalf("size(%d) = %d is not above size(%d) = %d", c, size(c), c-1, size(c-1))
		}
		if got := ceilClass(size(c)); got != c {
			t.Fatalf("ceilClass(size(%d)) = %d", c, got)
		}
	}
	for _, n := range []int{MinSize, MinSize + 1, 36863, 36864, 36865, 65535, 65536, 65537,
		100000, 1<<20 - 1, 1 << 20, 1<<20 + 1, MaxSize - 1, MaxSize} {
		c := ceilClass(n)
		if size(c) < n || (c > 0 && size(c-1) >= n) {
			t.Errorf("ceilClass(%d) = %d (size %d), not the smallest class of at least n", n, c, size(c))
		}
		if over := float64(size(c)-n) / float64(n); over > 0.125 {
			t.Errorf("ceilClass(%d): size %d is %.1f%% more", n, size(c), 100*over)
		}
	}
}

// The tests share the package's state: they run in order, and pooling,
// once on, stays on.
func TestGetPut(t *testing.T) {
	if !Enabled() {
		if got := Get(100000); cap(got) != 100000 || Put(got) {
			t.Fatalf("before Enable: Get(100000) has cap %d, or Put took it", cap(got))
		}
	}
	Enable()
	if got := Get(100); len(got) != 100 || cap(got) != 100 || Put(got) {
		t.Fatalf("Get(100): len %d cap %d, or Put took it", len(got), cap(got))
	}
	// Only what Get handed out comes back, each buffer once.
	for _, b := range [][]byte{make([]byte, 1<<20), make([]byte, 0, 40960), nil} {
		if Put(b) {
			t.Fatalf("Put took a buffer of cap %d that Get never handed out", cap(b))
		}
	}
	b := Get(100000)
	if len(b) != 100000 || cap(b) != size(ceilClass(100000)) {
		t.Fatalf("Get(100000): len %d cap %d, want cap %d", len(b), cap(b), size(ceilClass(100000)))
	}
	if Put(b[1:]) {
		t.Fatal("Put took a slice that does not start where the buffer does")
	}
	if !Put(b[:0]) {
		t.Fatal("Put refused a buffer Get handed out")
	}
	if Put(b) {
		t.Fatal("Put took the same buffer twice")
	}
	// The pool may drop what it was given (the race detector makes it do so
	// at random): a buffer must come back within a few tries.
	want := unsafe.SliceData(b)
	for range 100 {
		b = Get(100000 - 7)
		if unsafe.SliceData(b) == want {
			if len(b) != 100000-7 {
				t.Fatalf("reused buffer has len %d", len(b))
			}
			return
		}
		want = unsafe.SliceData(b)
		Put(b)
	}
	t.Fatal("a buffer given back was never handed out again")
}

func TestRebase(t *testing.T) {
	Enable()
	b := Get(100000)
	part := b[33:]
	Rebase(b, part)
	if Put(b) {
		t.Fatal("Put took the buffer at its old start after Rebase")
	}
	if Put(part[1:]) {
		t.Fatal("Put took a slice that does not start where the frame does")
	}
	Rebase(b, part[5:]) // b is no longer where the frame starts: no effect
	if !Put(part) {
		t.Fatal("Put refused the frame at its new start")
	}
	// What comes back out is the whole buffer, from its start.
	want := unsafe.SliceData(b)
	for range 100 {
		got := Get(100000)
		if unsafe.SliceData(got) == want {
			if cap(got) != cap(b) {
				t.Fatalf("reused buffer has cap %d, want %d", cap(got), cap(b))
			}
			return
		}
		Put(got)
		want = unsafe.SliceData(got)
		b = got
	}
	t.Fatal("a rebased buffer given back was never handed out again")
}

func TestRebaseLeavesOthersAlone(t *testing.T) {
	Enable()
	mine := make([]byte, 1<<20)
	Rebase(mine, mine[10:])
	if Put(mine[10:]) || Put(mine) {
		t.Fatal("Put took a buffer Get never handed out")
	}
	b := Get(MinSize)
	Rebase(b, b[:0])     // empty part: nothing
	Rebase(b, mine[:10]) // not within b: nothing
	Rebase(b[1:], b[2:]) // b[1:] is not where the frame starts: nothing
	if !Put(b) {
		t.Fatal("a frame Rebase should have left alone was not taken back")
	}
}

func TestDroppedBuffersAreForgotten(t *testing.T) {
	Enable()
	// Buffers dropped without a Put must not be remembered for ever: with
	// a collection every 100, the record stays bounded.
	most := 0
	for i := range 2000 {
		_ = Get(MinSize)
		if i%100 == 99 {
			runtime.GC()
		}
		n := 0
		for k := range out {
			out[k].mu.Lock()
			n += len(out[k].m)
			out[k].mu.Unlock()
		}
		most = max(most, n)
	}
	// A shard sweeps when it has doubled since its last sweep, or reached
	// pruneMin: twice what is alive, plus pruneMin per shard.
	if bound := 2*100 + shards*pruneMin; most > bound {
		t.Fatalf("%d buffers recorded at once (bound %d), with at most 100 alive", most, bound)
	}
}

func BenchmarkGetPut(b *testing.B) {
	b.ReportAllocs()
	Enable()
	Put(Get(1 << 16))
	for b.Loop() {
		Put(Get(1 << 16))
	}
}

// TestRebaseSmallPart: a part with less room than minPart is not recorded,
// so Put, which refuses small frames before looking, never misses one.
func TestRebaseSmallPart(t *testing.T) {
	Enable()
	b := Get(MinSize)
	part := b[cap(b)-minPart+1:]
	Rebase(b, part)
	if Put(part) {
		t.Fatal("Put took a part smaller than minPart")
	}
	if !Put(b) {
		t.Fatal("the frame was moved to a part Put cannot take")
	}
	if Put(make([]byte, 16)) {
		t.Fatal("Put took a small frame Get never handed out")
	}
}
