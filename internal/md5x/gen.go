//go:build ignore

// gen writes block8_amd64.s: the MD5 block functions. Two advance 8 lanes
// on 256-bit registers, one with AVX2 and one with AVX-512VL (VPROLD
// rotations, VPTERNLOGD round functions); the third advances 16 lanes on
// 512-bit registers. Run with go generate.
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

func main() {
	out.WriteString("// Code generated by go run gen.go. DO NOT EDIT.\n\n")
	out.WriteString("//go:build !purego\n\n")
	out.WriteString("#include \"textflag.h\"\n\n")
	// The 64 round constants, each repeated for the eight lanes.
	for i := 0; i < 64; i++ {
		k := uint32(math.Floor(math.Abs(math.Sin(float64(i+1))) * (1 << 32)))
		for j := 0; j < 8; j++ {
			fmt.Fprintf(&out, "DATA k<>+%d(SB)/4, $0x%08x\n", 32*i+4*j, k)
		}
	}
	out.WriteString("GLOBL k<>(SB), RODATA|NOPTR, $2048\n\n")
	kernel("block8AVX2", false)
	kernel("block8AVX512", true)
	kernel16("block16AVX512")
	if err := os.WriteFile("block8_amd64.s", out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
