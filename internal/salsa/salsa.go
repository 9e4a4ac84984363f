// Package salsa computes the Salsa20/20 keystream with SIMD code where the
// CPU allows it. It is a drop-in replacement for
// golang.org/x/crypto/salsa20/salsa.XORKeyStream, which it also uses for
// short tails and on CPUs or architectures without a vector path.
//
// On amd64 the path is picked once, at start-up, from the CPU's features as
// golang.org/x/sys/cpu reports them: 16 blocks at a time with AVX-512F
// (and AVX2), 8 at a time with AVX2, x/crypto otherwise. Inputs shorter
// than 8 blocks always go to x/crypto.
//
// The assembly can be switched off:
//
//   - at run time, GODEBUG=cpu.avx512f=off leaves the AVX2 path, and
//     GODEBUG=cpu.avx512f=off,cpu.avx2=off leaves x/crypto's (its SSE2
//     assembly on amd64). The setting is read once, when the program
//     starts, and the rest of the program (the standard library, x/crypto)
//     sees the CPU the same way.
//   - at build time, -tags purego leaves this package's assembly out, and
//     x/crypto's too: Salsa20 is then plain Go.
//
// Each step down costs speed on large inputs only. On an AVX-512 machine,
// one core, in MB/s at 64 KiB: AVX-512 about 6,300, AVX2 2,500, x/crypto
// 1,000, purego 450; sealing or opening a 64 KiB CURVE MESSAGE (Salsa20
// and Poly1305) then takes about 22, 38, 90 and 175 µs. Messages of a few
// hundred bytes cost the same on every path. docs/PERFORMANCE.md has the
// figures.
package salsa

import "encoding/binary"

// Salsa20 works on 64-byte blocks.
const blockSize = 64

// implKind names a code path. Which one runs is kept in impl so that the
// tests can force each path the CPU supports.
type implKind int

const (
	implGeneric implKind = iota // x/crypto
	implAVX2                    // 8 blocks per iteration
	implAVX512                  // 16 blocks per iteration
)

func (k implKind) String() string {
	switch k {
	case implAVX2:
		return "avx2"
	case implAVX512:
		return "avx512"
	}
	return "generic"
}

// impl is the path XORKeyStream takes; set once at init from the CPU
// features, overridden only by tests.
var impl = bestImpl()

// XORKeyStream XORs in with the Salsa20/20 keystream of key and counter into
// out. counter[0:8] is the nonce and counter[8:16] the little-endian 64-bit
// number of the first block; counter is not modified. out and in may be the
// same slice but must not otherwise overlap. It panics if out is shorter
// than in.
func XORKeyStream(out, in []byte, counter *[16]byte, key *[32]byte) {
	if len(in) == 0 {
		return
	}
	_ = out[len(in)-1] // same panic as x/crypto
	xorKeyStream(out[:len(in)], in, counter, key)
}

// initState lays out the 16 input words of the Salsa20 block function:
// constants at 0, 5, 10, 15, key at 1-4 and 11-14, nonce at 6-7 and the
// block number at 8-9.
func initState(s *[16]uint32, counter *[16]byte, key *[32]byte) {
	s[0] = 0x61707865  // "expa"
	s[5] = 0x3320646e  // "nd 3"
	s[10] = 0x79622d32 // "2-by"
	s[15] = 0x6b206574 // "te k"
	for i := 0; i < 4; i++ {
		s[1+i] = binary.LittleEndian.Uint32(key[4*i:])
		s[11+i] = binary.LittleEndian.Uint32(key[16+4*i:])
	}
	s[6] = binary.LittleEndian.Uint32(counter[0:])
	s[7] = binary.LittleEndian.Uint32(counter[4:])
	s[8] = binary.LittleEndian.Uint32(counter[8:])
	s[9] = binary.LittleEndian.Uint32(counter[12:])
}

// advance returns counter with its block number moved on by blocks, wrapping
// at 2^64 like x/crypto.
func advance(counter *[16]byte, blocks uint64) [16]byte {
	c := *counter
	n := binary.LittleEndian.Uint64(c[8:]) + blocks
	binary.LittleEndian.PutUint64(c[8:], n)
	return c
}
