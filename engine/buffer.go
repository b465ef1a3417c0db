package engine

import (
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Buffer is a value's bytes in the DRAM arena: whole pages, not contiguous.
// A front end gets one from Engine.NewBuffer, fills it straight from the
// socket (ReadFrom or Pages), and hands it to Engine.Put, which takes
// ownership. Buffers are reference counted: the DRAM tier and every reader
// holding a Value keep their own reference, and the pages return to the
// arena when the last one is released.
type Buffer struct {
	a     *arena
	idx   []int32
	pages [][]byte // exactly covering size bytes; the last may be short
	size  int64
	refs  atomic.Int32

	store  *blobStore // set for buffers a front end fills (NewBuffer)
	stream blobStream
}

var bufferPool = sync.Pool{New: func() any { return new(Buffer) }}

func newBuffer(a *arena, size int64, wait time.Duration) (*Buffer, error) {
	b := bufferPool.Get().(*Buffer)
	n := int((size + pageSize - 1) / pageSize)
	var err error
	b.idx, err = a.alloc(b.idx[:0], n, wait)
	if err != nil {
		bufferPool.Put(b)
		return nil, err
	}
	b.a, b.size = a, size
	b.pages = b.pages[:0]
	rem := size
	for _, i := range b.idx {
		p := a.page(i)
		if rem < pageSize {
			p = p[:rem]
		}
		b.pages = append(b.pages, p)
		rem -= int64(len(p))
	}
	b.refs.Store(1)
	return b, nil
}

// joinBuffers returns a new buffer holding the bytes of srcs in order,
// made of their pages (shared, not copied: each page goes back to the
// arena when its last holder lets go). Every source but the last must be
// a whole number of pages; otherwise, or with no sources, it returns nil.
func joinBuffers(srcs []*Buffer) *Buffer {
	if len(srcs) == 0 {
		return nil
	}
	var size int64
	n := 0
	for i, s := range srcs {
		if i < len(srcs)-1 && s.size%pageSize != 0 {
			return nil
		}
		size += s.size
		n += len(s.idx)
	}
	a := srcs[0].a
	b := bufferPool.Get().(*Buffer)
	b.a, b.size = a, size
	b.idx, b.pages = b.idx[:0], b.pages[:0]
	for _, s := range srcs {
		b.idx = append(b.idx, s.idx...)
		b.pages = append(b.pages, s.pages...)
	}
	a.share(b.idx)
	b.refs.Store(1)
	return b
}

// Len is the value's length.
func (b *Buffer) Len() int64 { return b.size }

// Pages returns the buffer's memory as consecutive slices covering exactly
// Len bytes. They stay valid until the caller's reference is released.
func (b *Buffer) Pages() [][]byte { return b.pages }

// ReadFrom fills the whole buffer from r (io.ReadFull semantics): it returns
// io.ErrUnexpectedEOF if r ends early. Filled pages start on their way to
// the NVMe tier at once (see Filled).
func (b *Buffer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for i, p := range b.pages {
		n, err := io.ReadFull(r, p)
		total += int64(n)
		if err != nil {
			if err == io.EOF && total > 0 {
				err = io.ErrUnexpectedEOF
			}
			return total, err
		}
		b.Filled(i + 1)
	}
	return total, nil
}

// CopyTo copies the bytes into dst (len(dst) >= Len) and returns Len.
func (b *Buffer) CopyTo(dst []byte) int {
	n := 0
	for _, p := range b.pages {
		n += copy(dst[n:], p)
	}
	return n
}

// padded returns the pages with the last one extended to a multiple of
// align, for O_DIRECT writes. The padding bytes are zeroed.
func (b *Buffer) padded(dst [][]byte, align int) [][]byte {
	dst = append(dst, b.pages...)
	if len(dst) == 0 {
		return dst
	}
	dst[len(dst)-1] = padTail(dst[len(dst)-1], align)
	return dst
}

// padTail extends a value's last page to a multiple of align with zeros.
// Published values already have zero padding (their first write or the
// read that loaded them put it there), and they may be written again by
// several goroutines at once (eviction, compaction): so it is written only
// when it is not zero, and a published page is never written.
func padTail(last []byte, align int) []byte {
	r := len(last) % align
	if r == 0 {
		return last
	}
	ext := last[:len(last)+align-r]
	if pad := ext[len(last):]; !allZero(pad) {
		clear(pad)
	}
	return ext
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.NativeEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Retain adds a reference. Each Retain needs its own Release.
func (b *Buffer) Retain() { b.refs.Add(1) }

// Release drops a reference; the last one returns the pages to the arena.
func (b *Buffer) Release() {
	switch n := b.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("engine: Buffer released twice")
	}
	if b.stream.active {
		b.store.abandonStream(b)
	}
	b.stream = blobStream{}
	b.store = nil
	b.a.freePages(b.idx)
	b.a = nil
	b.size = 0
	b.pages = b.pages[:0]
	b.idx = b.idx[:0]
	bufferPool.Put(b)
}
