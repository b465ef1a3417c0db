package lua

import (
	"encoding/binary"
	"math"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// The struct library (Roberto Ierusalimschy's struct.c) as Redis bundles
// it: pack, unpack and size over formats of > < ! x b B h H l L T i I c s
// f d, on a 64-bit build (long and size_t of 8 bytes, int of 4).

const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

// OpenStruct returns the struct library table.
func OpenStruct(L *glua.LState) *glua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

type structHeader struct {
	little bool
	align  int
}

type structFormat struct {
	L     *glua.LState
	fname string
	f     string
	i     int
	h     structHeader
	opt   byte
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *structFormat) getnum(def int) int {
	if p.i >= len(p.f) || !isDigit(p.f[p.i]) {
		return def
	}
	a := 0
	for p.i < len(p.f) && isDigit(p.f[p.i]) {
		if a > (math.MaxInt32-9)/10 {
			p.L.RaiseError("integral size overflow")
		}
		a = a*10 + int(p.f[p.i]-'0')
		p.i++
	}
	return a
}

// next reads one option and returns its size; ok false at the end.
func (p *structFormat) next() (int, bool) {
	if p.i >= len(p.f) {
		return 0, false
	}
	p.opt = p.f[p.i]
	p.i++
	switch p.opt {
	case 'b', 'B', 'x':
		return 1, true
	case 'h', 'H':
		return 2, true
	case 'l', 'L', 'T':
		return 8, true
	case 'f':
		return 4, true
	case 'd':
		return 8, true
	case 'c':
		return p.getnum(1), true
	case 'i', 'I':
		sz := p.getnum(4)
		if sz > structMaxIntSize {
			p.L.RaiseError("integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz, true
	case 's', ' ':
		return 0, true
	case '<':
		p.h.little = true
		return 0, true
	case '>':
		p.h.little = false
		return 0, true
	case '!':
		a := p.getnum(structMaxAlign)
		if a&(a-1) != 0 {
			p.L.RaiseError("alignment %d is not a power of 2", a)
		}
		p.h.align = a
		return 0, true
	default:
		argError(p.L, 1, p.fname, "invalid format option '"+string(p.opt)+"'")
		return 0, false
	}
}

func (p *structFormat) toAlign(n, size int) int {
	if size == 0 || p.opt == 'c' {
		return 0
	}
	if size > p.h.align {
		size = p.h.align
	}
	return (size - (n & (size - 1))) & (size - 1)
}

func newStructFormat(L *glua.LState, fname string) *structFormat {
	return &structFormat{L: L, fname: fname, f: checkString(L, 1, fname), h: structHeader{little: true, align: 1}}
}

func putInteger(b []byte, v int64, little bool, size int) []byte {
	var tmp [structMaxIntSize]byte
	u := uint64(v)
	fill := byte(0)
	if v < 0 {
		fill = 0xff
	}
	for i := 0; i < size; i++ {
		if i < 8 {
			tmp[i] = byte(u >> (8 * i))
		} else {
			tmp[i] = fill
		}
	}
	if !little {
		for i, j := 0, size-1; i < j; i, j = i+1, j-1 {
			tmp[i], tmp[j] = tmp[j], tmp[i]
		}
	}
	return append(b, tmp[:size]...)
}

func structPack(L *glua.LState) int {
	p := newStructFormat(L, "pack")
	arg := 2
	var b []byte
	for {
		size, ok := p.next()
		if !ok {
			break
		}
		for pad := p.toAlign(len(b), size); pad > 0; pad-- {
			b = append(b, 0)
		}
		switch p.opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := float64(checkNumber(L, arg, "pack"))
			arg++
			var v int64
			if p.opt >= 'a' && p.opt <= 'z' || n < 0 {
				v = int64(n)
			} else {
				v = int64(uint64(n))
			}
			b = putInteger(b, v, p.h.little, size)
		case 'x':
			b = append(b, 0)
		case 'f':
			bits := math.Float32bits(float32(checkNumber(L, arg, "pack")))
			arg++
			if p.h.little {
				b = binary.LittleEndian.AppendUint32(b, bits)
			} else {
				b = binary.BigEndian.AppendUint32(b, bits)
			}
		case 'd':
			bits := math.Float64bits(float64(checkNumber(L, arg, "pack")))
			arg++
			if p.h.little {
				b = binary.LittleEndian.AppendUint64(b, bits)
			} else {
				b = binary.BigEndian.AppendUint64(b, bits)
			}
		case 'c', 's':
			s := checkString(L, arg, "pack")
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				argError(L, arg, "pack", "string too short")
			}
			arg++
			b = append(b, s[:size]...)
			if p.opt == 's' {
				if strings.IndexByte(s, 0) >= 0 {
					argError(L, arg-1, "pack", "string contains zeros")
				}
				b = append(b, 0)
			}
		}
	}
	L.Push(glua.LString(b))
	return 1
}

func getInteger(s string, little, signed bool, size int) float64 {
	var u uint64
	limit := size
	if limit > 8 {
		limit = 8
	}
	for i := 0; i < limit; i++ {
		var c byte
		if little {
			c = s[i]
		} else {
			c = s[size-1-i]
		}
		u |= uint64(c) << (8 * i)
	}
	if !signed {
		return float64(u)
	}
	if size < 8 {
		shift := uint(64 - 8*size)
		return float64(int64(u<<shift) >> shift)
	}
	return float64(int64(u))
}

func structUnpack(L *glua.LState) int {
	p := newStructFormat(L, "unpack")
	data := checkString(L, 2, "unpack")
	pos := optInt(L, 3, "unpack", 1) - 1
	if pos < 0 || pos > len(data) {
		argError(L, 3, "unpack", "offset out of range")
	}
	n := 0
	for {
		size, ok := p.next()
		if !ok {
			break
		}
		pos += p.toAlign(pos, size)
		if pos+size > len(data) || pos+size < pos {
			argError(L, 2, "unpack", "data string too short")
		}
		switch p.opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := p.opt >= 'a' && p.opt <= 'z'
			L.Push(glua.LNumber(getInteger(data[pos:], p.h.little, signed, size)))
			n++
		case 'f':
			var bits uint32
			if p.h.little {
				bits = binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			} else {
				bits = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			L.Push(glua.LNumber(math.Float32frombits(bits)))
			n++
		case 'd':
			var bits uint64
			if p.h.little {
				bits = binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			} else {
				bits = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			L.Push(glua.LNumber(math.Float64frombits(bits)))
			n++
		case 'c':
			if size == 0 {
				if n == 0 {
					L.RaiseError("format 'c0' needs a previous size")
				}
				prev, ok := L.Get(-1).(glua.LNumber)
				if !ok {
					L.RaiseError("format 'c0' needs a previous size")
				}
				size = int(prev)
				L.Pop(1)
				n--
				if size < 0 || pos+size > len(data) {
					argError(L, 2, "unpack", "data string too short")
				}
			}
			L.Push(glua.LString(data[pos : pos+size]))
			n++
		case 's':
			end := strings.IndexByte(data[pos:], 0)
			if end < 0 {
				L.RaiseError("unfinished string in data")
			}
			L.Push(glua.LString(data[pos : pos+end]))
			n++
			size = end + 1
		}
		pos += size
	}
	L.Push(glua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *glua.LState) int {
	p := newStructFormat(L, "size")
	pos := 0
	for {
		size, ok := p.next()
		if !ok {
			break
		}
		if p.opt == 's' || (p.opt == 'c' && size == 0) {
			argError(L, 1, "size", "option '"+string(p.opt)+"' has no fixed size")
		}
		pos += p.toAlign(pos, size) + size
	}
	L.Push(glua.LNumber(pos))
	return 1
}
