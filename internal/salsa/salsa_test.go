package salsa

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/salsa20/salsa"
)

var allImpls = []implKind{implGeneric, implAVX2, implAVX512}

// forEachImpl runs f as a subtest with impl forced to each path, skipping
// the ones this CPU or build cannot run.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	for _, k := range allImpls {
		t.Run(k.String(), func(t *testing.T) {
			if !supported(k) {
				// Only a path this machine never takes may go untested.
				if bestImpl() == k {
					t.Fatalf("the %v path is picked, yet reported unsupported", k)
				}
				t.Skipf("this CPU or build cannot run the %v path; XORKeyStream takes %v here", k, bestImpl())
			}
			defer setImpl(k)()
			f(t)
		})
	}
}

// setImpl forces path k and returns a function restoring the previous one.
func setImpl(k implKind) func() {
	old := impl
	impl = k
	return func() { impl = old }
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// blockNumbers to start from: zero, random, and around the 32-bit carry and
// the 64-bit wrap.
var blockNumbers = []uint64{
	0, 1, 0xFFFFFFF0, 0xFFFFFFFE, 0xFFFFFFFF, 0x1FFFFFFFD,
	0xFFFFFFFFFFFFFFF0, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFF9,
}

// check compares XORKeyStream with x/crypto for one input, in place and out
// of place, with in and out starting at the given offsets into larger buffers.
func check(t *testing.T, r *rand.Rand, n int, block uint64, inOff, outOff int) {
	t.Helper()
	var key [32]byte
	var counter [16]byte
	copy(key[:], randBytes(r, 32))
	copy(counter[:8], randBytes(r, 8))
	binary.LittleEndian.PutUint64(counter[8:], block)
	saved := counter

	in := randBytes(r, n+inOff)[inOff:]
	want := make([]byte, n)
	salsa.XORKeyStream(want, in, &counter, &key)

	out := make([]byte, n+outOff+8)[outOff:]
	for i := range out {
		out[i] = 0xA5
	}
	inCopy := bytes.Clone(in)
	XORKeyStream(out, in, &counter, &key)
	if !bytes.Equal(out[:n], want) {
		t.Fatalf("n=%d block=%#x off=%d/%d: out of place differs at byte %d", n, block, inOff, outOff, firstDiff(out, want))
	}
	for i, b := range out[n:] {
		if b != 0xA5 {
			t.Fatalf("n=%d: wrote past len(in) at byte %d", n, n+i)
		}
	}
	if !bytes.Equal(in, inCopy) {
		t.Fatalf("n=%d: input modified", n)
	}
	if counter != saved {
		t.Fatalf("n=%d: counter modified", n)
	}

	XORKeyStream(in, in, &counter, &key)
	if !bytes.Equal(in, want) {
		t.Fatalf("n=%d block=%#x off=%d: in place differs at byte %d", n, block, inOff, firstDiff(in, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestEveryLength(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, uint64(impl)))
		for n := 0; n <= 1100; n++ {
			block := blockNumbers[n%len(blockNumbers)]
			check(t, r, n, block, r.IntN(64), r.IntN(64))
		}
	})
}

func TestLargeLengths(t *testing.T) {
	sizes := []int{
		511, 512, 513, 1023, 1024, 1025, 1536, 1600, 2047, 2048, 3000,
		4095, 4096, 4097, 65535, 65536, 65536 + 17, 65536 + 512 + 63, 1 << 20,
	}
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(2, uint64(impl)))
		for _, n := range sizes {
			for _, block := range blockNumbers {
				check(t, r, n, block, 1+r.IntN(63), 1+r.IntN(63))
			}
		}
	})
}

// TestCarryEveryLane starts a vector group at each position relative to the
// 32-bit carry, so the carry lands in each lane of the 8- and 16-lane paths.
func TestCarryEveryLane(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, uint64(impl)))
		for lane := uint64(0); lane <= 17; lane++ {
			check(t, r, 2048+64, 0x100000000-lane, 0, 0)
			check(t, r, 2048, 0xFFFFFFFFFFFFFFFF-lane, 0, 0)
		}
	})
}

// TestVector checks the keystream itself against an independent value, so
// that x/crypto and this package cannot agree on a wrong answer: the first
// block of Salsa20/20 with an all-zero key and nonce.
func TestVector(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		var key [32]byte
		var counter [16]byte
		out := make([]byte, 4096)
		XORKeyStream(out, make([]byte, len(out)), &counter, &key)
		const first = "9a97f65b9b4c721b960a672145fca8d4e32e67f9111ea979ce9c4826806aeee6"
		if got := fmt.Sprintf("%x", out[:32]); got != first {
			t.Fatalf("first 32 bytes = %s, want %s", got, first)
		}
		var want [4096]byte
		salsa.XORKeyStream(want[:], want[:], &counter, &key)
		if !bytes.Equal(out, want[:]) {
			t.Fatalf("differs from x/crypto at byte %d", firstDiff(out, want[:]))
		}
	})
}

func TestShortOutputPanics(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic with len(out) < len(in)")
			}
		}()
		var key [32]byte
		var counter [16]byte
		XORKeyStream(make([]byte, 1023), make([]byte, 1024), &counter, &key)
	})
}

func TestNoAllocs(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		var key [32]byte
		var counter [16]byte
		buf := make([]byte, 4096+100)
		if n := testing.AllocsPerRun(10, func() { XORKeyStream(buf, buf, &counter, &key) }); n != 0 {
			t.Fatalf("%v allocations per call", n)
		}
	})
}

// TestWrap pins the behaviour at the end of the 64-bit block counter: like
// x/crypto, the block after 2^64-1 is block 0 of the same nonce.
func TestWrap(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		var key [32]byte
		var counter [16]byte
		key[7], counter[3] = 7, 3
		zero := counter
		binary.LittleEndian.PutUint64(counter[8:], 0xFFFFFFFFFFFFFFFF-4) // 5 blocks before the wrap
		got := make([]byte, 64*40)
		XORKeyStream(got, got, &counter, &key)
		want := make([]byte, 64*35)
		XORKeyStream(want, want, &zero, &key)
		if !bytes.Equal(got[64*5:], want) {
			t.Fatalf("keystream after the wrap is not block 0 onwards (differs at byte %d)", firstDiff(got[64*5:], want))
		}
	})
}
