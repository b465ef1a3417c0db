package engine

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Bitmaps are stored as KVRocks stores them: fragments of up to 1 KiB as
// sub-keys, so that SETBIT at a high offset writes one fragment, not the
// bytes before it:
//
//	fragment index u32 BE -> up to 1024 bytes (bit 0 is the MSB of byte 0, as in Redis)
//
// Size is the bitmap's length in bytes; bytes no fragment covers are zero.
// KVRocks keeps bits LSB-first inside a fragment and swaps them when GET
// reads a bitmap; here fragments hold the bytes Redis would, so GET, BITOP
// and BITFIELD need no swapping. Fragment suffixes are binary (KVRocks
// writes the decimal byte offset), so fragments come in offset order.
//
// The bit commands also work on string keys (the value is read and
// rewritten whole, as Redis does); Bits hides which of the two a key is.
const (
	BitmapFragmentBytes = 1024
	// MaxBitmapBytes is the largest bitmap or string the bit commands grow:
	// offsets are below 2^32 bits, as in Redis and KVRocks, and a 64-bit
	// BITFIELD at the last one reaches 8 bytes further.
	MaxBitmapBytes = 512<<20 + 8
)

var (
	errBitsString = errors.New("engine: bit command on a string")
	errBitsRetry  = errors.New("engine: key changed type")
	// ErrBitmapTooLarge reports a bitmap larger than GET may read whole.
	ErrBitmapTooLarge = errors.New("engine: bitmap too large to read as a string")
)

// Bits is a bit command's view of one key: a bitmap (sub-keys), a string
// (its value in memory) or an absent key (empty). It is valid only in the
// function it is passed to.
type Bits struct {
	t       *Txn
	i       int
	ver     uint64 // the bitmap's version when opened
	str     []byte
	isStr   bool
	exists  bool
	size    int64
	changed bool
	frag    []byte
}

// Len is the value's length in bytes (0 when absent).
func (b *Bits) Len() int64 { return b.size }

// Exists reports whether the key exists.
func (b *Bits) Exists() bool { return b.exists }

// IsString reports whether the key is a string rather than a bitmap.
func (b *Bits) IsString() bool { return b.isStr }

func fragSuffix(dst []byte, idx int64) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(idx))
}

// fragment appends fragment idx's stored bytes, cut to the value's length,
// to dst.
func (b *Bits) fragment(idx int64, dst []byte) ([]byte, error) {
	if b.isStr {
		lo := idx * BitmapFragmentBytes
		if lo >= b.size {
			return dst, nil
		}
		return append(dst, b.str[lo:min(b.size, lo+BitmapFragmentBytes)]...), nil
	}
	if !b.exists {
		return dst, nil
	}
	var sfx [4]byte
	key := appendSubKey(b.t.sk[:0], b.ver, fragSuffix(sfx[:0], idx))
	b.t.sk = key
	val, closer, err := b.t.reader().Get(key)
	if err == pebble.ErrNotFound {
		return dst, nil
	}
	if err != nil {
		return dst, err
	}
	n := min(int64(len(val)), b.size-idx*BitmapFragmentBytes)
	if n > 0 {
		dst = append(dst, val[:n]...)
	}
	closer.Close()
	return dst, nil
}

// Chunks calls fn, in order, for the stored bytes of [lo, hi) (cut to the
// value's length): off is p[0]'s offset. Bytes between chunks are zero.
// p is valid only during fn; fn returns false to stop.
func (b *Bits) Chunks(lo, hi int64, fn func(off int64, p []byte) bool) error {
	hi = min(hi, b.size)
	lo = max(lo, 0)
	if lo >= hi || !b.exists {
		return nil
	}
	if b.isStr {
		fn(lo, b.str[lo:hi])
		return nil
	}
	var l, h [4]byte
	it, err := newSubIter(b.t.reader(), b.ver, fragSuffix(l[:0], lo/BitmapFragmentBytes),
		fragSuffix(h[:0], (hi-1)/BitmapFragmentBytes+1))
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		sfx := it.Suffix()
		if len(sfx) != 4 {
			continue
		}
		base := int64(binary.BigEndian.Uint32(sfx)) * BitmapFragmentBytes
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		s, e := max(lo, base), min(hi, base+int64(len(v)))
		if s >= e {
			continue
		}
		if !fn(s, v[s-base:e-base]) {
			break
		}
	}
	return it.Close()
}

// ReadAt fills p with the bytes at off (zeros past the end).
func (b *Bits) ReadAt(p []byte, off int64) error {
	clear(p)
	if len(p) <= 8 && b.exists && !b.isStr {
		// A point read of the one or two fragments (BITFIELD, GETBIT).
		for len(p) > 0 {
			idx, in := off/BitmapFragmentBytes, off%BitmapFragmentBytes
			n := min(int64(len(p)), BitmapFragmentBytes-in)
			var err error
			if b.frag, err = b.fragment(idx, b.frag[:0]); err != nil {
				return err
			}
			if in < int64(len(b.frag)) {
				copy(p[:n], b.frag[in:])
			}
			p, off = p[n:], off+n
		}
		return nil
	}
	return b.Chunks(off, off+int64(len(p)), func(o int64, c []byte) bool {
		copy(p[o-off:], c)
		return true
	})
}

// Grow extends the value with zero bytes to n bytes (no-op if longer).
func (b *Bits) Grow(n int64) error {
	if n <= b.size {
		return nil
	}
	if n > MaxBitmapBytes {
		return ErrTooLarge
	}
	if b.isStr {
		b.str = append(b.str, make([]byte, n-b.size)...)
		b.size, b.changed = n, true
		return nil
	}
	if !b.exists {
		if err := b.t.Create(b.i, TypeBitmap); err != nil {
			return err
		}
		b.ver, b.exists = b.t.keys[b.t.slots[b.i]].m.Version, true
	}
	b.t.addSize(b.i, n-b.size)
	b.size, b.changed = n, true
	return nil
}

// WriteAt writes p at off, growing the value as needed.
func (b *Bits) WriteAt(p []byte, off int64) error {
	if err := b.Grow(off + int64(len(p))); err != nil {
		return err
	}
	b.changed = true
	if b.isStr {
		copy(b.str[off:], p)
		return nil
	}
	var sfx [4]byte
	for len(p) > 0 {
		idx, in := off/BitmapFragmentBytes, off%BitmapFragmentBytes
		n := min(int64(len(p)), BitmapFragmentBytes-in)
		var err error
		if b.frag, err = b.fragment(idx, b.frag[:0]); err != nil {
			return err
		}
		if need := int(in + n); len(b.frag) < need {
			b.frag = append(b.frag, make([]byte, need-len(b.frag))...)
		}
		copy(b.frag[in:], p[:n])
		b.t.setSub(b.i, fragSuffix(sfx[:0], idx), b.frag)
		p, off = p[n:], off+n
	}
	return nil
}

// ReadBits runs fn on key's bits: a bitmap, a string, or an absent key
// (Len 0). ErrWrongType for other types. fn may run more than once if the
// key changes type meanwhile; it must only compute.
func (e *Engine) ReadBits(ks string, key []byte, fn func(b *Bits) error) error {
	return e.bits(ks, key, false, fn)
}

// WriteBits runs fn on key's bits and commits what it wrote atomically.
// An absent key written to becomes a bitmap; a string stays a string.
func (e *Engine) WriteBits(ks string, key []byte, fn func(b *Bits) error) error {
	return e.bits(ks, key, true, fn)
}

func (e *Engine) bits(ks string, key []byte, write bool, fn func(b *Bits) error) error {
	for attempt := 0; ; attempt++ {
		err := e.Txn(ks, [][]byte{key}, func(t *Txn) error {
			m, ok, err := t.Meta(0)
			if err != nil {
				return err
			}
			b := Bits{t: t}
			if ok {
				switch m.Type {
				case TypeString:
					return errBitsString
				case TypeBitmap:
					b.exists, b.ver, b.size = true, m.Version, m.Size
				default:
					return ErrWrongType
				}
			}
			return fn(&b)
		})
		if err != errBitsString {
			return err
		}
		if write {
			err = e.Update(ks, key, func(cur *Value) (Update, error) {
				if cur == nil {
					return Update{}, errBitsRetry
				}
				str, err := cur.AppendTo(make([]byte, 0, cur.Len()))
				if err != nil {
					return Update{}, err
				}
				b := Bits{str: str, isStr: true, exists: true, size: int64(len(str))}
				if err := fn(&b); err != nil {
					return Update{}, err
				}
				if !b.changed {
					return Update{}, nil
				}
				return Update{Action: UpdateReplace, Value: b.str}, nil
			})
		} else {
			err = e.readStringBits(ks, key, fn)
		}
		if (err == errBitsRetry || err == ErrWrongType) && attempt < 8 {
			continue // the key changed type between the two looks
		}
		return err
	}
}

func (e *Engine) readStringBits(ks string, key []byte, fn func(b *Bits) error) error {
	v, err := e.Get(ks, key)
	if err == ErrNotFound {
		return errBitsRetry
	}
	if err != nil {
		return err
	}
	defer v.Release()
	if v.meta.Type != TypeString {
		return errBitsRetry
	}
	// A small value is read in place (v stays held until fn returns); a
	// large one, in arena pages, is made contiguous.
	str := v.Bytes()
	if str == nil && v.Len() > 0 {
		if str, err = v.AppendTo(make([]byte, 0, v.Len())); err != nil {
			return err
		}
	}
	return fn(&Bits{str: str, isStr: true, exists: true, size: int64(len(str))})
}

// BitmapString returns a bitmap key's bytes as GET answers them; ErrWrongType
// unless the key is a bitmap, ErrBitmapTooLarge when it is longer than max.
func (e *Engine) BitmapString(ks string, key []byte, max int64) ([]byte, error) {
	var out []byte
	err := e.Txn(ks, [][]byte{key}, func(t *Txn) error {
		m, ok, err := t.Meta(0)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		if m.Type != TypeBitmap {
			return ErrWrongType
		}
		if m.Size > max {
			return ErrBitmapTooLarge
		}
		b := Bits{t: t, exists: true, ver: m.Version, size: m.Size}
		out = make([]byte, m.Size)
		return b.ReadAt(out, 0)
	})
	return out, err
}

// BitOpKind is BITOP's operation.
type BitOpKind uint8

const (
	BitAnd BitOpKind = iota
	BitOr
	BitXor
	BitNot
)

// BitOp stores op over srcs (bitmaps or strings; absent keys are empty)
// in dst as a bitmap, replacing whatever dst held, and returns its length
// in bytes. A zero-length result deletes dst.
func (e *Engine) BitOp(ks string, op BitOpKind, dst []byte, srcs [][]byte) (int64, error) {
	keys := append([][]byte{dst}, srcs...)
	strs := make(map[int]*stringSnap)
	for attempt := 0; ; attempt++ {
		var need []int
		var n int64
		err := e.Txn(ks, keys, func(t *Txn) error {
			bs := make([]Bits, len(srcs))
			for j := range srcs {
				m, ok, err := t.Meta(1 + j)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				switch m.Type {
				case TypeBitmap:
					bs[j] = Bits{t: t, i: 1 + j, exists: true, ver: m.Version, size: m.Size}
				case TypeString:
					s := strs[j]
					if s == nil || s.version != m.Version {
						need = append(need, j)
						continue
					}
					bs[j] = Bits{str: s.val, isStr: true, exists: true, size: int64(len(s.val))}
				default:
					return ErrWrongType
				}
			}
			if need != nil {
				return errBitsRetry
			}
			var err error
			n, err = bitOpTxn(t, op, bs)
			return err
		})
		if err != errBitsRetry || attempt >= 8 {
			return n, err
		}
		for _, j := range need {
			v, err := e.Get(ks, srcs[j])
			if err == ErrNotFound {
				continue
			}
			if err != nil {
				return 0, err
			}
			s := &stringSnap{version: v.meta.Version}
			if v.meta.Type == TypeString {
				s.val, err = v.AppendTo(nil)
			}
			v.Release()
			if err != nil {
				return 0, err
			}
			strs[j] = s
		}
	}
}

type stringSnap struct {
	version uint64
	val     []byte
}

func bitOpTxn(t *Txn, op BitOpKind, bs []Bits) (int64, error) {
	var size int64
	for j := range bs {
		size = max(size, bs[j].size)
	}
	if size == 0 {
		return 0, t.Delete(0)
	}
	if err := t.Replace(0, TypeBitmap); err != nil {
		return 0, err
	}
	t.addSize(0, size)
	res := make([]byte, BitmapFragmentBytes)
	var sfx [4]byte
	frags, err := bitOpFragments(op, bs, size)
	if err != nil {
		return 0, err
	}
	for _, idx := range frags {
		flen := min(size-idx*BitmapFragmentBytes, BitmapFragmentBytes)
		r := res[:flen]
		for j := range bs {
			var err error
			if bs[j].frag, err = bs[j].fragment(idx, bs[j].frag[:0]); err != nil {
				return 0, err
			}
		}
		for x := range r {
			var v byte
			for j := range bs {
				var c byte
				if f := bs[j].frag; x < len(f) {
					c = f[x]
				}
				switch {
				case j == 0:
					v = c
				case op == BitAnd:
					v &= c
				case op == BitOr:
					v |= c
				case op == BitXor:
					v ^= c
				}
			}
			if op == BitNot {
				v = ^v
			}
			r[x] = v
		}
		nz := len(r)
		for nz > 0 && r[nz-1] == 0 {
			nz--
		}
		if nz > 0 {
			t.setSub(0, fragSuffix(sfx[:0], idx), r[:nz])
		}
	}
	return size, nil
}

// bitOpFragments lists the fragments BITOP must compute, in order: all of
// them for NOT; for the others only those some source stores (AND: all of
// them), the rest of the result being zero, so that sparse bitmaps cost
// what they store rather than their length.
func bitOpFragments(op BitOpKind, bs []Bits, size int64) ([]int64, error) {
	n := (size + BitmapFragmentBytes - 1) / BitmapFragmentBytes
	all := func() []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(i)
		}
		return out
	}
	if op == BitNot {
		return all(), nil
	}
	count := make(map[int64]int)
	for j := range bs {
		b := &bs[j]
		if !b.exists {
			if op == BitAnd {
				return nil, nil
			}
			continue
		}
		if b.isStr {
			for i := int64(0); i*BitmapFragmentBytes < b.size; i++ {
				count[i]++
			}
			continue
		}
		it, err := newSubIter(b.t.reader(), b.ver, nil, nil)
		if err != nil {
			return nil, err
		}
		for ok := it.First(); ok; ok = it.Next() {
			if sfx := it.Suffix(); len(sfx) == 4 {
				if i := int64(binary.BigEndian.Uint32(sfx)); i < n {
					count[i]++
				}
			}
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	out := make([]int64, 0, len(count))
	for i, c := range count {
		if op != BitAnd || c == len(bs) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out, nil
}
