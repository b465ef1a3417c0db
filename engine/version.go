package engine

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Versions name each write of a key and, for collections, the range of its
// sub-keys. They must never repeat, also across crashes: a deleted
// collection's version may be the highest ever handed out, and nothing
// else records it. So the allocator persists a ceiling:
//
//	'v' -> ceiling u64 BE
//
// Versions up to the ceiling may be handed out; before the first one past
// it, a new ceiling (versionBlock higher) is written. Pebble applies
// batches to its log in commit order, so any batch that uses a version
// reaches the log after the ceiling that covers it: whatever survives a
// crash, the recovered ceiling is above every surviving version. The
// ceiling write needs no sync of its own.
const (
	prefixVersion = 'v'
	versionBlock  = 1 << 20
)

type versionAlloc struct {
	next    atomic.Uint64 // last version handed out
	ceiling atomic.Uint64 // highest version covered by the stored ceiling
	mu      sync.Mutex    // serialises ceiling writes
}

// loadVersions starts the allocator above both the stored ceiling and the
// highest version found in the records.
func (e *Engine) loadVersions(maxSeen uint64) error {
	start := maxSeen
	val, closer, err := e.db.Get([]byte{prefixVersion})
	switch {
	case err == pebble.ErrNotFound:
	case err != nil:
		return err
	default:
		if len(val) == 8 {
			start = max(start, binary.BigEndian.Uint64(val))
		}
		closer.Close()
	}
	e.versions.next.Store(start)
	e.versions.ceiling.Store(start)
	return nil
}

// nextVersion hands out a new version. It fails only when the ceiling
// covering it cannot be stored; the version is then never used.
func (e *Engine) nextVersion() (uint64, error) {
	v := e.versions.next.Add(1)
	if v > e.versions.ceiling.Load() {
		if err := e.raiseCeiling(v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// raiseCeiling stores a ceiling above v before v is used.
func (e *Engine) raiseCeiling(v uint64) error {
	a := &e.versions
	a.mu.Lock()
	defer a.mu.Unlock()
	if v <= a.ceiling.Load() {
		return nil
	}
	c := v + versionBlock
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c)
	if err := e.db.Set([]byte{prefixVersion}, b[:], pebble.NoSync); err != nil {
		return fmt.Errorf("engine: cannot store the version ceiling: %w", err)
	}
	a.ceiling.Store(c)
	return nil
}
