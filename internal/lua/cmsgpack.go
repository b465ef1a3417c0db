package lua

import (
	"encoding/binary"
	"math"

	glua "github.com/yuin/gopher-lua"
)

// The cmsgpack library as Redis bundles it (lua-cmsgpack 0.4): integers in
// their smallest encoding, floats as float32 when that is exact, tables
// with keys 1..n as arrays and others as maps, nesting beyond 16 levels
// encoded as nil.

const msgpackMaxNesting = 16

// OpenCmsgpack returns the cmsgpack library table.
func OpenCmsgpack(L *glua.LState) *glua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(msgpackPack))
	t.RawSetString("unpack", L.NewFunction(func(L *glua.LState) int { return msgpackUnpack(L, "unpack", 0, 0) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *glua.LState) int {
		return msgpackUnpack(L, "unpack_one", 1, optInt(L, 2, "unpack_one", 0))
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *glua.LState) int {
		return msgpackUnpack(L, "unpack_limit", optInt(L, 2, "unpack_limit", 0), optInt(L, 3, "unpack_limit", 0))
	}))
	t.RawSetString("_NAME", glua.LString("cmsgpack"))
	t.RawSetString("_VERSION", glua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", glua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", glua.LString("MessagePack C implementation for Lua"))
	return t
}

func msgpackPack(L *glua.LState) int {
	n := L.GetTop()
	if n == 0 {
		argError(L, 0, "pack", "MessagePack pack needs input.")
	}
	var b []byte
	for i := 1; i <= n; i++ {
		b = MsgpackEncode(b, L.Get(i), 0)
	}
	L.Push(glua.LString(b))
	return 1
}

// MsgpackEncode appends v's MessagePack encoding as Redis's cmsgpack does.
func MsgpackEncode(b []byte, v glua.LValue, level int) []byte {
	switch v := v.(type) {
	case glua.LString:
		return msgpackBytes(b, string(v))
	case glua.LBool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case glua.LNumber:
		f := float64(v)
		if !math.IsInf(f, 0) && !math.IsNaN(f) && f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 && float64(int64(f)) == f {
			return msgpackInt(b, int64(f))
		}
		if f32 := float32(f); float64(f32) == f {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(f32))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case *glua.LTable:
		if level >= msgpackMaxNesting {
			return append(b, 0xc0)
		}
		if n, ok := msgpackArrayLen(v); ok {
			b = msgpackHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = MsgpackEncode(b, v.RawGetInt(i), level+1)
			}
			return b
		}
		n := 0
		v.ForEach(func(_, _ glua.LValue) { n++ })
		b = msgpackHeader(b, n, 0x80, 0xde, 0xdf)
		v.ForEach(func(k, val glua.LValue) {
			b = MsgpackEncode(b, k, level+1)
			b = MsgpackEncode(b, val, level+1)
		})
		return b
	default:
		return append(b, 0xc0)
	}
}

func msgpackArrayLen(t *glua.LTable) (int, bool) {
	count, max := 0, 0
	ok := true
	t.ForEach(func(k, _ glua.LValue) {
		n, isNum := k.(glua.LNumber)
		if !ok || !isNum || float64(n) <= 0 || float64(n) != math.Floor(float64(n)) {
			ok = false
			return
		}
		count++
		if int(n) > max {
			max = int(n)
		}
	})
	return max, ok && max == count
}

func msgpackHeader(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
	}
}

func msgpackBytes(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= 0xff:
		b = append(b, 0xd9, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func msgpackInt(b []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(b, byte(n))
		case n <= 0xff:
			return append(b, 0xcc, byte(n))
		case n <= 0xffff:
			return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
		default:
			return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
		}
	}
	switch {
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(int8(n)))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(n)))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(n)))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
	}
}

func msgpackUnpack(L *glua.LState, fname string, limit, offset int) int {
	s := checkString(L, 1, fname)
	if offset < 0 || limit < 0 {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, limit)
	}
	if offset > len(s) {
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	all := limit == 0 && offset == 0
	d := msgpackDecoder{L: L, s: s, pos: offset}
	var vals []glua.LValue
	for cnt := 0; d.pos < len(s); cnt++ {
		if !all && cnt >= limit {
			break
		}
		v, err := d.decode(0)
		switch err {
		case errMsgpackEOF:
			L.RaiseError("Missing bytes in input.")
		case errMsgpackFormat:
			L.RaiseError("Bad data format in input.")
		}
		vals = append(vals, v)
	}
	if !all {
		next := d.pos
		if next >= len(s) {
			next = -1
		}
		L.Push(glua.LNumber(next))
	}
	for _, v := range vals {
		L.Push(v)
	}
	if all {
		return len(vals)
	}
	return len(vals) + 1
}

type msgpackError int

const (
	errMsgpackNone msgpackError = iota
	errMsgpackEOF
	errMsgpackFormat
)

// msgpackDecoder decodes MessagePack into Lua values.
type msgpackDecoder struct {
	L   *glua.LState
	s   string
	pos int
}

// MsgpackDecode decodes one value at the start of s, reporting the bytes
// used, or ok false when s is short or malformed.
func MsgpackDecode(L *glua.LState, s string) (glua.LValue, int, bool) {
	d := msgpackDecoder{L: L, s: s}
	v, err := d.decode(0)
	return v, d.pos, err == errMsgpackNone
}

func (d *msgpackDecoder) take(n int) (string, msgpackError) {
	if n < 0 || len(d.s)-d.pos < n {
		return "", errMsgpackEOF
	}
	p := d.s[d.pos : d.pos+n]
	d.pos += n
	return p, errMsgpackNone
}

func (d *msgpackDecoder) uint(n int) (uint64, msgpackError) {
	p, err := d.take(n)
	if err != errMsgpackNone {
		return 0, err
	}
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(p[i])
	}
	return v, errMsgpackNone
}

func (d *msgpackDecoder) decode(depth int) (glua.LValue, msgpackError) {
	if depth > 1000 {
		return glua.LNil, errMsgpackFormat
	}
	p, err := d.take(1)
	if err != errMsgpackNone {
		return glua.LNil, err
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return glua.LNumber(c), errMsgpackNone
	case c >= 0xe0:
		return glua.LNumber(int8(c)), errMsgpackNone
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	case c&0xf0 == 0x90:
		return d.array(int(c&0x0f), depth)
	case c&0xf0 == 0x80:
		return d.mapping(int(c&0x0f), depth)
	}
	var n uint64
	switch c {
	case 0xc0:
		return glua.LNil, errMsgpackNone
	case 0xc2:
		return glua.LFalse, errMsgpackNone
	case 0xc3:
		return glua.LTrue, errMsgpackNone
	case 0xcc, 0xcd, 0xce, 0xcf:
		if n, err = d.uint(1 << (c - 0xcc)); err != errMsgpackNone {
			return glua.LNil, err
		}
		return glua.LNumber(float64(n)), errMsgpackNone
	case 0xd0:
		n, err = d.uint(1)
		return glua.LNumber(int8(n)), err
	case 0xd1:
		n, err = d.uint(2)
		return glua.LNumber(int16(n)), err
	case 0xd2:
		n, err = d.uint(4)
		return glua.LNumber(int32(n)), err
	case 0xd3:
		n, err = d.uint(8)
		return glua.LNumber(float64(int64(n))), err
	case 0xca:
		n, err = d.uint(4)
		return glua.LNumber(math.Float32frombits(uint32(n))), err
	case 0xcb:
		n, err = d.uint(8)
		return glua.LNumber(math.Float64frombits(n)), err
	case 0xc4, 0xd9:
		n, err = d.uint(1)
	case 0xc5, 0xda:
		n, err = d.uint(2)
	case 0xc6, 0xdb:
		n, err = d.uint(4)
	case 0xdc:
		if n, err = d.uint(2); err != errMsgpackNone {
			return glua.LNil, err
		}
		return d.array(int(n), depth)
	case 0xdd:
		if n, err = d.uint(4); err != errMsgpackNone {
			return glua.LNil, err
		}
		return d.array(int(n), depth)
	case 0xde:
		if n, err = d.uint(2); err != errMsgpackNone {
			return glua.LNil, err
		}
		return d.mapping(int(n), depth)
	case 0xdf:
		if n, err = d.uint(4); err != errMsgpackNone {
			return glua.LNil, err
		}
		return d.mapping(int(n), depth)
	default:
		return glua.LNil, errMsgpackFormat
	}
	if err != errMsgpackNone {
		return glua.LNil, err
	}
	return d.str(int(n))
}

func (d *msgpackDecoder) str(n int) (glua.LValue, msgpackError) {
	p, err := d.take(n)
	return glua.LString(p), err
}

func (d *msgpackDecoder) array(n, depth int) (glua.LValue, msgpackError) {
	if n > len(d.s)-d.pos {
		return glua.LNil, errMsgpackEOF
	}
	t := d.L.CreateTable(n, 0)
	for i := 1; i <= n; i++ {
		v, err := d.decode(depth + 1)
		if err != errMsgpackNone {
			return glua.LNil, err
		}
		t.RawSetInt(i, v)
	}
	return t, errMsgpackNone
}

func (d *msgpackDecoder) mapping(n, depth int) (glua.LValue, msgpackError) {
	if n > (len(d.s)-d.pos)/2 {
		return glua.LNil, errMsgpackEOF
	}
	t := d.L.CreateTable(0, n)
	for i := 0; i < n; i++ {
		k, err := d.decode(depth + 1)
		if err != errMsgpackNone {
			return glua.LNil, err
		}
		v, err := d.decode(depth + 1)
		if err != errMsgpackNone {
			return glua.LNil, err
		}
		if n, isNum := k.(glua.LNumber); isNum && math.IsNaN(float64(n)) {
			continue
		}
		if k != glua.LNil {
			setSparse(t, k, v)
		}
	}
	return t, errMsgpackNone
}

// maxArrayGap bounds how far past a table's array part an integer key may
// land and still go to the array part: gopher-lua fills the gap with nils,
// so a 5-byte map key of 60 million would otherwise allocate a gigabyte.
// Such keys go to the hash part (pairs sees them, t[k] does not).
const maxArrayGap = 1 << 16

// setSparse is RawSet for decoded keys.
func setSparse(t *glua.LTable, k, v glua.LValue) {
	if n, ok := k.(glua.LNumber); ok && float64(n) > float64(t.Len()+maxArrayGap) {
		t.RawSetH(k, v)
		return
	}
	t.RawSet(k, v)
}
