package engine

import (
	"sync"
	"sync/atomic"
)

// subCache knows every sub-key of the hashes, sets and sorted sets created
// in this process, so adding a new field or member needs no store read.
// HSET, SADD and ZADD must know whether a field exists before writing it
// (to answer, and to count it), and for a field that is not there the
// metadata store can only say so after searching its memtables and every
// level: in a profile of pipelined HSETs on one hash, that search was more
// than half of the server's CPU.
//
// A version is created empty and never repeats (version.go), so the
// sub-keys of a version created here are exactly those its Txns wrote.
// The cache holds their suffixes from the commit that created the version
// on; every later committed setSub and delSub of it updates the set. A
// suffix not in the set is absent; one in it is read from the store only
// when its value is wanted and longer than 8 bytes (a set member's empty
// value and a sorted-set member's score are held). A sorted set's score
// index is not held: nothing looks its entries up one by one. Anything that writes a version's sub-keys
// another way must call drop first: a version without a set is looked up
// in the store as before. Inside a group (MULTI, a pipelined run) writes
// are not tracked, so they drop the set instead. The sets are bounded by
// subCacheMax bytes in all; a version whose set would pass it loses it.
type subCache struct {
	mu   sync.RWMutex
	sets map[uint64]*subSet
	n    atomic.Int64 // bytes held in all sets (subEntryBytes each)
}

// subSet is one version's suffixes. It is read and changed only under the
// stripe lock of the key that holds the version.
type subSet struct {
	m map[string]subVal
	n atomic.Int64 // its bytes, for drop
}

// subVal is a sub-key's value when it is at most 8 bytes (n < 0: longer,
// read it from the store).
type subVal struct {
	n int8
	b [8]byte
}

func makeSubVal(val []byte) subVal {
	if len(val) > 8 {
		return subVal{n: -1}
	}
	v := subVal{n: int8(len(val))}
	copy(v.b[:], val)
	return v
}

// subCacheMax bounds the memory the sets hold.
var subCacheMax int64 = 64 << 20 // a variable for tests

// subEntryBytes is what a suffix costs in a set: the key's bytes, its
// string header and value, and the map's share per entry.
func subEntryBytes(suffix []byte) int64 { return int64(len(suffix)) + 48 }

// subCacheType reports whether typ's sub-keys are cached: those whose
// writes look a sub-key up first.
func subCacheType(typ Type) bool {
	return typ == TypeHash || typ == TypeSet || typ == TypeZSet
}

// subCached reports whether suffix of a typ collection is held in sets.
func subCached(typ Type, suffix []byte) bool {
	switch typ {
	case TypeHash, TypeSet:
		return true
	case TypeZSet:
		return len(suffix) > 0 && suffix[0] == zMember
	}
	return false
}

func (c *subCache) get(v uint64) *subSet {
	c.mu.RLock()
	s := c.sets[v]
	c.mu.RUnlock()
	return s
}

// drop forgets version v's set: its sub-keys are read from the store.
func (c *subCache) drop(v uint64) {
	c.mu.RLock()
	_, ok := c.sets[v]
	c.mu.RUnlock()
	if !ok {
		return
	}
	c.mu.Lock()
	if s, ok := c.sets[v]; ok {
		delete(c.sets, v)
		c.n.Add(-s.n.Load())
	}
	c.mu.Unlock()
}

// pendSub is a sub-key write of a Txn not yet committed.
type pendSub struct {
	v      uint64
	lo, hi int // the suffix: Txn.pendBuf[lo:hi]
	val    subVal
	add    bool
}

// pendMax is how many writes a Txn tracks: past it, the Txn's lookups go
// to the store (through its indexed batch) and nothing is cached from it.
const pendMax = 64

// track notes a sub-key write of version v (under the key's lock): val is
// the value set (add).
func (t *Txn) track(v uint64, suffix, val []byte, add bool) {
	if t.e.grp != nil {
		t.e.subs.drop(v)
		return
	}
	if t.pendOver {
		return
	}
	if len(t.pend) == pendMax {
		t.pendOver = true
		return
	}
	lo := len(t.pendBuf)
	t.pendBuf = append(t.pendBuf, suffix...)
	t.pend = append(t.pend, pendSub{v: v, lo: lo, hi: len(t.pendBuf), val: makeSubVal(val), add: add})
}

// cachedHas answers whether suffix exists in key k's collection from
// memory, and its value if held; known is false when only the store can
// say.
func (t *Txn) cachedHas(k *txnKey, suffix []byte) (val subVal, has, known bool) {
	if t.e.grp != nil || t.pendOver || !subCached(k.m.Type, suffix) {
		return val, false, false
	}
	v := k.m.Version
	for j := len(t.pend) - 1; j >= 0; j-- {
		if p := &t.pend[j]; p.v == v && string(t.pendBuf[p.lo:p.hi]) == string(suffix) {
			return p.val, p.add, true
		}
	}
	for _, c := range k.created {
		if c == v {
			return val, false, true // new in this Txn: only its own writes
		}
	}
	s := t.e.subs.get(v)
	if s == nil {
		return val, false, false
	}
	val, has = s.m[string(suffix)]
	return val, has, true
}

// applyPend updates the cache after the Txn committed (outside a group).
func (t *Txn) applyPend() {
	c := &t.e.subs
	if t.pendOver {
		// NB: untracked writes: no version they touched may keep a set.
		for i := range t.keys {
			c.drop(t.keys[i].m.Version)
		}
		return
	}
	for i := range t.keys {
		k := &t.keys[i]
		if !k.exists || !subCacheType(k.m.Type) || k.m.Version == k.old.Version && k.oldExists {
			continue
		}
		created := false
		for _, v := range k.created {
			created = created || v == k.m.Version
		}
		if !created || c.n.Load() >= subCacheMax {
			continue
		}
		c.mu.Lock()
		if c.sets == nil {
			c.sets = make(map[uint64]*subSet)
		}
		c.sets[k.m.Version] = &subSet{m: make(map[string]subVal)}
		c.mu.Unlock()
	}
	for _, p := range t.pend {
		s := c.get(p.v)
		if s == nil {
			continue
		}
		suffix := t.pendBuf[p.lo:p.hi]
		_, had := s.m[string(suffix)]
		switch {
		case p.add && had:
			s.m[string(suffix)] = p.val
		case p.add:
			n := subEntryBytes(suffix)
			if c.n.Add(n) > subCacheMax {
				c.n.Add(-n)
				c.drop(p.v)
				continue
			}
			s.m[string(suffix)] = p.val
			s.n.Add(n)
		case !p.add && had:
			delete(s.m, string(suffix))
			n := subEntryBytes(suffix)
			s.n.Add(-n)
			c.n.Add(-n)
		}
	}
}
