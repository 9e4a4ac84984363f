package engine

import "github.com/azmq/azmq/internal/bufpool"

// slab hands out the memory of small received messages from larger
// chunks, so that receiving a small message costs a fraction of an
// allocation instead of two (its frame list and its body). The user owns
// what it gets: every piece is capped, so appending to it reallocates
// instead of writing into a neighbour. The price is retention: a message
// kept alive keeps its chunks alive (at most slabBytes of bodies and
// slabHdrs frame headers, which point only at small bodies).
type slab struct {
	hdrs  [][]byte
	used  int
	bytes []byte
	boff  int
}

// Chunks start small and double each time one is used up, so a quiet
// connection holds little and a busy one allocates rarely.
const (
	slabHdrs      = 256
	slabBytes     = 32 << 10
	slabHdrsInit  = 16
	slabBytesInit = 1 << 10
	slabMaxBody   = 256 // larger bodies get their own allocation
)

func nextChunk(cur, init, max int) int {
	switch {
	case cur == 0:
		return init
	case cur >= max:
		return max
	}
	return 2 * cur
}

// body returns n bytes for a frame body.
func (s *slab) body(n int) []byte {
	if n > slabMaxBody {
		return bufpool.Get(n)
	}
	if len(s.bytes)-s.boff < n {
		s.bytes = make([]byte, nextChunk(len(s.bytes), slabBytesInit, slabBytes))
		s.boff = 0
	}
	b := s.bytes[s.boff : s.boff+n : s.boff+n]
	s.boff += n
	return b
}

// start returns an empty frame list to append a message's frames to.
func (s *slab) start() [][]byte {
	if len(s.hdrs)-s.used < 4 {
		s.hdrs = make([][]byte, nextChunk(len(s.hdrs), slabHdrsInit, slabHdrs))
		s.used = 0
	}
	return s.hdrs[s.used:s.used:len(s.hdrs)]
}

// finish seals a message's frame list. small tells that every body came
// from the slab; a list holding a large body is moved out of the chunk,
// so a kept small message never pins someone's large one.
func (s *slab) finish(f [][]byte, small bool) [][]byte {
	inChunk := len(f) > 0 && s.used < len(s.hdrs) && &f[0] == &s.hdrs[s.used]
	if !inChunk {
		return f[:len(f):len(f)]
	}
	if !small {
		own := append([][]byte(nil), f...)
		clear(s.hdrs[s.used : s.used+len(f)])
		return own
	}
	s.used += len(f)
	return f[:len(f):len(f)]
}
