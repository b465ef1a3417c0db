package engine

import (
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// compactLoop reclaims dead space: a sealed segment whose live bytes fell
// below half its size has its remaining values moved to the active segment,
// after which nothing references it and its file goes. Values are moved one
// at a time under their key's lock, and only if unchanged since they were
// read, so foreground writes always win.
func (e *Engine) compactLoop() {
	e.every(e.opts.CompactInterval, func() {
		for id := e.blobs.compactionCandidate(); id != 0; id = e.blobs.compactionCandidate() {
			if e.closed.Load() || !e.compactSegment(id) {
				return
			}
		}
	})
}

// compactionCandidate returns the sealed segment with the lowest live ratio
// below one half, or 0.
func (s *blobStore) compactionCandidate() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best uint64
	bestRatio := 0.5
	for id, seg := range s.segs {
		if !seg.sealed || seg.doomed || seg.f == nil || seg.size == 0 || seg.compacted {
			continue
		}
		if r := float64(seg.live) / float64(seg.size); r < bestRatio {
			best, bestRatio = id, r
		}
	}
	if best != 0 {
		s.segs[best].compacted = true
	}
	return best
}

// compactSegment moves every value still in segment id elsewhere. It
// reports false when it had to stop (out of space or memory).
func (e *Engine) compactSegment(id uint64) bool {
	start := time.Now()
	moved := 0
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	for _, k := range e.blobs.keysOf(id) {
		mk := []byte(k)
		var m Meta
		st := e.locks.of(mk)
		st.mu.Lock()
		exists, err := e.loadMeta(mk, &m, false)
		if err == nil && exists && m.extents != nil {
			e.blobs.pin(m.extents)
		}
		st.mu.Unlock()
		if err != nil || !exists || !usesSegment(m.extents, id) {
			if exists && m.extents != nil {
				e.blobs.unpin(m.extents)
			}
			continue
		}
		ok := e.relocate(kb, mk, &m)
		e.blobs.unpin(m.extents)
		if !ok {
			e.opts.Logf("compaction of segment %s stopped after %d values", segmentName(id), moved)
			return false
		}
		moved++
	}
	e.compactions.Add(1)
	e.opts.Logf("compacted segment %s: %d values moved in %v", segmentName(id), moved, time.Since(start).Round(time.Millisecond))
	return true
}

// relocate rewrites a value as one new blob and repoints its metadata if the
// key still holds the same version. A value resident in the DRAM tier is
// written from there; others are read back (and verified) first.
func (e *Engine) relocate(kb *keyBuf, mk []byte, m *Meta) bool {
	buf, ok := e.cache.peek(mk, m.Version)
	if ok {
		e.relocatedFromDRAM.Add(1)
	} else {
		var err error
		if buf, err = e.NewBuffer(m.Size); err != nil {
			return false
		}
		if err := e.blobs.readInto(m.extents, buf); err != nil {
			// A corrupt value stays where it is, to be reported on read.
			buf.Release()
			return true
		}
	}
	defer buf.Release()
	x, err := e.blobs.write(buf, true /* durable: it moves an older write */)
	if err != nil {
		return false
	}
	defer e.blobs.unpin([]Extent{x})
	st := e.locks.of(mk)
	st.mu.Lock()
	defer st.mu.Unlock()
	var cur Meta
	exists, err := e.loadMeta(mk, &cur, false)
	if err != nil || !exists || cur.Version != m.Version {
		e.orphan([]Extent{x})
		return true
	}
	nm := cur
	nm.extents = []Extent{x}
	if err := e.db.Set(mk, appendRecord(kb.rec[:0], &nm), pebble.NoSync); err != nil {
		e.orphan([]Extent{x})
		return false
	}
	// NB: the new record must be durable before the old segment can be
	// removed, or a crash could leave metadata pointing at a deleted file.
	if err := e.Sync(); err != nil {
		return false
	}
	e.blobs.addRef(string(mk), nm.extents)
	e.blobs.dropRef(mk, cur.extents)
	st.gen++
	return true
}
