// Package msgcopy copies a message's frames into memory of the message's
// own, as Send must: its caller may refill its buffers the moment Send
// returns. Small messages are cut from larger chunks, so that copying one
// costs a fraction of an allocation instead of two.
package msgcopy

import (
	"sync"

	"github.com/azmq/azmq/internal/bufpool"
)

// Sizes of the chunks small messages are cut from, and what counts as
// small. A message kept alive keeps its chunks alive (at most chunkBytes
// of bodies and chunkHdrs frame headers); a large body never lands in a
// chunk, so it never pins one, nor does a chunk pin it.
const (
	chunkBytes = 32 << 10
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

// chunk is what small messages are cut from. The chunks live in a
// sync.Pool, which keeps one per P: taking one and putting it back costs
// no atomic instruction, where a lock (or a busy flag) would cost two on
// every Send.
type chunk struct {
	hdrs  [][]byte
	bytes []byte
}

var chunks = sync.Pool{New: func() any { return new(chunk) }}

// Copy is the package's Copy, from chunks where the message is small, and
// with every frame of bufpool.MinSize and more in memory of its own from
// bufpool.GetOwn, which whoever uses the copy last may give back with
// bufpool.PutOwn.
func (*Copier) Copy(parts [][]byte) [][]byte {
	n := size(parts)
	if n > maxBody || len(parts) > maxFrames {
		return copyLarge(parts)
	}
	k := chunks.Get().(*chunk)
	if len(k.hdrs) < len(parts) {
		k.hdrs = make([][]byte, chunkHdrs)
	}
	if len(k.bytes) < n {
		k.bytes = make([]byte, chunkBytes)
	}
	hdrs := k.hdrs[:len(parts):len(parts)]
	bytes := k.bytes[:n:n]
	k.hdrs, k.bytes = k.hdrs[len(parts):], k.bytes[n:]
	chunks.Put(k)
	return copyInto(hdrs, bytes, parts)
}

// List returns a frame list of its own holding the slices of parts (the
// bodies are not copied): what SendNoCopy queues, so that parts itself
// is not kept and a caller's one-frame variadic call allocates nothing.
// A small message's list is cut from a chunk of headers, as Copy's is; a
// large one's gets its own allocation, so that a received message kept
// alive never pins other messages' large bodies.
func (*Copier) List(parts [][]byte) [][]byte {
	if len(parts) > maxFrames || size(parts) > maxBody {
		return append(make([][]byte, 0, len(parts)), parts...)
	}
	k := chunks.Get().(*chunk)
	if len(k.hdrs) < len(parts) {
		k.hdrs = make([][]byte, chunkHdrs)
	}
	hdrs := k.hdrs[:len(parts):len(parts)]
	k.hdrs = k.hdrs[len(parts):]
	chunks.Put(k)
	copy(hdrs, parts)
	return hdrs
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
