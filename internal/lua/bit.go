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
	fold := func(name string, op func(a, b uint32) uint32) glua.LGFunction {
		return func(L *glua.LState) int {
			r := bitArg(L, 1, name)
			for i := 2; i <= L.GetTop(); i++ {
				r = op(r, bitArg(L, i, name))
			}
			return bitPush(L, r)
		}
	}
	shift := func(name string, op func(a uint32, n uint) uint32) glua.LGFunction {
		return func(L *glua.LState) int {
			a := bitArg(L, 1, name)
			n := uint(bitArg(L, 2, name) & 31)
			return bitPush(L, op(a, n))
		}
	}
	for name, fn := range map[string]glua.LGFunction{
		"tobit":  func(L *glua.LState) int { return bitPush(L, bitArg(L, 1, "tobit")) },
		"bnot":   func(L *glua.LState) int { return bitPush(L, ^bitArg(L, 1, "bnot")) },
		"band":   fold("band", func(a, b uint32) uint32 { return a & b }),
		"bor":    fold("bor", func(a, b uint32) uint32 { return a | b }),
		"bxor":   fold("bxor", func(a, b uint32) uint32 { return a ^ b }),
		"lshift": shift("lshift", func(a uint32, n uint) uint32 { return a << n }),
		"rshift": shift("rshift", func(a uint32, n uint) uint32 { return a >> n }),
		"arshift": shift("arshift", func(a uint32, n uint) uint32 {
			return uint32(int32(a) >> n)
		}),
		"rol":   shift("rol", func(a uint32, n uint) uint32 { return bits.RotateLeft32(a, int(n)) }),
		"ror":   shift("ror", func(a uint32, n uint) uint32 { return bits.RotateLeft32(a, -int(n)) }),
		"bswap": func(L *glua.LState) int { return bitPush(L, bits.ReverseBytes32(bitArg(L, 1, "bswap"))) },
		"tohex": bitToHex,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// bitArg is barg: the number rounded (to even, as the 2^52+2^51 trick
// does) and reduced modulo 2^32.
func bitArg(L *glua.LState, i int, fname string) uint32 {
	f := checkNumber(L, i, fname)
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
	b := bitArg(L, 1, "tohex")
	n := 8
	if L.GetTop() >= 2 && L.Get(2) != glua.LNil {
		n = int(int32(bitArg(L, 2, "tohex")))
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
