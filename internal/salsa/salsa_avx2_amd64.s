//go:build amd64 && !purego

#include "textflag.h"

// Eight Salsa20 blocks at a time: each of the 16 state words is a YMM
// register whose lane i belongs to block i of the group.
//
// Register plan for the rounds. Only 14 words fit next to the two temporaries
// T and U, so words 3, 7, 12 and 13 take turns in Y12 and Y13: 12 and 13 are
// in registers for the first three column quarter-rounds and the last row
// quarter-round, 3 and 7 for the rest; the other pair waits in its spill slot.
#define s0 Y0
#define s1 Y1
#define s2 Y2
#define s4 Y3
#define s5 Y4
#define s6 Y5
#define s8 Y6
#define s9 Y7
#define s10 Y8
#define s11 Y9
#define s14 Y10
#define s15 Y11
#define s12 Y12
#define s3 Y12
#define s13 Y13
#define s7 Y13
#define T Y14
#define U Y15

// Scratch (32-byte aligned, R9): the input words broadcast to all lanes
// (word i at 32*i), the spill slots, then the final words before transposing.
#define IN 0
#define SPILL3 512
#define SPILL7 544
#define SPILL12 576
#define SPILL13 608
#define OUT 640
// 1152 bytes, plus 32 for alignment: the frame is 1184.

// dst ^= (x + y) <<< r; AVX2 has no rotate, so shift both ways.
#define ADDROTXOR(x, y, dst, r) \
	VPADDD x, y, T        \
	VPSLLD $r, T, U       \
	VPSRLD $(32-r), T, T  \
	VPXOR  U, dst, dst    \
	VPXOR  T, dst, dst

// The Salsa20 quarter-round on (a, b, c, d).
#define QR(a, b, c, d)          \
	ADDROTXOR(a, d, b, 7)  \
	ADDROTXOR(b, a, c, 9)  \
	ADDROTXOR(c, b, d, 13) \
	ADDROTXOR(d, c, a, 18)

// A column round and a row round. Enters and leaves with 12 and 13 in
// registers and 3 and 7 in their slots.
#define DOUBLEROUND               \
	QR(s0, s4, s8, s12)      \
	QR(s5, s9, s13, s1)      \
	QR(s10, s14, s2, s6)     \
	VMOVDQA s12, SPILL12(R9) \
	VMOVDQA s13, SPILL13(R9) \
	VMOVDQA SPILL3(R9), s3   \
	VMOVDQA SPILL7(R9), s7   \
	QR(s15, s3, s7, s11)     \
	QR(s0, s1, s2, s3)       \
	QR(s5, s6, s7, s4)       \
	QR(s10, s11, s8, s9)     \
	VMOVDQA s3, SPILL3(R9)   \
	VMOVDQA s7, SPILL7(R9)   \
	VMOVDQA SPILL12(R9), s12 \
	VMOVDQA SPILL13(R9), s13 \
	QR(s15, s12, s13, s14)

// Broadcasts input word i of the state at AX into its scratch slot.
#define BCAST(i) \
	VPBROADCASTD (4*i)(AX), T \
	VMOVDQA      T, (IN+32*i)(R9)

// reg = final word i: the round output plus the input word.
#define FINAL(reg, i) \
	VPADDD  (IN+32*i)(R9), reg, reg \
	VMOVDQA reg, (OUT+32*i)(R9)

// Transposes eight final words (from scratch offset o) so that Y8+k holds
// the 32 bytes at offset h of block k, then XORs them with in into out.
#define TRANSPOSE_XOR(o, h)                \
	VMOVDQA     (o+0)(R9), Y0         \
	VMOVDQA     (o+32)(R9), Y1        \
	VMOVDQA     (o+64)(R9), Y2        \
	VMOVDQA     (o+96)(R9), Y3        \
	VMOVDQA     (o+128)(R9), Y4       \
	VMOVDQA     (o+160)(R9), Y5       \
	VMOVDQA     (o+192)(R9), Y6       \
	VMOVDQA     (o+224)(R9), Y7       \
	VPUNPCKLDQ  Y1, Y0, Y8 \
	VPUNPCKHDQ  Y1, Y0, Y9 \
	VPUNPCKLDQ  Y3, Y2, Y10           \
	VPUNPCKHDQ  Y3, Y2, Y11           \
	VPUNPCKLDQ  Y5, Y4, Y12           \
	VPUNPCKHDQ  Y5, Y4, Y13           \
	VPUNPCKLDQ  Y7, Y6, Y14           \
	VPUNPCKHDQ  Y7, Y6, Y15           \
	VPUNPCKLQDQ Y10, Y8, Y0 \
	VPUNPCKHQDQ Y10, Y8, Y1 \
	VPUNPCKLQDQ Y11, Y9, Y2 \
	VPUNPCKHQDQ Y11, Y9, Y3 \
	VPUNPCKLQDQ Y14, Y12, Y4 \
	VPUNPCKHQDQ Y14, Y12, Y5          \
	VPUNPCKLQDQ Y15, Y13, Y6          \
	VPUNPCKHQDQ Y15, Y13, Y7          \
	VPERM2I128  $0x20, Y4, Y0, Y8 \
	VPERM2I128  $0x20, Y5, Y1, Y9     \
	VPERM2I128  $0x20, Y6, Y2, Y10    \
	VPERM2I128  $0x20, Y7, Y3, Y11    \
	VPERM2I128  $0x31, Y4, Y0, Y12 \
	VPERM2I128  $0x31, Y5, Y1, Y13    \
	VPERM2I128  $0x31, Y6, Y2, Y14    \
	VPERM2I128  $0x31, Y7, Y3, Y15    \
	VPXOR       (h+0)(SI), Y8, Y8     \
	VPXOR       (h+64)(SI), Y9, Y9    \
	VPXOR       (h+128)(SI), Y10, Y10 \
	VPXOR       (h+192)(SI), Y11, Y11 \
	VPXOR       (h+256)(SI), Y12, Y12 \
	VPXOR       (h+320)(SI), Y13, Y13 \
	VPXOR       (h+384)(SI), Y14, Y14 \
	VPXOR       (h+448)(SI), Y15, Y15 \
	VMOVDQU     Y8, (h+0)(DI)         \
	VMOVDQU     Y9, (h+64)(DI)        \
	VMOVDQU     Y10, (h+128)(DI)      \
	VMOVDQU     Y11, (h+192)(DI)      \
	VMOVDQU     Y12, (h+256)(DI)      \
	VMOVDQU     Y13, (h+320)(DI)      \
	VMOVDQU     Y14, (h+384)(DI)      \
	VMOVDQU     Y15, (h+448)(DI)

// func xorKeyStreamAVX2(out, in *byte, n int, state *[16]uint32)
TEXT ·xorKeyStreamAVX2(SB), 0, $1184-32
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ state+24(FP), AX
	TESTQ CX, CX
	JZ   done

	// R9 = scratch rounded up to 32 bytes for VMOVDQA.
	MOVQ SP, R9
	ADDQ $31, R9
	ANDQ $~31, R9

	BCAST(0)
	BCAST(1)
	BCAST(2)
	BCAST(3)
	BCAST(4)
	BCAST(5)
	BCAST(6)
	BCAST(7)
	BCAST(10)
	BCAST(11)
	BCAST(12)
	BCAST(13)
	BCAST(14)
	BCAST(15)

	// R8 = 64-bit number of the group's first block.
	MOVQ 32(AX), R8

	// Y15 = 0x80000000 in every lane, to compare unsigned with VPCMPGTD.
	VPCMPEQD Y15, Y15, Y15
	VPSLLD   $31, Y15, Y15

loop:
	// Words 8 and 9: lane i gets R8+i, carrying into the high word where
	// the low word wrapped (low+i < low, unsigned).
	MOVQ         R8, X0
	VPBROADCASTD X0, Y1               // low
	VPSRLQ       $32, X0, X0
	VPBROADCASTD X0, Y2               // high
	VPADDD       lanes<>(SB), Y1, Y3  // low + i
	VPXOR        Y15, Y1, Y4
	VPXOR        Y15, Y3, Y5
	VPCMPGTD     Y5, Y4, Y4           // -1 where low > low+i
	VPSUBD       Y4, Y2, Y2
	VMOVDQA      Y3, (IN+256)(R9)
	VMOVDQA      Y2, (IN+288)(R9)

	VMOVDQA (IN+0)(R9), s0
	VMOVDQA (IN+32)(R9), s1
	VMOVDQA (IN+64)(R9), s2
	VMOVDQA (IN+96)(R9), T
	VMOVDQA T, SPILL3(R9)
	VMOVDQA (IN+128)(R9), s4
	VMOVDQA (IN+160)(R9), s5
	VMOVDQA (IN+192)(R9), s6
	VMOVDQA (IN+224)(R9), T
	VMOVDQA T, SPILL7(R9)
	VMOVDQA (IN+256)(R9), s8
	VMOVDQA (IN+288)(R9), s9
	VMOVDQA (IN+320)(R9), s10
	VMOVDQA (IN+352)(R9), s11
	VMOVDQA (IN+384)(R9), s12
	VMOVDQA (IN+416)(R9), s13
	VMOVDQA (IN+448)(R9), s14
	VMOVDQA (IN+480)(R9), s15

	MOVQ $10, DX

rounds:
	DOUBLEROUND
	DECQ DX
	JNZ  rounds

	FINAL(s0, 0)
	FINAL(s1, 1)
	FINAL(s2, 2)
	FINAL(s4, 4)
	FINAL(s5, 5)
	FINAL(s6, 6)
	FINAL(s8, 8)
	FINAL(s9, 9)
	FINAL(s10, 10)
	FINAL(s11, 11)
	FINAL(s12, 12)
	FINAL(s13, 13)
	FINAL(s14, 14)
	FINAL(s15, 15)
	VMOVDQA SPILL3(R9), T
	FINAL(T, 3)
	VMOVDQA SPILL7(R9), T
	FINAL(T, 7)

	TRANSPOSE_XOR(OUT, 0)
	TRANSPOSE_XOR(OUT+256, 32)

	// The transpose used Y15; restore the sign-bit constant.
	VPCMPEQD Y15, Y15, Y15
	VPSLLD   $31, Y15, Y15

	ADDQ $8, R8
	ADDQ $512, SI
	ADDQ $512, DI
	SUBQ $512, CX
	JNZ  loop

	VZEROUPPER

done:
	RET

// Lane numbers 0-7, added to the block number.
DATA lanes<>+0(SB)/4, $0
DATA lanes<>+4(SB)/4, $1
DATA lanes<>+8(SB)/4, $2
DATA lanes<>+12(SB)/4, $3
DATA lanes<>+16(SB)/4, $4
DATA lanes<>+20(SB)/4, $5
DATA lanes<>+24(SB)/4, $6
DATA lanes<>+28(SB)/4, $7
GLOBL lanes<>(SB), RODATA|NOPTR, $32
