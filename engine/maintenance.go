package engine

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
)

// DiskUsage returns the bytes the key takes in storage, as KVRocks's DISK
// USAGE counts them: its metadata record (key and value as stored), a
// collection's sub-keys (each key and value), and a large value's blob
// extents. Not a point-in-time snapshot of a collection that changes
// meanwhile. ErrNotFound if the key does not exist.
func (e *Engine) DiskUsage(ks string, key []byte) (int64, error) {
	if e.closed.Load() {
		return 0, ErrClosed
	}
	mk := appendMetaKey(nil, ks, key)
	val, closer, err := e.db.Get(mk)
	if err == pebble.ErrNotFound {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	var m Meta
	err = decodeRecord(val, &m)
	n := int64(len(mk) + len(val))
	closer.Close()
	if err != nil {
		return 0, err
	}
	if m.ExpireAt != 0 && m.ExpireAt <= nowMs() {
		return 0, ErrNotFound
	}
	for _, x := range m.extents {
		n += x.Length
	}
	if !m.Type.collection() {
		return n, nil
	}
	lo, hi := subRange(m.Version)
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	for it.First(); it.Valid(); it.Next() {
		n += int64(len(it.Key()) + len(it.Value()))
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	return n, nil
}

// CompactMetadata compacts the whole metadata store (KVRocks's COMPACT):
// tombstones of deleted keys and collections are dropped and their space
// comes back. It blocks until done; callers run it in the background.
func (e *Engine) CompactMetadata() error {
	if e.closed.Load() {
		return ErrClosed
	}
	return e.db.Compact(context.Background(), []byte{0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true /* parallelize */)
}
