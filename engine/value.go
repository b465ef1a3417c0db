package engine

import (
	"io"
	"sync"
)

// Value is a borrowed view of a stored value, returned by Get and Open. It
// stays valid, and its bytes unchanged, until Release, even if the key is
// overwritten or deleted meanwhile. Release exactly once.
//
// A Value from Get is resident: Buffers covers the whole value. A Value
// from Open may not be: WriteRange then streams from the NVMe tier in
// bounded pieces.
type Value struct {
	e      *Engine
	ks     string
	meta   Meta
	inline []byte  // small values: a private copy
	buf    *Buffer // resident large values: a reference
	pinned bool    // Open of a non-resident value: segments pinned
	one    [1][]byte
}

var valuePool = sync.Pool{New: func() any { return new(Value) }}

func newValue(e *Engine, ks string) *Value {
	v := valuePool.Get().(*Value)
	v.e, v.ks = e, ks
	return v
}

// Meta is the value's metadata at the time it was read.
func (v *Value) Meta() *Meta { return &v.meta }

// Len is the value's length in bytes.
func (v *Value) Len() int64 { return v.meta.Size }

// Resident reports whether the whole value is in memory (Buffers is valid).
func (v *Value) Resident() bool { return v.buf != nil || v.meta.Inline() }

// Bytes returns the value as one slice when it is inline (small); nil for a
// value held in arena pages — use Buffers.
func (v *Value) Bytes() []byte {
	if v.buf == nil && v.meta.Inline() {
		return v.inline
	}
	return nil
}

// Buffers returns the resident value as consecutive slices (one for a small
// value), ready for writev. Nil if the value is not resident. The slices
// are owned by the Value.
func (v *Value) Buffers() [][]byte {
	if v.buf != nil {
		return v.buf.pages
	}
	if v.meta.Inline() {
		v.one[0] = v.inline
		return v.one[:]
	}
	return nil
}

// AppendTo appends the whole value to dst (copying) and returns it.
func (v *Value) AppendTo(dst []byte) ([]byte, error) {
	if bufs := v.Buffers(); bufs != nil {
		for _, b := range bufs {
			dst = append(dst, b...)
		}
		return dst, nil
	}
	start := len(dst)
	dst = append(dst, make([]byte, v.meta.Size)...)
	_, err := v.e.blobs.readRange(v.e.arena, v.meta.extents, dst[start:], 0)
	return dst, err
}

// WriteRange writes bytes [off, off+n) of the value to w. Resident values
// go out directly; others stream from the NVMe tier through bounded pooled
// buffers, each piece verified before it is written.
func (v *Value) WriteRange(w io.Writer, off, n int64) (int64, error) {
	if off < 0 || n < 0 || off+n > v.meta.Size {
		return 0, io.ErrUnexpectedEOF
	}
	if bufs := v.Buffers(); bufs != nil {
		var total int64
		for _, b := range bufs {
			if off >= int64(len(b)) {
				off -= int64(len(b))
				continue
			}
			b = b[off:]
			off = 0
			if int64(len(b)) > n-total {
				b = b[:n-total]
			}
			m, err := w.Write(b)
			total += int64(m)
			if err != nil || total == n {
				return total, err
			}
		}
		return total, nil
	}
	return v.e.blobs.streamRange(v.e.arena, w, v.meta.extents, off, n)
}

// Release returns the Value. Its slices must not be used afterwards.
func (v *Value) Release() {
	if v.buf != nil {
		v.buf.Release()
	}
	if v.pinned {
		v.e.blobs.unpin(v.meta.extents)
	}
	// Keep the slices' capacity for the next user of the pooled Value.
	inline, attrs, ext := v.inline[:0], v.meta.Attrs[:0], v.meta.extents[:0]
	*v = Value{}
	v.inline, v.meta.Attrs, v.meta.extents = inline, attrs, ext
	valuePool.Put(v)
}
