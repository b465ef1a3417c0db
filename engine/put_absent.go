package engine

import (
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// absentFilter proves keys absent without a metadata store read. Every SET
// of a key not in the small-value tier must know whether the key exists
// (to count it, and to free what an old value held), and for a new key the
// metadata store can only say so after searching the memtable and every
// level's bloom filter: in a profile of pipelined SETs of new keys, that
// lookup was a sixth of the server's CPU. This filter answers it from
// memory for almost every new key.
//
// It is a blocked bloom filter over the metadata keys of every record
// written: a key with a record is always in it, so "not in the filter"
// means absent; a key that is in it may still be absent (deleted keys stay
// in, and about 1% of others collide) and is looked up as before. Every
// write of a metadata record reaches the store through commit (or a
// group's commit), which adds the batch's keys before the batch commits;
// recovery adds every key it finds. A write that bypassed those would make
// the filter lie, so metadata records must only be written through them.
//
// Deleted keys are never taken out, so the filter is rebuilt from a scan
// of the store, in the background, once more keys were added than it was
// sized for: notes go to both filters while the scan runs (mu orders that
// switch against commits in flight), then the new one replaces the old.
type absentFilter struct {
	seed maphash.Seed
	// mu is held shared from a batch's notes until its commit returns,
	// and exclusively by a rebuild while it starts noting into next: a
	// commit noted in cur alone is then visible to the rebuild's scan.
	mu   sync.RWMutex
	cur  atomic.Pointer[bloomBlocks]
	next atomic.Pointer[bloomBlocks] // during a rebuild
	wake chan struct{}

	rebuildMu sync.Mutex // one rebuild at a time
	rebuilds  atomic.Int64
}

// bloomBlocks is a split-block bloom filter: a key sets one bit in each of
// the 8 words of one 64-byte block, so a lookup touches one cache line.
type bloomBlocks struct {
	words    []atomic.Uint64
	blocks   uint64
	capacity int64        // keys it was sized for, at filterBitsPerKey
	added    atomic.Int64 // notes that set at least one bit
}

const (
	filterBitsPerKey  = 10 // about 1% false positives at capacity
	filterMinCapacity = 1 << 20
)

var filterSalt = [8]uint32{0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31}

func newBloomBlocks(capacity int64) *bloomBlocks {
	capacity = max(capacity, filterMinCapacity)
	n := uint64(capacity*filterBitsPerKey+511) / 512
	return &bloomBlocks{words: make([]atomic.Uint64, 8*n), blocks: n, capacity: capacity}
}

func (b *bloomBlocks) block(h uint64) []atomic.Uint64 {
	i, _ := bits.Mul64(h, b.blocks)
	return b.words[8*i : 8*i+8 : 8*i+8]
}

// add sets h's bits and reports whether any was new.
func (b *bloomBlocks) add(h uint64) {
	w, lo, fresh := b.block(h), uint32(h), false
	for i := range w {
		m := uint64(1) << ((lo * filterSalt[i]) >> 26)
		if w[i].Load()&m == 0 {
			w[i].Or(m)
			fresh = true
		}
	}
	if fresh {
		b.added.Add(1)
	}
}

func (b *bloomBlocks) has(h uint64) bool {
	w, lo := b.block(h), uint32(h)
	for i := range w {
		if w[i].Load()&(uint64(1)<<((lo*filterSalt[i])>>26)) == 0 {
			return false
		}
	}
	return true
}

func newAbsentFilter() *absentFilter {
	f := &absentFilter{seed: maphash.MakeSeed(), wake: make(chan struct{}, 1)}
	f.cur.Store(newBloomBlocks(filterMinCapacity))
	return f
}

// mayContain reports false only for a key that has no record.
func (f *absentFilter) mayContain(mk []byte) bool {
	return f.cur.Load().has(maphash.Bytes(f.seed, mk))
}

// note adds a metadata key; the caller holds mu shared (or runs alone, as
// recovery does) until the record it writes is committed.
func (f *absentFilter) note(mk []byte) {
	h := maphash.Bytes(f.seed, mk)
	cur := f.cur.Load()
	cur.add(h)
	if nb := f.next.Load(); nb != nil {
		nb.add(h)
	} else if cur.added.Load() > cur.capacity {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// noteBatch adds every metadata key b writes.
func (f *absentFilter) noteBatch(b *pebble.Batch) {
	r := b.Reader()
	for {
		kind, key, _, ok, err := r.Next()
		if !ok || err != nil {
			return
		}
		if len(key) == 0 || key[0] != prefixKey {
			continue
		}
		switch kind {
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindSetWithDelete, pebble.InternalKeyKindMerge:
			f.note(key)
		}
	}
}

// commitNoted commits b to the store with opts, its metadata keys noted
// first.
func (e *Engine) commitNoted(b *pebble.Batch, opts *pebble.WriteOptions) error {
	f := e.absent
	f.mu.RLock()
	defer f.mu.RUnlock()
	f.noteBatch(b)
	return e.wrote(b.Commit(opts))
}

// absentLoop rebuilds the filter when it has taken more keys than it was
// sized for.
func (e *Engine) absentLoop() {
	defer e.wg.Done()
	for {
		select {
		case <-e.stop:
			return
		case <-e.absent.wake:
			if err := e.rebuildAbsent(); err != nil {
				e.opts.Logf("rebuilding the absent-key filter failed (retried when it fills again): %v", err)
			}
		}
	}
}

// rebuildAbsent replaces the filter with one sized for twice the keys the
// store holds now, filled from a scan of the store.
func (e *Engine) rebuildAbsent() error {
	f := e.absent
	f.rebuildMu.Lock()
	defer f.rebuildMu.Unlock()
	var keys int64
	e.countsMu.RLock()
	for _, c := range e.counts {
		keys += c.Load()
	}
	e.countsMu.RUnlock()
	nb := newBloomBlocks(2 * keys)
	f.mu.Lock()
	f.next.Store(nb)
	f.mu.Unlock()
	// NB: every commit noted in cur alone has returned (mu), so the scan
	// sees it; every later one notes into nb as well.
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixKey}, UpperBound: []byte{prefixKey + 1}})
	if err != nil {
		f.next.Store(nil)
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		nb.add(maphash.Bytes(f.seed, it.Key()))
		if e.closed.Load() {
			break
		}
	}
	if err := it.Close(); err != nil || e.closed.Load() {
		f.next.Store(nil)
		return err
	}
	f.mu.Lock()
	f.cur.Store(nb)
	f.next.Store(nil)
	f.mu.Unlock()
	f.rebuilds.Add(1)
	return nil
}
