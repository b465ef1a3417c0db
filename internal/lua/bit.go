package lua

import (
	"math"
	"math/bits"

	glua "github.com/yuin/gopher-lua"
)

// The bit library (LuaBitOp 1.0.2) as Redis bundles it: operands are
// rounded to integers and taken modulo 2^32, results are signed 32-bit.

// OpenBit returns the bit library table.
func OpenBit(L *glua.LState) *glua.LTable {
	t := L.NewTable()
	fold := func(op func(a, b uint32) uint32) glua.LGFunction {
		return func(L *glua.LState) int {
			r := bitArg(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				r = op(r, bitArg(L, i))
			}
			return bitPush(L, r)
		}
	}
	shift := func(op func(a uint32, n uint) uint32) glua.LGFunction {
		return func(L *glua.LState) int {
			a := bitArg(L, 1)
			n := uint(bitArg(L, 2) & 31)
			return bitPush(L, op(a, n))
		}
	}
	for name, fn := range map[string]glua.LGFunction{
		"tobit":  func(L *glua.LState) int { return bitPush(L, bitArg(L, 1)) },
		"bnot":   func(L *glua.LState) int { return bitPush(L, ^bitArg(L, 1)) },
		"band":   fold(func(a, b uint32) uint32 { return a & b }),
		"bor":    fold(func(a, b uint32) uint32 { return a | b }),
		"bxor":   fold(func(a, b uint32) uint32 { return a ^ b }),
		"lshift": shift(func(a uint32, n uint) uint32 { return a << n }),
		"rshift": shift(func(a uint32, n uint) uint32 { return a >> n }),
		"arshift": shift(func(a uint32, n uint) uint32 {
			return uint32(int32(a) >> n)
		}),
		"rol":   shift(func(a uint32, n uint) uint32 { return bits.RotateLeft32(a, int(n)) }),
		"ror":   shift(func(a uint32, n uint) uint32 { return bits.RotateLeft32(a, -int(n)) }),
		"bswap": func(L *glua.LState) int { return bitPush(L, bits.ReverseBytes32(bitArg(L, 1))) },
		"tohex": bitToHex,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// bitArg is barg: the number rounded (to even, as the 2^52+2^51 trick
// does) and reduced modulo 2^32.
func bitArg(L *glua.LState, i int) uint32 {
	f := float64(L.CheckNumber(i))
	r := math.RoundToEven(f)
	if math.IsNaN(r) || math.IsInf(r, 0) || r >= 1<<63 || r < -(1<<63) {
		return 0
	}
	return uint32(int64(r))
}

func bitPush(L *glua.LState, r uint32) int {
	L.Push(glua.LNumber(int32(r)))
	return 1
}

func bitToHex(L *glua.LState) int {
	b := bitArg(L, 1)
	n := 8
	if L.GetTop() >= 2 && L.Get(2) != glua.LNil {
		n = int(int32(bitArg(L, 2)))
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n = -n
		digits = "0123456789ABCDEF"
	}
	if n > 8 {
		n = 8
	}
	buf := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[b&15]
		b >>= 4
	}
	L.Push(glua.LString(buf))
	return 1
}
