package engine

import (
	"bytes"
	"errors"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Keys of one hash slot (Redis Cluster), for slot migration and CLUSTER
// COUNTKEYSINSLOT / GETKEYSINSLOT.
//
// KVRocks puts the slot into every key's encoding when cluster mode is
// on. Here the metadata layout stays the same in both modes (a data
// directory moves between cluster and standalone use unchanged, and the
// write path does not compute a slot): a slot's keys are found by one pass
// over the keyspace's metadata records, hashing each key name and
// decoding only the records of the slot asked for. Metadata records are
// small (values above the inline threshold live in blob segments), so the
// pass reads little. A write tracker (SlotTracker) records which keys of a
// slot change while it is being migrated.

// SlotFunc maps a key to its hash slot (cluster.KeySlot).
type SlotFunc func(key []byte) int

// SlotKeys calls fn for every live key of ks in slots lo to hi, in key order,
// starting at start (inclusive; nil: the first), until fn returns false.
// m is valid only during fn. It returns the key after the last one fn
// saw when fn stopped, or nil when the keyspace is exhausted.
func (e *Engine) SlotKeys(ks string, lo, hi int, slotOf SlotFunc, start []byte, fn func(key []byte, m *Meta) bool) ([]byte, error) {
	return e.Scan(ks, ScanOptions{Start: start, Filter: func(k []byte) bool { return inSlots(slotOf(k), lo, hi) }}, fn)
}

func inSlots(s, lo, hi int) bool { return lo <= s && s <= hi }

// CountSlotKeys is the number of live keys of ks in slots lo to hi.
func (e *Engine) CountSlotKeys(ks string, lo, hi int, slotOf SlotFunc) (int64, error) {
	var n int64
	_, err := e.SlotKeys(ks, lo, hi, slotOf, nil, func([]byte, *Meta) bool {
		n++
		return true
	})
	return n, err
}

// DeleteSlotKeys removes every key of ks in slots lo to hi (expired ones too) and
// returns how many were live. Each key goes as DEL removes it: blob
// references, counts, watchers and the DRAM tier stay exact.
func (e *Engine) DeleteSlotKeys(ks string, lo, hi int, slotOf SlotFunc) (int64, error) {
	if e.closed.Load() {
		return 0, ErrClosed
	}
	e.drain()
	lower := appendKeyspacePrefix(nil, ks)
	base := len(lower)
	var total int64
	for {
		// Collect a batch of meta keys, then delete them with the iterator
		// closed, so that deleting never runs under an open iterator.
		var mks [][]byte
		it, err := e.reader().NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(appendKeyspacePrefix(nil, ks))})
		if err != nil {
			return total, err
		}
		for valid := it.SeekGE(lower); valid && len(mks) < 1024; valid = it.Next() {
			if inSlots(slotOf(it.Key()[base:]), lo, hi) {
				mks = append(mks, append([]byte(nil), it.Key()...))
			}
		}
		if err := it.Close(); err != nil {
			return total, err
		}
		if len(mks) == 0 {
			return total, nil
		}
		n, err := e.deleteSlotMetaKeys(mks)
		total += n
		if err != nil {
			return total, err
		}
		// Resume after the last key taken: keys written meanwhile before
		// it belong to a writer the caller has stopped (the slot moved).
		lower = append(mks[len(mks)-1][:len(mks[len(mks)-1]):len(mks[len(mks)-1])], 0)
	}
}

// deleteSlotMetaKeys deletes the keys named by mks and counts the live ones.
func (e *Engine) deleteSlotMetaKeys(mks [][]byte) (int64, error) {
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	var m Meta
	var n int64
	now := nowMs()
	for _, mk := range mks {
		ks, key, ok := splitMetaKey(mk)
		if !ok {
			continue
		}
		st := e.locks.of(mk)
		e.lock(st)
		exists, err := e.loadMeta(mk, &m, false)
		if err == nil && exists {
			live := m.ExpireAt == 0 || m.ExpireAt > now
			if err = e.deleteLocked(kb, string(ks), key, mk, &m); err == nil {
				st.gen++
				if live {
					n++
				}
			}
		}
		e.unlock(st)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ErrSlotFlushed is what a SlotTracker reports when a whole range of keys
// (FLUSHDB, FLUSHALL) went while it tracked: the keys written since cannot
// be told apart.
var ErrSlotFlushed = errors.New("engine: keys were flushed while a slot was tracked")

// A SlotTracker records the keys of a range of slots of one keyspace that writes
// change (set, overwrite, delete, expire) from its start, for a migration
// that copies the slot and then copies again what changed meanwhile. It
// hears of a write once its batch is applied, through the same hook as
// WATCH; without a tracker or a watch, writes pay one atomic load there as
// before.
type SlotTracker struct {
	e      *Engine
	ks     string
	lo, hi int
	slotOf SlotFunc

	mu      sync.Mutex
	dirty   map[string]struct{}
	flushed bool
}

// TrackSlot starts recording the keys of ks in slots lo to hi that change.
// Close it when done.
func (e *Engine) TrackSlot(ks string, lo, hi int, slotOf SlotFunc) *SlotTracker {
	tr := &SlotTracker{e: e, ks: ks, lo: lo, hi: hi, slotOf: slotOf, dirty: make(map[string]struct{})}
	t := &e.watches
	t.mu.Lock()
	t.trackers = append(t.trackers, tr)
	t.mu.Unlock()
	t.tracking.Add(1)
	t.n.Add(1)
	return tr
}

// Take returns the keys changed since the last Take (or the start), in no
// particular order, and forgets them. It fails with ErrSlotFlushed once a
// flush went past.
func (tr *SlotTracker) Take() ([][]byte, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.flushed {
		return nil, ErrSlotFlushed
	}
	keys := make([][]byte, 0, len(tr.dirty))
	for k := range tr.dirty {
		keys = append(keys, []byte(k))
	}
	clear(tr.dirty)
	return keys, nil
}

// Pending is the number of changed keys not yet taken.
func (tr *SlotTracker) Pending() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.dirty)
}

// Close stops tracking.
func (tr *SlotTracker) Close() {
	t := &tr.e.watches
	t.mu.Lock()
	for i, o := range t.trackers {
		if o == tr {
			t.trackers = append(t.trackers[:i], t.trackers[i+1:]...)
			t.mu.Unlock()
			t.tracking.Add(-1)
			t.n.Add(-1)
			return
		}
	}
	t.mu.Unlock()
}

// note records meta key mk if it is of the tracked slot. Called with the
// watch table's lock held.
func (tr *SlotTracker) note(mk []byte) {
	ks, key, ok := splitMetaKey(mk)
	if !ok || string(ks) != tr.ks || !inSlots(tr.slotOf(key), tr.lo, tr.hi) {
		return
	}
	tr.mu.Lock()
	tr.dirty[string(key)] = struct{}{}
	tr.mu.Unlock()
}

// noteRange records that the meta keys in [lo, hi) went.
func (tr *SlotTracker) noteRange(lo, hi []byte) {
	p := appendKeyspacePrefix(nil, tr.ks)
	if bytes.Compare(hi, p) <= 0 {
		return
	}
	if end := prefixEnd(p); end != nil && bytes.Compare(lo, end) >= 0 {
		return
	}
	tr.mu.Lock()
	tr.flushed = true
	tr.mu.Unlock()
}
