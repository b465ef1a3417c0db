package engine

// Move moves key, with its value and expiry, from keyspace src to
// keyspace dst (KVRocks's MOVEX: namespaces play the part of Redis's
// databases). It reports false, moving nothing, when the key does not
// exist in src or already exists in dst, or when src and dst are the
// same keyspace.
//
// Like Rename, it is O(1) for every type: the metadata record moves in
// one batch and a collection's sub-keys, named by its version, stay.
func (e *Engine) Move(src, dst string, key []byte) (bool, error) {
	if e.closed.Load() {
		return false, ErrClosed
	}
	if len(src) > maxKeyspaceLen || len(dst) > maxKeyspaceLen {
		return false, errKeyspaceName
	}
	if src == dst {
		return false, nil
	}
	var kbs, kbd keyBuf
	ms, md := kbs.meta(src, key), kbd.meta(dst, key)
	defer e.unlockPair(e.lockPair(ms, md))
	var m, old Meta
	exists, err := e.loadMeta(ms, &m, true)
	if err != nil || !exists {
		return false, err
	}
	dstExists, err := e.loadMeta(md, &old, false)
	if err != nil || dstExists {
		return false, err
	}
	var resident *Buffer
	if m.extents != nil {
		var tmp Meta
		if buf, ok := e.cache.get(ms, &tmp); ok {
			resident = buf
			defer buf.Release()
		}
	}
	b := e.db.NewBatch()
	defer b.Close()
	_ = b.Delete(ms, nil)
	_ = b.Set(md, appendRecord(kbd.rec[:0], &m), nil)
	if m.ExpireAt != 0 {
		_ = b.Delete(appendExpireKey(kbs.exp[:0], m.ExpireAt, src, key), nil)
		_ = b.Set(appendExpireKey(kbd.exp[:0], m.ExpireAt, dst, key), nil, nil)
	}
	e.moveFieldExpiry(b, src, key, dst, key, &m)
	// NB: e.commit, so a MOVEX in EXEC joins its group and WATCH sees it.
	if err := e.commit(b); err != nil {
		return false, err
	}
	e.forget(src, ms, &m)
	e.small.drop(md) // the destination may be remembered as absent
	e.count(dst, 1)
	if m.extents != nil {
		e.addRef(md, m.extents)
		if resident != nil {
			e.cacheValue(md, resident, &m)
		}
	}
	return true, nil
}
