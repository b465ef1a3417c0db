package resp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
)

// The serialization DUMP writes and RESTORE reads: one RDB object (type
// byte, then the object), a 2-byte RDB version and a CRC64 (Jones
// polynomial, as Redis computes it) of everything before, both little
// endian.
//
// DUMP writes what KVRocks writes: RDB version 6 and the plain encodings
// every Redis since 2.6 reads (strings with small integers packed, hashes
// and sets as element lists, sorted sets with binary scores highest
// first, lists as a quicklist of one-entry ziplists). RESTORE reads those
// and every encoding Redis 7.0 writes (listpack, intset, ziplist,
// quicklist 2, zipmap, LZF-compressed strings), up to RDB version 12.
//
// The payload is hostile input: every length is checked against the bytes
// left before anything is allocated, and what decoding allocates
// (decompressed bytes, elements, integers as text) is charged to a
// budget, so a payload can cost no more memory than its own size plus
// that budget.

// RDB object types.
const (
	rdbString          = 0
	rdbList            = 1
	rdbSet             = 2
	rdbZSet            = 3
	rdbHash            = 4
	rdbZSet2           = 5
	rdbHashZipmap      = 9
	rdbListZiplist     = 10
	rdbSetIntset       = 11
	rdbZSetZiplist     = 12
	rdbHashZiplist     = 13
	rdbListQuicklist   = 14
	rdbHashListpack    = 16
	rdbZSetListpack    = 17
	rdbListQuicklist2  = 18
	rdbSetListpack     = 20
	rdbDumpVersion     = 6  // the version DUMP writes (KVRocks's choice)
	rdbMaxVersion      = 12 // the newest RESTORE accepts
	rdbFooterLen       = 10
	quicklistPlain     = 1
	quicklistPacked    = 2
	rdbEncInt8         = 0
	rdbEncInt16        = 1
	rdbEncInt32        = 2
	rdbEncLZF          = 3
	lzfMaxRatio        = 88 // a 3-byte back reference expands to at most 264 bytes
	ziplistHeaderBytes = 10
)

var (
	errRDBVersion = errors.New("rdb: payload version or checksum are wrong")
	errRDBFormat  = errors.New("rdb: bad data format")
	errRDBBudget  = errors.New("rdb: decompressed data exceeds the limit")
)

// rdbObject is a decoded value.
type rdbObject struct {
	kind rdbKind
	// str is a string's value.
	str []byte
	// elems are a list's elements in order, a set's members, a sorted
	// set's members (scores alongside) or a hash's fields and values
	// interleaved.
	elems  [][]byte
	scores []float64
}

type rdbKind uint8

const (
	kindString rdbKind = iota + 1
	kindList
	kindSet
	kindZSet
	kindHash
)

// crc64Jones computes Redis's CRC-64 (Jones polynomial, reflected, no
// initial or final inversion) with slicing-by-8 tables.
var crc64Tables = func() *[8][256]uint64 {
	const poly = 0x95ac9329ac4bc9b5 // 0xad93d23594c935a9 reflected
	t := new([8][256]uint64)
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for i := range 256 {
		c := t[0][i]
		for j := 1; j < 8; j++ {
			c = t[0][c&0xff] ^ c>>8
			t[j][i] = c
		}
	}
	return t
}()

func crc64Update(crc uint64, p []byte) uint64 {
	t := crc64Tables
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}

// Encoding (DUMP).

func rdbAppendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		b = append(b, 0x80)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, 0x81)
		return binary.BigEndian.AppendUint64(b, n)
	}
}

// rdbAppendString appends s as an RDB string: packed as an integer when it
// is the canonical text of one that fits 32 bits, verbatim otherwise.
func rdbAppendString(b, s []byte) []byte {
	if len(s) <= 11 {
		if n, ok := parseStoredInt(s); ok && n >= math.MinInt32 && n <= math.MaxInt32 {
			switch {
			case n >= math.MinInt8 && n <= math.MaxInt8:
				return append(b, 0xc0|rdbEncInt8, byte(n))
			case n >= math.MinInt16 && n <= math.MaxInt16:
				return append(b, 0xc0|rdbEncInt16, byte(n), byte(n>>8))
			default:
				return append(b, 0xc0|rdbEncInt32, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
			}
		}
	}
	b = rdbAppendLen(b, uint64(len(s)))
	return append(b, s...)
}

// rdbStringHeader returns the bytes before the value of a verbatim string
// of n bytes (for values sent by reference).
func rdbStringHeader(b []byte, n int64) []byte { return rdbAppendLen(b, uint64(n)) }

// rdbAppendZiplistOne appends a ziplist holding the one string entry s,
// as an RDB string (the quicklist node KVRocks writes per element).
func rdbAppendZiplistOne(b, s []byte) []byte {
	var enc [5]byte
	var e []byte
	switch n := len(s); {
	case n < 1<<6:
		e = append(enc[:0], byte(n))
	case n < 1<<14:
		e = append(enc[:0], byte(n>>8)|0x40, byte(n))
	default:
		e = binary.BigEndian.AppendUint32(append(enc[:0], 0x80), uint32(n))
	}
	size := ziplistHeaderBytes + 1 + len(e) + len(s) + 1
	b = rdbAppendLen(b, uint64(size))
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = binary.LittleEndian.AppendUint32(b, ziplistHeaderBytes)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = append(b, 0) // previous entry length
	b = append(b, e...)
	b = append(b, s...)
	return append(b, 0xff)
}

func rdbAppendBinaryDouble(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// rdbFooter returns the footer of a payload whose bytes before it have
// the CRC64 crc: the version DUMP writes, then the CRC64 over all that.
func rdbFooter(crc uint64) []byte {
	f := make([]byte, 0, rdbFooterLen)
	f = binary.LittleEndian.AppendUint16(f, rdbDumpVersion)
	crc = crc64Update(crc, f)
	return binary.LittleEndian.AppendUint64(f, crc)
}

// Decoding (RESTORE).

// rdbVerify checks a payload's footer: its version and CRC64.
func rdbVerify(p []byte) error {
	if len(p) < rdbFooterLen {
		return errRDBVersion
	}
	foot := p[len(p)-rdbFooterLen:]
	if binary.LittleEndian.Uint16(foot) > rdbMaxVersion {
		return errRDBVersion
	}
	if crc64Update(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(foot[2:]) {
		return errRDBVersion
	}
	return nil
}

// rdbDecoder reads one object from a payload (footer excluded).
type rdbDecoder struct {
	p []byte
	b *rdbBudget
}

// rdbBudget is what decoding may still allocate, in bytes.
type rdbBudget struct{ left int64 }

// rdbElemCost is charged per decoded element: its slice header and score,
// and the text of an integer.
const rdbElemCost = 24 + 8 + 20

func (b *rdbBudget) take(n int64) bool {
	if n > b.left {
		return false
	}
	b.left -= n
	return true
}

// elem charges one element.
func (b *rdbBudget) elem() error {
	if !b.take(rdbElemCost) {
		return errRDBBudget
	}
	return nil
}

// rdbDecode decodes a verified payload's object; budget bounds what it
// allocates beyond the payload.
func rdbDecode(p []byte, budget int64) (*rdbObject, error) {
	if len(p) < rdbFooterLen+1 {
		return nil, errRDBFormat
	}
	d := &rdbDecoder{p: p[:len(p)-rdbFooterLen], b: &rdbBudget{left: budget}}
	typ, err := d.byte()
	if err != nil {
		return nil, err
	}
	// NB: bytes after the object are ignored, as Redis and KVRocks do.
	return d.object(typ)
}

func (d *rdbDecoder) byte() (byte, error) {
	if len(d.p) == 0 {
		return 0, errRDBFormat
	}
	b := d.p[0]
	d.p = d.p[1:]
	return b, nil
}

func (d *rdbDecoder) take(n uint64) ([]byte, error) {
	if n > uint64(len(d.p)) {
		return nil, errRDBFormat
	}
	b := d.p[:n:n]
	d.p = d.p[n:]
	return b, nil
}

// length reads a length; encoded reports an encoded-string marker whose
// kind is returned as the length.
func (d *rdbDecoder) length() (n uint64, encoded bool, err error) {
	c, err := d.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false, nil
	case 1:
		c2, err := d.byte()
		return uint64(c&0x3f)<<8 | uint64(c2), false, err
	case 3:
		return uint64(c & 0x3f), true, nil
	}
	switch c {
	case 0x80:
		b, err := d.take(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := d.take(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, errRDBFormat
}

// count reads an element count: each element takes at least min bytes, so
// a count the remaining bytes cannot hold is refused before allocating.
func (d *rdbDecoder) count(min uint64) (int, error) {
	n, enc, err := d.length()
	if err != nil {
		return 0, err
	}
	if enc || n > uint64(len(d.p))/min {
		return 0, errRDBFormat
	}
	return int(n), nil
}

func (d *rdbDecoder) string() ([]byte, error) {
	n, enc, err := d.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		return d.take(n)
	}
	switch n {
	case rdbEncInt8:
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int8(b[0])), 10), nil
	case rdbEncInt16:
		b, err := d.take(2)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10), nil
	case rdbEncInt32:
		b, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10), nil
	case rdbEncLZF:
		clen, enc1, err := d.length()
		if err != nil || enc1 {
			return nil, errRDBFormat
		}
		ulen, enc2, err := d.length()
		if err != nil || enc2 {
			return nil, errRDBFormat
		}
		in, err := d.take(clen)
		if err != nil {
			return nil, err
		}
		if ulen > clen*lzfMaxRatio || ulen > uint64(d.b.left) {
			return nil, errRDBBudget
		}
		d.b.left -= int64(ulen)
		out, ok := lzfDecompress(in, int(ulen))
		if !ok {
			return nil, errRDBFormat
		}
		return out, nil
	}
	return nil, errRDBFormat
}

// lzfDecompress expands in into exactly n bytes.
func lzfDecompress(in []byte, n int) ([]byte, bool) {
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 {
			l := ctrl + 1
			if i+l > len(in) || len(out)+l > n {
				return nil, false
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if i >= len(in) {
				return nil, false
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, false
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[i]) - 1
		i++
		l += 2
		if ref < 0 || len(out)+l > n {
			return nil, false
		}
		for j := range l {
			out = append(out, out[ref+j])
		}
	}
	return out, len(out) == n
}

func (d *rdbDecoder) object(typ byte) (*rdbObject, error) {
	switch typ {
	case rdbString:
		s, err := d.string()
		return &rdbObject{kind: kindString, str: s}, err
	case rdbList, rdbSet:
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		o := &rdbObject{kind: kindList, elems: make([][]byte, 0, min(n, 1024))}
		if typ == rdbSet {
			o.kind = kindSet
		}
		for range n {
			s, err := d.string()
			if err != nil {
				return nil, err
			}
			if err := d.b.elem(); err != nil {
				return nil, err
			}
			o.elems = append(o.elems, s)
		}
		return o, nil
	case rdbZSet, rdbZSet2:
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		o := &rdbObject{kind: kindZSet, elems: make([][]byte, 0, min(n, 1024)), scores: make([]float64, 0, min(n, 1024))}
		for range n {
			m, err := d.string()
			if err != nil {
				return nil, err
			}
			var f float64
			if typ == rdbZSet2 {
				b, err := d.take(8)
				if err != nil {
					return nil, err
				}
				f = math.Float64frombits(binary.LittleEndian.Uint64(b))
			} else if f, err = d.textDouble(); err != nil {
				return nil, err
			}
			if math.IsNaN(f) {
				return nil, errRDBFormat
			}
			if err := d.b.elem(); err != nil {
				return nil, err
			}
			o.elems = append(o.elems, m)
			o.scores = append(o.scores, f)
		}
		return o, nil
	case rdbHash:
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		o := &rdbObject{kind: kindHash, elems: make([][]byte, 0, min(2*n, 1024))}
		for range 2 * n {
			s, err := d.string()
			if err != nil {
				return nil, err
			}
			if err := d.b.elem(); err != nil {
				return nil, err
			}
			o.elems = append(o.elems, s)
		}
		return o, nil
	case rdbHashZipmap:
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		elems, err := zipmapEntries(s, d.b)
		return &rdbObject{kind: kindHash, elems: elems}, err
	case rdbListZiplist, rdbZSetZiplist, rdbHashZiplist:
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		elems, err := ziplistEntries(s, nil, d.b)
		if err != nil {
			return nil, err
		}
		return pairs(typ, elems)
	case rdbSetIntset:
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		elems, err := intsetEntries(s, d.b)
		return &rdbObject{kind: kindSet, elems: elems}, err
	case rdbHashListpack, rdbZSetListpack, rdbSetListpack:
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		elems, err := listpackEntries(s, nil, d.b)
		if err != nil {
			return nil, err
		}
		return pairs(typ, elems)
	case rdbListQuicklist, rdbListQuicklist2:
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		o := &rdbObject{kind: kindList}
		for range n {
			container := uint64(quicklistPacked)
			if typ == rdbListQuicklist2 {
				var enc bool
				if container, enc, err = d.length(); err != nil || enc ||
					container != quicklistPlain && container != quicklistPacked {
					return nil, errRDBFormat
				}
			}
			s, err := d.string()
			if err != nil {
				return nil, err
			}
			switch {
			case container == quicklistPlain:
				if err = d.b.elem(); err == nil {
					o.elems = append(o.elems, s)
				}
			case typ == rdbListQuicklist2:
				o.elems, err = listpackEntries(s, o.elems, d.b)
			default:
				o.elems, err = ziplistEntries(s, o.elems, d.b)
			}
			if err != nil {
				return nil, err
			}
		}
		return o, nil
	}
	return nil, errRDBFormat
}

// pairs shapes a packed encoding's flat entries into typ's object.
func pairs(typ byte, elems [][]byte) (*rdbObject, error) {
	switch typ {
	case rdbListZiplist:
		return &rdbObject{kind: kindList, elems: elems}, nil
	case rdbSetListpack:
		return &rdbObject{kind: kindSet, elems: elems}, nil
	case rdbHashZiplist, rdbHashListpack:
		if len(elems)%2 != 0 {
			return nil, errRDBFormat
		}
		return &rdbObject{kind: kindHash, elems: elems}, nil
	}
	// Sorted sets: member, score, member, score ...
	if len(elems)%2 != 0 {
		return nil, errRDBFormat
	}
	o := &rdbObject{kind: kindZSet, elems: make([][]byte, 0, len(elems)/2), scores: make([]float64, 0, len(elems)/2)}
	for i := 0; i < len(elems); i += 2 {
		f, ok := parseScore(elems[i+1])
		if !ok {
			return nil, errRDBFormat
		}
		o.elems = append(o.elems, elems[i])
		o.scores = append(o.scores, f)
	}
	return o, nil
}

// textDouble reads the old text encoding of a score.
func (d *rdbDecoder) textDouble() (float64, error) {
	n, err := d.byte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := d.take(uint64(n))
	if err != nil {
		return 0, err
	}
	f, ok := parseScore(b)
	if !ok {
		return 0, errRDBFormat
	}
	return f, nil
}

// listpackEntries appends a listpack's entries to dst (strings alias lp).
func listpackEntries(lp []byte, dst [][]byte, b *rdbBudget) ([][]byte, error) {
	if len(lp) < 7 || binary.LittleEndian.Uint32(lp) != uint32(len(lp)) || lp[len(lp)-1] != 0xff {
		return nil, errRDBFormat
	}
	p := lp[6 : len(lp)-1]
	for len(p) > 0 {
		c := p[0]
		var v []byte
		var n int // encoding + data bytes
		var iv int64
		isInt := true
		switch {
		case c&0x80 == 0:
			iv, n = int64(c&0x7f), 1
		case c&0xc0 == 0x80:
			l := int(c & 0x3f)
			if 1+l > len(p) {
				return nil, errRDBFormat
			}
			v, n, isInt = p[1:1+l:1+l], 1+l, false
		case c&0xe0 == 0xc0:
			if len(p) < 2 {
				return nil, errRDBFormat
			}
			u := int64(c&0x1f)<<8 | int64(p[1])
			if u >= 1<<12 {
				u -= 1 << 13
			}
			iv, n = u, 2
		case c&0xf0 == 0xe0:
			if len(p) < 2 {
				return nil, errRDBFormat
			}
			l := int(c&0x0f)<<8 | int(p[1])
			if 2+l > len(p) {
				return nil, errRDBFormat
			}
			v, n, isInt = p[2:2+l:2+l], 2+l, false
		case c == 0xf0:
			if len(p) < 5 {
				return nil, errRDBFormat
			}
			l := uint64(binary.LittleEndian.Uint32(p[1:]))
			if 5+l > uint64(len(p)) {
				return nil, errRDBFormat
			}
			v, n, isInt = p[5:5+l:5+l], 5+int(l), false
		case c >= 0xf1 && c <= 0xf4:
			w := [...]int{2, 3, 4, 8}[c-0xf1]
			if 1+w > len(p) {
				return nil, errRDBFormat
			}
			var u uint64
			for i := w - 1; i >= 0; i-- {
				u = u<<8 | uint64(p[1+i])
			}
			shift := uint(64 - 8*w)
			iv, n = int64(u<<shift)>>shift, 1+w
		default:
			return nil, errRDBFormat
		}
		if isInt {
			v = strconv.AppendInt(nil, iv, 10)
		}
		// The entry's back-length follows: its size depends only on n.
		back := 5
		switch {
		case n <= 127:
			back = 1
		case n < 16383:
			back = 2
		case n < 2097151:
			back = 3
		case n < 268435455:
			back = 4
		}
		if n+back > len(p) {
			return nil, errRDBFormat
		}
		p = p[n+back:]
		if err := b.elem(); err != nil {
			return nil, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// ziplistEntries appends a ziplist's entries to dst (strings alias zl).
func ziplistEntries(zl []byte, dst [][]byte, b *rdbBudget) ([][]byte, error) {
	if len(zl) < ziplistHeaderBytes+1 || binary.LittleEndian.Uint32(zl) != uint32(len(zl)) || zl[len(zl)-1] != 0xff {
		return nil, errRDBFormat
	}
	p := zl[ziplistHeaderBytes : len(zl)-1]
	for len(p) > 0 {
		if p[0] == 0xfe {
			if len(p) < 5 {
				return nil, errRDBFormat
			}
			p = p[5:]
		} else {
			p = p[1:]
		}
		if len(p) == 0 {
			return nil, errRDBFormat
		}
		c := p[0]
		var l int
		var v []byte
		switch c >> 6 {
		case 0:
			l = int(c & 0x3f)
			p = p[1:]
		case 1:
			if len(p) < 2 {
				return nil, errRDBFormat
			}
			l = int(c&0x3f)<<8 | int(p[1])
			p = p[2:]
		case 2:
			if c != 0x80 || len(p) < 5 {
				return nil, errRDBFormat
			}
			u := uint64(binary.BigEndian.Uint32(p[1:]))
			if u > uint64(len(p)) {
				return nil, errRDBFormat
			}
			l = int(u)
			p = p[5:]
		default:
			var w int
			var iv int64
			switch {
			case c == 0xc0:
				w = 2
			case c == 0xd0:
				w = 4
			case c == 0xe0:
				w = 8
			case c == 0xf0:
				w = 3
			case c == 0xfe:
				w = 1
			case c >= 0xf1 && c <= 0xfd:
				iv = int64(c&0x0f) - 1
			default:
				return nil, errRDBFormat
			}
			if 1+w > len(p) {
				return nil, errRDBFormat
			}
			if w > 0 {
				var u uint64
				for i := w - 1; i >= 0; i-- {
					u = u<<8 | uint64(p[1+i])
				}
				shift := uint(64 - 8*w)
				iv = int64(u<<shift) >> shift
			}
			p = p[1+w:]
			if err := b.elem(); err != nil {
				return nil, err
			}
			dst = append(dst, strconv.AppendInt(nil, iv, 10))
			continue
		}
		if l > len(p) {
			return nil, errRDBFormat
		}
		v, p = p[:l:l], p[l:]
		if err := b.elem(); err != nil {
			return nil, err
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// intsetEntries returns an intset's members as text.
func intsetEntries(is []byte, b *rdbBudget) ([][]byte, error) {
	if len(is) < 8 {
		return nil, errRDBFormat
	}
	w := binary.LittleEndian.Uint32(is)
	n := uint64(binary.LittleEndian.Uint32(is[4:]))
	if w != 2 && w != 4 && w != 8 || n*uint64(w) != uint64(len(is)-8) {
		return nil, errRDBFormat
	}
	out := make([][]byte, 0, min(n, 1024))
	for p := is[8:]; len(p) > 0; p = p[w:] {
		if err := b.elem(); err != nil {
			return nil, err
		}
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		out = append(out, strconv.AppendInt(nil, v, 10))
	}
	return out, nil
}

// zipmapEntries returns a zipmap's keys and values interleaved.
func zipmapEntries(zm []byte, b *rdbBudget) ([][]byte, error) {
	if len(zm) < 2 {
		return nil, errRDBFormat
	}
	p := zm[1:]
	var out [][]byte
	readLen := func() (int, bool) {
		if len(p) == 0 {
			return 0, false
		}
		switch c := p[0]; {
		case c < 254:
			p = p[1:]
			return int(c), true
		case c == 254 && len(p) >= 5:
			l := binary.LittleEndian.Uint32(p[1:])
			p = p[5:]
			return int(l), uint64(l) <= uint64(len(p))
		}
		return 0, false
	}
	for {
		if len(p) == 0 {
			return nil, errRDBFormat
		}
		if p[0] == 0xff {
			if len(p) != 1 {
				return nil, errRDBFormat
			}
			return out, nil
		}
		kl, ok := readLen()
		if !ok || kl > len(p) {
			return nil, errRDBFormat
		}
		k := p[:kl:kl]
		p = p[kl:]
		vl, ok := readLen()
		if !ok || len(p) < 1 {
			return nil, errRDBFormat
		}
		free := int(p[0])
		p = p[1:]
		if vl > len(p) || free > len(p)-vl {
			return nil, errRDBFormat
		}
		if !b.take(2 * rdbElemCost) {
			return nil, errRDBBudget
		}
		out = append(out, k, p[:vl:vl])
		p = p[vl+free:]
	}
}

// sortZSetDump orders members as DUMP writes them: highest score first,
// ties by member, highest first.
func sortZSetDump(members [][]byte, scores []float64) {
	idx := make([]int, len(members))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return -bytes.Compare(members[a], members[b])
	})
	m2 := make([][]byte, len(members))
	s2 := make([]float64, len(scores))
	for i, j := range idx {
		m2[i], s2[i] = members[j], scores[j]
	}
	copy(members, m2)
	copy(scores, s2)
}
