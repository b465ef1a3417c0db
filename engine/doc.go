// Package engine is gpucache's storage engine: one keyspace store shared by
// the RESP and S3 front ends, with a DRAM tier over an NVMe tier.
//
// # Basics
//
// A key lives in a keyspace (a Redis namespace, or an S3 bucket). Its
// metadata record — type, size, expiry, version, the protocol's opaque
// attributes — sits in a pebble LSM (the metadata store). Values up to
// Options.InlineThreshold live in the record itself; larger ones are blobs in
// append-only segment files on the devices (through an ec.Volume), each
// extent carrying a CRC32C that every read verifies.
//
// Writes of large values: the front end takes arena memory with NewBuffer
// and reads the value from the socket straight into it (the one copy),
// reporting filled pages (Buffer.Filled; Buffer.ReadFrom does it itself).
// For values of 2 MiB and more, from the first report the value's extent is
// reserved and whole chunks (a quarter of the value, 1-4 MiB) go to the
// active segment by vectored O_DIRECT writes while the rest is still
// arriving; Put writes the tail, waits, with Options.SyncWrites shares one
// fdatasync with concurrent writers, commits the metadata, and keeps the
// same pages resident as the DRAM tier's copy. The front end calls Sync
// once per batch of mutations before answering, which acknowledges the
// metadata with one log write (and, with SyncWrites, one log sync) for all
// of them. Small values go to the metadata store; PutMany
// stores many of them as one atomic batch (MSET, pipelined SETs).
//
// Reads: Get serves resident values from the DRAM tier (a reference, no
// copy), reads others from the NVMe tier into arena pages (verified), and
// admits them. Small values come from the small-value tier (SIEVE) or the
// metadata store. Open returns a handle that streams values larger than an
// eighth of the DRAM tier without loading them. With
// Options.SendByReference, Value.SendRange hands resident pages to sockets
// (vmsplice into a pipe, splice to the socket) instead of copying them.
//
// # Collections
//
// Hashes, sets, lists and sorted sets are encoded the way KVRocks encodes
// them on RocksDB: one metadata record per key in the same keyspace as
// strings (type, expiry, version, element count; a list adds its head and
// tail), so every key command sees one namespace, and one sub-key per
// field, member or element under the 's' prefix, named by the
// collection's version (subkey.go; sorted sets add a score index, zset.go).
// A stream's record adds its IDs and counters, its entries are sub-keys
// named by their ID, and its consumer groups, consumers and pending
// entries are sub-keys of their own families (stream.go); unlike the
// other collections, a stream with no entries stays.
// Versions are unique in the store and never repeat, across restarts and
// crashes (version.go). Every collection command is a Txn (txn.go): the
// keys' lock stripes taken in index order, metadata and sub-keys read and
// changed, one batch committed, durable on the next Sync like any write.
// DEL, overwrite and expiry of a collection write one record change and
// one range tombstone over its sub-keys, whatever its size; the space of
// large ones is reclaimed by a background compaction of that range
// (reclaim.go). Strings keep their own paths (Put, PutMany, Get) unchanged.
//
// KVRocks's other types are collections too: bitmaps in 1 KiB fragments
// (bitmap.go; the bit commands also work on strings, through Update),
// HyperLogLogs in 16 register segments (hll.go), Bloom filter chains, one
// sub-key per filter (bloom.go), and sorted ints, one sub-key per id
// (sint.go).
// Draining a collection from one end leaves tombstones that walks from
// that end would step over again: a per-collection low hint (hint.go)
// starts them past the popped elements, and a deleted collection is
// remembered as absent in the small-value tier, so a queue that empties
// and fills again is not looked up through its old record versions.
//
// # Invariants
//
//   - A blob is written before the metadata that references it commits; a
//     mutation is acknowledged only after Sync. An acknowledged write
//     survives kill -9; with Options.SyncWrites it also survives power
//     loss, and without it a power cut loses at most Options.SyncInterval
//     of writes (durability.go). Recovery removes values whose bytes did
//     not reach the device, so none reads back torn, and recovers the
//     metadata log to the point in time of its first hole
//     (wal_repair.go).
//   - Bytes returned are the bytes written or an error (ErrCorrupt): every
//     extent's CRC is checked on read.
//   - Memory for values is the arena: resident and in-flight values share
//     Options.DRAMCacheSize; NewBuffer waits (backpressure) and then fails
//     with ErrBusy rather than growing.
//   - A segment file is removed only when no key references it and no
//     reader has it pinned; recovery removes segments nothing references.
//   - Arena pages are written only between their allocation and the Put
//     that publishes them (a published value written to a new blob, by
//     eviction or compaction, finds its padding already zero). A page sent
//     by reference may still be held by the kernel after its last reader
//     let go, so it is dropped from the mapping (MADV_DONTNEED) before it
//     is handed out again (send.go): in-flight bytes never change.
//
// # Caveats
//
//   - Dead space inside a segment comes back when the whole segment is free,
//     or when background compaction moves the live values out of a segment
//     less than half live (it needs free space for the moved values).
//   - In cache mode (EvictLRU) the NVMe tier evicts whole segments, oldest
//     first; values read since their last write and still resident in DRAM are
//     re-inserted, others are dropped.
//   - Collection commands that address elements by rank (ZRANK, ZRANGE by
//     index, LINDEX) step over the elements before that rank, as KVRocks
//     does; inserting into or removing from the middle of a list rewrites
//     the elements after that point.
package engine
