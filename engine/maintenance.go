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
	e.drain()
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
	ttl, err := e.fieldTTLUsage(&m)
	return n + ttl, err
}

// CompactMetadata compacts the whole metadata store (KVRocks's COMPACT):
// tombstones of deleted keys and collections are dropped and their space
// comes back. It blocks until done or ctx is canceled; callers run it in
// the background and cancel it before Close.
func (e *Engine) CompactMetadata(ctx context.Context) error {
	if e.closed.Load() {
		return ErrClosed
	}
	return e.db.Compact(ctx, []byte{0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true /* parallelize */)
}

// FlushMemTables writes what the metadata store holds in memory to its
// sstables (KVRocks's FLUSHMEMTABLE): the write-back tier is drained into
// the store, then every memtable is flushed. Without wait the flush runs
// in the background.
func (e *Engine) FlushMemTables(wait bool) error {
	if e.closed.Load() {
		return ErrClosed
	}
	e.drain()
	if wait {
		return e.db.Flush()
	}
	_, err := e.db.AsyncFlush()
	return err
}

// MetadataStats are the metadata store's figures, under the names KVRocks
// gives RocksDB's in INFO.
type MetadataStats struct {
	BlockCacheUsage    int64  // bytes in the block cache
	MemTableBytes      uint64 // bytes of all memtables (mutable and immutable)
	MemTables          int64  // memtables, the mutable one included
	Snapshots          int    // open snapshots
	Flushes            int64  // memtable flushes completed
	FlushesRunning     int64  // flushes in progress
	Compactions        int64  // compactions completed
	CompactionsRunning int64  // compactions in progress
	CompactionDebt     uint64 // bytes compaction has to rewrite to reach a stable shape
	DiskBytes          uint64 // bytes of the store's files on disk
}

// MetadataStats reads the metadata store's metrics.
func (e *Engine) MetadataStats() MetadataStats {
	if e.closed.Load() {
		return MetadataStats{}
	}
	m := e.db.Metrics()
	return MetadataStats{
		BlockCacheUsage:    m.BlockCache.Size,
		MemTableBytes:      m.MemTable.Size,
		MemTables:          m.MemTable.Count,
		Snapshots:          m.Snapshots.Count,
		Flushes:            m.Flush.Count,
		FlushesRunning:     m.Flush.NumInProgress,
		Compactions:        m.Compact.Count,
		CompactionsRunning: m.Compact.NumInProgress,
		CompactionDebt:     m.Compact.EstimatedDebt,
		DiskBytes:          m.DiskSpaceUsage(),
	}
}
