// Package msgcopy copies a message's frames into memory of the message's
// own, as Send must: its caller may refill its buffers the moment Send
// returns. Small messages are cut from larger chunks, so that copying one
// costs a fraction of an allocation instead of two.
package msgcopy

import (
	"sync"

	"github.com/azmq/azmq/internal/bufpool"
	"github.com/azmq/azmq/internal/pipe"
)

// Sizes of the chunks small messages are cut from, and what counts as
// small. A message kept alive keeps its chunk alive (at most chunkBytes
// of bodies and chunkHdrs frame headers); a large body never lands in a
// chunk, so it never pins one, nor does a chunk pin it.
const (
	chunkBytes = 16 << 10
	chunkHdrs  = 256
	maxBody    = 256 // a message's bodies together, at most, to be cut from a chunk
	maxFrames  = 8   // its frames, at most, to take headers from a chunk
)

// Copy returns the frames of parts in memory of their own: one allocation
// holds all the bodies, one the frame list. Every frame is capped, so
// appending to one reallocates instead of writing into the next.
func Copy(parts [][]byte) [][]byte {
	return copyInto(make([][]byte, len(parts)), make([]byte, size(parts)), parts)
}

// Copier is Copy with small messages cut from chunks. It is safe for
// concurrent use.
type Copier struct{}

// Chunk is what small messages are cut from. Its memory is used again
// once every message cut from it has been released (Done): the last user
// of a copy that nothing outside azmq holds (an engine's writer, once the
// bytes are in its batch buffer) releases it, so a steady sender
// allocates nothing. A copy never released (handed to a receiver over
// inproc, dropped, fanned out) only keeps its chunk from being reused:
// the collector takes it as before.
//
// The current chunk lives in a sync.Pool, which keeps one per P: taking
// it and putting it back costs no atomic instruction, where a lock would
// cost two on every Send. The senders' side (the cutting) and the
// writers' side (refs) are on cache lines of their own.
type Chunk struct {
	// The senders' side, written at every cut.
	hdrs  [][]byte // not cut yet
	bytes []byte
	cut   int64 // messages cut from it
	_     [64]byte
	// Read only, by both sides: the memory, and the tags its messages
	// carry (Copy's with pipe.Owned, and List's).
	all         [][]byte
	allB        []byte
	owned, list pipe.Tag
	// The writers' side: what is still in use.
	refs pipe.Refs
}

var (
	current = sync.Pool{New: func() any { return newChunk() }}
	free    sync.Pool // chunks whose messages were all released
)

func newChunk() *Chunk {
	if k, ok := free.Get().(*Chunk); ok {
		return k
	}
	k := &Chunk{all: make([][]byte, chunkHdrs), allB: make([]byte, chunkBytes)}
	k.hdrs, k.bytes = k.all, k.allB
	k.owned = pipe.Tag{Flags: pipe.Owned, Chunk: k}
	k.list = pipe.Tag{Chunk: k}
	return k
}

// take returns a chunk with room for a message of n frames and size
// bytes, retiring the current one if it has none.
func take(n, size int) *Chunk {
	k := current.Get().(*Chunk)
	if len(k.hdrs) < n || len(k.bytes) < size {
		k.retire()
		k = newChunk()
	}
	k.cut++
	return k
}

// retire marks k used up: no message is cut from it any more.
func (k *Chunk) retire() {
	if k.refs.Retire(k.cut) {
		k.recycle()
	}
}

// Done releases n messages cut from k: their bytes and frame lists are
// not used any more. Call it once for each message, and only as the last
// user of a copy that nothing outside azmq holds.
func (k *Chunk) Done(n int) {
	if k.refs.Release(n) {
		k.recycle()
	}
}

func (k *Chunk) recycle() {
	clear(k.all) // holds no one's bytes while it waits
	k.hdrs, k.bytes, k.cut = k.all, k.allB, 0
	free.Put(k)
}

// Copy is the package's Copy, from a chunk where the message is small,
// and with every frame of bufpool.MinSize and more in memory of its own
// from bufpool.GetOwn, which whoever uses the copy last may give back
// with bufpool.PutOwn. The tag to queue the copy with says pipe.Owned,
// and for a small message holds its chunk, which the copy's last user
// releases if that is azmq.
func (*Copier) Copy(parts [][]byte) ([][]byte, *pipe.Tag) {
	n := size(parts)
	if n > maxBody || len(parts) > maxFrames {
		return copyLarge(parts), pipe.TagOf(pipe.Owned)
	}
	k := take(len(parts), n)
	hdrs := k.hdrs[:len(parts):len(parts)]
	bytes := k.bytes[:n:n]
	k.hdrs, k.bytes = k.hdrs[len(parts):], k.bytes[n:]
	current.Put(k)
	return copyInto(hdrs, bytes, parts), &k.owned
}

// List returns a frame list of its own holding the slices of parts (the
// bodies are not copied): what SendNoCopy queues, so that parts itself
// is not kept and a caller's one-frame variadic call allocates nothing.
// A small message's list is cut from a chunk, as Copy's is, and released
// the same way; a large one's gets its own allocation, so that a
// received message kept alive never pins other messages' large bodies.
func (*Copier) List(parts [][]byte) ([][]byte, *pipe.Tag) {
	if len(parts) > maxFrames || size(parts) > maxBody {
		return append(make([][]byte, 0, len(parts)), parts...), nil
	}
	k := take(len(parts), 0)
	hdrs := k.hdrs[:len(parts):len(parts)]
	k.hdrs = k.hdrs[len(parts):]
	current.Put(k)
	copy(hdrs, parts)
	return hdrs, &k.list
}

// copyLarge copies frames of bufpool.MinSize and more into buffers of
// their own from bufpool.GetOwn (uncapped: PutOwn knows a buffer by its
// capacity), and the others into one allocation.
func copyLarge(parts [][]byte) [][]byte {
	hdrs := make([][]byte, len(parts))
	small := 0
	for _, p := range parts {
		if len(p) < bufpool.MinSize {
			small += len(p)
		}
	}
	buf := make([]byte, small)
	off := 0
	for i, p := range parts {
		if len(p) >= bufpool.MinSize {
			b := bufpool.GetOwn(len(p))
			copy(b, p)
			hdrs[i] = b
			continue
		}
		end := off + copy(buf[off:], p)
		hdrs[i] = buf[off:end:end]
		off = end
	}
	return hdrs
}

func size(parts [][]byte) int {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	return n
}

// copyInto copies parts into buf, which holds exactly their bytes, and
// points hdrs (one per part) at the copies.
func copyInto(hdrs [][]byte, buf []byte, parts [][]byte) [][]byte {
	off := 0
	for i, p := range parts {
		end := off + copy(buf[off:], p)
		hdrs[i] = buf[off:end:end]
		off = end
	}
	return hdrs
}
