package engine

import (
	"encoding/binary"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// A group makes the writes of several engine calls one atomic, durable
// unit, as KVRocks's BeginTxn/CommitTxn make one RocksDB WriteBatch of
// everything a MULTI/EXEC (or a script) writes:
//
//	err := eng.Group(func(g *engine.Engine) error {
//		// calls on g: Put, PutMany, Delete, Update, Txn, Expire, ...
//		return nil
//	})
//
// Inside fn every call on g works as on the engine, except that:
//   - no metadata is committed: each call adds its records to the group's
//     indexed batch, and reads on g (Get, Stat, Txn, Scan, ...) see the
//     group's own writes through it. Large values are written to the NVMe
//     tier at once, as every write does, so their bytes precede the
//     metadata batch that references them.
//   - every key lock a call takes is held until the group ends (taking it
//     again inside the group is free), so other writers, and readers that
//     take the lock, wait for the group: nobody sees half of it.
//   - nothing the group wrote is admitted to the DRAM or small-value tiers
//     before it commits (the entries of the keys it wrote are dropped, so
//     lock-free reads fall through to the locked path);
//   - what a write frees (blob references of replaced values, sub-keys of
//     replaced collections) is freed only after the commit, so a crash
//     before it finds every old value intact.
//
// When fn returns nil the batch commits once; the group is then like any
// single write: durable after Sync. When fn returns an error, or the commit
// fails, nothing is written and the in-memory state the group changed is
// put back (key counts, blob references, collection hints); Group returns
// the error. After a crash before the commit none of the group's writes
// exist.
//
// g is valid only inside fn and only on fn's goroutine. A Group inside a
// group joins it. Groups run one at a time.
//
// A group takes key locks in the order its calls come, not in index
// order as multi-key calls do, so nothing may hold one key lock while
// waiting for another alongside a group: callers run groups where no
// multi-key write (PutMany, Txn, Rename, Copy, PutManyIfAbsent) runs
// beside them. The RESP front end runs EXEC and scripts under its
// exclusive work guard; the S3 front end and the engine's background work
// (expiry sweeps, blob compaction) lock one key at a time and just wait
// for the group. Cache-mode eviction, which may run on the group's own
// goroutine when a large value needs room, skips the keys a group holds.
func (e *Engine) Group(fn func(g *Engine) error) error {
	if e.grp != nil {
		return fn(e)
	}
	if e.closed.Load() {
		return ErrClosed
	}
	e.groupMu.Lock()
	defer e.groupMu.Unlock()
	grp := &group{b: e.db.NewIndexedBatch(), held: make(map[*stripe]struct{})}
	g := &Engine{store: e.store, grp: grp}
	defer func() {
		g.grp = nil // a handle kept past fn now works on the engine
		for _, st := range grp.order {
			st.grouped.Store(false)
			st.gen++
			st.mu.Unlock()
		}
		grp.b.Close()
	}()
	err := fn(g)
	if err == nil && !grp.b.Empty() {
		err = e.commitNoted(grp.b, pebble.NoSync)
	}
	if err == nil {
		for _, f := range grp.after {
			f()
		}
	} else {
		grp.undo(e)
	}
	return err
}

// group is the state of one Group call.
type group struct {
	b     *pebble.Batch // indexed
	held  map[*stripe]struct{}
	order []*stripe
	// after runs once the batch committed: what the group's writes free.
	after []func()
	// Undone when the group fails.
	refs   []groupRef
	counts map[string]int64
	hinted bool
}

type groupRef struct {
	mk  string
	ext []Extent
}

// InGroup reports whether e is a group's handle.
func (e *Engine) InGroup() bool { return e.grp != nil }

// lock takes a key stripe: once per group inside one.
func (e *Engine) lock(st *stripe) {
	g := e.grp
	if g == nil {
		st.mu.Lock()
		return
	}
	if _, ok := g.held[st]; ok {
		return
	}
	st.mu.Lock()
	st.grouped.Store(true)
	g.held[st] = struct{}{}
	g.order = append(g.order, st)
}

// unlock gives a stripe back, except inside a group, which keeps it.
func (e *Engine) unlock(st *stripe) {
	if e.grp == nil {
		st.mu.Unlock()
	}
}

// lockPair is lockTable.lockPair, group-aware.
func (e *Engine) lockPair(a, b []byte) (*stripe, *stripe) {
	if e.grp == nil {
		return e.locks.lockPair(a, b)
	}
	s1, s2 := e.locks.of(a), e.locks.of(b)
	e.lock(s1)
	if s2 == s1 {
		return s1, nil
	}
	e.lock(s2)
	return s1, s2
}

// unlockPair gives back what lockPair took, marking both stripes changed.
func (e *Engine) unlockPair(s1, s2 *stripe) {
	s1.gen++
	e.unlock(s1)
	if s2 != nil {
		s2.gen++
		e.unlock(s2)
	}
}

// commit commits a write's batch, or adds it to the group's. Watchers of
// the keys it writes hear of it (watch.go). Every metadata record is
// written through here or a group's commit, which note its key in the
// absent-key filter first (put_absent.go).
func (e *Engine) commit(b *pebble.Batch) error {
	if err := e.evictFor(b); err != nil {
		return err
	}
	if g := e.grp; g != nil {
		if err := g.b.Apply(b, nil); err != nil {
			return err
		}
	} else if err := e.commitNoted(b, pebble.NoSync); err != nil {
		return err
	}
	if e.watches.n.Load() != 0 {
		e.watches.notifyBatch(b)
	}
	return nil
}

// metaGet reads a metadata record: from the write-back tier, or the
// group's batch inside one, or the store.
// A key the absent-key filter has never seen has no record: no read.
func (e *Engine) metaGet(mk []byte) ([]byte, io.Closer, error) {
	if w := e.wb; w != nil && w.n.Load() != 0 {
		// NB: the tier's record is the newest, inside a group too: a key
		// the group writes leaves the tier first (evictFor).
		r := wbReadPool.Get()
		if w.get(mk, &r.b) {
			return r.b, r, nil
		}
		wbReadPool.Put(r)
	}
	if g := e.grp; g != nil {
		// NB: the group's own writes are noted when it commits.
		return g.b.Get(mk)
	}
	if !e.absent.mayContain(mk) {
		return nil, nil, pebble.ErrNotFound
	}
	return e.db.Get(mk)
}

// reader is what reads see: the group's batch over the store inside one.
func (e *Engine) reader() pebble.Reader {
	if g := e.grp; g != nil {
		return g.b
	}
	return e.db
}

// count changes a keyspace's key count.
func (e *Engine) count(ks string, d int64) {
	e.counter(ks).Add(d)
	if g := e.grp; g != nil {
		if g.counts == nil {
			g.counts = make(map[string]int64)
		}
		g.counts[ks] += d
	}
}

// addRef records that mk's record references ext.
func (e *Engine) addRef(mk []byte, ext []Extent) {
	e.blobs.addRef(string(mk), ext)
	if g := e.grp; g != nil {
		g.refs = append(g.refs, groupRef{mk: string(mk), ext: append([]Extent(nil), ext...)})
	}
}

// dropRef records that mk's record no longer references ext: after the
// commit inside a group.
func (e *Engine) dropRef(mk []byte, ext []Extent) {
	g := e.grp
	if g == nil {
		e.blobs.dropRef(mk, ext)
		return
	}
	k, x := append([]byte(nil), mk...), append([]Extent(nil), ext...)
	g.after = append(g.after, func() { e.blobs.dropRef(k, x) })
}

// reclaimLater queues a replaced collection's sub-keys for removal: after
// the commit inside a group.
func (e *Engine) reclaimLater(version uint64) {
	g := e.grp
	if g == nil {
		e.queueReclaim(version)
		return
	}
	g.after = append(g.after, func() { e.queueReclaim(version) })
}

// cacheValue admits a written value to the DRAM tier; inside a group it
// drops the key's entry instead (nothing uncommitted is cached).
func (e *Engine) cacheValue(mk []byte, buf *Buffer, m *Meta) {
	if e.grp != nil {
		e.cache.drop(mk)
		return
	}
	e.cache.put(mk, buf, m)
}

// cacheSmall admits a written record to the small-value tier (absent
// when m is nil); inside a group it drops the key's entry instead.
func (e *Engine) cacheSmall(mk []byte, m *Meta, inline []byte) {
	switch {
	case e.grp != nil:
		e.small.drop(mk)
	case m == nil:
		e.small.putAbsent(mk)
	default:
		e.small.put(mk, m, inline)
	}
}

// undo puts back the in-memory state of a group that did not commit.
func (g *group) undo(e *Engine) {
	for ks, d := range g.counts {
		e.counter(ks).Add(-d)
	}
	for _, r := range g.refs {
		e.blobs.dropRef([]byte(r.mk), r.ext)
		e.orphan(r.ext)
	}
	if g.hinted {
		e.hints.mu.Lock()
		e.hints.m = nil
		e.hints.mu.Unlock()
	}
	// The group dropped the cache entries of the keys it wrote and
	// admitted nothing: the tiers hold committed state only.
}

// savepoint is where a group's batch stood before a Txn wrote into it.
type savepoint struct {
	len   int
	count uint32
}

func (g *group) savepoint() savepoint {
	return savepoint{len: len(g.b.Repr()), count: g.b.Count()}
}

// rollback takes back what was written to the group's batch since sp: a
// pebble batch cannot be cut short, so the batch is rebuilt from its
// prefix (only when a Txn fails after writing).
func (g *group) rollback(e *Engine, sp savepoint) error {
	repr := g.b.Repr()
	if len(repr) == sp.len {
		return nil
	}
	nb := e.db.NewIndexedBatch()
	if sp.count > 0 {
		prefix := append([]byte(nil), repr[:sp.len]...)
		binary.LittleEndian.PutUint32(prefix[8:12], sp.count)
		tmp := e.db.NewBatch()
		err := tmp.SetRepr(prefix)
		if err == nil {
			err = nb.Apply(tmp, nil)
		}
		tmp.Close()
		if err != nil {
			nb.Close()
			return err
		}
	}
	g.b.Close()
	g.b = nb
	return nil
}
