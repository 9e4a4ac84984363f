package pattern

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCountTrie(t *testing.T) {
	var c countTrie
	for _, tp := range []string{"abc", "ab", "abd", "x", "abc"} {
		c.add([]byte(tp))
	}
	tests := []struct {
		data string
		want bool
	}{
		{"abc", true}, {"abcz", true}, {"ab", true}, {"a", false}, {"abz", true},
		{"x1", true}, {"y", false}, {"", false},
	}
	for _, tt := range tests {
		if got := c.match([]byte(tt.data)); got != tt.want {
			t.Errorf("match(%q) = %v", tt.data, got)
		}
	}
	got := c.topics()
	var ss []string
	for _, g := range got {
		ss = append(ss, string(g))
	}
	slices.Sort(ss)
	if !slices.Equal(ss, []string{"ab", "abc", "abd", "x"}) {
		t.Fatalf("topics = %q", ss)
	}
	if last, ok := c.rm([]byte("abc")); last || !ok {
		t.Fatal("abc had two refs")
	}
	if last, ok := c.rm([]byte("abc")); !last || !ok {
		t.Fatal("abc had one ref left")
	}
	if _, ok := c.rm([]byte("abc")); ok {
		t.Fatal("abc removed thrice")
	}
	if _, ok := c.rm([]byte("a")); ok {
		t.Fatal("unknown topic removed")
	}
	for _, tp := range []string{"ab", "abd", "x"} {
		c.rm([]byte(tp))
	}
	if len(c.t.root.kids) != 0 {
		t.Fatalf("trie not pruned: %d kids", len(c.t.root.kids))
	}
	c.add(nil)
	if !c.match([]byte("anything")) || !c.match(nil) {
		t.Fatal("empty topic matches everything")
	}
}

func TestMTrieMatchOnce(t *testing.T) {
	var m mtrie
	a, b := &subPipe{}, &subPipe{}
	if !m.add(a, []byte("ab")) || m.add(a, []byte("ab")) {
		t.Fatal("first/duplicate add")
	}
	m.add(a, []byte("a"))
	m.add(a, []byte(""))
	if m.add(b, []byte("ab")) {
		t.Fatal("second pipe reported as first")
	}
	count := map[*subPipe]int{}
	m.match([]byte("abc"), func(sp *subPipe) { count[sp]++ })
	if count[a] != 1 || count[b] != 1 {
		t.Fatalf("matched %v", count)
	}
	if m.rm(a, []byte("ab")) {
		t.Fatal("b still holds ab")
	}
	var gone []string
	m.rmAll(a, func(tp string) { gone = append(gone, tp) })
	slices.Sort(gone)
	if !slices.Equal(gone, []string{"", "a"}) {
		t.Fatalf("last = %q", gone)
	}
	if !m.rm(b, []byte("ab")) {
		t.Fatal("b was the last on ab")
	}
	if len(m.t.root.kids) != 0 || m.t.root.hasValue() {
		t.Fatal("not pruned")
	}
}

// TestTrieRandom checks the radix tree against a plain map under random
// adds and removes, which exercises splitting, pruning and merging.
func TestTrieRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() []byte {
		b := make([]byte, rng.IntN(5))
		for i := range b {
			b[i] = "ab"[rng.IntN(2)]
		}
		return b
	}
	var c countTrie
	var m mtrie
	pipes := []*subPipe{{}, {}, {}}
	counts := map[string]int{}
	sets := map[*subPipe]map[string]bool{}
	for _, sp := range pipes {
		sets[sp] = map[string]bool{}
	}
	for step := 0; step < 20000; step++ {
		w := word()
		sp := pipes[rng.IntN(len(pipes))]
		holders := func(tp string) int {
			n := 0
			for _, s := range sets {
				if s[tp] {
					n++
				}
			}
			return n
		}
		if rng.IntN(2) == 0 {
			c.add(w)
			counts[string(w)]++
			wantFirst := !sets[sp][string(w)] && holders(string(w)) == 0
			sets[sp][string(w)] = true
			if first := m.add(sp, w); first != wantFirst {
				t.Fatalf("step %d: add %q first=%v", step, w, first)
			}
		} else {
			last, ok := c.rm(w)
			wantOK := counts[string(w)] > 0
			if wantOK {
				counts[string(w)]--
			}
			if ok != wantOK || last != (wantOK && counts[string(w)] == 0) {
				t.Fatalf("step %d: rm %q = %v %v", step, w, last, ok)
			}
			had := sets[sp][string(w)]
			delete(sets[sp], string(w))
			if gone := m.rm(sp, w); gone != (had && holders(string(w)) == 0) {
				t.Fatalf("step %d: mtrie rm %q last=%v", step, w, gone)
			}
		}
		d := append(word(), word()...)
		want := false
		for tp, n := range counts {
			if n > 0 && bytes.HasPrefix(d, []byte(tp)) {
				want = true
			}
		}
		if got := c.match(d); got != want {
			t.Fatalf("step %d: match %q = %v", step, d, got)
		}
		got := map[*subPipe]bool{}
		m.match(d, func(sp *subPipe) {
			if got[sp] {
				t.Fatalf("step %d: %q matched a pipe twice", step, d)
			}
			got[sp] = true
		})
		for _, sp := range pipes {
			want := false
			for tp := range sets[sp] {
				if bytes.HasPrefix(d, []byte(tp)) {
					want = true
				}
			}
			if got[sp] != want {
				t.Fatalf("step %d: mtrie match %q for pipe = %v", step, d, got[sp])
			}
		}
	}
}
