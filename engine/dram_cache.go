package engine

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// dramCache is the DRAM tier's index: which values have their bytes resident
// in arena pages. It is write-through — every cached value is also durable
// in the NVMe tier — so eviction only drops a reference, and demotion costs
// nothing.
//
// Admission and eviction follow S3-FIFO (Yang et al., SOSP'23): new entries
// enter a small FIFO; an entry read again before it reaches the small FIFO's
// head moves to the main FIFO, others leave and are remembered in a ghost
// FIFO so that a quick return goes straight to main. A scan of cold keys
// therefore cycles through the small queue without flushing the working set
// in main.
type dramCache struct {
	mu     sync.Mutex
	m      map[string]*cacheEntry
	small  fifo
	main   fifo
	ghost  ghostSet
	pages  int // pages held by entries
	seed   maphash.Seed
	target int // arena pages; small FIFO gets ~10%
	// admitted runs after an entry is admitted: its pages can now be
	// reclaimed by an allocation waiting for memory.
	admitted func()

	hits, misses, evictions, admissions atomic.Int64
	// invalidations counts entries dropped because their key was deleted,
	// overwritten or expired (evictions: dropped to make room).
	invalidations atomic.Int64
}

type cacheEntry struct {
	key        string // metadata key
	buf        *Buffer
	meta       Meta // owned copy (Attrs, extents)
	freq       atomic.Int32
	inMain     bool
	prev, next *cacheEntry
}

type fifo struct {
	head, tail *cacheEntry // pop at head, push at tail
	pages      int
}

func (q *fifo) push(e *cacheEntry) {
	e.prev, e.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
	q.pages += entryPages(e)
}

func (q *fifo) remove(e *cacheEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next = nil, nil
	q.pages -= entryPages(e)
}

func entryPages(e *cacheEntry) int { return len(e.buf.idx) }

// ghostSet remembers the hashes of recently evicted keys, bounded.
type ghostSet struct {
	set  map[uint64]struct{}
	ring []uint64
	pos  int
}

func (g *ghostSet) add(h uint64) {
	if len(g.ring) == 0 {
		return
	}
	if old := g.ring[g.pos]; old != 0 {
		delete(g.set, old)
	}
	g.ring[g.pos] = h
	g.set[h] = struct{}{}
	g.pos = (g.pos + 1) % len(g.ring)
}

func (g *ghostSet) take(h uint64) bool {
	if _, ok := g.set[h]; ok {
		delete(g.set, h)
		return true
	}
	return false
}

func newDRAMCache(arenaPages int) *dramCache {
	ghosts := arenaPages / 4
	if ghosts < 64 {
		ghosts = 64
	}
	return &dramCache{
		m:      make(map[string]*cacheEntry),
		seed:   maphash.MakeSeed(),
		target: arenaPages,
		ghost:  ghostSet{set: make(map[uint64]struct{}, ghosts), ring: make([]uint64, ghosts)},
	}
}

// get returns the entry's buffer with a new reference and a copy of its
// metadata in dst, or false.
func (c *dramCache) get(metaKey []byte, dst *Meta) (*Buffer, bool) {
	c.mu.Lock()
	e, ok := c.m[string(metaKey)]
	if !ok {
		c.mu.Unlock()
		c.misses.Add(1)
		return nil, false
	}
	e.buf.Retain()
	cloneMeta(dst, &e.meta)
	c.mu.Unlock()
	if e.freq.Load() < 3 {
		e.freq.Add(1)
	}
	c.hits.Add(1)
	return e.buf, true
}

// hot returns a new reference to the key's resident buffer and a copy of
// its metadata if the key has been read since it was last written (its
// frequency is non-zero). No statistics change.
func (c *dramCache) hot(metaKey []byte, dst *Meta) (*Buffer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(metaKey)]
	if !ok || e.freq.Load() == 0 {
		return nil, false
	}
	e.buf.Retain()
	cloneMeta(dst, &e.meta)
	return e.buf, true
}

// peek returns a new reference to the key's resident buffer when it holds
// version of the value. No statistics or frequencies change.
func (c *dramCache) peek(metaKey []byte, version uint64) (*Buffer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(metaKey)]
	if !ok || e.meta.Version != version {
		return nil, false
	}
	e.buf.Retain()
	return e.buf, true
}

// put makes buf the resident copy of the key (taking a new reference),
// replacing any previous entry.
func (c *dramCache) put(metaKey []byte, buf *Buffer, m *Meta) {
	e := &cacheEntry{buf: buf}
	cloneMeta(&e.meta, m)
	buf.Retain()
	h := maphash.Bytes(c.seed, metaKey)
	c.mu.Lock()
	if old, ok := c.m[string(metaKey)]; ok {
		e.key = old.key
		c.unlinkLocked(old)
		c.invalidations.Add(1)
	} else {
		e.key = string(metaKey)
	}
	c.m[e.key] = e
	if c.ghost.take(h) {
		e.inMain = true
		c.main.push(e)
	} else {
		c.small.push(e)
	}
	c.pages += entryPages(e)
	c.mu.Unlock()
	c.admissions.Add(1)
	if c.admitted != nil {
		c.admitted()
	}
}

// setExpire updates the cached expiry of a resident key.
func (c *dramCache) setExpire(metaKey []byte, at int64) {
	c.mu.Lock()
	if e, ok := c.m[string(metaKey)]; ok {
		e.meta.ExpireAt = at
	}
	c.mu.Unlock()
}

// drop removes the key if resident.
func (c *dramCache) drop(metaKey []byte) {
	c.mu.Lock()
	if e, ok := c.m[string(metaKey)]; ok {
		c.unlinkLocked(e)
		c.invalidations.Add(1)
	}
	c.mu.Unlock()
}

func (c *dramCache) unlinkLocked(e *cacheEntry) {
	delete(c.m, e.key)
	if e.inMain {
		c.main.remove(e)
	} else {
		c.small.remove(e)
	}
	c.pages -= entryPages(e)
	e.buf.Release()
}

// evict drops entries until at least pages pages have been released by the
// cache or it is empty. Pages still referenced by readers return to the
// arena when those readers finish.
func (c *dramCache) evict(pages int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	freed := 0
	for freed < pages && c.pages > 0 {
		var e *cacheEntry
		if c.small.head != nil && (c.small.pages*10 >= c.target || c.main.head == nil) {
			e = c.small.head
			if e.freq.Load() > 0 {
				// Read again while in probation: promote.
				c.small.remove(e)
				e.freq.Store(0)
				e.inMain = true
				c.main.push(e)
				continue
			}
			c.ghost.add(maphash.String(c.seed, e.key))
		} else {
			e = c.main.head
			if f := e.freq.Load(); f > 0 {
				e.freq.Store(f - 1)
				c.main.remove(e)
				c.main.push(e)
				continue
			}
		}
		freed += entryPages(e)
		c.unlinkLocked(e)
		c.evictions.Add(1)
	}
}

// stats returns the entry count and resident bytes.
func (c *dramCache) stats() (entries int, pages int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m), c.pages
}
