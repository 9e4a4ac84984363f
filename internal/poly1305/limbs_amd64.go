//go:build amd64 && !purego

package poly1305

import (
	"encoding/binary"
	"math/bits"
)

// elem is a number mod 2^130-5 in five 26-bit limbs, value = sum e[i]<<(26*i).
// Limbs may exceed 26 bits a little between carries (the vector code keeps
// the same form), so elem is only canonical after finish.
type elem [5]uint64

const mask26 = 1<<26 - 1

// loadR returns the clamped r half of key.
func loadR(key *[32]byte) elem {
	lo := binary.LittleEndian.Uint64(key[0:]) & 0x0ffffffc0fffffff
	hi := binary.LittleEndian.Uint64(key[8:]) & 0x0ffffffc0ffffffc
	return split(lo, hi, 0)
}

// split cuts the 128-bit number hi:lo plus top<<128 into limbs.
func split(lo, hi, top uint64) elem {
	return elem{
		lo & mask26,
		lo >> 26 & mask26,
		(lo>>52 | hi<<12) & mask26,
		hi >> 14 & mask26,
		hi>>40 | top<<24,
	}
}

// addBlock adds a full 16-byte block with the 2^128 pad bit.
func (h *elem) addBlock(b []byte) {
	m := split(binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]), 1)
	for i := range h {
		h[i] += m[i]
	}
}

// mul sets h = h*r mod 2^130-5, partly carried. Inputs must be below about
// 2^28 per limb (products and their five-term sums then fit in 64 bits);
// the result limbs are below 2^26+2^11.
func (h *elem) mul(r *elem) {
	s1, s2, s3, s4 := 5*r[1], 5*r[2], 5*r[3], 5*r[4]
	// 2^130 = 5 mod p, so the limbs that wrap past limb 4 come back times 5.
	d0 := h[0]*r[0] + h[1]*s4 + h[2]*s3 + h[3]*s2 + h[4]*s1
	d1 := h[0]*r[1] + h[1]*r[0] + h[2]*s4 + h[3]*s3 + h[4]*s2
	d2 := h[0]*r[2] + h[1]*r[1] + h[2]*r[0] + h[3]*s4 + h[4]*s3
	d3 := h[0]*r[3] + h[1]*r[2] + h[2]*r[1] + h[3]*r[0] + h[4]*s4
	d4 := h[0]*r[4] + h[1]*r[3] + h[2]*r[2] + h[3]*r[1] + h[4]*r[0]
	h.carry(d0, d1, d2, d3, d4)
}

// carry brings d into h with one pass around the limbs, in the same order
// as the vector code.
func (h *elem) carry(d0, d1, d2, d3, d4 uint64) {
	d1 += d0 >> 26
	d0 &= mask26
	d4 += d3 >> 26
	d3 &= mask26
	d2 += d1 >> 26
	d1 &= mask26
	d0 += 5 * (d4 >> 26)
	d4 &= mask26
	d3 += d2 >> 26
	d2 &= mask26
	d1 += d0 >> 26
	d0 &= mask26
	d4 += d3 >> 26
	d3 &= mask26
	*h = elem{d0, d1, d2, d3, d4}
}

// tail runs the scalar rounds for the blocks of msg (fewer than a vector
// stride, in practice): full blocks with the pad bit, then a final partial
// block padded with a single 1 byte.
func (h *elem) tail(r *elem, msg []byte) {
	for ; len(msg) >= 16; msg = msg[16:] {
		h.addBlock(msg)
		h.mul(r)
	}
	if len(msg) > 0 {
		var b [16]byte
		copy(b[:], msg)
		b[len(msg)] = 1
		m := split(binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:]), 0)
		for i := range h {
			h[i] += m[i]
		}
		h.mul(r)
	}
}

// finish reduces h fully mod 2^130-5 and writes (h + s) mod 2^128, with s
// the second half of key. Limbs may be up to 2^32 each.
func (h *elem) finish(out *[16]byte, key *[32]byte) {
	// h as a 192-bit number w2:w1:w0.
	var w0, w1, w2, c uint64
	w0, c = bits.Add64(h[0], h[1]<<26, 0)
	w1 += c
	w0, c = bits.Add64(w0, h[2]<<52, 0)
	w1, w2 = bits.Add64(w1, h[2]>>12, c)
	w1, c = bits.Add64(w1, h[3]<<14, 0)
	w2 += c
	w1, c = bits.Add64(w1, h[4]<<40, 0)
	w2 += h[4]>>24 + c

	// Fold bits 130 and up back in times 5: h is then below 2^130+2^40,
	// well under 2p.
	top := w2 >> 2
	w2 &= 3
	w0, c = bits.Add64(w0, 5*top, 0)
	w1, c = bits.Add64(w1, 0, c)
	w2 += c

	// h >= p exactly when h+5 reaches 2^130; then h-p is h+5 without that
	// bit. Chosen by mask, not branch.
	g0, c := bits.Add64(w0, 5, 0)
	g1, c := bits.Add64(w1, 0, c)
	g2 := w2 + c
	useG := -(g2 >> 2)
	w0 = w0&^useG | g0&useG
	w1 = w1&^useG | g1&useG

	// Add s; the carry out of bit 128 is dropped.
	w0, c = bits.Add64(w0, binary.LittleEndian.Uint64(key[16:]), 0)
	w1, _ = bits.Add64(w1, binary.LittleEndian.Uint64(key[24:]), c)
	binary.LittleEndian.PutUint64(out[0:], w0)
	binary.LittleEndian.PutUint64(out[8:], w1)
}
