package poly1305

import (
	"bytes"
	"testing"

	"golang.org/x/crypto/poly1305"
)

// FuzzSum compares every supported path with x/crypto at a misaligned
// offset, both with and without the short-message cut-over.
func FuzzSum(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 1024), uint8(0))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 1600), uint8(3))
	f.Add([]byte("key"), make([]byte, 4096+65), uint8(63))
	// Large inputs, as CURVE authenticates them: whole 64-byte chunks of
	// the four lanes followed by every kind of tail (one byte, a partial
	// block, whole blocks short of a chunk), at odd offsets, with all-0xff
	// messages and keys (h stays near 2^130-5) and patterned ones.
	for i, n := range []int{
		64 << 10, 64<<10 + 1, 64<<10 + 15, 64<<10 + 16, 64<<10 + 17,
		64<<10 + 48, 64<<10 + 63, 1 << 20, 1<<20 + 33,
	} {
		key, msg := bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, n)
		if i%2 == 1 {
			key, msg = pattern(32 + i)[i:], pattern(n)
		}
		f.Add(key, msg, uint8(2*i+1))
	}
	f.Fuzz(func(t *testing.T, keyB, data []byte, offset uint8) {
		var key [32]byte
		copy(key[:], keyB)
		off := int(offset % 64)
		msg := append(make([]byte, off, off+len(data)), data...)[off:]

		var want, got [16]byte
		poly1305.Sum(&want, data, &key)
		for _, k := range allImpls {
			if !supported(k) {
				continue
			}
			sumPath(k, &got, msg, &key)
			if got != want {
				t.Fatalf("%v: len %d offset %d: got %x, want %x", k, len(data), off, got, want)
			}
			sum(k, &got, msg, &key)
			if got != want {
				t.Fatalf("sum with %v: len %d offset %d: got %x, want %x", k, len(data), off, got, want)
			}
		}
	})
}

// pattern returns n bytes that are neither zero nor periodic in a block.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}
