//go:build amd64 && !purego

#include "textflag.h"

// Sixteen Salsa20 blocks at a time: state word i is in Zi, whose lane j
// belongs to block j of the group. Z16-Z31 are free for temporaries and the
// transpose; with VPROLD a quarter-round step needs only one (Z16).

// dst ^= (x + y) <<< r
#define ADDROTXOR(x, y, dst, r) \
	VPADDD x, y, Z16      \
	VPROLD $r, Z16, Z16   \
	VPXORD Z16, dst, dst

// The Salsa20 quarter-round on (a, b, c, d).
#define QR(a, b, c, d)          \
	ADDROTXOR(a, d, b, 7)  \
	ADDROTXOR(b, a, c, 9)  \
	ADDROTXOR(c, b, d, 13) \
	ADDROTXOR(d, c, a, 18)

#define DOUBLEROUND            \
	QR(Z0, Z4, Z8, Z12)   \
	QR(Z5, Z9, Z13, Z1)   \
	QR(Z10, Z14, Z2, Z6)  \
	QR(Z15, Z3, Z7, Z11)  \
	QR(Z0, Z1, Z2, Z3)    \
	QR(Z5, Z6, Z7, Z4)    \
	QR(Z10, Z11, Z8, Z9)  \
	QR(Z15, Z12, Z13, Z14)

// The last step of the transpose. u0-u3 hold words 0-3, 4-7, 8-11 and 12-15
// of blocks k, k+4, k+8 and k+12 (one per 128-bit lane); their 128-bit lanes
// are regrouped into whole blocks, XORed with in and stored to out.
#define BLOCKS4(k, u0, u1, u2, u3)              \
	VSHUFI32X4 $0x88, u1, u0, Z16          \
	VSHUFI32X4 $0xDD, u1, u0, Z17          \
	VSHUFI32X4 $0x88, u3, u2, Z18          \
	VSHUFI32X4 $0xDD, u3, u2, Z19          \
	VSHUFI32X4 $0x88, Z18, Z16, Z20        \
	VSHUFI32X4 $0x88, Z19, Z17, Z21        \
	VSHUFI32X4 $0xDD, Z18, Z16, Z22        \
	VSHUFI32X4 $0xDD, Z19, Z17, Z23        \
	VPXORD     (64*k)(SI), Z20, Z20        \
	VPXORD     (64*(k+4))(SI), Z21, Z21    \
	VPXORD     (64*(k+8))(SI), Z22, Z22    \
	VPXORD     (64*(k+12))(SI), Z23, Z23   \
	VMOVDQU32  Z20, (64*k)(DI)             \
	VMOVDQU32  Z21, (64*(k+4))(DI)         \
	VMOVDQU32  Z22, (64*(k+8))(DI)         \
	VMOVDQU32  Z23, (64*(k+12))(DI)

// func xorKeyStreamAVX512(out, in *byte, n int, state *[16]uint32)
TEXT ·xorKeyStreamAVX512(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ state+24(FP), AX
	TESTQ CX, CX
	JZ   done

	// R8 = 64-bit number of the group's first block.
	MOVQ 32(AX), R8

	// Z31 = all ones (-1), subtracted to carry into the high word.
	VPTERNLOGD $0xff, Z31, Z31, Z31
	VMOVDQU32  lanes<>(SB), Z30

loop:
	// Words 8 and 9: lane j gets R8+j, carrying into the high word where
	// the low word wrapped (low+j < low, unsigned). Kept in Z28/Z29 for
	// the final addition.
	MOVQ         R8, X0
	VPBROADCASTD X0, Z17
	VPSRLQ       $32, X0, X0
	VPBROADCASTD X0, Z29
	VPADDD       Z30, Z17, Z28
	VPCMPUD      $1, Z17, Z28, K1
	VPSUBD       Z31, Z29, K1, Z29

	VPBROADCASTD 0(AX), Z0
	VPBROADCASTD 4(AX), Z1
	VPBROADCASTD 8(AX), Z2
	VPBROADCASTD 12(AX), Z3
	VPBROADCASTD 16(AX), Z4
	VPBROADCASTD 20(AX), Z5
	VPBROADCASTD 24(AX), Z6
	VPBROADCASTD 28(AX), Z7
	VMOVDQA32    Z28, Z8
	VMOVDQA32    Z29, Z9
	VPBROADCASTD 40(AX), Z10
	VPBROADCASTD 44(AX), Z11
	VPBROADCASTD 48(AX), Z12
	VPBROADCASTD 52(AX), Z13
	VPBROADCASTD 56(AX), Z14
	VPBROADCASTD 60(AX), Z15

	MOVQ $10, DX

rounds:
	DOUBLEROUND
	DECQ DX
	JNZ  rounds

	// Add the input words, broadcast straight from state.
	VPADDD.BCST 0(AX), Z0, Z0
	VPADDD.BCST 4(AX), Z1, Z1
	VPADDD.BCST 8(AX), Z2, Z2
	VPADDD.BCST 12(AX), Z3, Z3
	VPADDD.BCST 16(AX), Z4, Z4
	VPADDD.BCST 20(AX), Z5, Z5
	VPADDD.BCST 24(AX), Z6, Z6
	VPADDD.BCST 28(AX), Z7, Z7
	VPADDD      Z28, Z8, Z8
	VPADDD      Z29, Z9, Z9
	VPADDD.BCST 40(AX), Z10, Z10
	VPADDD.BCST 44(AX), Z11, Z11
	VPADDD.BCST 48(AX), Z12, Z12
	VPADDD.BCST 52(AX), Z13, Z13
	VPADDD.BCST 56(AX), Z14, Z14
	VPADDD.BCST 60(AX), Z15, Z15

	// Transpose, first interleaving pairs of words (Z16+i), then pairs of
	// pairs: afterwards Z(4g+k) holds words 4g..4g+3 of blocks k, k+4,
	// k+8, k+12 in its four 128-bit lanes.
	VPUNPCKLDQ  Z1, Z0, Z16
	VPUNPCKHDQ  Z1, Z0, Z17
	VPUNPCKLDQ  Z3, Z2, Z18
	VPUNPCKHDQ  Z3, Z2, Z19
	VPUNPCKLDQ  Z5, Z4, Z20
	VPUNPCKHDQ  Z5, Z4, Z21
	VPUNPCKLDQ  Z7, Z6, Z22
	VPUNPCKHDQ  Z7, Z6, Z23
	VPUNPCKLDQ  Z9, Z8, Z24
	VPUNPCKHDQ  Z9, Z8, Z25
	VPUNPCKLDQ  Z11, Z10, Z26
	VPUNPCKHDQ  Z11, Z10, Z27
	VPUNPCKLDQ  Z13, Z12, Z28
	VPUNPCKHDQ  Z13, Z12, Z29
	VPUNPCKLDQ  Z15, Z14, Z30
	VPUNPCKHDQ  Z15, Z14, Z31
	VPUNPCKLQDQ Z18, Z16, Z0
	VPUNPCKHQDQ Z18, Z16, Z1
	VPUNPCKLQDQ Z19, Z17, Z2
	VPUNPCKHQDQ Z19, Z17, Z3
	VPUNPCKLQDQ Z22, Z20, Z4
	VPUNPCKHQDQ Z22, Z20, Z5
	VPUNPCKLQDQ Z23, Z21, Z6
	VPUNPCKHQDQ Z23, Z21, Z7
	VPUNPCKLQDQ Z26, Z24, Z8
	VPUNPCKHQDQ Z26, Z24, Z9
	VPUNPCKLQDQ Z27, Z25, Z10
	VPUNPCKHQDQ Z27, Z25, Z11
	VPUNPCKLQDQ Z30, Z28, Z12
	VPUNPCKHQDQ Z30, Z28, Z13
	VPUNPCKLQDQ Z31, Z29, Z14
	VPUNPCKHQDQ Z31, Z29, Z15

	BLOCKS4(0, Z0, Z4, Z8, Z12)
	BLOCKS4(1, Z1, Z5, Z9, Z13)
	BLOCKS4(2, Z2, Z6, Z10, Z14)
	BLOCKS4(3, Z3, Z7, Z11, Z15)

	// The transpose used Z30 and Z31; restore them.
	VPTERNLOGD $0xff, Z31, Z31, Z31
	VMOVDQU32  lanes<>(SB), Z30

	ADDQ $16, R8
	ADDQ $1024, SI
	ADDQ $1024, DI
	SUBQ $1024, CX
	JNZ  loop

	VZEROUPPER

done:
	RET

// Lane numbers 0-15, added to the block number.
DATA lanes<>+0(SB)/4, $0
DATA lanes<>+4(SB)/4, $1
DATA lanes<>+8(SB)/4, $2
DATA lanes<>+12(SB)/4, $3
DATA lanes<>+16(SB)/4, $4
DATA lanes<>+20(SB)/4, $5
DATA lanes<>+24(SB)/4, $6
DATA lanes<>+28(SB)/4, $7
DATA lanes<>+32(SB)/4, $8
DATA lanes<>+36(SB)/4, $9
DATA lanes<>+40(SB)/4, $10
DATA lanes<>+44(SB)/4, $11
DATA lanes<>+48(SB)/4, $12
DATA lanes<>+52(SB)/4, $13
DATA lanes<>+56(SB)/4, $14
DATA lanes<>+60(SB)/4, $15
GLOBL lanes<>(SB), RODATA|NOPTR, $64
