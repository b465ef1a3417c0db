//go:build ignore

// gen writes the MD5 block functions. block8_amd64.s: two advance 8 lanes
// on 256-bit registers, one with AVX2 and one with AVX-512VL (VPROLD
// rotations, VPTERNLOGD round functions); the third advances 16 lanes on
// 512-bit registers. block_arm64.s: NEON (Advanced SIMD, part of every
// arm64 CPU), where a 128-bit register holds one state word of four
// lanes; the 8-lane kernel runs two such chains of four lanes side by
// side and the 16-lane kernel four, so that the steps of independent
// chains fill the time each step waits on the one before it. Run with go
// generate.
package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
)

var out bytes.Buffer

func emit(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }

// The lane pointers: eight general registers, advanced 64 bytes a block.
var lanePtrs = []string{"AX", "BX", "R8", "R9", "R10", "R11", "R12", "R13"}

var shifts = [4][4]int{{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}}

// ternary returns the VPTERNLOGD immediate of f(dst, src2, src3).
func ternary(f func(a, b, c int) int) int {
	imm := 0
	for i := 0; i < 8; i++ {
		if f(i>>2&1, i>>1&1, i&1)&1 == 1 {
			imm |= 1 << i
		}
	}
	return imm
}

// transpose turns eight rows (lane i's words w..w+7, loaded by load(i, w)
// into Y<i>) into eight columns (word w+j of the eight lanes), stored at
// scratch (DX) + store(w+j).
func transpose(w int, load func(i, w int), store func(word int) int) {
	for i := 0; i < 8; i++ {
		load(i, w)
	}
	// 32-bit interleave of row pairs: T in Y8..Y15.
	for i := 0; i < 4; i++ {
		emit("VPUNPCKLDQ Y%d, Y%d, Y%d", 2*i+1, 2*i, 8+2*i)
		emit("VPUNPCKHDQ Y%d, Y%d, Y%d", 2*i+1, 2*i, 9+2*i)
	}
	// 64-bit interleave: S in Y0..Y7. S0,S1 from T0,T2; S2,S3 from T1,T3;
	// S4,S5 from T4,T6; S6,S7 from T5,T7.
	pairs := [][2]int{{8, 10}, {9, 11}, {12, 14}, {13, 15}}
	for i, pr := range pairs {
		emit("VPUNPCKLQDQ Y%d, Y%d, Y%d", pr[1], pr[0], 2*i)
		emit("VPUNPCKHQDQ Y%d, Y%d, Y%d", pr[1], pr[0], 2*i+1)
	}
	// 128-bit halves: word j = S_j.lo|S_{j+4}.lo, word j+4 = S_j.hi|S_{j+4}.hi.
	for j := 0; j < 4; j++ {
		emit("VPERM2I128 $0x20, Y%d, Y%d, Y%d", j+4, j, 8+j)
		emit("VPERM2I128 $0x31, Y%d, Y%d, Y%d", j+4, j, 12+j)
	}
	for j := 0; j < 4; j++ {
		emit("VMOVDQU Y%d, %d(DX)", 8+j, store(w+j))
		emit("VMOVDQU Y%d, %d(DX)", 12+j, store(w+j+4))
	}
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

// roundFuncs are F, G, H and I as functions of (b, c, d), for VPTERNLOGD.
var roundFuncs = []func(x, y, z int) int{
	func(x, y, z int) int { return x&y | ^x&z },
	func(x, y, z int) int { return x&z | y&^z },
	func(x, y, z int) int { return x ^ y ^ z },
	func(x, y, z int) int { return y ^ (x | ^z) },
}

// kernel16 is the 16-lane AVX-512 kernel: two 8-lane transposes fill the
// two halves of each 512-bit message word; state in Z16..Z19, T in Z20.
// The lane pointers stay in memory (ptrs, SI), offset by R8.
func kernel16(name string) {
	fmt.Fprintf(&out, "// func %s(state *[4][16]uint32, ptrs *[16]*byte, n int, scratch *[16][16]uint32)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	emit("MOVQ state+0(FP), DI")
	emit("MOVQ ptrs+8(FP), SI")
	emit("MOVQ n+16(FP), CX")
	emit("MOVQ scratch+24(FP), DX")
	emit("XORQ R8, R8")
	emit("TESTQ CX, CX")
	emit("JZ done_%s", name)
	fmt.Fprintf(&out, "loop_%s:\n", name)
	for g := 0; g < 2; g++ {
		for _, w := range []int{0, 8} {
			transpose(w, func(i, w int) {
				emit("MOVQ %d(SI), AX", 8*(8*g+i))
				emit("VMOVDQU %d(AX)(R8*1), Y%d", 4*w, i)
			}, func(word int) int { return 64*word + 32*g })
		}
	}
	for i := 0; i < 4; i++ {
		emit("VMOVDQU32 %d(DI), Z%d", 64*i, 16+i)
	}
	regs := [4]int{16, 17, 18, 19}
	for i := 0; i < 64; i++ {
		a, b, c, d := regs[0], regs[1], regs[2], regs[3]
		emit("VPADDD.BCST k<>+%d(SB), Z%d, Z%d", 32*i, a, a)
		emit("VPADDD %d(DX), Z%d, Z%d", 64*msgIndex(i), a, a)
		emit("VMOVDQA32 Z%d, Z20", b)
		emit("VPTERNLOGD $0x%02x, Z%d, Z%d, Z20", ternary(roundFuncs[i/16]), d, c)
		emit("VPADDD Z20, Z%d, Z%d", a, a)
		emit("VPROLD $%d, Z%d, Z%d", shifts[i/16][i%4], a, a)
		emit("VPADDD Z%d, Z%d, Z%d", b, a, a)
		regs = [4]int{d, a, b, c}
	}
	for i := 0; i < 4; i++ {
		emit("VPADDD %d(DI), Z%d, Z%d", 64*i, 16+i, 16+i)
		emit("VMOVDQU32 Z%d, %d(DI)", 16+i, 64*i)
	}
	emit("ADDQ $64, R8")
	loopTail(name)
}

func kernel(name string, avx512 bool) {
	fmt.Fprintf(&out, "// func %s(state *[4][16]uint32, ptrs *[16]*byte, n int, scratch *[16][16]uint32)\n", name)
	fmt.Fprintf(&out, "// Advances lanes 0-7.\n")
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	emit("MOVQ state+0(FP), DI")
	emit("MOVQ ptrs+8(FP), SI")
	emit("MOVQ n+16(FP), CX")
	emit("MOVQ scratch+24(FP), DX")
	for i, p := range lanePtrs {
		emit("MOVQ %d(SI), %s", 8*i, p)
	}
	emit("TESTQ CX, CX")
	emit("JZ done_%s", name)
	fmt.Fprintf(&out, "loop_%s:\n", name)
	for _, w := range []int{0, 8} {
		transpose(w, func(i, w int) {
			emit("VMOVDQU %d(%s), Y%d", 4*w, lanePtrs[i], i)
		}, func(word int) int { return 32 * word })
	}
	// a, b, c, d in Y0..Y3; T in Y4; all ones in Y5 (AVX2's NOT).
	for i := 0; i < 4; i++ {
		emit("VMOVDQU %d(DI), Y%d", 64*i, i)
	}
	if !avx512 {
		emit("VPCMPEQD Y5, Y5, Y5")
	}
	regs := [4]int{0, 1, 2, 3}
	for i := 0; i < 64; i++ {
		a, b, c, d := regs[0], regs[1], regs[2], regs[3]
		round := i / 16
		g := msgIndex(i)
		emit("VPADDD k<>+%d(SB), Y%d, Y%d", 32*i, a, a)
		emit("VPADDD %d(DX), Y%d, Y%d", 32*g, a, a)
		if avx512 {
			emit("VMOVDQA Y%d, Y4", b)
			emit("VPTERNLOGD $0x%02x, Y%d, Y%d, Y4", ternary(roundFuncs[round]), d, c)
		} else {
			switch round {
			case 0: // d ^ (b & (c ^ d))
				emit("VPXOR Y%d, Y%d, Y4", d, c)
				emit("VPAND Y%d, Y4, Y4", b)
				emit("VPXOR Y%d, Y4, Y4", d)
			case 1: // c ^ (d & (b ^ c))
				emit("VPXOR Y%d, Y%d, Y4", c, b)
				emit("VPAND Y%d, Y4, Y4", d)
				emit("VPXOR Y%d, Y4, Y4", c)
			case 2:
				emit("VPXOR Y%d, Y%d, Y4", c, b)
				emit("VPXOR Y%d, Y4, Y4", d)
			case 3: // c ^ (b | ^d)
				emit("VPXOR Y5, Y%d, Y4", d)
				emit("VPOR Y%d, Y4, Y4", b)
				emit("VPXOR Y%d, Y4, Y4", c)
			}
		}
		emit("VPADDD Y4, Y%d, Y%d", a, a)
		s := shifts[round][i%4]
		if avx512 {
			emit("VPROLD $%d, Y%d, Y%d", s, a, a)
		} else {
			emit("VPSLLD $%d, Y%d, Y4", s, a)
			emit("VPSRLD $%d, Y%d, Y%d", 32-s, a, a)
			emit("VPOR Y4, Y%d, Y%d", a, a)
		}
		emit("VPADDD Y%d, Y%d, Y%d", b, a, a)
		regs = [4]int{d, a, b, c}
	}
	for i := 0; i < 4; i++ {
		emit("VPADDD %d(DI), Y%d, Y%d", 64*i, i, i)
		emit("VMOVDQU Y%d, %d(DI)", i, 64*i)
	}
	for _, p := range lanePtrs {
		emit("ADDQ $64, %s", p)
	}
	loopTail(name)
}

// loopTail closes a kernel's block loop and returns.
func loopTail(name string) {
	emit("DECQ CX")
	emit("JNZ loop_%s", name)
	fmt.Fprintf(&out, "done_%s:\n", name)
	emit("VZEROUPPER")
	emit("RET")
	out.WriteString("\n")
}

// Registers. General: R0 state, R1 ptrs, R2 blocks left, R3 scratch,
// R4 byte offset of the current block, R5-R9 addresses, R10 constants.
// Vector: state word w of chain c in V(4w+c) (a word's chains are
// consecutive, so one VLD1/VST1 moves them); during the steps message
// words in V16-V19, round function values in V20-V23, rotations in
// V24-V27, the step constant in V28, all ones in V29. The transposes use
// V16-V27 before the steps.
func neonState(w, c int) int { return 4*w + c }

// regList is "[Va.S4, ...]" for the chains' registers from base.
func neonRegList(base, chains int) string {
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
func neonTranspose(c int) {
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

func neonKernel(name string, chains int) {
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
		emit("VLD1 (R9), %s", neonRegList(neonState(w, 0), chains))
	}
	fmt.Fprintf(&out, "loop_%s:\n", name)
	for c := 0; c < chains; c++ {
		neonTranspose(c)
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
		emit("MOVW $0x%08x, R10", roundConst(i))
		emit("VDUP R10, V28.S4")
		emit("ADD $%d, R3, R9", 64*msgIndex(i))
		emit("VLD1 (R9), %s", neonRegList(16, chains))
		switch i / 16 {
		case 0: // F = b ? c : d
			each("VMOV V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(b, c), 20 + c} })
			each("VBSL V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(d, c), neonState(cc, c), 20 + c} })
		case 1: // G = d ? b : c
			each("VMOV V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(d, c), 20 + c} })
			each("VBSL V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(cc, c), neonState(b, c), 20 + c} })
		case 2: // H = b ^ c ^ d
			each("VEOR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(cc, c), neonState(b, c), 20 + c} })
			each("VEOR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(d, c), 20 + c, 20 + c} })
		default: // I = c ^ (b | ^d)
			each("VEOR V29.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(d, c), 20 + c} })
			each("VORR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(b, c), 20 + c, 20 + c} })
			each("VEOR V%d.B16, V%d.B16, V%d.B16", func(c int) []any { return []any{neonState(cc, c), 20 + c, 20 + c} })
		}
		each("VADD V28.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{neonState(a, c), neonState(a, c)} })
		each("VADD V%d.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{16 + c, neonState(a, c), neonState(a, c)} })
		each("VADD V%d.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{20 + c, neonState(a, c), neonState(a, c)} })
		each("VSHL $%d, V%d.S4, V%d.S4", func(c int) []any { return []any{s, neonState(a, c), 24 + c} })
		each("VSRI $%d, V%d.S4, V%d.S4", func(c int) []any { return []any{32 - s, neonState(a, c), 24 + c} })
		each("VADD V%d.S4, V%d.S4, V%d.S4", func(c int) []any { return []any{24 + c, neonState(b, c), neonState(a, c)} })
		roles = [4]int{d, a, b, cc}
	}
	// 64 steps rotate the roles back: word w is in V(4w+c) again. Add the
	// state from before the block (still in memory) and store the sum.
	for w := 0; w < 4; w++ {
		emit("ADD $%d, R0, R9", 64*w)
		emit("VLD1 (R9), %s", neonRegList(16, chains))
		for c := 0; c < chains; c++ {
			emit("VADD V%d.S4, V%d.S4, V%d.S4", 16+c, neonState(w, c), neonState(w, c))
		}
		emit("VST1 %s, (R9)", neonRegList(neonState(w, 0), chains))
	}
	emit("ADD $64, R4, R4")
	emit("SUBS $1, R2, R2")
	emit("BNE loop_%s", name)
	fmt.Fprintf(&out, "done_%s:\n", name)
	emit("RET")
	out.WriteString("\n")
}

// roundConst is MD5's additive constant of step i (RFC 1321, 3.4).
func roundConst(i int) uint32 {
	return uint32(math.Floor(math.Abs(math.Sin(float64(i+1))) * (1 << 32)))
}

func genAMD64() {
	out.WriteString("// Code generated by go run gen.go. DO NOT EDIT.\n\n")
	out.WriteString("//go:build !purego\n\n")
	out.WriteString("#include \"textflag.h\"\n\n")
	// The 64 round constants, each repeated for the eight lanes.
	for i := 0; i < 64; i++ {
		k := roundConst(i)
		for j := 0; j < 8; j++ {
			fmt.Fprintf(&out, "DATA k<>+%d(SB)/4, $0x%08x\n", 32*i+4*j, k)
		}
	}
	out.WriteString("GLOBL k<>(SB), RODATA|NOPTR, $2048\n\n")
	kernel("block8AVX2", false)
	kernel("block8AVX512", true)
	kernel16("block16AVX512")
}

func genARM64() {
	out.WriteString("// Code generated by go run gen.go. DO NOT EDIT.\n\n")
	out.WriteString("//go:build !purego\n\n")
	out.WriteString("#include \"textflag.h\"\n\n")
	neonKernel("block8NEON", 2)
	neonKernel("block16NEON", 4)
}

func main() {
	for _, f := range []struct {
		name string
		gen  func()
	}{{"block8_amd64.s", genAMD64}, {"block_arm64.s", genARM64}} {
		out.Reset()
		f.gen()
		if err := os.WriteFile(f.name, out.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
