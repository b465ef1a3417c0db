package engine

import (
	"hash/maphash"
	"slices"
	"time"
)

// PutMany stores small values under several keys of one keyspace as one
// atomic write (MSET, and runs of plain pipelined SETs): every key is
// locked, one metadata batch commits all of them, and readers see all or
// none. Each key loses its expiry, as SET does. A key named twice keeps the
// last value. Values must not exceed the inline threshold
// (ErrTooLarge); large values go through Put.
func (e *Engine) PutMany(ks string, keys, vals [][]byte) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if len(ks) > maxKeyspaceLen {
		return errKeyspaceName
	}
	for _, v := range vals {
		if len(v) > e.opts.InlineThreshold {
			return ErrTooLarge
		}
	}
	pm := putManyPool.Get()
	defer pm.release()
	pm.build(e, ks, keys)
	for _, i := range pm.stripes {
		e.lock(&e.locks.stripes[i])
	}
	defer func() {
		for _, i := range pm.stripes {
			st := &e.locks.stripes[i]
			st.gen++
			e.unlock(st)
		}
	}()

	b := e.db.NewBatch()
	defer b.Close()
	now := time.Now().UnixNano()
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	for j, i := range pm.order {
		it := &pm.items[j]
		exists, err := e.loadMeta(it.mk, &it.old, false)
		if err != nil {
			return err
		}
		it.existed = exists
		version, err := e.nextVersion()
		if err != nil {
			return err
		}
		it.meta = Meta{Type: TypeString, Size: int64(len(vals[i])), ModTime: now,
			Version: version, inline: vals[i]}
		pm.rec = appendRecord(pm.rec[:0], &it.meta)
		_ = b.Set(it.mk, pm.rec, nil)
		e.indexExpiry(b, kb, ks, keys[i], &it.old, exists, 0)
		it.compact = exists && e.dropSubkeys(b, &it.old)
	}
	if err := e.commit(b); err != nil {
		return err
	}
	for j := range pm.order {
		if it := &pm.items[j]; it.compact {
			e.reclaimLater(it.old.Version)
		}
	}
	for j, i := range pm.order {
		it := &pm.items[j]
		if !it.existed {
			e.count(ks, 1)
		} else if it.old.extents != nil {
			e.dropRef(it.mk, it.old.extents)
			e.cache.drop(it.mk)
		}
		e.cacheSmall(it.mk, &it.meta, vals[i])
	}
	return nil
}

// putMany is PutMany's scratch space, pooled so a steady stream of batches
// allocates little.
type putMany struct {
	items   []putManyItem
	order   []int // index into keys of each item (last occurrence wins)
	stripes []uint64
	mkBuf   []byte
	rec     []byte
}

type putManyItem struct {
	mk      []byte
	old     Meta
	meta    Meta
	existed bool
	compact bool // the replaced collection's range wants compacting
}

var putManyPool = ptrPool(func() *putMany { return new(putMany) })

func (pm *putMany) build(e *Engine, ks string, keys [][]byte) {
	pm.mkBuf = pm.mkBuf[:0]
	offs := make([]int, 0, len(keys)+1)
	for _, k := range keys {
		offs = append(offs, len(pm.mkBuf))
		pm.mkBuf = appendMetaKey(pm.mkBuf, ks, k)
	}
	offs = append(offs, len(pm.mkBuf))
	pm.order, pm.stripes = pm.order[:0], pm.stripes[:0]
	pm.items = pm.items[:0]
	seen := make(map[string]int, len(keys))
	for i := range keys {
		mk := pm.mkBuf[offs[i]:offs[i+1]:offs[i+1]]
		if j, ok := seen[string(mk)]; ok {
			pm.order[j] = i // a later SET of the same key wins
			continue
		}
		seen[string(mk)] = len(pm.order)
		pm.order = append(pm.order, i)
		pm.items = append(pm.items, putManyItem{mk: mk})
		pm.stripes = append(pm.stripes, maphash.Bytes(e.locks.seed, mk)%lockStripes)
	}
	// Lock stripes in index order, once each: no deadlock with other
	// multi-key writers (Rename, other PutMany calls).
	slices.Sort(pm.stripes)
	pm.stripes = slices.Compact(pm.stripes)
}

func (pm *putMany) release() {
	for i := range pm.items {
		pm.items[i] = putManyItem{}
	}
	putManyPool.Put(pm)
}
