package engine

import "fmt"

// Source is a byte range of an existing value, for Compose.
type Source struct {
	KS  string
	Key []byte
	// Off and Len select the bytes; Len -1 means to the end of the value.
	Off, Len int64
	// Version, when non-zero, must equal the source's current version.
	Version uint64
}

// Compose stores under key the concatenation of the sources' byte ranges.
// Whole blob extents are shared, not copied: completing a multipart upload
// or copying a large object writes only metadata. Ranges that cut through an
// extent, and small inline values, are copied into new blobs. The sources
// stay as they are.
func (e *Engine) Compose(ks string, key []byte, srcs []Source, opts PutOptions) (PutResult, error) {
	if e.closed.Load() {
		return PutResult{}, ErrClosed
	}
	c := composer{e: e}
	defer c.release()
	for _, src := range srcs {
		if err := c.add(src); err != nil {
			return PutResult{}, err
		}
	}
	if c.size <= int64(e.opts.InlineThreshold) {
		small, err := c.gather()
		if err != nil {
			return PutResult{}, err
		}
		return e.put(ks, key, small, nil, nil, opts)
	}
	if err := c.flushPending(); err != nil {
		return PutResult{}, err
	}
	if len(c.ext) == 0 {
		return e.put(ks, key, []byte{}, nil, nil, opts)
	}
	// When every source is resident in the DRAM tier, so is the result:
	// its buffer is made of theirs, without copying a byte.
	var joined *Buffer
	if len(c.bufs) == len(srcs) {
		joined = joinBuffers(c.bufs)
	}
	res, err := e.put(ks, key, nil, c.ext, joined, opts)
	if joined != nil {
		joined.Release()
	}
	return res, err
}

// composer accumulates the extents of a composed value. Source segments stay
// pinned until the composed value's metadata references them.
type composer struct {
	e       *Engine
	ext     []Extent
	pinned  [][]Extent
	pending []byte // bytes to be written as a new blob
	size    int64
	parts   []composePart
	// bufs are the DRAM-resident buffers of whole-value sources, in
	// order, while every source so far has been one.
	bufs []*Buffer
}

type composePart struct {
	ext    []Extent // shared extents, or nil for copied bytes in data
	data   []byte
	length int64
}

func (c *composer) add(src Source) error {
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	mk := kb.meta(src.KS, src.Key)
	st := c.e.locks.of(mk)
	c.e.lock(st)
	var m Meta
	exists, err := c.e.loadMeta(mk, &m, true)
	if err == nil && exists && m.extents != nil {
		// Pinned under the key lock: the segments cannot go away before
		// the composed value references them.
		c.e.blobs.pin(m.extents)
		c.pinned = append(c.pinned, m.extents)
		whole := src.Off == 0 && (src.Len < 0 || src.Len == m.Size)
		if whole && len(c.bufs) == len(c.pinned)-1 && (src.Version == 0 || src.Version == m.Version) {
			if b, ok := c.e.cache.peek(mk, m.Version); ok {
				c.bufs = append(c.bufs, b)
			}
		}
	}
	c.e.unlock(st)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: %q", ErrNotFound, src.Key)
	}
	if src.Version != 0 && src.Version != m.Version {
		return ErrChanged
	}
	off, n := src.Off, src.Len
	if n < 0 {
		n = m.Size - off
	}
	if off < 0 || n < 0 || off+n > m.Size {
		return fmt.Errorf("engine: compose range %d+%d outside value of %d bytes", off, n, m.Size)
	}
	c.size += n
	if m.extents == nil {
		c.parts = append(c.parts, composePart{data: m.inline[off : off+n], length: n})
		return nil
	}
	// Share every extent wholly inside the range; copy the cut ones.
	var at int64
	for _, x := range m.extents {
		lo, hi := at, at+x.Length
		at = hi
		if hi <= off || lo >= off+n {
			continue
		}
		if lo >= off && hi <= off+n {
			c.parts = append(c.parts, composePart{ext: []Extent{x}, length: x.Length})
			continue
		}
		from, to := max(lo, off), min(hi, off+n)
		data := make([]byte, to-from)
		if _, err := c.e.blobs.readRange(c.e.arena, []Extent{x}, data, from-lo); err != nil {
			return err
		}
		c.parts = append(c.parts, composePart{data: data, length: to - from})
	}
	return nil
}

// gather concatenates every part into one slice (small results).
func (c *composer) gather() ([]byte, error) {
	out := make([]byte, 0, c.size)
	for _, p := range c.parts {
		if p.ext == nil {
			out = append(out, p.data...)
			continue
		}
		start := len(out)
		out = append(out, make([]byte, p.length)...)
		if _, err := c.e.blobs.readRange(c.e.arena, p.ext, out[start:], 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// flushPending turns the parts into extents, writing runs of copied bytes
// as new blobs.
func (c *composer) flushPending() error {
	for _, p := range c.parts {
		if p.ext != nil {
			if err := c.writePending(); err != nil {
				return err
			}
			c.ext = append(c.ext, p.ext...)
			continue
		}
		c.pending = append(c.pending, p.data...)
	}
	return c.writePending()
}

func (c *composer) writePending() error {
	if len(c.pending) == 0 {
		return nil
	}
	buf, err := c.e.NewBuffer(int64(len(c.pending)))
	if err != nil {
		return err
	}
	copyIntoPages(buf, 0, c.pending)
	x, err := c.e.blobs.write(buf, true /* durable: it may replace a value (see Put) */)
	buf.Release()
	if err != nil {
		return err
	}
	c.pinned = append(c.pinned, []Extent{x}) // unpinned by release, after the commit
	c.ext = append(c.ext, x)
	c.pending = c.pending[:0]
	return nil
}

func (c *composer) release() {
	for _, ext := range c.pinned {
		c.e.blobs.unpin(ext)
	}
	for _, b := range c.bufs {
		b.Release()
	}
}
