package engine

import (
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// NewBuffer returns arena memory for an n-byte value, waiting (up to
// Options.MemoryWait) for pages to free up: this wait is the backpressure
// that bounds memory when many large values arrive at once. The caller fills
// it and passes it to Put, or releases it.
func (e *Engine) NewBuffer(n int64) (*Buffer, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	b, err := newBuffer(e.arena, n, e.opts.MemoryWait)
	if err == nil {
		b.store = e.blobs
	}
	return b, err
}

// Put stores val under key. It takes ownership of val whatever happens.
// Large values are written durably to the NVMe tier, then their metadata is
// committed, then they are made resident in the DRAM tier; the write is
// durable once Sync returns.
func (e *Engine) Put(ks string, key []byte, val *Buffer, opts PutOptions) (PutResult, error) {
	defer val.Release()
	if val.size <= int64(e.opts.InlineThreshold) {
		small := make([]byte, val.size)
		val.CopyTo(small)
		return e.put(ks, key, small, nil, nil, opts)
	}
	if opts.Cond != Always || opts.Check != nil {
		// Cheap pre-check so a refused NX/XX costs no blob write; the
		// authoritative check happens again under the key lock.
		if _, err := e.Stat(ks, key); (err == nil) == (opts.Cond == IfAbsent) && opts.Check == nil {
			res := PutResult{}
			if opts.ReturnOld {
				res.Old, _ = e.Get(ks, key)
			}
			return res, nil
		}
	}
	durable := e.opts.SyncWrites
	if !durable {
		// NB: an overwrite syncs its blob before its record commits even
		// with sync no. The record replaces the key's old one; were it to
		// reach the disk before the bytes it points at, recovery could
		// only remove it, and the key would come back missing instead of
		// holding its older value. A new key has nothing to lose.
		_, err := e.Stat(ks, key)
		durable = err == nil
	}
	x, err := e.storeBlob(val, durable)
	if err != nil {
		return PutResult{}, err
	}
	ext := []Extent{x}
	defer e.blobs.unpin(ext)
	return e.put(ks, key, nil, ext, val, opts)
}

// PutBytes stores a copy of val under key.
func (e *Engine) PutBytes(ks string, key, val []byte, opts PutOptions) (PutResult, error) {
	if len(val) <= e.opts.InlineThreshold {
		return e.put(ks, key, val, nil, nil, opts)
	}
	buf, err := e.NewBuffer(int64(len(val)))
	if err != nil {
		return PutResult{}, err
	}
	copyIntoPages(buf, 0, val)
	return e.Put(ks, key, buf, opts)
}

// put commits a value that is either inline or already durable in ext
// (with its resident copy in buf, which put does not release).
func (e *Engine) put(ks string, key, inline []byte, ext []Extent, buf *Buffer, opts PutOptions) (PutResult, error) {
	if len(ks) > maxKeyspaceLen {
		return PutResult{}, errKeyspaceName
	}
	if e.closed.Load() {
		return PutResult{}, ErrClosed
	}
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	mk := kb.meta(ks, key)
	st := e.locks.of(mk)
	e.lock(st)
	defer e.unlock(st)
	return e.putLocked(st, kb, ks, key, mk, inline, ext, buf, opts)
}

// putLocked is put with the key's stripe held by the caller.
func (e *Engine) putLocked(st *stripe, kb *keyBuf, ks string, key, mk, inline []byte, ext []Extent, buf *Buffer, opts PutOptions) (PutResult, error) {
	var old Meta
	var res PutResult
	exists, err := e.loadMeta(mk, &old, opts.ReturnOld)
	if err != nil {
		e.orphan(ext)
		return res, err
	}
	if exists {
		res.OldType = old.Type
	}
	if opts.Check != nil {
		if err := opts.Check(old, exists); err != nil {
			e.orphan(ext)
			return res, err
		}
	}
	if (opts.Cond == IfAbsent && exists) || (opts.Cond == IfPresent && !exists) {
		if opts.ReturnOld && exists && old.Type == TypeString {
			res.Old, err = e.valueLocked(ks, mk, &old)
		}
		e.orphan(ext)
		return res, err
	}
	if opts.ReturnOld && exists {
		if old.Type != TypeString {
			e.orphan(ext)
			return res, ErrWrongType
		}
		if res.Old, err = e.valueLocked(ks, mk, &old); err != nil {
			e.orphan(ext)
			return res, err
		}
	}

	version, err := e.nextVersion()
	if err != nil {
		e.orphan(ext)
		return res, err
	}
	m := Meta{
		Type: TypeString, Size: int64(len(inline)), ExpireAt: opts.ExpireAt,
		ModTime: time.Now().UnixNano(), Version: version, Attrs: opts.Attrs,
		inline: inline, extents: ext,
	}
	if ext != nil {
		m.Size = 0
		for _, x := range ext {
			m.Size += x.Length
		}
	}
	if opts.KeepTTL && exists {
		m.ExpireAt = old.ExpireAt
	}
	if e.writeBackable(exists, &old, &m) {
		f := wbFramePool.Get()
		f.reset()
		f.add(wbSet, mk, appendRecord(kb.rec[:0], &m))
		e.wb.append(f)
		wbFramePool.Put(f)
		st.gen++
		if !exists {
			e.count(ks, 1)
		}
		e.cacheSmall(mk, &m, inline)
		if e.watches.n.Load() != 0 {
			e.watches.touch(mk)
		}
		m.inline = nil
		res.Written, res.Meta = true, m
		return res, nil
	}
	b := e.db.NewBatch()
	defer b.Close()
	rec := appendRecord(kb.rec[:0], &m)
	_ = b.Set(mk, rec, nil)
	e.indexExpiry(b, kb, ks, key, &old, exists, m.ExpireAt)
	compact := exists && e.dropSubkeys(b, &old)
	if err := e.commit(b); err != nil {
		if res.Old != nil {
			res.Old.Release()
			res.Old = nil
		}
		e.orphan(ext)
		return res, err
	}
	if compact {
		e.reclaimLater(old.Version)
	}
	st.gen++
	if !exists {
		e.count(ks, 1)
	}
	if ext != nil {
		e.addRef(mk, ext)
	}
	if exists && old.extents != nil {
		e.dropRef(mk, old.extents)
	}
	if buf != nil {
		e.cacheValue(mk, buf, &m)
	} else if exists && old.extents != nil {
		e.cache.drop(mk)
	}
	if ext == nil {
		e.cacheSmall(mk, &m, inline)
	} else {
		// NB: also forgets a known-absent entry (smallCache.putAbsent).
		e.small.drop(mk)
	}
	m.inline = nil
	res.Written, res.Meta = true, m
	return res, nil
}

// writeBackable reports whether a write of m over old goes to the
// write-back tier: a small string without expiry or attributes, over an
// absent key or such a string, outside a group, with sync no.
func (e *Engine) writeBackable(exists bool, old, m *Meta) bool {
	return e.grp == nil && e.wb != nil && e.wb.enabled &&
		m.extents == nil && m.ExpireAt == 0 && len(m.Attrs) == 0 &&
		(!exists || old.Type == TypeString && old.extents == nil && old.ExpireAt == 0)
}

// indexExpiry keeps the expiry index in step with a key's expiry change.
func (e *Engine) indexExpiry(b *pebble.Batch, kb *keyBuf, ks string, key []byte, old *Meta, exists bool, at int64) {
	if exists && old.ExpireAt != 0 && old.ExpireAt != at {
		_ = b.Delete(appendExpireKey(kb.exp[:0], old.ExpireAt, ks, key), nil)
	}
	if at != 0 && (!exists || old.ExpireAt != at) {
		_ = b.Set(appendExpireKey(kb.exp[:0], at, ks, key), nil, nil)
	}
}

// orphan accounts for blob space written for a Put that did not commit.
// The extent is never referenced, so its space comes back with its segment
// (or with recovery after a crash).
func (e *Engine) orphan(ext []Extent) {
	for _, x := range ext {
		e.blobs.orphaned.Add(x.Length)
	}
}

// loadMeta reads the key's record into m (m owns its attrs and extents,
// and with withValue a copy of an inline value). Expired keys read as
// absent. The caller holds the key's lock.
func (e *Engine) loadMeta(mk []byte, m *Meta, withValue bool) (bool, error) {
	var into *[]byte
	if withValue {
		into = &m.inline
	}
	if e.small.get(mk, m, into) {
		m.extents = nil
		if m.Type == TypeNone { // known absent (smallCache.putAbsent)
			return false, nil
		}
		if m.ExpireAt != 0 && m.ExpireAt <= nowMs() {
			e.removeExpiredLocked(mk, m)
			return false, nil
		}
		return true, nil
	}
	val, closer, err := e.metaGet(mk)
	if err == pebble.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer closer.Close()
	var tmp Meta
	tmp.extents = m.extents
	if err := decodeRecord(val, &tmp); err != nil {
		return false, err
	}
	cloneMeta(m, &tmp)
	if tmp.extents == nil && withValue {
		m.inline = append(m.inline[:0], tmp.inline...)
	}
	if m.ExpireAt != 0 && m.ExpireAt <= nowMs() {
		// Expired but not yet swept: the caller treats it as absent and a
		// write replaces it; deleteLocked accounting happens here.
		e.removeExpiredLocked(mk, m)
		return false, nil
	}
	return true, nil
}

// keyBuf holds per-call scratch space for encoded keys and records. Keys
// handed to pebble escape, so keyBufs come from a pool rather than the
// stack: the common paths then allocate nothing.
type keyBuf struct {
	mk  [128]byte
	exp [128]byte
	rec [256]byte
}

var keyBufPool = sync.Pool{New: func() any { return new(keyBuf) }}

func getKeyBuf() *keyBuf   { return keyBufPool.Get().(*keyBuf) }
func putKeyBuf(kb *keyBuf) { keyBufPool.Put(kb) }

func (kb *keyBuf) meta(ks string, key []byte) []byte {
	return appendMetaKey(kb.mk[:0], ks, key)
}

// storeBlob writes a large value to the NVMe tier: the rest of a value
// already streaming there, or all of it; with durable it is also synced.
func (e *Engine) storeBlob(b *Buffer, durable bool) (Extent, error) {
	var x Extent
	var err error
	if b.stream.active {
		x, err = e.blobs.finishStream(b, durable)
	} else {
		x, err = e.blobs.write(b, durable)
	}
	if err == ErrNoSpace {
		e.noSpaceErrors.Add(1)
	}
	return x, err
}
