// Package bufpool keeps the memory of large received frames for reuse once
// their owner gives it back, so a stream of large messages need not make
// the collector free and clear a fresh body for every one of them.
//
// Only what Get handed out is taken back, each buffer once: Put looks the
// frame up among the buffers given out and not yet returned, so a slice
// from anywhere else (a frame that came over inproc, one that azmq still
// uses, one returned twice) is refused instead of being handed to the next
// reader while someone still holds it.
//
// Sizes are rounded up to classes, eight per doubling from MinSize to
// MaxSize (at most 12.5 % more than asked for). Nothing is pooled, rounded
// or recorded until Enable: a program that never gives memory back pays
// nothing.
package bufpool

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

const (
	minShift = 10 // MinSize: below it pooling gains nothing measurable
	maxShift = 26 // MaxSize: above it a buffer is too big to keep idle
	steps    = 8  // classes per doubling
	// MinSize and MaxSize bound the sizes that are pooled.
	MinSize = 1 << minShift
	MaxSize = 1 << maxShift
	classes = (maxShift-minShift)*steps + 1
)

// The pools hold unsafe.Pointer values, the first byte of a buffer of
// the class's size: storing a pointer in an interface allocates nothing,
// where a slice would be boxed on every Put.
var (
	pools   [classes]sync.Pool
	enabled atomic.Bool
	out     [shards]outstanding
)

// The record is split by address so that connections receiving at once
// seldom wait for each other's lock.
const shards = 16

func shard(p *byte) *outstanding {
	h := uint64(uintptr(unsafe.Pointer(p))) * 0x9e3779b97f4a7c15
	return &out[h>>(64-4)]
}

// outstanding records the buffers handed out and not yet returned, by
// address. The weak pointer tells a live buffer from a dead one whose
// address the allocator may since have given to something else.
type outstanding struct {
	mu      sync.Mutex
	m       map[uintptr]entry
	pruneAt int
}

type entry struct {
	w     weak.Pointer[byte] // the buffer's first byte
	class int
	off   uintptr // where the frame starts in the buffer
}

const pruneMin = 16 // per shard

// put records e under p.
func (o *outstanding) put(p *byte, e entry) {
	o.mu.Lock()
	if o.m == nil {
		o.m = make(map[uintptr]entry)
	}
	if len(o.m) >= max(o.pruneAt, pruneMin) {
		// Buffers dropped without a Put leave entries behind; sweep the
		// dead ones whenever the map has doubled since the last sweep.
		for k, e := range o.m {
			if e.w.Value() == nil {
				delete(o.m, k)
			}
		}
		o.pruneAt = 2 * len(o.m)
	}
	o.m[uintptr(unsafe.Pointer(p))] = e
	o.mu.Unlock()
}

// remove takes p's entry out, whatever it holds.
func (o *outstanding) remove(p *byte) (entry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := uintptr(unsafe.Pointer(p))
	e, ok := o.m[k]
	if ok {
		delete(o.m, k)
	}
	return e, ok
}

// take removes the entry of the frame starting at p and returns its
// buffer and class, if p is where a live buffer handed out by Get has its
// frame.
func (o *outstanding) take(p *byte) (*byte, int, bool) {
	e, ok := o.remove(p)
	if !ok {
		return nil, 0, false
	}
	// A buffer that died may have left its entry behind, and its address
	// may since belong to something else: only a live buffer counts (and
	// while it lives, nothing else can be at p).
	base := e.w.Value()
	if base == nil || uintptr(unsafe.Pointer(base))+e.off != uintptr(unsafe.Pointer(p)) {
		return nil, 0, false
	}
	return base, e.class, true
}

// Enabled tells whether pooling is on.
func Enabled() bool { return enabled.Load() }

// size is the size of class c.
func size(c int) int {
	s := minShift + c/steps
	return 1<<s + (c%steps)<<(s-3)
}

// ceilClass is the smallest class of at least n bytes (MinSize <= n <=
// MaxSize).
func ceilClass(n int) int {
	s := bits.Len(uint(n)) - 1 // 1<<s <= n < 1<<(s+1)
	step := 1 << (s - 3)
	k := (n - 1<<s + step - 1) / step // 0..8; 8 is the next doubling
	return (s-minShift)*steps + k
}

// Get returns a slice of length n whose bytes are undefined: the caller
// overwrites them all.
func Get(n int) []byte {
	if n < MinSize || n > MaxSize || !enabled.Load() {
		return make([]byte, n)
	}
	c := ceilClass(n)
	var b []byte
	if p, _ := pools[c].Get().(unsafe.Pointer); p != nil {
		b = unsafe.Slice((*byte)(p), size(c))[:n]
	} else {
		b = make([]byte, n, size(c))
	}
	p := unsafe.SliceData(b)
	shard(p).put(p, entry{w: weak.Make(p), class: c})
	return b
}

// Enable turns pooling on: from now on Get rounds sizes up and records
// what it hands out, so that Put can take it back.
func Enable() {
	if !enabled.Load() {
		enabled.Store(true)
	}
}

// minPart is the least capacity of a frame Put may take back: Get's are
// MinSize and more, and Rebase records no part with less room (a
// decrypted frame starts a few dozen bytes into its buffer).
const minPart = MinSize / 2

// Rebase records that the frame handed out as buf is now part, a
// non-empty slice of buf (a message decrypted in place, whose plaintext
// follows a header), so that Put takes part back. A buffer not handed out
// by Get is left alone.
func Rebase(buf, part []byte) {
	if len(part) == 0 || len(buf) == 0 || !enabled.Load() {
		return
	}
	b, p := unsafe.SliceData(buf), unsafe.SliceData(part)
	off := uintptr(unsafe.Pointer(p)) - uintptr(unsafe.Pointer(b))
	if p == b || off >= uintptr(cap(buf)) || cap(part) < minPart {
		return
	}
	// The frame is not out yet: nothing can look for it in between.
	e, ok := shard(b).remove(b)
	if !ok || e.w.Value() != b || e.off != 0 {
		return
	}
	e.off = off
	shard(p).put(p, e)
}

// Put gives back a frame that Get handed out (b starts where the frame
// starts; its length does not matter) and reports whether it was taken.
// Anything else is left alone. The caller gives b up: nothing may use it,
// or anything sliced from it, afterwards.
func Put(b []byte) bool {
	// Nothing handed out is this small (Rebase keeps it so): a receiver
	// releasing every small message pays no lock for it.
	if cap(b) < minPart || !enabled.Load() {
		return false
	}
	p := unsafe.SliceData(b)
	base, c, ok := shard(p).take(p)
	if !ok {
		return false
	}
	pools[c].Put(unsafe.Pointer(base))
	return true
}

// Memory of azmq's own, given back by azmq itself: Send's copies of large
// frames, which the writer returns once it has sent them. These are never
// handed to a user, so no record is kept of them, and they are pooled
// whether or not Enable was called. The pools are not those of Get and
// Put, so a buffer never moves between the two.
var own [classes]sync.Pool

// GetOwn returns a slice of length n whose bytes are undefined, from the
// memory PutOwn gave back when there is some of its class.
func GetOwn(n int) []byte {
	if n < MinSize || n > MaxSize {
		return make([]byte, n)
	}
	c := ceilClass(n)
	if p, _ := own[c].Get().(unsafe.Pointer); p != nil {
		return unsafe.Slice((*byte)(p), size(c))[:n]
	}
	return make([]byte, n, size(c))
}

// PutOwn gives back a buffer GetOwn handed out, whole (its first byte at
// b's start). The caller must be its last user. Buffers of other sizes are
// left to the collector.
func PutOwn(b []byte) {
	n := cap(b)
	if n < MinSize || n > MaxSize {
		return
	}
	c := ceilClass(n)
	if size(c) != n {
		return // not a class size: not one of GetOwn's
	}
	own[c].Put(unsafe.Pointer(unsafe.SliceData(b)))
}
