package engine

import (
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// evictSegment empties a segment chosen for eviction when the NVMe tier is
// full in cache mode: keys read since they were written and still resident
// in DRAM (hot) are re-inserted into the active segment from their DRAM
// copy; the others are removed. Once no key references the segment, its file goes.
func (e *Engine) evictSegment(id uint64) {
	start := time.Now()
	removed, moved := 0, 0
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	for _, k := range e.blobs.keysOf(id) {
		mk := []byte(k)
		ks, key, ok := splitMetaKey(mk)
		if !ok {
			continue
		}
		st := e.locks.of(mk)
		if st.grouped.Load() {
			// A group holds it (maybe on this goroutine, writing the
			// blob that needs the room): it stays.
			continue
		}
		st.mu.Lock()
		var m Meta
		exists, err := e.loadMeta(mk, &m, false)
		if err != nil || !exists || !usesSegment(m.extents, id) {
			st.mu.Unlock()
			continue
		}
		if e.reinsertLocked(kb, mk, &m) {
			moved++
		} else if e.deleteLocked(kb, string(ks), key, mk, &m) == nil {
			removed++
			e.keyEvictions.Add(1)
		}
		st.gen++
		st.mu.Unlock()
	}
	e.opts.Logf("evicted segment %s: %d keys removed, %d hot keys re-inserted in %v",
		segmentName(id), removed, moved, time.Since(start).Round(time.Millisecond))
}

func usesSegment(ext []Extent, id uint64) bool {
	for _, x := range ext {
		if x.Segment == id {
			return true
		}
	}
	return false
}

// reinsertLocked rewrites a resident value into a new blob and points its
// metadata there, keeping version, modification time and attributes.
func (e *Engine) reinsertLocked(kb *keyBuf, mk []byte, m *Meta) bool {
	var tmp Meta
	buf, ok := e.cache.hot(mk, &tmp)
	if !ok {
		return false
	}
	defer buf.Release()
	if tmp.Version != m.Version {
		return false
	}
	x, err := e.blobs.writeBlob(buf, true /* force */, true /* durable: it moves an older write */)
	if err != nil {
		return false
	}
	defer e.blobs.unpin([]Extent{x})
	old := m.extents
	nm := *m
	nm.extents = []Extent{x}
	if err := e.db.Set(mk, appendRecord(kb.rec[:0], &nm), pebble.NoSync); err != nil {
		return false
	}
	e.blobs.addRef(string(mk), nm.extents)
	e.blobs.dropRef(mk, old)
	e.cache.put(mk, buf, &nm)
	return true
}
