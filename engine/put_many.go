package engine

import (
	"bytes"
	"hash/maphash"
	"slices"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// PutMany stores small values under several keys of one keyspace as one
// atomic write (MSET, and runs of plain pipelined SETs): every key is
// locked, one metadata batch commits all of them, and readers see all or
// none. Each key loses its expiry, as SET does. A key named twice keeps the
// last value. Values must not exceed the inline threshold
// (ErrTooLarge); large values go through Put.
func (e *Engine) PutMany(ks string, keys, vals [][]byte) error {
	return e.putMany(ks, keys, vals, false)
}

// PutManySync is PutMany followed by Sync, with one trip through the
// metadata log for both: once it returns, the values and every mutation
// that returned before the call are acknowledged as Sync promises.
func (e *Engine) PutManySync(ks string, keys, vals [][]byte) error {
	return e.putMany(ks, keys, vals, true)
}

func (e *Engine) putMany(ks string, keys, vals [][]byte, sync bool) error {
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

	now := time.Now().UnixNano()
	writeBack := true
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
		writeBack = writeBack && e.writeBackable(exists, &it.old, &it.meta)
	}
	if writeBack {
		return e.putManyWriteBack(ks, vals, pm, sync)
	}
	b := e.db.NewBatch()
	defer b.Close()
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	for j, i := range pm.order {
		it := &pm.items[j]
		pm.rec = appendRecord(pm.rec[:0], &it.meta)
		_ = b.Set(it.mk, pm.rec, nil)
		e.indexExpiry(b, kb, ks, keys[i], &it.old, it.existed, 0)
		it.compact = it.existed && e.dropSubkeys(b, &it.old)
	}
	if e.grp != nil {
		if err := e.commit(b); err != nil {
			return err
		}
	} else if err := e.commitPut(b, pm, sync); err != nil {
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

// putManyWriteBack is putMany's end through the write-back tier: one
// frame for every key.
func (e *Engine) putManyWriteBack(ks string, vals [][]byte, pm *putMany, sync bool) error {
	f := &pm.frame
	f.reset()
	for j := range pm.order {
		it := &pm.items[j]
		pm.rec = appendRecord(pm.rec[:0], &it.meta)
		f.add(wbSet, it.mk, pm.rec)
	}
	e.wb.append(f)
	watched := e.watches.n.Load() != 0
	for j, i := range pm.order {
		it := &pm.items[j]
		if !it.existed {
			e.count(ks, 1)
		}
		e.cacheSmall(it.mk, &it.meta, vals[i])
		if watched {
			e.watches.touch(it.mk)
		}
	}
	if sync {
		return e.wb.sync(e.logMeta)
	}
	return nil
}

// commitPut is commit for PutMany outside a group. Only keys that did not
// exist are noted in the absent-key filter: an existing key is in it. With
// sync the commit waits for its log write, which covers every earlier
// commit too (the metadata log is written in commit order): Sync's promise.
func (e *Engine) commitPut(b *pebble.Batch, pm *putMany, sync bool) error {
	if err := e.evictFor(b); err != nil {
		return err
	}
	f := e.absent
	f.mu.RLock()
	for j := range pm.items {
		if !pm.items[j].existed {
			f.note(pm.items[j].mk)
		}
	}
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	err := e.wrote(b.Commit(opts))
	f.mu.RUnlock()
	if err == nil && sync && e.wb != nil && e.wb.enabled {
		err = e.wb.sync(e.logMeta)
	}
	if err == nil && e.watches.n.Load() != 0 {
		e.watches.notifyBatch(b)
	}
	return err
}

// putMany is PutMany's scratch space, pooled so that a steady stream of
// batches allocates nothing.
type putMany struct {
	items   []putManyItem
	order   []int // index into keys of each item (last occurrence wins)
	stripes []uint64
	mkBuf   []byte
	offs    []int // each key's metadata key in mkBuf: offs[i]:offs[i+1]
	rec     []byte
	frame   wbFrame
}

type putManyItem struct {
	mk      []byte
	old     Meta
	meta    Meta
	existed bool
	compact bool // the replaced collection's range wants compacting
}

var putManyPool = ptrPool(func() *putMany { return new(putMany) })

// build encodes the keys' metadata keys and lists each distinct key once,
// in key order: pebble's memtable inserts a batch's keys with a cached
// search path (arenaskl.Inserter), which sorted keys reuse from one insert
// to the next.
func (pm *putMany) build(e *Engine, ks string, keys [][]byte) {
	pm.mkBuf, pm.offs = pm.mkBuf[:0], pm.offs[:0]
	for _, k := range keys {
		pm.offs = append(pm.offs, len(pm.mkBuf))
		pm.mkBuf = appendMetaKey(pm.mkBuf, ks, k)
	}
	pm.offs = append(pm.offs, len(pm.mkBuf))
	pm.order = pm.order[:0]
	for i := range keys {
		pm.order = append(pm.order, i)
	}
	// NB: sort.Sort with pm itself as the interface: no closure, no
	// allocation. Ties are broken by position, so duplicates end up
	// adjacent with the last occurrence last.
	sort.Sort((*putManyOrder)(pm))
	pm.stripes, pm.items = pm.stripes[:0], pm.items[:0]
	n := 0
	for j, i := range pm.order {
		if j+1 < len(pm.order) && bytes.Equal(pm.mk(i), pm.mk(pm.order[j+1])) {
			continue // a later SET of the same key wins
		}
		pm.order[n] = i
		n++
		mk := pm.mk(i)
		pm.items = append(pm.items, putManyItem{mk: mk})
		pm.stripes = append(pm.stripes, maphash.Bytes(e.locks.seed, mk)%lockStripes)
	}
	pm.order = pm.order[:n]
	// Lock stripes in index order, once each: no deadlock with other
	// multi-key writers (Rename, other PutMany calls).
	slices.Sort(pm.stripes)
	pm.stripes = slices.Compact(pm.stripes)
}

// mk is key i's metadata key (capacity capped: appending copies).
func (pm *putMany) mk(i int) []byte {
	return pm.mkBuf[pm.offs[i]:pm.offs[i+1]:pm.offs[i+1]]
}

// putManyOrder sorts pm.order by metadata key, then by position.
type putManyOrder putMany

func (o *putManyOrder) Len() int      { return len(o.order) }
func (o *putManyOrder) Swap(a, b int) { o.order[a], o.order[b] = o.order[b], o.order[a] }
func (o *putManyOrder) Less(a, b int) bool {
	pm := (*putMany)(o)
	ia, ib := o.order[a], o.order[b]
	if c := bytes.Compare(pm.mk(ia), pm.mk(ib)); c != 0 {
		return c < 0
	}
	return ia < ib
}

func (pm *putMany) release() {
	for i := range pm.items {
		pm.items[i] = putManyItem{}
	}
	putManyPool.Put(pm)
}
