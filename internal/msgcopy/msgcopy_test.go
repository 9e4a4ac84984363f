package msgcopy

import (
	"bytes"

	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
	"github.com/azmq/azmq/internal/racetest"
)

func frames(sizes ...int) [][]byte {
	out := make([][]byte, len(sizes))
	for i, n := range sizes {
		out[i] = bytes.Repeat([]byte{byte('a' + i)}, n)
	}
	return out
}

// TestCopy: the copy holds the same frames, shares no memory with the
// original, and no frame can grow into its neighbour.
func TestCopy(t *testing.T) {
	var c Copier
	for _, tt := range []struct {
		name  string
		sizes []int
	}{
		{"one-empty", []int{0}},
		{"one-small", []int{16}},
		{"small-parts", []int{3, 0, 5, 1}},
		{"at-max-body", []int{maxBody}},
		{"over-max-body", []int{maxBody + 1}},
		{"max-frames", []int{1, 1, 1, 1, 1, 1, 1, 1}},
		{"over-max-frames", []int{1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"large", []int{1 << 20, 7}},
		{"mixed", []int{1500, 3, 1024, 1023, 0}},
	} {
		copier := func(p [][]byte) [][]byte { f, _ := c.Copy(p); return f }
		for name, cp := range map[string]func([][]byte) [][]byte{"Copy": Copy, "Copier": copier} {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				in := frames(tt.sizes...)
				want := frames(tt.sizes...)
				got := cp(in)
				for _, f := range in { // the caller refills its buffers
					for i := range f {
						f[i] = 'X'
					}
				}
				in[0] = nil // and its frame list
				if len(got) != len(want) {
					t.Fatalf("%d frames, want %d", len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("frame %d changed", i)
					}
					// A frame of its own (bufpool.GetOwn) may have room
					// past its end; a shared allocation's frames may not.
					if cap(got[i]) != len(got[i]) && len(got[i]) < bufpool.MinSize {
						t.Errorf("frame %d: cap %d > len %d", i, cap(got[i]), len(got[i]))
					}
				}
				if len(got) > 1 {
					_ = append(got[0], 'Z')
					if !bytes.Equal(got[1], want[1]) {
						t.Error("appending to frame 0 wrote into frame 1")
					}
				}
			})
		}
	}
}

// TestCopierChunks: messages cut from one chunk stay apart, across chunk
// changes, from many goroutines at once.
func TestCopierChunks(t *testing.T) {
	var c Copier
	var wg sync.WaitGroup
	const goroutines, each = 4, 5000
	results := make([][][][]byte, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m, _ := c.Copy([][]byte{[]byte(fmt.Sprintf("%d-%d", g, i)), {byte(i)}})
				results[g] = append(results[g], m)
			}
		}()
	}
	wg.Wait()
	for g, msgs := range results {
		for i, m := range msgs {
			if string(m[0]) != fmt.Sprintf("%d-%d", g, i) || len(m[1]) != 1 || m[1][0] != byte(i) {
				t.Fatalf("goroutine %d message %d: %q", g, i, m)
			}
		}
	}
}

// TestCopierAllocs: a small message costs a fraction of an allocation.
func TestCopierAllocs(t *testing.T) {
	var c Copier
	msg := frames(16)
	if n := testing.AllocsPerRun(10000, func() { c.Copy(msg) }); n > 0.05 {
		t.Errorf("%.3f allocations per small message", n)
	}
	if n := testing.AllocsPerRun(1000, func() { Copy(msg) }); n > 2 {
		t.Errorf("Copy: %.1f allocations, want at most 2", n)
	}
}

func BenchmarkCopy(b *testing.B) {
	for _, size := range []int{16, 256, 4096, 65536} {
		msg := frames(size)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			var c Copier
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for range b.N {
				c.Copy(msg)
			}
		})
	}
}

// TestList: the list holds the caller's very bodies, is not the caller's
// list, cannot grow into a neighbour, and a small one seldom allocates.
func TestList(t *testing.T) {
	var c Copier
	for _, tt := range []struct {
		name  string
		sizes []int
	}{
		{"one-empty", []int{0}},
		{"one-small", []int{16}},
		{"small-parts", []int{3, 0, 5, 1}},
		{"over-max-body", []int{maxBody + 1}},
		{"over-max-frames", []int{1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"large", []int{1 << 20, 7}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := frames(tt.sizes...)
			bodies := append([][]byte(nil), in...)
			got, _ := c.List(in)
			next, _ := c.List(frames(1))
			in[0] = nil // the caller reuses its list
			if len(got) != len(bodies) || cap(got) != len(got) {
				t.Fatalf("len %d cap %d, want %d", len(got), cap(got), len(bodies))
			}
			for i := range bodies {
				if len(bodies[i]) > 0 && &got[i][0] != &bodies[i][0] {
					t.Errorf("frame %d is not the caller's body", i)
				}
			}
			_ = append(got, []byte("x"))
			if len(next) != 1 || len(next[0]) != 1 {
				t.Error("appending to one list wrote into the next")
			}
		})
	}
	one := [][]byte{[]byte("sixteen bytes...")}
	if n := testing.AllocsPerRun(1000, func() { c.List(one) }); n > 0.1 {
		t.Errorf("List of a small message: %.2f allocations, want a fraction", n)
	}
	big := [][]byte{make([]byte, maxBody+1)}
	if n := testing.AllocsPerRun(100, func() { c.List(big) }); n != 1 {
		t.Errorf("List of a large message: %.2f allocations, want its own 1", n)
	}
}

// TestChunkReuse: once every message cut from a chunk is released, its
// memory carries later messages, and a steady sender that releases what
// it copied allocates nothing; a message not released keeps its chunk
// from being reused.
func TestChunkReuse(t *testing.T) {
	var c Copier
	msg := frames(16)
	// Released at once: the same few chunks go round. Without reuse,
	// 20,000 messages would take some 160 chunks of three allocations.
	const n = 20000
	mallocs := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	check := func(what string, m uint64) {
		if racetest.Enabled {
			return // its pools drop a quarter of Puts; make test runs this without -race too
		}
		if m > 30 {
			t.Errorf("%s released at once: %d allocations for %d messages", what, m, n)
		}
	}
	check("Copy", mallocs(func() {
		_, k := c.Copy(msg)
		k.Chunk.Done(1)
	}))
	check("List", mallocs(func() {
		_, k := c.List(msg)
		k.Chunk.Done(1)
	}))
	// One message kept, the rest released: the kept one's bytes never
	// change, however many messages are cut after it.
	kept, keptRef := c.Copy([][]byte{[]byte("kept-message")})
	_ = keptRef // never released: its chunk must not be reused
	for i := range 20 * chunkHdrs {
		m, k := c.Copy([][]byte{[]byte(fmt.Sprintf("m%011d", i))})
		if string(m[0]) != fmt.Sprintf("m%011d", i) {
			t.Fatalf("message %d: %q", i, m[0])
		}
		k.Chunk.Done(1)
	}
	if string(kept[0]) != "kept-message" {
		t.Fatalf("kept message overwritten: %q", kept[0])
	}
}

// TestChunkReuseConcurrent: copies made on several goroutines and
// released on others, in any order, never see each other's bytes: a
// chunk is reused only after its last release.
func TestChunkReuseConcurrent(t *testing.T) {
	var c Copier
	const senders, each = 4, 20000
	type sent struct {
		m   [][]byte
		k   *pipe.Tag
		val string
	}
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		ch := make(chan sent, 512)
		wg.Add(2)
		go func() { // the sender
			defer wg.Done()
			defer close(ch)
			for i := range each {
				v := fmt.Sprintf("%d:%d", g, i)
				m, k := c.Copy([][]byte{[]byte(v), []byte("tail")})
				ch <- sent{m, k, v}
			}
		}()
		go func() { // the writer: checks, then releases
			defer wg.Done()
			for s := range ch {
				if string(s.m[0]) != s.val || string(s.m[1]) != "tail" {
					errs <- fmt.Errorf("got %q, want [%s tail]", s.m, s.val)
					for range ch {
					}
					return
				}
				s.k.Chunk.Done(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
