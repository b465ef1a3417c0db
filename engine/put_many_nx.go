package engine

import (
	"time"
)

// PutManyIfAbsent stores values under several keys of one keyspace only if
// none of the keys exists (MSETNX), as one atomic write: every key's lock
// stripe is held, in a fixed order, from the existence check to the commit
// of one metadata batch, so no concurrent writer can create a key in
// between and readers see all of the keys or none. It reports whether the
// values were stored.
//
// Value i is bufs[i] when bufs[i] is not nil, else vals[i] (copied). bufs
// may be nil. PutManyIfAbsent takes ownership of every buffer whatever
// happens. A key named twice keeps the last value. Large values are written
// to the NVMe tier before the keys are locked, so the locks are never held
// across device writes; if a key turns out to exist, their space is
// reclaimed with their segments.
func (e *Engine) PutManyIfAbsent(ks string, keys, vals [][]byte, bufs []*Buffer) (stored bool, err error) {
	var copies []*Buffer // large vals copied into engine memory
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
		for _, b := range copies {
			b.Release()
		}
	}()
	if e.closed.Load() {
		return false, ErrClosed
	}
	if len(ks) > maxKeyspaceLen {
		return false, errKeyspaceName
	}
	// Cheap pre-check, so that a refused MSETNX costs no blob write; the
	// authoritative check is made again under the locks.
	if n, err := e.Exists(ks, keys); err != nil || n > 0 {
		return false, err
	}
	pm := putManyPool.Get()
	defer pm.release()
	pm.build(e, ks, keys)

	// Values past the inline threshold become blobs, durable before the
	// metadata that points at them commits.
	exts := make([][]Extent, len(keys))
	big := make([]*Buffer, len(keys))
	inline := make([][]byte, len(keys))
	defer func() {
		for _, ext := range exts {
			if ext != nil {
				e.blobs.unpin(ext)
			}
		}
	}()
	orphanAll := func() {
		for _, ext := range exts {
			e.orphan(ext)
		}
	}
	for _, i := range pm.order {
		b := (*Buffer)(nil)
		if i < len(bufs) {
			b = bufs[i]
		}
		if b == nil && len(vals[i]) > e.opts.InlineThreshold {
			nb, err := e.NewBuffer(int64(len(vals[i])))
			if err != nil {
				orphanAll()
				return false, err
			}
			copyIntoPages(nb, 0, vals[i])
			copies = append(copies, nb)
			b = nb
		}
		if b == nil {
			inline[i] = vals[i]
			continue
		}
		if b.size <= int64(e.opts.InlineThreshold) {
			inline[i] = make([]byte, b.size)
			b.CopyTo(inline[i])
			continue
		}
		x, err := e.storeBlob(b, e.opts.SyncWrites) // new keys only: see Put
		if err != nil {
			orphanAll()
			return false, err
		}
		exts[i], big[i] = []Extent{x}, b
	}

	for _, i := range pm.stripes {
		e.lock(&e.locks.stripes[i])
	}
	defer func() {
		for _, i := range pm.stripes {
			st := &e.locks.stripes[i]
			if stored {
				st.gen++
			}
			e.unlock(st)
		}
	}()
	for j := range pm.order {
		it := &pm.items[j]
		exists, err := e.loadMeta(it.mk, &it.old, false)
		if err != nil || exists {
			orphanAll()
			return false, err
		}
	}
	b := e.db.NewBatch()
	defer b.Close()
	now := time.Now().UnixNano()
	for j, i := range pm.order {
		it := &pm.items[j]
		version, err := e.nextVersion()
		if err != nil {
			orphanAll()
			return false, err
		}
		it.meta = Meta{Type: TypeString, Size: int64(len(inline[i])), ModTime: now,
			Version: version, inline: inline[i], extents: exts[i]}
		if exts[i] != nil {
			it.meta.Size, it.meta.inline = big[i].size, nil
		}
		pm.rec = appendRecord(pm.rec[:0], &it.meta)
		_ = b.Set(it.mk, pm.rec, nil)
	}
	if err := e.commit(b); err != nil {
		orphanAll()
		return false, err
	}
	for j, i := range pm.order {
		it := &pm.items[j]
		e.count(ks, 1)
		if exts[i] != nil {
			e.addRef(it.mk, exts[i])
			e.cacheValue(it.mk, big[i], &it.meta)
		} else {
			e.cacheSmall(it.mk, &it.meta, inline[i])
		}
	}
	return true, nil
}
