//go:build amd64 && !purego

package salsa

import (
	"encoding/binary"

	"golang.org/x/crypto/salsa20/salsa"
	"golang.org/x/sys/cpu"
)

// xorKeyStreamAVX2 XORs n bytes (a multiple of 512) of keystream into out
// from in, starting at the block number in state[8:10], 8 blocks at a time.
// state is read only.
//
//go:noescape
func xorKeyStreamAVX2(out, in *byte, n int, state *[16]uint32)

// xorKeyStreamAVX512 is xorKeyStreamAVX2 with 16 blocks at a time; n is a
// multiple of 1024.
//
//go:noescape
func xorKeyStreamAVX512(out, in *byte, n int, state *[16]uint32)

func bestImpl() implKind {
	switch {
	case supported(implAVX512):
		return implAVX512
	case supported(implAVX2):
		return implAVX2
	}
	return implGeneric
}

// supported reports whether this build and CPU can run path k.
func supported(k implKind) bool {
	switch k {
	case implAVX2:
		return cpu.X86.HasAVX2
	case implAVX512:
		// Only AVX-512F instructions are used; AVX2 runs the 8-block
		// remainder.
		return cpu.X86.HasAVX512F && cpu.X86.HasAVX2
	}
	return true
}

func xorKeyStream(out, in []byte, counter *[16]byte, key *[32]byte) {
	k := impl
	if k == implGeneric || len(in) < 8*blockSize {
		salsa.XORKeyStream(out, in, counter, key)
		return
	}
	var state [16]uint32
	initState(&state, counter, key)
	done := 0
	if k == implAVX512 {
		if n := len(in) &^ (16*blockSize - 1); n > 0 {
			xorKeyStreamAVX512(&out[0], &in[0], n, &state)
			done = n
		}
	}
	// AVX2 takes what is left in whole 8-block groups (at most one group
	// after the AVX-512 path).
	if n := (len(in) - done) &^ (8*blockSize - 1); n > 0 {
		c := advance(counter, uint64(done/blockSize))
		state[8] = binary.LittleEndian.Uint32(c[8:])
		state[9] = binary.LittleEndian.Uint32(c[12:])
		xorKeyStreamAVX2(&out[done], &in[done], n, &state)
		done += n
	}
	if done < len(in) {
		c := advance(counter, uint64(done/blockSize))
		salsa.XORKeyStream(out[done:], in[done:], &c, key)
	}
}
