package engine

import (
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// A Watch hears of every change to the keys it watches (Redis's WATCH):
// any write that commits a key's record — from any front end, by any
// command, storing the same value or not — its deletion (DEL, FLUSHDB,
// eviction, the expiry sweep), and its expiry passing. Keys are exact:
// the same name in another keyspace is another key. Moving a value's
// bytes elsewhere on the NVMe tier (compaction) is not a change.
//
// Every committed write batch is checked against the watched keys (the
// meta keys it sets or deletes); with no Watch registered that costs one
// atomic load per write.
type Watch struct {
	e     *Engine
	dirty atomic.Bool
	keys  []watched
}

type watched struct {
	mk       string
	expireAt int64 // the key's expiry when watched (0: none or absent)
}

type watchTable struct {
	n    atomic.Int64 // keys watched, all watches together, plus trackers
	mu   sync.Mutex
	keys map[string][]*Watch
	// Slot trackers (slot.go) hear of the same writes; each counts one in
	// n, so that the write path's single check covers them.
	trackers []*SlotTracker
	tracking atomic.Int64
}

// NewWatch returns an empty Watch. Close it when done.
func (e *Engine) NewWatch() *Watch { return &Watch{e: e} }

// Add watches ks/key from now on. A key whose expiry has passed is
// removed first, and that removal is not a change.
func (w *Watch) Add(ks string, key []byte) error {
	var hk heldKey
	if err := w.e.holdKey(&hk, ks, key, false); err != nil {
		return err
	}
	defer hk.release()
	mk := string(hk.mk)
	for _, k := range w.keys {
		if k.mk == mk {
			return nil
		}
	}
	var at int64
	if hk.exists {
		at = hk.m.ExpireAt
	}
	w.keys = append(w.keys, watched{mk: mk, expireAt: at})
	t := &w.e.watches
	t.mu.Lock()
	if t.keys == nil {
		t.keys = make(map[string][]*Watch)
	}
	t.keys[mk] = append(t.keys[mk], w)
	t.mu.Unlock()
	t.n.Add(1)
	return nil
}

// Len is the number of keys watched.
func (w *Watch) Len() int { return len(w.keys) }

// Changed reports whether a watched key changed since it was added (or
// its expiry passed).
func (w *Watch) Changed() bool {
	if w.dirty.Load() {
		return true
	}
	now := nowMs()
	for _, k := range w.keys {
		if k.expireAt != 0 && k.expireAt <= now {
			return true
		}
	}
	return false
}

// Close stops watching every key; the Watch may be used again.
func (w *Watch) Close() {
	if len(w.keys) == 0 {
		w.dirty.Store(false)
		return
	}
	t := &w.e.watches
	t.mu.Lock()
	for _, k := range w.keys {
		ws := t.keys[k.mk]
		for i, o := range ws {
			if o == w {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(t.keys, k.mk)
		} else {
			t.keys[k.mk] = ws
		}
	}
	t.mu.Unlock()
	t.n.Add(-int64(len(w.keys)))
	w.keys = w.keys[:0]
	w.dirty.Store(false)
}

// Watched is the number of keys watched by all watches (INFO).
func (e *Engine) Watched() int64 { return e.watches.n.Load() - e.watches.tracking.Load() }

// touch marks the watches of meta key mk changed.
func (t *watchTable) touch(mk []byte) {
	t.mu.Lock()
	for _, w := range t.keys[string(mk)] {
		w.dirty.Store(true)
	}
	for _, tr := range t.trackers {
		tr.note(mk)
	}
	t.mu.Unlock()
}

// touchRange marks the watches of the meta keys in [lo, hi) changed.
func (t *watchTable) touchRange(lo, hi []byte) {
	t.mu.Lock()
	for mk, ws := range t.keys {
		if mk >= string(lo) && mk < string(hi) {
			for _, w := range ws {
				w.dirty.Store(true)
			}
		}
	}
	for _, tr := range t.trackers {
		tr.noteRange(lo, hi)
	}
	t.mu.Unlock()
}

// notifyBatch marks the watches of every meta key b sets or deletes.
func (t *watchTable) notifyBatch(b *pebble.Batch) {
	r := b.Reader()
	for {
		kind, key, val, ok, err := r.Next()
		if !ok || err != nil {
			return
		}
		if len(key) == 0 || key[0] != prefixKey {
			continue
		}
		switch kind {
		case pebble.InternalKeyKindRangeDelete:
			t.touchRange(key, val)
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindDelete, pebble.InternalKeyKindSingleDelete,
			pebble.InternalKeyKindDeleteSized, pebble.InternalKeyKindSetWithDelete:
			t.touch(key)
		}
	}
}
