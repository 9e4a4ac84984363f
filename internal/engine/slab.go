package engine

import (
	"sync"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
)

// slab hands out the memory of small received messages from larger
// chunks, so that receiving a small message costs a fraction of an
// allocation instead of two (its frame list and its body). The user owns
// what it gets: every piece is capped, so appending to it reallocates
// instead of writing into a neighbour. The price is retention: a message
// kept alive keeps its chunk alive (at most slabBytes of bodies and
// slabHdrs frame headers, which point only at small bodies).
//
// A chunk's memory is used again once every message that holds a piece
// of it has been released: a receiver that copies a message out
// (RecvInto) releases it through its pipe.Tag. A message handed over
// (Recv) is never released, and its chunk is left to the collector.
type slab struct {
	c    *slabChunk
	used int // frame headers cut from c
	boff int // bytes cut from c
	// msgs counts the messages holding a piece of c, and pieces the
	// bodies the message being decoded took from c.
	msgs   int64
	pieces int
}

// slabChunk is one chunk: the decoder cuts it, receivers release it.
type slabChunk struct {
	hdrs  [][]byte
	bytes []byte
	tag   pipe.Tag
	refs  pipe.Refs // the receivers' side, on a cache line of its own
}

// Chunks start small and double each time one is used up, so a quiet
// connection holds little and a busy one allocates rarely.
const (
	slabHdrs      = 256
	slabBytes     = 32 << 10
	slabHdrsInit  = 16
	slabBytesInit = 1 << 10
	slabMaxBody   = 256 // larger bodies get their own allocation
	slabMinFrames = 4   // room for a message's list kept at its start
)

// slabFree holds full-size chunks whose messages were all released.
var slabFree sync.Pool

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
	if n > slabMaxBody || s.c == nil || len(s.c.bytes)-s.boff < n {
		// A small body that does not fit the chunk gets its own: the
		// chunk changes only between messages (start).
		return bufpool.Get(n)
	}
	b := s.c.bytes[s.boff : s.boff+n : s.boff+n]
	s.boff += n
	s.pieces++
	return b
}

// start returns an empty frame list to append a message's frames to,
// moving to a new chunk if this one is nearly used up.
func (s *slab) start() [][]byte {
	s.pieces = 0
	if s.c == nil || len(s.c.hdrs)-s.used < slabMinFrames || len(s.c.bytes)-s.boff < slabMaxBody {
		s.next()
	}
	return s.c.hdrs[s.used:s.used:len(s.c.hdrs)]
}

// next retires the current chunk and takes a fresh one.
func (s *slab) next() {
	hdrs, bytes := slabHdrsInit, slabBytesInit
	if old := s.c; old != nil {
		hdrs = nextChunk(len(old.hdrs), slabHdrsInit, slabHdrs)
		bytes = nextChunk(len(old.bytes), slabBytesInit, slabBytes)
		old.retire(s.msgs)
	}
	s.c, s.used, s.boff, s.msgs = nil, 0, 0, 0
	if hdrs == slabHdrs && bytes == slabBytes {
		if c, ok := slabFree.Get().(*slabChunk); ok {
			s.c = c
			return
		}
	}
	c := &slabChunk{hdrs: make([][]byte, hdrs), bytes: make([]byte, bytes)}
	c.tag.Chunk = c
	s.c = c
}

// finish seals a message's frame list and returns the message. small
// tells that every body is small; a list holding a large body is moved
// out of the chunk, so a kept small message never pins someone's large
// one. A message holding any piece of the chunk is counted, and tagged
// so that whoever copies it out can release it.
func (s *slab) finish(f [][]byte, small bool) pipe.Msg {
	inChunk := len(f) > 0 && s.used < len(s.c.hdrs) && &f[0] == &s.c.hdrs[s.used]
	switch {
	case !inChunk:
		f = f[:len(f):len(f)]
	case !small:
		own := append([][]byte(nil), f...)
		clear(s.c.hdrs[s.used : s.used+len(f)])
		f = own
		inChunk = false
	default:
		s.used += len(f)
		f = f[:len(f):len(f)]
	}
	if !inChunk && s.pieces == 0 {
		return pipe.Msg{Frames: f}
	}
	s.msgs++
	return pipe.Msg{Frames: f, Tag: &s.c.tag}
}

// retire marks c used up after msgs messages were cut from it.
func (c *slabChunk) retire(msgs int64) {
	if c.refs.Retire(msgs) {
		c.recycle()
	}
}

// Done releases n messages cut from c (pipe.Tag.Chunk).
func (c *slabChunk) Done(n int) {
	if c.refs.Release(n) {
		c.recycle()
	}
}

func (c *slabChunk) recycle() {
	if len(c.hdrs) != slabHdrs || len(c.bytes) != slabBytes {
		return // a small first chunk: not worth keeping
	}
	clear(c.hdrs)
	slabFree.Put(c)
}
