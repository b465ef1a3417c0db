//go:build ignore

// gen_arm64 writes block_arm64.s: MD5 block functions on NEON (Advanced
// SIMD, part of every arm64 CPU). A 128-bit register holds one state word
// of four lanes; the 8-lane kernel runs two such chains of four lanes side
// by side and the 16-lane kernel four, so that the steps of independent
// chains fill the time each step waits on the one before it. Run with go
// generate.
package main

import (
	"bytes"
	"fmt"
	"os"
)

var out bytes.Buffer

func emit(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }

var shifts = [4][4]int{{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}}

var consts = [64]uint32{
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
}

// msgIndex is the message word step i of MD5 reads.
func msgIndex(i int) int {
	switch i / 16 {
	case 0:
		return i
	case 1:
		return (5*i + 1) % 16
	case 2:
		return (3*i + 5) % 16
	}
	return 7 * i % 16
}

// Registers. General: R0 state, R1 ptrs, R2 blocks left, R3 scratch,
// R4 byte offset of the current block, R5-R9 addresses, R10 constants.
// Vector: state word w of chain c in V(4w+c) (a word's chains are
// consecutive, so one VLD1/VST1 moves them); during the steps message
// words in V16-V19, round function values in V20-V23, rotations in
// V24-V27, the step constant in V28, all ones in V29. The transposes use
// V16-V27 before the steps.
func st(w, c int) int { return 4*w + c }

// regList is "[Va.S4, ...]" for the chains' registers from base.
func regList(base, chains int) string {
	s := "["
	for c := 0; c < chains; c++ {
		if c > 0 {
			s += ", "
		}
		s += fmt.Sprintf("V%d.S4", base+c)
	}
	return s + "]"
}

// transpose loads words 0-15 of the four lanes of chain c (at ptrs[4c+i]
// + R4) and stores them transposed: scratch row w holds word w of every
// lane, chain c's four lanes at byte 16c of the row.
func transpose(c int) {
	for i := 0; i < 4; i++ {
		emit("MOVD %d(R1), R%d", 8*(4*c+i), 5+i)
		emit("ADD R4, R%d, R%d", 5+i, 5+i)
	}
	for w := 0; w < 16; w += 4 {
		// Rows: lane i's words w..w+3 in V16+i.
		for i := 0; i < 4; i++ {
			emit("VLD1.P 16(R%d), [V%d.S4]", 5+i, 16+i)
		}
		// t0 = {r0[0] r1[0] r0[2] r1[2]}, t1 = {r0[1] r1[1] r0[3] r1[3]},
		// t2, t3 likewise from r2, r3; then 64-bit halves make columns.
		emit("VTRN1 V17.S4, V16.S4, V20.S4")
		emit("VTRN2 V17.S4, V16.S4, V21.S4")
		emit("VTRN1 V19.S4, V18.S4, V22.S4")
		emit("VTRN2 V19.S4, V18.S4, V23.S4")
		emit("VTRN1 V22.D2, V20.D2, V24.D2") // word w
		emit("VTRN1 V23.D2, V21.D2, V25.D2") // word w+1
		emit("VTRN2 V22.D2, V20.D2, V26.D2") // word w+2
		emit("VTRN2 V23.D2, V21.D2, V27.D2") // word w+3
		for j := 0; j < 4; j++ {
			emit("ADD $%d, R3, R9", 64*(w+j)+16*c)
			emit("VST1 [V%d.S4], (R9)", 24+j)
		}
	}
}

func kernel(name string, chains int) {
	fmt.Fprintf(&out, "// func %s(state *[4][16]uint32, ptrs *[16]*byte, n int, scratch *[16][16]uint32)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	emit("MOVD state+0(FP), R0")
	emit("MOVD ptrs+8(FP), R1")
	emit("MOVD n+16(FP), R2")
	emit("MOVD scratch+24(FP), R3")
	emit("CBZ R2, done_%s", name)
	emit("MOVD ZR, R4")
	emit("MOVW $-1, R10")
	emit("VDUP R10, V29.S4")
	for w := 0; w < 4; w++ {
		emit("ADD $%d, R0, R9", 64*w)
		emit("VLD1 (R9), %s", regList(st(w, 0), chains))
	}
	fmt.Fprintf(&out, "loop_%s:\n", name)
	for c := 0; c < chains; c++ {
		transpose(c)
	}
	roles := [4]int{0, 1, 2, 3} // the state words acting as a, b, c, d
	each := func(format string, args func(c int) []any) {
		for c := 0; c < chains; c++ {
			emit(format, args(c)...)
		}
	}
	for i := 0; i < 64; i++ {
		a, b, cc, d := roles[0], roles[1], roles[2], roles[3]
		s := shifts[i/16][i%4]
		emit("MOVW $0x%08x, R10", consts[i])
		emit("VDUP R10, V28.S4")
		emit("ADD $%d, R3, R9", 64*msgIndex(i))
		emit("VLD1 (R9), %s", regList(16, chains))
		switch i / 16 {
		case 0: // F = b ? c : d
			each("VMOV V%d.B16, V%d.B16", func(c int) []any { return []any{st(b, c), 20 + c} })
			each("VBSL V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{st(d, c), st(cc, c), 20 + c} })
		case 1: // G = d ? b : c
			each("VMOV V%d.B16, V%d.B16", func(c int) []any { return []any{st(d, c), 20 + c} })
			each("VBSL V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{st(cc, c), st(b, c), 20 + c} })
		case 2: // H = b ^ c ^ d
			each("VEOR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{st(cc, c), st(b, c), 20 + c} })
			each("VEOR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{st(d, c), 20 + c, 20 + c} })
		default: // I = c ^ (b | ^d)
			each("VEOR V29.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{st(d, c), 20 + c} })
			each("VORR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{st(b, c), 20 + c, 20 + c} })
			each("VEOR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{st(cc, c), 20 + c, 20 + c} })
		}
		each("VADD V28.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{st(a, c), st(a, c)} })
		each("VADD V%d.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{16 + c, st(a, c), st(a, c)} })
		each("VADD V%d.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{20 + c, st(a, c), st(a, c)} })
		each("VSHL $%d, V%d.S4, V%d.S4", func(c int) []any { return []any{s, st(a, c), 24 + c} })
		each("VSRI $%d, V%d.S4, V%d.S4", func(c int) []any { return []any{32 - s, st(a, c), 24 + c} })
		each("VADD V%d.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{24 + c, st(b, c), st(a, c)} })
		roles = [4]int{d, a, b, cc}
	}
	// 64 steps rotate the roles back: word w is in V(4w+c) again. Add the
	// state from before the block (still in memory) and store the sum.
	for w := 0; w < 4; w++ {
		emit("ADD $%d, R0, R9", 64*w)
		emit("VLD1 (R9), %s", regList(16, chains))
		for c := 0; c < chains; c++ {
			emit("VADD V%d.S4, V%d.S4, V%d.S4", 16+c, st(w, c), st(w, c))
		}
		emit("VST1 %s, (R9)", regList(st(w, 0), chains))
	}
	emit("ADD $64, R4, R4")
	emit("SUBS $1, R2, R2")
	emit("BNE loop_%s", name)
	fmt.Fprintf(&out, "done_%s:\n", name)
	emit("RET")
	out.WriteString("\n")
}

func main() {
	out.WriteString("// Code generated by gen_arm64.go; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n\n")
	kernel("block8NEON", 2)
	kernel("block16NEON", 4)
	if err := os.WriteFile("block_arm64.s", out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
