package jsonpath

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"unicode/utf8"
)

// CBOR (RFC 8949) is KVRocks's second storage format for documents
// (json-storage-format cbor). Encoding uses definite lengths, the
// shortest integer heads and float64 for doubles; decoding also takes
// half and single precision floats and indefinite-length strings,
// arrays and maps, and skips tags.

var errCBOR = errors.New("jsonpath: malformed CBOR")

// AppendCBOR appends v's CBOR encoding to dst.
func AppendCBOR(dst []byte, v *Value) []byte {
	switch v.Kind {
	case Null:
		return append(dst, 0xf6)
	case Bool:
		if v.B {
			return append(dst, 0xf5)
		}
		return append(dst, 0xf4)
	case Int:
		if v.I < 0 {
			return cborHead(dst, 1, uint64(-(v.I + 1)))
		}
		return cborHead(dst, 0, uint64(v.I))
	case Uint:
		return cborHead(dst, 0, v.U)
	case Float:
		dst = append(dst, 0xfb)
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.F))
	case String:
		dst = cborHead(dst, 3, uint64(len(v.S)))
		return append(dst, v.S...)
	case Array:
		dst = cborHead(dst, 4, uint64(len(v.A)))
		for _, e := range v.A {
			dst = AppendCBOR(dst, e)
		}
		return dst
	}
	dst = cborHead(dst, 5, uint64(len(v.O)))
	for _, m := range v.O {
		dst = cborHead(dst, 3, uint64(len(m.Key)))
		dst = append(dst, m.Key...)
		dst = AppendCBOR(dst, m.Val)
	}
	return dst
}

func cborHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= math.MaxUint8:
		return append(dst, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, m|27), n)
}

// ParseCBOR decodes one CBOR data item holding a JSON value. Nesting
// deeper than MaxDepth, trailing bytes, non-string map keys and invalid
// UTF-8 are errors.
func ParseCBOR(data []byte) (*Value, error) {
	d := cborDecoder{data: data}
	v, err := d.item(0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(d.data) {
		return nil, errCBOR
	}
	return v, nil
}

type cborDecoder struct {
	data []byte
	pos  int
}

const cborIndefinite = math.MaxUint64

func (d *cborDecoder) head() (major, info byte, n uint64, err error) {
	if d.pos >= len(d.data) {
		return 0, 0, 0, errCBOR
	}
	b := d.data[d.pos]
	d.pos++
	major, info = b>>5, b&0x1f
	switch {
	case info < 24:
		return major, info, uint64(info), nil
	case info <= 27:
		size := 1 << (info - 24)
		if len(d.data)-d.pos < size {
			return 0, 0, 0, errCBOR
		}
		p := d.data[d.pos : d.pos+size]
		d.pos += size
		switch size {
		case 1:
			n = uint64(p[0])
		case 2:
			n = uint64(binary.BigEndian.Uint16(p))
		case 4:
			n = uint64(binary.BigEndian.Uint32(p))
		default:
			n = binary.BigEndian.Uint64(p)
		}
		return major, info, n, nil
	case info == 31 && major >= 2 && major <= 5:
		return major, info, cborIndefinite, nil
	case info == 31 && major == 7:
		return major, info, 0, nil // break
	}
	return 0, 0, 0, errCBOR
}

func (d *cborDecoder) isBreak() bool {
	if d.pos < len(d.data) && d.data[d.pos] == 0xff {
		d.pos++
		return true
	}
	return false
}

func (d *cborDecoder) item(depth int) (*Value, error) {
	major, info, n, err := d.head()
	if err != nil {
		return nil, err
	}
	switch major {
	case 0:
		if n > math.MaxInt64 {
			return &Value{Kind: Uint, U: n}, nil
		}
		return NewInt(int64(n)), nil
	case 1:
		if n > math.MaxInt64 {
			return NewFloat(-1 - float64(n)), nil
		}
		return NewInt(-1 - int64(n)), nil
	case 2, 3:
		s, err := d.text(major, n)
		if err != nil {
			return nil, err
		}
		if major == 2 {
			// A byte string becomes base64url text, as jsoncons turns
			// byte strings into JSON.
			return NewString(base64.RawURLEncoding.EncodeToString([]byte(s))), nil
		}
		if !utf8.ValidString(s) {
			return nil, errCBOR
		}
		return NewString(s), nil
	case 4, 5:
		if depth >= MaxDepth {
			return nil, errors.New("jsonpath: maximum CBOR depth exceeded")
		}
		if major == 4 {
			return d.array(depth+1, n)
		}
		return d.object(depth+1, n)
	case 6:
		// A tag: its content is the value. Counted as a level, so a chain
		// of tags cannot recurse without bound.
		if depth >= MaxDepth {
			return nil, errors.New("jsonpath: maximum CBOR depth exceeded")
		}
		return d.item(depth + 1)
	}
	switch {
	case info == 20:
		return NewBool(false), nil
	case info == 21:
		return NewBool(true), nil
	case info == 22 || info == 23:
		return NewNull(), nil
	case info == 25:
		return NewFloat(halfToFloat(uint16(n))), nil
	case info == 26:
		return NewFloat(float64(math.Float32frombits(uint32(n)))), nil
	case info == 27:
		return NewFloat(math.Float64frombits(n)), nil
	}
	return nil, errCBOR
}

func (d *cborDecoder) text(major byte, n uint64) (string, error) {
	if n != cborIndefinite {
		if n > uint64(len(d.data)-d.pos) {
			return "", errCBOR
		}
		s := string(d.data[d.pos : d.pos+int(n)])
		d.pos += int(n)
		return s, nil
	}
	var buf []byte
	for !d.isBreak() {
		m, _, k, err := d.head()
		if err != nil || m != major || k == cborIndefinite || k > uint64(len(d.data)-d.pos) {
			return "", errCBOR
		}
		buf = append(buf, d.data[d.pos:d.pos+int(k)]...)
		d.pos += int(k)
	}
	return string(buf), nil
}

func (d *cborDecoder) array(depth int, n uint64) (*Value, error) {
	arr := NewArray(nil)
	if n != cborIndefinite {
		if n > uint64(len(d.data)-d.pos) { // every item takes a byte at least
			return nil, errCBOR
		}
		arr.A = make([]*Value, 0, n)
	}
	for i := uint64(0); n == cborIndefinite || i < n; i++ {
		if n == cborIndefinite && d.isBreak() {
			break
		}
		v, err := d.item(depth)
		if err != nil {
			return nil, err
		}
		arr.A = append(arr.A, v)
	}
	return arr, nil
}

func (d *cborDecoder) object(depth int, n uint64) (*Value, error) {
	obj := NewObject()
	if n != cborIndefinite && n > uint64(len(d.data)-d.pos)/2 {
		return nil, errCBOR
	}
	for i := uint64(0); n == cborIndefinite || i < n; i++ {
		if n == cborIndefinite && d.isBreak() {
			break
		}
		k, err := d.item(depth)
		if err != nil {
			return nil, err
		}
		if k.Kind != String {
			return nil, errCBOR
		}
		v, err := d.item(depth)
		if err != nil {
			return nil, err
		}
		obj.Put(k.S, v)
	}
	return obj, nil
}

func halfToFloat(h uint16) float64 {
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(mant, -24)
	case 31:
		if mant == 0 {
			f = math.Inf(1)
		} else {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		return -f
	}
	return f
}
