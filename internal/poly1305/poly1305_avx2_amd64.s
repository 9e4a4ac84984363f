//go:build amd64 && !purego

#include "textflag.h"

// Four Poly1305 lanes in radix 2^26: limb i of the four lane accumulators
// is one YMM register, a 64-bit lane each, so VPMULUDQ (32x32->64 bits)
// does four limb products at once. Each 64-byte chunk adds one block to
// every lane; between chunks every lane is multiplied by r^4, and the last
// chunk multiplies lane j by the power of r its block position still needs.
//
// Register plan:
//   Y0-Y4   accumulator limbs h0..h4
//   Y5-Y9   products d0..d4 while multiplying
//   Y10-Y13 message words and carries (scratch)
//   Y14     2^24 in every lane: the 2^128 pad bit as seen by limb 4
//   Y15     2^26-1 in every lane
//   SI      table: r0..r4 at 0..128, 5*r1..5*r4 at 160..256 (32 bytes each)
#define H0 Y0
#define H1 Y1
#define H2 Y2
#define H3 Y3
#define H4 Y4
#define D0 Y5
#define D1 Y6
#define D2 Y7
#define D3 Y8
#define D4 Y9
#define T0 Y10
#define T1 Y11
#define LO Y12
#define HI Y13
#define PAD Y14
#define MASK Y15

#define R0 0
#define R1 32
#define R2 64
#define R3 96
#define R4 128
#define S1 160
#define S2 192
#define S3 224
#define S4 256

// The final-power table follows the r^4 table in avx2Table.
#define FINAL 288

// ADDMSG adds the four 16-byte blocks at (p) to the lanes. Unpacking the
// two 32-byte halves gives the low (LO) and high (HI) 8 bytes of blocks 0,
// 2, 1, 3. Limbs are bits 0..25, 26..51, 52..77 (straddling LO and HI),
// 78..103 and 104..127 with the pad bit.
#define ADDMSG(p) \
	VMOVDQU     (p), T0;         \
	VMOVDQU     32(p), T1;       \
	VPUNPCKLQDQ T1, T0, LO;      \
	VPUNPCKHQDQ T1, T0, HI;      \
	VPAND       MASK, LO, T0;    \
	VPADDQ      T0, H0, H0;      \
	VPSRLQ      $26, LO, T0;     \
	VPAND       MASK, T0, T0;    \
	VPADDQ      T0, H1, H1;      \
	VPSRLQ      $52, LO, T0;     \
	VPSLLQ      $12, HI, T1;     \
	VPOR        T1, T0, T0;      \
	VPAND       MASK, T0, T0;    \
	VPADDQ      T0, H2, H2;      \
	VPSRLQ      $14, HI, T0;     \
	VPAND       MASK, T0, T0;    \
	VPADDQ      T0, H3, H3;      \
	VPSRLQ      $40, HI, T0;     \
	VPOR        PAD, T0, T0;     \
	VPADDQ      T0, H4, H4

// MULACC adds h*m (m from the table at off(t)) to d.
#define MULACC(t, off, h, d) \
	VPMULUDQ off(t), h, T0; \
	VPADDQ   T0, d, d

// MULR sets H = H * (table at t), carried so every limb is below 2^26+2^11.
// Limbs that pass 2^130 come back times 5, hence the 5*r entries.
#define MULR(t) \
	VPMULUDQ R0(t), H0, D0;  \
	VPMULUDQ R1(t), H0, D1;  \
	VPMULUDQ R2(t), H0, D2;  \
	VPMULUDQ R3(t), H0, D3;  \
	VPMULUDQ R4(t), H0, D4;  \
	MULACC(t, S4, H1, D0);   \
	MULACC(t, R0, H1, D1);   \
	MULACC(t, R1, H1, D2);   \
	MULACC(t, R2, H1, D3);   \
	MULACC(t, R3, H1, D4);   \
	MULACC(t, S3, H2, D0);   \
	MULACC(t, S4, H2, D1);   \
	MULACC(t, R0, H2, D2);   \
	MULACC(t, R1, H2, D3);   \
	MULACC(t, R2, H2, D4);   \
	MULACC(t, S2, H3, D0);   \
	MULACC(t, S3, H3, D1);   \
	MULACC(t, S4, H3, D2);   \
	MULACC(t, R0, H3, D3);   \
	MULACC(t, R1, H3, D4);   \
	MULACC(t, S1, H4, D0);   \
	MULACC(t, S2, H4, D1);   \
	MULACC(t, S3, H4, D2);   \
	MULACC(t, S4, H4, D3);   \
	MULACC(t, R0, H4, D4);   \
	CARRY

// CARRY moves D back into H in two interleaved chains, d0->d1->d2->d3->d4
// and d3->d4->(times 5)d0->d1, so the latency is four steps, not seven.
#define CARRY \
	VPSRLQ $26, D0, T0;   \
	VPSRLQ $26, D3, T1;   \
	VPAND  MASK, D0, H0;  \
	VPAND  MASK, D3, H3;  \
	VPADDQ T0, D1, D1;    \
	VPADDQ T1, D4, D4;    \
	VPSRLQ $26, D1, T0;   \
	VPSRLQ $26, D4, T1;   \
	VPAND  MASK, D1, H1;  \
	VPAND  MASK, D4, H4;  \
	VPADDQ T0, D2, D2;    \
	VPADDQ T1, H0, H0;    \
	VPSLLQ $2, T1, T1;    \
	VPADDQ T1, H0, H0;    \
	VPSRLQ $26, D2, T0;   \
	VPSRLQ $26, H0, T1;   \
	VPAND  MASK, D2, H2;  \
	VPAND  MASK, H0, H0;  \
	VPADDQ T0, H3, H3;    \
	VPADDQ T1, H1, H1;    \
	VPSRLQ $26, H3, T0;   \
	VPAND  MASK, H3, H3;  \
	VPADDQ T0, H4, H4

// func blocksAVX2(h *[5][4]uint64, t *avx2Table, msg []byte)
TEXT ·blocksAVX2(SB), NOSPLIT, $0-40
	MOVQ h+0(FP), DI
	MOVQ t+8(FP), SI
	MOVQ msg_base+16(FP), DX
	MOVQ msg_len+24(FP), CX

	VPXOR H0, H0, H0
	VPXOR H1, H1, H1
	VPXOR H2, H2, H2
	VPXOR H3, H3, H3
	VPXOR H4, H4, H4
	VPCMPEQQ MASK, MASK, MASK
	VPSRLQ   $63, MASK, PAD
	VPSLLQ   $24, PAD, PAD
	VPSRLQ   $38, MASK, MASK

	LEAQ FINAL(SI), AX
	SUBQ $64, CX
	JZ   last

loop:
	ADDMSG(DX)
	MULR(SI)
	ADDQ $64, DX
	SUBQ $64, CX
	JNZ  loop

last:
	ADDMSG(DX)
	MULR(AX)

	VMOVDQU H0, 0(DI)
	VMOVDQU H1, 32(DI)
	VMOVDQU H2, 64(DI)
	VMOVDQU H3, 96(DI)
	VMOVDQU H4, 128(DI)
	VZEROUPPER
	RET
