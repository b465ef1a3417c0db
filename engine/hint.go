package engine

import "sync"

// Popping from the low end of a collection (SPOP, ZPOPMIN, and any walk
// from the first element) leaves point tombstones in front of the first
// live element until compaction drops them; each later walk from the
// start would step over all of them again, so a queue-like workload slows
// down as it runs (KVRocks users know this as tombstone-heavy hot keys).
// lowHints remembers, per collection and sub-key family, a suffix below
// which no live sub-key exists: walks from the start seek there instead.
// A hint is set to the first live element a walk from it finds, lowered
// by every add below it, and forgotten when a transaction that set it
// fails to commit; deletes never make it wrong. It is memory only.
type lowHints struct {
	mu sync.Mutex
	m  map[hintKey][]byte
}

type hintKey struct {
	version uint64
	family  byte // 0: hash fields and set members; zScore, zMember
}

// maxHints bounds the table; past it, it starts over (hints are only an
// optimisation).
const maxHints = 1 << 16

func (h *lowHints) get(k hintKey) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[k]
}

func (h *lowHints) set(k hintKey, suffix []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHints {
		h.m = make(map[hintKey][]byte)
	}
	h.m[k] = append(h.m[k][:0], suffix...)
}

// lower makes the hint no higher than suffix (an element added there).
func (h *lowHints) lower(k hintKey, suffix []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur, ok := h.m[k]; ok && string(suffix) < string(cur) {
		h.m[k] = append(cur[:0], suffix...)
	}
}

func (h *lowHints) drop(k hintKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, k)
}

func (t *Txn) hintKey(i int, family byte) hintKey {
	return hintKey{version: t.keys[t.slots[i]].m.Version, family: family}
}

// hintedStart returns where a walk of family from its start (lo) may
// begin instead of lo.
func (t *Txn) hintedStart(i int, family byte, lo []byte) []byte {
	if h := t.e.hints.get(t.hintKey(i, family)); h != nil && string(h) > string(lo) {
		return h
	}
	return lo
}

// noteFirst records suffix as the first live element of family.
func (t *Txn) noteFirst(i int, family byte, suffix []byte) {
	k := t.hintKey(i, family)
	t.e.hints.set(k, suffix)
	t.hinted = append(t.hinted, k)
}

// noteAdd lowers family's hint for an element added at suffix.
func (t *Txn) noteAdd(i int, family byte, suffix []byte) {
	t.e.hints.lower(t.hintKey(i, family), suffix)
}
