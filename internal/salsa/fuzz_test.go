package salsa

import (
	"bytes"
	"testing"

	"golang.org/x/crypto/salsa20/salsa"
)

// FuzzXORKeyStream compares every supported path with x/crypto, out of place
// at a misaligned offset and in place.
func FuzzXORKeyStream(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 16), make([]byte, 1024), uint8(0))
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 16), make([]byte, 1600), uint8(3))
	f.Add([]byte("key"), []byte{8: 0xfe, 9: 0xff, 10: 0xff, 11: 0xff}, make([]byte, 4096+65), uint8(63))
	// Large inputs, as CURVE boxes them: whole 16- and 8-block groups
	// followed by every kind of remainder (one byte, a partial block, one
	// block short of a group, a group and a partial block), at odd
	// offsets, some across the 32-bit carry of the block number.
	for i, n := range []int{
		64 << 10, 64<<10 + 1, 64<<10 + 63, 64<<10 + 511, 64<<10 + 512 + 63,
		64<<10 + 1024 - 64, 64<<10 + 1024 + 513, 1 << 20, 1<<20 + 1023,
	} {
		counter := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		if i%2 == 1 {
			// 9 blocks before the carry: it lands inside the first group.
			counter = append(counter, 0xf7, 0xff, 0xff, 0xff, 0, 0, 0, 0)
		}
		f.Add(bytes.Repeat([]byte{byte(i)}, 32), counter, pattern(n), uint8(2*i+1))
	}
	f.Fuzz(func(t *testing.T, keyB, counterB, data []byte, offset uint8) {
		var key [32]byte
		var counter [16]byte
		copy(key[:], keyB)
		copy(counter[:], counterB)
		off := int(offset % 64)

		want := make([]byte, len(data))
		salsa.XORKeyStream(want, data, &counter, &key)

		for _, k := range allImpls {
			if !supported(k) {
				continue
			}
			restore := setImpl(k)
			out := make([]byte, off+len(data))[off:]
			XORKeyStream(out, data, &counter, &key)
			inPlace := append(make([]byte, 0, off+len(data)), make([]byte, off)...)
			inPlace = append(inPlace, data...)[off:]
			XORKeyStream(inPlace, inPlace, &counter, &key)
			restore()
			if !bytes.Equal(out, want) {
				t.Fatalf("%v: len %d offset %d: differs at byte %d", k, len(data), off, firstDiff(out, want))
			}
			if !bytes.Equal(inPlace, want) {
				t.Fatalf("%v in place: len %d offset %d: differs at byte %d", k, len(data), off, firstDiff(inPlace, want))
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
