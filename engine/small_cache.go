package engine

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// smallCache is the DRAM tier for small (inline) values: the metadata
// record and value bytes of recently used keys, so a GET — and the
// read-before-write every SET needs — is a map lookup instead of an LSM
// point lookup. It is write-through and authoritative for the keys it
// holds: every change to a key happens under the key's lock and updates or
// drops its entry there, so readers holding the lock may trust a hit.
// Absence means nothing (negative lookups go to the metadata store).
//
// Eviction is SIEVE (Zhang et al., NSDI'24): a FIFO with a visited bit and
// a moving hand, scan-resistant and lock-cheap. Entries keep their byte
// slices when a key is overwritten with a value that fits, so a steady
// stream of SETs to the same keys allocates nothing.
type smallCache struct {
	seed   maphash.Seed
	shards [smallShards]smallShard

	hits, misses atomic.Int64
}

const smallShards = 64

type smallShard struct {
	mu       sync.Mutex
	m        map[string]*smallEntry
	head     *smallEntry // newest
	tail     *smallEntry // oldest
	hand     *smallEntry
	bytes    int64
	maxBytes int64
}

type smallEntry struct {
	key        string
	meta       Meta // owns Attrs; extents nil
	val        []byte
	visited    bool
	prev, next *smallEntry // prev: newer, next: older
}

// entryOverhead approximates an entry's fixed memory cost.
const entryOverhead = 160

func (e *smallEntry) cost() int64 {
	return int64(len(e.key)+cap(e.val)+cap(e.meta.Attrs)) + entryOverhead
}

func newSmallCache(maxBytes int64) *smallCache {
	c := &smallCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*smallEntry)
		c.shards[i].maxBytes = maxBytes / smallShards
	}
	return c
}

func (c *smallCache) shard(mk []byte) *smallShard {
	return &c.shards[maphash.Bytes(c.seed, mk)%smallShards]
}

// get copies the entry's metadata into m and its value into *val (reusing
// its capacity) and reports whether the key was resident.
func (c *smallCache) get(mk []byte, m *Meta, val *[]byte) bool {
	s := c.shard(mk)
	s.mu.Lock()
	e, ok := s.m[string(mk)]
	if !ok {
		s.mu.Unlock()
		c.misses.Add(1)
		return false
	}
	e.visited = true
	cloneMeta(m, &e.meta)
	if val != nil {
		*val = append((*val)[:0], e.val...)
	}
	s.mu.Unlock()
	c.hits.Add(1)
	return true
}

// put makes (m, val) the key's entry. The caller holds the key's lock.
func (c *smallCache) put(mk []byte, m *Meta, val []byte) {
	if s := c.shard(mk); s.maxBytes > 0 {
		s.mu.Lock()
		s.putLocked(mk, m, val)
		s.mu.Unlock()
	}
}

func (s *smallShard) putLocked(mk []byte, m *Meta, val []byte) {
	e, ok := s.m[string(mk)]
	if ok {
		s.bytes -= e.cost()
	} else {
		e = &smallEntry{key: string(mk)}
		s.m[e.key] = e
		s.pushHead(e)
	}
	cloneMeta(&e.meta, m)
	e.val = append(e.val[:0], val...)
	s.bytes += e.cost()
	if e.cost() > s.maxBytes {
		s.unlink(e) // larger than the shard's whole budget: not worth keeping
		return
	}
	for s.bytes > s.maxBytes && s.evictOne(e) {
	}
}

// putAbsent remembers that the key does not exist (an entry of
// TypeNone), which readers take as not found. A collection's metadata
// record is rewritten by every change, so a deleted one leaves many
// versions behind its tombstone in the metadata store, which a lookup
// steps over until compaction; hot keys that empty and fill again (queues)
// are looked up here instead. The caller holds the key's lock.
func (c *smallCache) putAbsent(mk []byte) {
	var none Meta
	c.put(mk, &none, nil)
}

// setExpire updates a resident key's expiry (the key's lock is held).
func (c *smallCache) setExpire(mk []byte, at int64) {
	s := c.shard(mk)
	s.mu.Lock()
	if e, ok := s.m[string(mk)]; ok {
		e.meta.ExpireAt = at
	}
	s.mu.Unlock()
}

// drop forgets the key (the key's lock is held).
func (c *smallCache) drop(mk []byte) {
	s := c.shard(mk)
	s.mu.Lock()
	if e, ok := s.m[string(mk)]; ok {
		s.unlink(e)
	}
	s.mu.Unlock()
}

func (s *smallShard) pushHead(e *smallEntry) {
	e.prev, e.next = nil, s.head
	if s.head != nil {
		s.head.prev = e
	}
	s.head = e
	if s.tail == nil {
		s.tail = e
	}
}

func (s *smallShard) unlink(e *smallEntry) {
	if s.hand == e {
		s.hand = e.prev
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
	delete(s.m, e.key)
	s.bytes -= e.cost()
}

// evictOne runs the SIEVE hand from the oldest end towards the newest,
// clearing visited bits, and evicts the first unvisited entry other than
// keep. It reports false when there is nothing else to evict.
func (s *smallShard) evictOne(keep *smallEntry) bool {
	h := s.hand
	if h == nil {
		h = s.tail
	}
	for i := 0; h != nil && i <= 2*len(s.m)+1; i++ {
		if h != keep && (!h.visited || i >= 2*len(s.m)) {
			s.hand = h.prev
			s.unlink(h)
			return true
		}
		h.visited = false
		if h = h.prev; h == nil {
			h = s.tail
		}
	}
	return false
}

// stats returns entries and bytes.
func (c *smallCache) stats() (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		entries += len(s.m)
		bytes += s.bytes
		s.mu.Unlock()
	}
	return entries, bytes
}

// SmallSink takes a small value straight from the small-value tier
// (Engine.GetSmall).
type SmallSink interface {
	// SmallValue gets the value's bytes, valid only during the call,
	// which must not call back into the engine.
	SmallValue(val []byte)
}

// GetSmall serves a GET of a string resident in the small-value tier
// without copying it out first: the value goes to sink under the tier's
// shard lock. It reports false, having done nothing, when the key is not
// a resident, unexpired string; Get then answers.
func (e *Engine) GetSmall(ks string, key []byte, sink SmallSink) bool {
	if e.closed.Load() || len(ks) > maxKeyspaceLen {
		return false
	}
	kb := getKeyBuf()
	mk := kb.meta(ks, key)
	c := e.small
	s := c.shard(mk)
	s.mu.Lock()
	ent, ok := s.m[string(mk)]
	if ok = ok && ent.meta.Type == TypeString && (ent.meta.ExpireAt == 0 || ent.meta.ExpireAt > nowMs()); ok {
		ent.visited = true
		sink.SmallValue(ent.val)
	}
	s.mu.Unlock()
	putKeyBuf(kb)
	if ok {
		c.hits.Add(1)
		e.lookups.dramHits.Add(1)
	}
	return ok
}
