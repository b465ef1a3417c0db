package engine

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"
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
// index is not held: nothing looks its entries up one by one.
//
// A list's set holds only its elements of up to 8 bytes, values and
// nothing else: a list needs no existence test (its bounds say which
// indexes are there), but LPOP, RPOP and LINDEX read one element each,
// and a pop's element was mostly flushed out of the memtable by the
// pushes since (under pipelined LPOP that store read was a quarter of the
// server's CPU). An index not in a list's set is unknown, not absent. A
// list's indexes are contiguous, so its set is a ring of values in index
// order (listVals), 9 bytes an element, not a map.
//
// Anything that writes a version's sub-keys another way must call drop
// first: a version without a set is looked up in the store as before.
// Inside a group (MULTI, a pipelined run) writes are not tracked, so they
// drop the set instead. The sets are bounded by subCacheMax bytes in all;
// a version whose set would pass it loses it.
type subCache struct {
	mu   sync.RWMutex
	sets map[uint64]*subSet
	n    atomic.Int64 // bytes held in all sets (subEntryBytes each)
}

// subSet is one version's suffixes. It is read and changed only under the
// stripe lock of the key that holds the version.
type subSet struct {
	m map[string]subVal
	l *listVals    // a list's elements, instead of m
	n atomic.Int64 // its bytes, for drop
}

// listVals holds a list's elements at indexes [base, base+count) in a
// ring (its length a power of two, or zero). An element whose value is
// longer than 8 bytes, or was removed from the middle, is held as unknown
// (n < 0); a write that would leave a gap restarts the range at it.
type listVals struct {
	base         uint64
	buf          []subVal
	start, count int
}

// listValsMin is the smallest ring a list's set keeps.
const listValsMin = 16

// subValBytes is what an element costs in a list's ring.
const subValBytes = int64(unsafe.Sizeof(subVal{}))

func (l *listVals) at(idx uint64) *subVal {
	return &l.buf[(l.start+int(idx-l.base))&(len(l.buf)-1)]
}

func (l *listVals) get(idx uint64) (subVal, bool) {
	if idx-l.base >= uint64(l.count) { // NB: idx < base wraps to a large number
		return subVal{}, false
	}
	v := *l.at(idx)
	return v, v.n >= 0
}

// holds reports whether every index in [lo, hi] is held with its value.
func (l *listVals) holds(lo, hi uint64) bool {
	if lo-l.base >= uint64(l.count) || hi-l.base >= uint64(l.count) {
		return false
	}
	for idx := lo; idx <= hi; idx++ {
		if l.at(idx).n < 0 {
			return false
		}
	}
	return true
}

// resize gives the ring room for n elements (keeping at least
// listValsMin) and returns the change in bytes.
func (l *listVals) resize(n int) int64 {
	size := listValsMin
	for size < n {
		size *= 2
	}
	if size == len(l.buf) {
		return 0
	}
	buf := make([]subVal, size)
	for i := 0; i < l.count; i++ {
		buf[i] = l.buf[(l.start+i)&(len(l.buf)-1)]
	}
	old := len(l.buf)
	l.buf, l.start = buf, 0
	return int64(size-old) * subValBytes
}

// set holds v at idx and returns the change in bytes.
func (l *listVals) set(idx uint64, v subVal) int64 {
	var grew int64
	switch {
	case idx-l.base < uint64(l.count):
		*l.at(idx) = v
		return 0
	case l.count > 0 && idx == l.base-1:
		if l.count == len(l.buf) {
			grew = l.resize(l.count + 1)
		}
		l.start = (l.start - 1) & (len(l.buf) - 1)
		l.base--
	case l.count > 0 && idx == l.base+uint64(l.count):
		if l.count == len(l.buf) {
			grew = l.resize(l.count + 1)
		}
	default: // empty, or a gap: start over at idx
		l.count = 0
		grew = l.resize(1)
		l.base, l.start = idx, 0
	}
	l.count++
	*l.at(idx) = v
	return grew
}

// del forgets idx and returns the change in bytes (the ring shrinks
// when a quarter full).
func (l *listVals) del(idx uint64) int64 {
	switch {
	case idx-l.base >= uint64(l.count):
		return 0
	case idx == l.base:
		l.start = (l.start + 1) & (len(l.buf) - 1)
		l.base++
		l.count--
	case idx == l.base+uint64(l.count)-1:
		l.count--
	default:
		l.at(idx).n = -1
		return 0
	}
	if len(l.buf) > listValsMin && l.count <= len(l.buf)/4 {
		return l.resize(l.count * 2)
	}
	return 0
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
	return typ == TypeHash || typ == TypeSet || typ == TypeZSet || typ == TypeList
}

// subCached reports whether suffix of a typ collection is held in sets.
func subCached(typ Type, suffix []byte) bool {
	switch typ {
	case TypeHash, TypeSet, TypeList:
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
	val, has, known = t.cachedLookup(k, suffix)
	if k.m.Type == TypeList && !has {
		return val, false, false // a list's set holds small values only
	}
	return val, has, known
}

func (t *Txn) cachedLookup(k *txnKey, suffix []byte) (val subVal, has, known bool) {
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
	if s.l != nil {
		if len(suffix) != 8 {
			return val, false, false
		}
		val, has = s.l.get(binary.BigEndian.Uint64(suffix))
		return val, has, true
	}
	val, has = s.m[string(suffix)]
	return val, has, true
}

// cachedListRange calls fn for list key i's elements at indexes [lo, hi]
// (reverse: from hi) from its set, and reports whether it could: every one
// of them is held and the Txn has written nothing yet (its own writes are
// not in the set).
func (t *Txn) cachedListRange(i int, lo, hi uint64, reverse bool, fn func(idx uint64, val []byte) bool) bool {
	if t.e.grp != nil || t.b != nil || t.pendOver || len(t.pend) > 0 {
		return false
	}
	s := t.e.subs.get(t.keys[t.slots[i]].m.Version)
	if s == nil || s.l == nil || !s.l.holds(lo, hi) {
		return false
	}
	for j := uint64(0); j <= hi-lo; j++ {
		idx := lo + j
		if reverse {
			idx = hi - j
		}
		// NB: a slice of the ring: nothing changes it before the
		// Txn commits.
		v := s.l.at(idx)
		if !fn(idx, v.b[:v.n]) {
			break
		}
	}
	return true
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
		if k.m.Type == TypeList {
			c.sets[k.m.Version] = &subSet{l: &listVals{}}
		} else {
			c.sets[k.m.Version] = &subSet{m: make(map[string]subVal)}
		}
		c.mu.Unlock()
	}
	for _, p := range t.pend {
		s := c.get(p.v)
		if s == nil {
			continue
		}
		suffix := t.pendBuf[p.lo:p.hi]
		if s.l != nil {
			if len(suffix) != 8 {
				c.drop(p.v)
				continue
			}
			var n int64
			if idx := binary.BigEndian.Uint64(suffix); p.add {
				n = s.l.set(idx, p.val)
			} else {
				n = s.l.del(idx)
			}
			s.n.Add(n)
			if c.n.Add(n) > subCacheMax {
				c.drop(p.v)
			}
			continue
		}
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
