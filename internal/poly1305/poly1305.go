// Package poly1305 computes one-shot Poly1305 tags (RFC 8439 section 2.5)
// with SIMD code for long messages where the CPU allows it. It gives the
// same results as golang.org/x/crypto/poly1305.Sum, which it uses for short
// messages and on CPUs or architectures without a vector path.
//
// On amd64 the path is picked once, at start-up, from the CPU's features as
// golang.org/x/sys/cpu reports them: four lanes in AVX2 registers for
// messages of 1 KiB and more, x/crypto otherwise.
//
// The assembly can be switched off:
//
//   - at run time, GODEBUG=cpu.avx2=off leaves x/crypto's path (its scalar
//     assembly on amd64). The setting is read once, when the program
//     starts, and the rest of the program (the standard library, x/crypto,
//     internal/salsa) sees the CPU the same way.
//   - at build time, -tags purego leaves this package's assembly out, and
//     x/crypto's too: Poly1305 is then plain Go.
//
// Each step down costs speed on long messages only. On an AVX2 machine,
// one core, in MB/s at 64 KiB: AVX2 about 6,000, x/crypto 3,300, purego
// 2,600. docs/PERFORMANCE.md has the figures.
package poly1305

import "crypto/subtle"

// TagSize is the size in bytes of a Poly1305 tag.
const TagSize = 16

// implKind names a code path. Which one runs is kept in impl so that the
// tests can force each path the CPU supports.
type implKind int

const (
	implGeneric implKind = iota // x/crypto
	implAVX2                    // 4 blocks per iteration, 26-bit limbs
)

func (k implKind) String() string {
	switch k {
	case implAVX2:
		return "avx2"
	}
	return "generic"
}

// impl is the path Sum takes for long messages; set once at init from the
// CPU features, overridden only by tests.
var impl = bestImpl()

// Sum computes the Poly1305 tag of msg under the one-time key. The key must
// not be used for any other message.
func Sum(out *[16]byte, msg []byte, key *[32]byte) {
	sum(impl, out, msg, key)
}

// Verify reports whether mac is the tag of msg under key, in constant time.
func Verify(mac *[16]byte, msg []byte, key *[32]byte) bool {
	var tag [16]byte
	Sum(&tag, msg, key)
	return subtle.ConstantTimeCompare(tag[:], mac[:]) == 1
}
