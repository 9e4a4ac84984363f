//go:build amd64 && !purego

package poly1305

import (
	"golang.org/x/crypto/poly1305"
	"golang.org/x/sys/cpu"
)

// minVector is the shortest message the vector path takes; below it the
// set-up (powers of r, lane sums) costs more than x/crypto's scalar loop.
const minVector = 1024

// avx2Table holds the multipliers for blocksAVX2, each limb broadcast or
// spread over the four 64-bit lanes of a YMM register: r0..r4 then 5*r1..5*r4.
type avx2Table struct {
	step  [9][4]uint64 // r^4 in every lane
	final [9][4]uint64 // per lane, the power that block position still needs
}

// blocksAVX2 runs Poly1305 over msg (a positive multiple of 64 bytes, all
// full blocks) from h = 0 in four lanes and leaves in h the lanes' partial
// sums, already multiplied by their final powers of r: h[i][j] is limb i of
// lane j, and the tag state is the sum over lanes.
//
//go:noescape
func blocksAVX2(h *[5][4]uint64, t *avx2Table, msg []byte)

func bestImpl() implKind {
	if supported(implAVX2) {
		return implAVX2
	}
	return implGeneric
}

// supported reports whether this build and CPU can run path k.
func supported(k implKind) bool {
	switch k {
	case implAVX2:
		return cpu.X86.HasAVX2
	}
	return true
}

func sum(k implKind, out *[16]byte, msg []byte, key *[32]byte) {
	if len(msg) < minVector {
		k = implGeneric
	}
	sumPath(k, out, msg, key)
}

// sumPath is sum without the short-message cut-over, so the tests can run
// each path on every length.
func sumPath(k implKind, out *[16]byte, msg []byte, key *[32]byte) {
	if k == implGeneric {
		poly1305.Sum(out, msg, key)
		return
	}
	r := loadR(key)
	var h elem
	n := len(msg) &^ 63
	if n > 0 {
		var t avx2Table
		setTable(&t, &r)
		var lanes [5][4]uint64
		blocksAVX2(&lanes, &t, msg[:n])
		for i := range h {
			h[i] = lanes[i][0] + lanes[i][1] + lanes[i][2] + lanes[i][3]
		}
		h.carry(h[0], h[1], h[2], h[3], h[4])
	}
	h.tail(&r, msg[n:])
	h.finish(out, key)
}

// setTable fills t from r. Loading a 64-byte chunk as two 32-byte halves and
// unpacking puts blocks 0, 2, 1, 3 in lanes 0..3; block j of the last chunk
// needs r^(4-j), so the final powers go r^4, r^2, r^3, r^1.
func setTable(t *avx2Table, r *elem) {
	r2 := *r
	r2.mul(r)
	// r^3 and r^4 both from r^2, so the two products overlap.
	r3, r4 := r2, r2
	r3.mul(r)
	r4.mul(&r2)
	// Whole rows, written at once, keep this short next to the vector work.
	for i := 0; i < 5; i++ {
		v := r4[i]
		t.step[i] = [4]uint64{v, v, v, v}
		t.final[i] = [4]uint64{r4[i], r2[i], r3[i], r[i]}
	}
	for i := 1; i < 5; i++ {
		v := 5 * r4[i]
		t.step[4+i] = [4]uint64{v, v, v, v}
		t.final[4+i] = [4]uint64{5 * r4[i], 5 * r2[i], 5 * r3[i], 5 * r[i]}
	}
}
