package engine

import (
	"github.com/cockroachdb/pebble/v2"
)

// Get returns the key's value, resident in memory: small values from the
// metadata store, large ones from the DRAM tier or, on a miss there, read
// from the NVMe tier (checksum verified) and promoted. The caller releases it.
func (e *Engine) Get(ks string, key []byte) (*Value, error) {
	return e.get(ks, key, true)
}

// Open returns a handle on the key's value without necessarily reading it:
// values larger than an eighth of the DRAM tier are not loaded, and
// WriteRange streams them from the NVMe tier in bounded pieces; smaller ones
// are read and promoted as by Get. Use it for values that may be very large.
func (e *Engine) Open(ks string, key []byte) (*Value, error) {
	return e.get(ks, key, false)
}

func (e *Engine) get(ks string, key []byte, resident bool) (*Value, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	mk := kb.meta(ks, key)
	v := newValue(e, ks)
	// Small values first: writers update the small-value tier under the
	// key's lock and it copies under its own, so a hit here is as current
	// as one under the key's lock.
	if e.small.get(mk, &v.meta, &v.inline) {
		v.meta.extents = nil
		if v.meta.Type == TypeNone { // known absent (smallCache.putAbsent)
			e.lookups.misses.Add(1)
			v.Release()
			return nil, ErrNotFound
		}
		if v.meta.ExpireAt != 0 && v.meta.ExpireAt <= nowMs() {
			e.lookups.misses.Add(1)
			e.expireKey(mk)
			v.Release()
			return nil, ErrNotFound
		}
		e.lookups.dramHits.Add(1)
		return v, nil
	}
	if buf, ok := e.cache.get(mk, &v.meta); ok {
		if v.meta.ExpireAt != 0 && v.meta.ExpireAt <= nowMs() {
			e.lookups.misses.Add(1)
			buf.Release()
			e.expireKey(mk)
			v.Release()
			return nil, ErrNotFound
		}
		e.lookups.dramHits.Add(1)
		v.buf = buf
		return v, nil
	}
	// NB: the metadata is read and its segments pinned under the key's
	// lock: otherwise an overwrite, eviction or compaction could drop the
	// last reference and remove a segment between the two.
	st := e.locks.of(mk)
	e.lock(st)
	gen := st.gen
	found, err := e.readMetaLocked(mk, v)
	if err == nil && found && !v.meta.Inline() {
		e.blobs.pin(v.meta.extents)
	}
	e.unlock(st)
	if err != nil || !found {
		v.Release()
		if err == nil {
			e.lookups.misses.Add(1)
			err = ErrNotFound
		}
		return nil, err
	}
	e.lookups.nvmeHits.Add(1)
	if v.meta.Inline() {
		return v, nil
	}
	// Values up to an eighth of the DRAM tier are read whole and admitted
	// (promotion on read), whoever asked; larger ones stream.
	if !resident && v.meta.Size > e.arena.capacity()/8 {
		v.pinned = true
		return v, nil
	}
	buf, err := e.NewBuffer(v.meta.Size)
	if err != nil {
		e.blobs.unpin(v.meta.extents)
		v.Release()
		return nil, err
	}
	err = e.blobs.readInto(v.meta.extents, buf)
	e.blobs.unpin(v.meta.extents)
	if err != nil {
		buf.Release()
		v.Release()
		return nil, err
	}
	v.buf = buf
	if e.grp != nil {
		// NB: the value may be the group's, not yet committed.
		return v, nil
	}
	st.mu.Lock()
	if st.gen == gen {
		e.cache.put(mk, buf, &v.meta)
		e.lookups.promotions.Add(1)
	}
	st.mu.Unlock()
	return v, nil
}

// readMetaLocked reads the record into v (copying inline bytes into v).
// Expired keys are removed and read as absent. The caller holds the key's
// lock.
func (e *Engine) readMetaLocked(mk []byte, v *Value) (bool, error) {
	if e.small.get(mk, &v.meta, &v.inline) {
		v.meta.extents = nil
		if v.meta.Type == TypeNone {
			return false, nil
		}
	} else if found, err := e.readMetaStore(mk, v); !found || err != nil {
		return found, err
	}
	if v.meta.ExpireAt != 0 && v.meta.ExpireAt <= nowMs() {
		e.removeExpiredLocked(mk, &v.meta)
		return false, nil
	}
	return true, nil
}

// readMetaStore reads the record from the metadata store into v and admits
// a small value to the small-value tier. The caller holds the key's lock.
func (e *Engine) readMetaStore(mk []byte, v *Value) (bool, error) {
	val, closer, err := e.metaGet(mk)
	if err == pebble.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var tmp Meta
	tmp.extents = v.meta.extents[:0]
	err = decodeRecord(val, &tmp)
	if err == nil {
		cloneMeta(&v.meta, &tmp)
		if tmp.extents == nil {
			v.inline = append(v.inline[:0], tmp.inline...)
		}
	}
	closer.Close()
	if err != nil {
		return false, err
	}
	if v.meta.extents == nil && e.grp == nil {
		e.small.put(mk, &v.meta, v.inline)
	}
	return true, nil
}

// valueLocked returns the resident value of a key whose metadata the caller
// loaded under the key's lock.
func (e *Engine) valueLocked(ks string, mk []byte, m *Meta) (*Value, error) {
	v := newValue(e, ks)
	cloneMeta(&v.meta, m)
	if m.extents == nil {
		v.inline = append(v.inline[:0], m.inline...)
		return v, nil
	}
	var tmp Meta
	if buf, ok := e.cache.get(mk, &tmp); ok && tmp.Version == m.Version {
		v.buf = buf
		return v, nil
	} else if ok {
		buf.Release()
	}
	buf, err := e.NewBuffer(m.Size)
	if err != nil {
		v.Release()
		return nil, err
	}
	if err := e.blobs.readInto(m.extents, buf); err != nil {
		buf.Release()
		v.Release()
		return nil, err
	}
	v.buf = buf
	return v, nil
}

// Stat returns the key's metadata without reading its value.
func (e *Engine) Stat(ks string, key []byte) (Meta, error) {
	if e.closed.Load() {
		return Meta{}, ErrClosed
	}
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	mk := kb.meta(ks, key)
	var m Meta
	if e.small.get(mk, &m, nil) {
		m.extents = nil
		if m.Type == TypeNone {
			return Meta{}, ErrNotFound
		}
		if m.ExpireAt != 0 && m.ExpireAt <= nowMs() {
			e.expireKey(mk)
			return Meta{}, ErrNotFound
		}
		return m, nil
	}
	val, closer, err := e.metaGet(mk)
	if err == pebble.ErrNotFound {
		return m, ErrNotFound
	}
	if err != nil {
		return m, err
	}
	var tmp Meta
	err = decodeRecord(val, &tmp)
	if err == nil {
		cloneMeta(&m, &tmp)
	}
	closer.Close()
	if err != nil {
		return Meta{}, err
	}
	if m.ExpireAt != 0 && m.ExpireAt <= nowMs() {
		e.expireKey(mk)
		return Meta{}, ErrNotFound
	}
	return m, nil
}
