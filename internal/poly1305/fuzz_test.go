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
