package pattern

import (
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
