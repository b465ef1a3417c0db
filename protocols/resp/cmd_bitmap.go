package resp

import (
	"errors"
	"math"
	"math/bits"

	"github.com/gpucache/gpucache/engine"
)

// Bit commands work on bitmaps (KVRocks's type, created by SETBIT and
// BITOP, stored in 1 KiB fragments) and on strings alike, with Redis's
// replies and errors.
func bitmapCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "setbit", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdSetBit},
		{name: "getbit", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdGetBit},
		{name: "bitcount", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdBitCount},
		{name: "bitpos", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdBitPos},
		{name: "bitop", arity: -4, flags: flagWrite, first: 2, last: -1, step: 1, fn: (*conn).cmdBitOp},
		{name: "bitfield", arity: -2, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdBitField},
		{name: "bitfield_ro", arity: -2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdBitFieldRO},
	}
}

const (
	errBitOffset      = "ERR bit offset is not an integer or out of range"
	errBitValue       = "ERR bit is not an integer or out of range"
	errBitArg         = "ERR The bit argument must be 1 or 0."
	errBitOpNot       = "ERR BITOP NOT must be called with a single source key."
	errBitfieldType   = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	errBitfieldOflow  = "ERR Invalid OVERFLOW type specified"
	errBitfieldRO     = "ERR BITFIELD_RO only supports the GET subcommand"
	errBitmapTooLarge = "ERR Operation aborted: The size of the bitmap string exceeds the configuration item max-bitmap-to-string-mb"
	// defaultMaxBitmapToString is KVRocks's max-bitmap-to-string-mb
	// default: the largest bitmap GET returns (SetMaxBitmapToString).
	defaultMaxBitmapToString = 16 << 20
	// maxBitBytes bounds bit offsets (in bytes) as proto-max-bulk-len's default
	// (512 MB) bounds them in Redis.
	maxBitBytes = 512 << 20
)

// parseLL parses an integer exactly as Redis's string2ll does: an optional
// '-', no '+', no leading zeros, no spaces, within int64.
func parseLL(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if n > math.MaxUint64/10 {
			return 0, false
		}
		n = n*10 + uint64(ch-'0')
		if n > 1<<63 {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true // n == 1<<63 wraps to MinInt64, as intended
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// parseBitOffset parses a bit offset as Redis's getBitOffsetFromArgument:
// with hash, "#n" means n*width.
func parseBitOffset(b []byte, hash bool, width int) (int64, bool) {
	mul := false
	if hash && len(b) > 0 && b[0] == '#' && width > 0 {
		b, mul = b[1:], true
	}
	n, ok := parseLL(b)
	if !ok {
		return 0, false
	}
	if mul {
		hi, lo := bits.Mul64(uint64(n), uint64(width))
		if n < 0 || hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = int64(lo)
	}
	if n < 0 || n>>3 >= maxBitBytes {
		return 0, false
	}
	return n, true
}

func (c *conn) bitsErr(err error) {
	if errors.Is(err, engine.ErrBitmapTooLarge) {
		c.err(errBitmapTooLarge)
		return
	}
	c.replyErr(err)
}

// SETBIT key offset 0|1
func (c *conn) cmdSetBit(cmd *Command) {
	args := cmd.Args
	off, ok := parseBitOffset(args[2], false, 0)
	if !ok {
		c.err(errBitOffset)
		return
	}
	on, ok := parseLL(args[3])
	if !ok || on&^1 != 0 {
		c.err(errBitValue)
		return
	}
	var old byte
	err := c.eng.WriteBits(c.ns, args[1], func(b *engine.Bits) error {
		var p [1]byte
		if err := b.ReadAt(p[:], off>>3); err != nil {
			return err
		}
		mask := byte(0x80) >> (off & 7)
		old = b2byte(p[0]&mask != 0)
		if on == 1 {
			p[0] |= mask
		} else {
			p[0] &^= mask
		}
		return b.WriteAt(p[:], off>>3)
	})
	if err != nil {
		c.bitsErr(err)
		return
	}
	c.dirty = true
	c.wr.Int(int64(old))
}

func b2byte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// GETBIT key offset
func (c *conn) cmdGetBit(cmd *Command) {
	off, ok := parseBitOffset(cmd.Args[2], false, 0)
	if !ok {
		c.err(errBitOffset)
		return
	}
	var bit int64
	err := c.eng.ReadBits(c.ns, cmd.Args[1], func(b *engine.Bits) error {
		bit = 0
		if off>>3 >= b.Len() {
			return nil
		}
		var p [1]byte
		if err := b.ReadAt(p[:], off>>3); err != nil {
			return err
		}
		bit = int64(p[0]>>(7-off&7)) & 1
		return nil
	})
	if err != nil {
		c.bitsErr(err)
		return
	}
	c.wr.Int(bit)
}

// bitRange turns BITCOUNT/BITPOS start and end (bytes, or bits with
// isBit) into an inclusive bit range over a value of size bytes, as Redis
// normalizes them; empty reports start > end.
func bitRange(start, end int64, isBit bool, size int64) (lo, hi int64, empty bool) {
	total := size
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 0, 0, true
	}
	if isBit {
		return start, end, false
	}
	return start << 3, end<<3 | 7, false
}

// BITCOUNT key [start end [BYTE|BIT]]
func (c *conn) cmdBitCount(cmd *Command) {
	args := cmd.Args
	var start, end int64
	isBit, whole, zero := false, len(args) == 2, false
	parseErr := ""
	switch {
	case len(args) == 4 || len(args) == 5:
		var ok1, ok2 bool
		start, ok1 = parseLL(args[2])
		end, ok2 = parseLL(args[3])
		switch {
		case !ok1 || !ok2:
			parseErr = errNotInteger
		case start < 0 && end < 0 && start > end:
			zero = true
		case len(args) == 5 && eqFold(args[4], "bit"):
			isBit = true
		case len(args) == 5 && !eqFold(args[4], "byte"):
			parseErr = errSyntax
		}
	case !whole:
		parseErr = errSyntax
	}
	var n int64
	err := c.eng.ReadBits(c.ns, args[1], func(b *engine.Bits) error {
		n = 0
		if !b.Exists() {
			return nil
		}
		if parseErr != "" {
			return errReply(parseErr)
		}
		if zero {
			return nil
		}
		if whole {
			start, end, isBit = 0, -1, false
		}
		lo, hi, empty := bitRange(start, end, isBit, b.Len())
		if empty {
			return nil
		}
		return b.Chunks(lo>>3, hi>>3+1, func(off int64, p []byte) bool {
			for x, v := range p {
				pos := (off + int64(x)) << 3
				if pos < lo || pos+7 > hi {
					v &= rangeMask(pos, lo, hi)
				}
				n += int64(bits.OnesCount8(v))
			}
			return true
		})
	})
	if err != nil {
		c.replyBitsErr(err)
		return
	}
	c.wr.Int(n)
}

// rangeMask is the mask of byte pos's bits (pos is its first bit) that lie
// in [lo, hi].
func rangeMask(pos, lo, hi int64) byte {
	m := byte(0xff)
	if lo > pos {
		m >>= lo - pos
	}
	if hi < pos+7 {
		m &= 0xff << (pos + 7 - hi)
	}
	return m
}

// errReply carries a reply error text out of an engine callback.
type errReply string

func (e errReply) Error() string { return string(e) }

func (c *conn) replyBitsErr(err error) {
	var r errReply
	if errors.As(err, &r) {
		c.err(string(r))
		return
	}
	c.bitsErr(err)
}

// BITPOS key bit [start [end [BYTE|BIT]]]
func (c *conn) cmdBitPos(cmd *Command) {
	args := cmd.Args
	bit, ok := parseLL(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	if bit != 0 && bit != 1 {
		c.err(errBitArg)
		return
	}
	var pos int64
	err := c.eng.ReadBits(c.ns, args[1], func(b *engine.Bits) error {
		if !b.Exists() {
			pos = -bit
			return nil
		}
		var start, end int64
		isBit, endGiven := false, false
		switch len(args) {
		case 3:
			start, end = 0, b.Len()-1
		case 4, 5, 6:
			if start, ok = parseLL(args[3]); !ok {
				return errReply(errNotInteger)
			}
			if len(args) == 6 {
				switch {
				case eqFold(args[5], "bit"):
					isBit = true
				case !eqFold(args[5], "byte"):
					return errReply(errSyntax)
				}
			}
			if len(args) >= 5 {
				if end, ok = parseLL(args[4]); !ok {
					return errReply(errNotInteger)
				}
				endGiven = true
			} else if isBit {
				end = b.Len()<<3 + 7
			} else {
				end = b.Len() - 1
			}
		default:
			return errReply(errSyntax)
		}
		lo, hi, empty := bitRange(start, end, isBit, b.Len())
		if empty {
			pos = -1
			return nil
		}
		var err error
		pos, err = findBit(b, byte(bit), lo, hi)
		if err != nil || pos >= 0 {
			return err
		}
		if bit == 1 || endGiven {
			pos = -1
		} else {
			pos = (hi>>3 + 1) << 3
		}
		return nil
	})
	if err != nil {
		c.replyBitsErr(err)
		return
	}
	c.wr.Int(pos)
}

// findBit returns the first bit equal to bit in the inclusive bit range
// [lo, hi], or -1.
func findBit(b *engine.Bits, bit byte, lo, hi int64) (int64, error) {
	pos := int64(-1)
	next := lo >> 3 // the first byte not yet looked at
	inByte := func(byteIdx int64, v byte) bool {
		first := byteIdx << 3
		m := byte(0xff)
		if first < lo || first+7 > hi {
			m = rangeMask(first, lo, hi)
		}
		if bit == 0 {
			v = ^v
		}
		v &= m
		if v == 0 {
			return false
		}
		pos = first + int64(bits.LeadingZeros8(v))
		return true
	}
	err := b.Chunks(lo>>3, hi>>3+1, func(off int64, p []byte) bool {
		if bit == 0 && off > next {
			// A gap of zero bytes before this chunk.
			if inByte(next, 0) {
				return false
			}
		}
		for x, v := range p {
			if bit == 1 && v == 0 || bit == 0 && v == 0xff {
				continue
			}
			if inByte(off+int64(x), v) {
				return false
			}
		}
		next = off + int64(len(p))
		return true
	})
	if err != nil || pos >= 0 {
		return pos, err
	}
	if bit == 0 && next <= hi>>3 {
		inByte(next, 0)
	}
	return pos, nil
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]
func (c *conn) cmdBitOp(cmd *Command) {
	args := cmd.Args
	var op engine.BitOpKind
	switch {
	case eqFold(args[1], "and"):
		op = engine.BitAnd
	case eqFold(args[1], "or"):
		op = engine.BitOr
	case eqFold(args[1], "xor"):
		op = engine.BitXor
	case eqFold(args[1], "not"):
		op = engine.BitNot
	default:
		c.syntaxErr()
		return
	}
	if op == engine.BitNot && len(args) != 4 {
		c.err(errBitOpNot)
		return
	}
	n, err := c.eng.BitOp(c.ns, op, args[2], args[3:])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.dirty = true
	c.wr.Int(n)
}

// bitfieldOp is one BITFIELD operation.
type bitfieldOp struct {
	op     byte // 'g', 's', 'i'
	signed bool
	width  int
	offset int64
	val    int64
	ovf    byte // 'w' wrap, 's' sat, 'f' fail
}

// parseBitfield parses BITFIELD's operations (args after the key) as Redis
// does; it returns the reply error text on failure, and the highest bit a
// write reaches (-1 when there are only GETs).
func parseBitfield(args [][]byte) (ops []bitfieldOp, highest int64, errText string) {
	highest = -1
	ovf := byte('w')
	for j := 0; j < len(args); j++ {
		rem := len(args) - j - 1
		var op byte
		switch {
		case eqFold(args[j], "get") && rem >= 2:
			op = 'g'
		case eqFold(args[j], "set") && rem >= 3:
			op = 's'
		case eqFold(args[j], "incrby") && rem >= 3:
			op = 'i'
		case eqFold(args[j], "overflow") && rem >= 1:
			j++
			switch {
			case eqFold(args[j], "wrap"):
				ovf = 'w'
			case eqFold(args[j], "sat"):
				ovf = 's'
			case eqFold(args[j], "fail"):
				ovf = 'f'
			default:
				return nil, 0, errBitfieldOflow
			}
			continue
		default:
			return nil, 0, errSyntax
		}
		t := args[j+1]
		if len(t) < 2 || t[0] != 'i' && t[0] != 'u' {
			return nil, 0, errBitfieldType
		}
		signed := t[0] == 'i'
		w, ok := parseLL(t[1:])
		if !ok || w < 1 || signed && w > 64 || !signed && w > 63 {
			return nil, 0, errBitfieldType
		}
		off, ok := parseBitOffset(args[j+2], true, int(w))
		if !ok {
			return nil, 0, errBitOffset
		}
		o := bitfieldOp{op: op, signed: signed, width: int(w), offset: off, ovf: ovf}
		if op != 'g' {
			highest = max(highest, off+w-1)
			if o.val, ok = parseLL(args[j+3]); !ok {
				return nil, 0, errNotInteger
			}
			j++
		}
		j += 2
		ops = append(ops, o)
	}
	return ops, highest, ""
}

func (c *conn) cmdBitField(cmd *Command)   { c.bitfield(cmd, false) }
func (c *conn) cmdBitFieldRO(cmd *Command) { c.bitfield(cmd, true) }

// bitfieldResult is one reply element: a value, or nil (FAIL overflow).
type bitfieldResult struct {
	v   int64
	nil bool
}

// BITFIELD key [GET type offset] [SET type offset value]
// [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...
func (c *conn) bitfield(cmd *Command, readonly bool) {
	ops, highest, e := parseBitfield(cmd.Args[2:])
	if e != "" {
		c.err(e)
		return
	}
	if highest >= 0 && readonly {
		c.err(errBitfieldRO)
		return
	}
	res := make([]bitfieldResult, len(ops))
	run := func(b *engine.Bits) error {
		if highest >= 0 {
			if err := b.Grow(highest>>3 + 1); err != nil {
				return err
			}
		}
		for k := range ops {
			v, isNil, err := applyBitfield(b, &ops[k])
			if err != nil {
				return err
			}
			res[k] = bitfieldResult{v: v, nil: isNil}
		}
		return nil
	}
	var err error
	if highest >= 0 {
		err = c.eng.WriteBits(c.ns, cmd.Args[1], run)
	} else {
		err = c.eng.ReadBits(c.ns, cmd.Args[1], run)
	}
	if err != nil {
		c.bitsErr(err)
		return
	}
	if highest >= 0 {
		c.dirty = true
	}
	c.wr.Array(len(res))
	for _, r := range res {
		if r.nil {
			c.wr.Null()
		} else {
			c.wr.Int(r.v)
		}
	}
}

// bitRW is what BITFIELD reads and writes: an engine.Bits.
type bitRW interface {
	ReadAt(p []byte, off int64) error
	WriteAt(p []byte, off int64) error
}

// applyBitfield runs one operation on b; isNil reports a FAIL overflow.
func applyBitfield(b bitRW, op *bitfieldOp) (int64, bool, error) {
	var buf [9]byte
	byteOff := op.offset >> 3
	if err := b.ReadAt(buf[:], byteOff); err != nil {
		return 0, false, err
	}
	rel := op.offset - byteOff<<3
	old := getBitfield(buf[:], rel, op.width)
	if op.signed {
		old = signExtend(old, op.width)
	}
	if op.op == 'g' {
		return int64(old), false, nil
	}
	var nv, ret uint64
	var overflow bool
	if op.signed {
		if op.op == 'i' {
			w, of := signedOverflow(int64(old), op.val, op.width, op.ovf)
			nv, overflow = uint64(int64(old)+op.val), of
			if of {
				nv = uint64(w)
			}
			ret = nv
		} else {
			w, of := signedOverflow(op.val, 0, op.width, op.ovf)
			nv, overflow = uint64(op.val), of
			if of {
				nv = uint64(w)
			}
			ret = old
		}
	} else {
		if op.op == 'i' {
			w, of := unsignedOverflow(old, op.val, op.width, op.ovf)
			nv, overflow = old+uint64(op.val), of
			if of {
				nv = w
			}
			ret = nv
		} else {
			w, of := unsignedOverflow(uint64(op.val), 0, op.width, op.ovf)
			nv, overflow = uint64(op.val), of
			if of {
				nv = w
			}
			ret = old
		}
	}
	if overflow && op.ovf == 'f' {
		return 0, true, nil
	}
	setBitfield(buf[:], rel, op.width, nv)
	n := (rel + int64(op.width) + 7) >> 3
	if err := b.WriteAt(buf[:n], byteOff); err != nil {
		return 0, false, err
	}
	return int64(ret), false, nil
}

func getBitfield(p []byte, off int64, width int) uint64 {
	var v uint64
	for j := 0; j < width; j++ {
		o := off + int64(j)
		v = v<<1 | uint64(p[o>>3]>>(7-o&7))&1
	}
	return v
}

func setBitfield(p []byte, off int64, width int, v uint64) {
	for j := 0; j < width; j++ {
		o := off + int64(j)
		mask := byte(0x80) >> (o & 7)
		if v>>(width-1-j)&1 != 0 {
			p[o>>3] |= mask
		} else {
			p[o>>3] &^= mask
		}
	}
}

func signExtend(v uint64, width int) uint64 {
	if width < 64 && v&(1<<(width-1)) != 0 {
		v |= math.MaxUint64 << width
	}
	return v
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow: whether
// value+incr leaves [0, 2^width), and the value to store instead (wrapped
// or saturated).
func unsignedOverflow(value uint64, incr int64, width int, ovf byte) (uint64, bool) {
	maxV := uint64(1)<<width - 1
	maxIncr := int64(maxV - value)
	minIncr := -int64(value)
	wrap := func() (uint64, bool) { return (value + uint64(incr)) & maxV, true }
	switch {
	case value > maxV || incr > 0 && incr > maxIncr:
		if ovf == 'w' {
			return wrap()
		}
		return maxV, true
	case incr < 0 && incr < minIncr:
		if ovf == 'w' {
			return wrap()
		}
		return 0, true
	}
	return 0, false
}

// signedOverflow is Redis's checkSignedBitfieldOverflow.
func signedOverflow(value, incr int64, width int, ovf byte) (int64, bool) {
	maxV := int64(math.MaxInt64)
	if width < 64 {
		maxV = int64(1)<<(width-1) - 1
	}
	minV := -maxV - 1
	maxIncr := int64(uint64(maxV) - uint64(value))
	minIncr := minV - value
	wrap := func() (int64, bool) {
		c := uint64(value) + uint64(incr)
		if width < 64 {
			mask := uint64(math.MaxUint64) << width
			if c&(1<<(width-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c), true
	}
	switch {
	case value > maxV || width != 64 && incr > maxIncr || value >= 0 && incr > 0 && incr > maxIncr:
		if ovf == 'w' {
			return wrap()
		}
		return maxV, true
	case value < minV || width != 64 && incr < minIncr || value < 0 && incr < 0 && incr < minIncr:
		if ovf == 'w' {
			return wrap()
		}
		return minV, true
	}
	return 0, false
}

// getBitmap answers GET of a bitmap key as KVRocks does: its bytes, up to
// max-bitmap-to-string-mb.
func (c *conn) getBitmap(key []byte) {
	b, err := c.eng.BitmapString(c.ns, key, c.s.live.Load().maxBitmapStr)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Null()
	case err != nil:
		c.bitsErr(err)
	default:
		c.wr.Bulk(b)
	}
}
