//go:build amd64 && !purego

package salsa

import (
	"golang.org/x/crypto/salsa20/salsa"
	"golang.org/x/sys/cpu"
)

// xorKeyStreamAVX2 XORs n bytes (a multiple of 512) of keystream into out
// from in, starting at the block number in state[8:10], 8 blocks at a time.
// state is read only.
//
//go:noescape
func xorKeyStreamAVX2(out, in *byte, n int, state *[16]uint32)

func bestImpl() implKind {
	switch {
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
		return false
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
	done := len(in) &^ (8*blockSize - 1)
	xorKeyStreamAVX2(&out[0], &in[0], done, &state)
	if done < len(in) {
		c := advance(counter, uint64(done/blockSize))
		salsa.XORKeyStream(out[done:], in[done:], &c, key)
	}
}
