package engine

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Reclaiming the sub-keys of a collection that is deleted, overwritten or
// expired: the metadata change and a range tombstone over the collection's
// sub-key range [s|v, s|v+1) commit in one batch, so DEL of a key with
// millions of elements costs one record and one tombstone. A small
// collection's sub-keys are deleted one by one instead (a tombstone per
// tiny collection would make every later read step over many of them).
// The space of a large range comes back when compaction drops the covered
// keys; reclaimLoop asks for that compaction at once rather than waiting
// for the LSM to get to it.
const (
	// pointDeleteMax is the largest collection deleted key by key.
	pointDeleteMax = 64
	// compactMin is the smallest deleted collection whose range is
	// compacted right away.
	compactMin = 4096
)

// reclaimer queues deleted sub-key ranges for compaction.
type reclaimer struct {
	mu      sync.Mutex
	pending [][2][]byte
	wake    chan struct{}
	// Done counts ranges compacted (for tests and stats).
	done atomic.Int64
}

// dropSubkeys adds the deletion of m's sub-keys to b (m is a collection's
// metadata as stored; nothing to do for strings or empty collections).
// Call queueReclaim with the result after b commits.
func (e *Engine) dropSubkeys(b *pebble.Batch, m *Meta) bool {
	dropFieldTTL(b, m)
	if !m.Type.collection() {
		return false
	}
	e.subs.drop(m.Version)
	if m.Size <= 0 && !m.Type.emptyable() {
		return false
	}
	lo, hi := subRange(m.Version)
	if m.Size <= pointDeleteMax {
		it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err == nil {
			n := 0
			for valid := it.First(); valid && n <= pointDeleteMax; valid = it.Next() {
				_ = b.Delete(it.Key(), nil)
				n++
			}
			err = it.Close()
			if err == nil && n <= pointDeleteMax {
				return false
			}
		}
		// NB: more sub-keys than the size says, or a read error: the
		// range tombstone covers whatever is there.
	}
	_ = b.DeleteRange(lo, hi, nil)
	return m.Size >= compactMin
}

// queueReclaim asks the background loop to compact version v's sub-key
// range so its space comes back.
func (e *Engine) queueReclaim(v uint64) {
	lo, hi := subRange(v)
	r := &e.reclaim
	r.mu.Lock()
	r.pending = append(r.pending, [2][]byte{lo, hi})
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// reclaimLoop compacts queued ranges one at a time, in the background.
func (e *Engine) reclaimLoop() {
	defer e.wg.Done()
	r := &e.reclaim
	for {
		select {
		case <-e.stop:
			return
		case <-r.wake:
		}
		for {
			r.mu.Lock()
			if len(r.pending) == 0 {
				r.mu.Unlock()
				break
			}
			rg := r.pending[0]
			r.pending = r.pending[1:]
			r.mu.Unlock()
			if err := e.db.Compact(context.Background(), rg[0], rg[1], false); err != nil {
				e.opts.Logf("engine: compacting a deleted collection's range: %v", err)
			}
			r.done.Add(1)
			select {
			case <-e.stop:
				return
			default:
			}
		}
	}
}
