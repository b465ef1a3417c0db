package engine

// Delete removes the keys and returns how many existed.
func (e *Engine) Delete(ks string, keys [][]byte) (int, error) {
	if e.closed.Load() {
		return 0, ErrClosed
	}
	n := 0
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	var m Meta
	for _, key := range keys {
		mk := kb.meta(ks, key)
		st := e.locks.of(mk)
		e.lock(st)
		exists, err := e.loadMeta(mk, &m, false)
		if err == nil && exists {
			err = e.deleteLocked(kb, ks, key, mk, &m)
			if err == nil {
				st.gen++
				n++
			}
		}
		e.unlock(st)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// deleteLocked removes an existing key whose metadata is m. The caller holds
// the key's lock and bumps its generation.
func (e *Engine) deleteLocked(kb *keyBuf, ks string, key, mk []byte, m *Meta) error {
	b := e.db.NewBatch()
	defer b.Close()
	_ = b.Delete(mk, nil)
	if m.ExpireAt != 0 {
		_ = b.Delete(appendExpireKey(kb.exp[:0], m.ExpireAt, ks, key), nil)
	}
	compact := e.dropSubkeys(b, m)
	if err := e.commit(b); err != nil {
		return err
	}
	if compact {
		e.reclaimLater(m.Version)
	}
	e.forget(ks, mk, m)
	if m.Type.collection() {
		e.cacheSmall(mk, nil, nil)
	}
	return nil
}

// forget updates the in-memory state after a key's record is gone.
func (e *Engine) forget(ks string, mk []byte, m *Meta) {
	e.count(ks, -1)
	e.small.drop(mk)
	if m.extents != nil {
		e.cache.drop(mk)
		e.dropRef(mk, m.extents)
	}
}

// removeExpiredLocked deletes a key found expired under its lock.
func (e *Engine) removeExpiredLocked(mk []byte, m *Meta) {
	ks, key, ok := splitMetaKey(mk)
	if !ok {
		return
	}
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	if err := e.deleteLocked(kb, string(ks), key, mk, m); err == nil {
		e.locks.of(mk).gen++
		e.expired.Add(1)
	}
}

// expireKey deletes the key if it is (still) expired. It takes the lock.
func (e *Engine) expireKey(mk []byte) {
	st := e.locks.of(mk)
	e.lock(st)
	var m Meta
	// loadMeta removes it when expired.
	_, _ = e.loadMeta(mk, &m, false)
	e.unlock(st)
}

// Exists counts how many of the keys exist (a key named twice counts twice).
func (e *Engine) Exists(ks string, keys [][]byte) (int, error) {
	n := 0
	for _, k := range keys {
		if _, err := e.Stat(ks, k); err == nil {
			n++
		} else if err != ErrNotFound {
			return n, err
		}
	}
	return n, nil
}

// Expire sets the key's absolute expiry (Unix ms) if cond allows. An expiry
// at or before now deletes the key. It reports whether anything changed.
func (e *Engine) Expire(ks string, key []byte, at int64, cond ExpireCond) (bool, error) {
	return e.setExpire(ks, key, at, cond)
}

// Persist removes the key's expiry; false if it had none or does not exist.
func (e *Engine) Persist(ks string, key []byte) (bool, error) {
	return e.setExpire(ks, key, 0, ExpireXX)
}

func (e *Engine) setExpire(ks string, key []byte, at int64, cond ExpireCond) (bool, error) {
	var hk heldKey
	if err := e.holdKey(&hk, ks, key, true); err != nil {
		return false, err
	}
	defer hk.release()
	if !hk.exists {
		return false, nil
	}
	cur := hk.m.ExpireAt
	switch cond {
	case ExpireNX:
		if cur != 0 {
			return false, nil
		}
	case ExpireXX:
		if cur == 0 {
			return false, nil
		}
	case ExpireGT:
		// A key without expiry counts as an infinite TTL.
		if cur == 0 || at <= cur {
			return false, nil
		}
	case ExpireLT:
		if cur != 0 && at >= cur {
			return false, nil
		}
	}
	if at != 0 && at <= nowMs() {
		if err := e.deleteLocked(hk.kb, ks, key, hk.mk, &hk.m); err != nil {
			return false, err
		}
		hk.st.gen++
		return true, nil
	}
	if err := e.rewriteMetaLocked(hk.kb, ks, key, hk.mk, &hk.m, at); err != nil {
		return false, err
	}
	return true, nil
}

// rewriteMetaLocked stores m again with a new expiry (value unchanged).
func (e *Engine) rewriteMetaLocked(kb *keyBuf, ks string, key, mk []byte, m *Meta, at int64) error {
	old := m.ExpireAt
	m.ExpireAt = at
	b := e.db.NewBatch()
	defer b.Close()
	_ = b.Set(mk, appendRecord(kb.rec[:0], m), nil)
	oldMeta := Meta{ExpireAt: old}
	e.indexExpiry(b, kb, ks, key, &oldMeta, true, at)
	if err := e.commit(b); err != nil {
		m.ExpireAt = old
		return err
	}
	if e.grp != nil {
		e.cache.drop(mk)
		e.small.drop(mk)
		return nil
	}
	e.cache.setExpire(mk, at)
	e.small.setExpire(mk, at)
	return nil
}

// Rename moves src's value (and expiry) to dst, replacing dst unless nx. It
// returns false when nx and dst exists, ErrNotFound when src does not exist.
func (e *Engine) Rename(ks string, src, dst []byte, nx bool) (bool, error) {
	if e.closed.Load() {
		return false, ErrClosed
	}
	var kbs, kbd keyBuf
	ms, md := kbs.meta(ks, src), kbd.meta(ks, dst)
	defer e.unlockPair(e.lockPair(ms, md))
	var m, old Meta
	exists, err := e.loadMeta(ms, &m, true)
	if err != nil {
		return false, err
	}
	if !exists {
		return false, ErrNotFound
	}
	if string(ms) == string(md) {
		return !nx, nil
	}
	dstExists, err := e.loadMeta(md, &old, false)
	if err != nil {
		return false, err
	}
	if nx && dstExists {
		return false, nil
	}
	var resident *Buffer
	var tmp Meta
	if m.extents != nil {
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
		_ = b.Delete(appendExpireKey(kbs.exp[:0], m.ExpireAt, ks, src), nil)
		_ = b.Set(appendExpireKey(kbd.exp[:0], m.ExpireAt, ks, dst), nil, nil)
	}
	if dstExists && old.ExpireAt != 0 && old.ExpireAt != m.ExpireAt {
		_ = b.Delete(appendExpireKey(kbd.exp[:0], old.ExpireAt, ks, dst), nil)
	}
	e.moveFieldExpiry(b, ks, src, ks, dst, &m)
	// A collection's sub-keys are named by its version, which moves with
	// the record: only the replaced destination's go.
	compact := dstExists && e.dropSubkeys(b, &old)
	if err := e.commit(b); err != nil {
		return false, err
	}
	if compact {
		e.reclaimLater(old.Version)
	}
	if dstExists {
		e.forget(ks, md, &old)
	}
	e.forget(ks, ms, &m)
	e.small.drop(md) // the destination may be remembered as absent
	e.count(ks, 1)
	if m.extents != nil {
		e.addRef(md, m.extents)
		if resident != nil {
			e.cacheValue(md, resident, &m)
		}
	}
	return true, nil
}

// UpdateAction says what an UpdateFunc decided.
type UpdateAction uint8

const (
	// UpdateKeep leaves the value as it is (SetExpire may still change the expiry).
	UpdateKeep UpdateAction = iota
	// UpdateReplace stores Update.Value (keeping the expiry unless SetExpire).
	UpdateReplace
	// UpdateDelete removes the key.
	UpdateDelete
)

// Update is the outcome of a read-modify-write.
type Update struct {
	Action UpdateAction
	Value  []byte
	// SetExpire applies ExpireAt (0 = persist) instead of keeping the expiry.
	SetExpire bool
	ExpireAt  int64
}

// Update runs fn on the key's current value (nil when absent) under the
// key's lock and applies its decision atomically: INCR, APPEND, SETRANGE,
// GETDEL and GETEX are built on it. cur is valid only during fn; fn's error
// is returned unchanged and nothing is written.
func (e *Engine) Update(ks string, key []byte, fn func(cur *Value) (Update, error)) error {
	var hk heldKey
	if err := e.holdKey(&hk, ks, key, true); err != nil {
		return err
	}
	defer hk.release()
	kb, mk, st, m, exists := hk.kb, hk.mk, hk.st, &hk.m, hk.exists
	var cur *Value
	var err error
	if exists && m.Type != TypeString {
		return ErrWrongType
	}
	if exists {
		if cur, err = e.valueLocked(ks, mk, m); err != nil {
			return err
		}
		defer cur.Release()
	}
	u, err := fn(cur)
	if err != nil {
		return err
	}
	switch u.Action {
	case UpdateDelete:
		if !exists {
			return nil
		}
		if err := e.deleteLocked(kb, ks, key, mk, m); err != nil {
			return err
		}
		st.gen++
		return nil
	case UpdateKeep:
		if !exists || !u.SetExpire || u.ExpireAt == m.ExpireAt {
			return nil
		}
		if u.ExpireAt != 0 && u.ExpireAt <= nowMs() {
			if err := e.deleteLocked(kb, ks, key, mk, m); err != nil {
				return err
			}
			st.gen++
			return nil
		}
		return e.rewriteMetaLocked(kb, ks, key, mk, m, u.ExpireAt)
	}
	at := m.ExpireAt
	if u.SetExpire || !exists {
		at = u.ExpireAt
	}
	opts := PutOptions{ExpireAt: at}
	if len(u.Value) <= e.opts.InlineThreshold {
		_, err = e.putLocked(st, kb, ks, key, mk, u.Value, nil, nil, opts)
		return err
	}
	// NB: a large result (APPEND to a big value) is written to the blob
	// store with the key's lock held, which keeps the update atomic.
	buf, err := e.NewBuffer(int64(len(u.Value)))
	if err != nil {
		return err
	}
	defer buf.Release()
	copyIntoPages(buf, 0, u.Value)
	x, err := e.blobs.write(buf, true /* durable: it replaces the key's value (see Put) */)
	if err != nil {
		return err
	}
	ext := []Extent{x}
	_, err = e.putLocked(st, kb, ks, key, mk, nil, ext, buf, opts)
	e.blobs.unpin(ext)
	return err
}
