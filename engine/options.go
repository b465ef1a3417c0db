package engine

import (
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gpucache/gpucache/nvme"
)

// Policy is the capacity policy, named as Redis's maxmemory-policy.
type Policy int

const (
	// NoEviction keeps everything; writes beyond capacity fail with ErrNoSpace.
	NoEviction Policy = iota
	// EvictLRU makes the NVMe tier a bounded cache: whole segments are
	// evicted oldest-first and recently read items re-inserted
	// (allkeys-lru, allkeys-lfu, allkeys-random and volatile-* all map here).
	EvictLRU
)

// String is the policy's maxmemory-policy family name.
func (p Policy) String() string {
	if p == EvictLRU {
		return "allkeys-lru"
	}
	return "noeviction"
}

// ParsePolicy maps a maxmemory-policy name to a Policy.
func ParsePolicy(s string) (Policy, bool) {
	switch s {
	case "noeviction":
		return NoEviction, true
	case "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
		"volatile-lfu", "volatile-random", "volatile-ttl":
		return EvictLRU, true
	}
	return 0, false
}

// Options configure an engine. The zero value of each field selects its default.
type Options struct {
	// Dir holds the metadata store (and, when Devices is empty, the one
	// default device under Dir/blobs).
	Dir string
	// Devices are the device directories for blob segments.
	Devices []string
	// ECData and ECParity are the erasure-coding layout (k data + m parity
	// shards per stripe) over Devices. Default 1+0: no parity.
	ECData, ECParity int
	// DRAMCacheSize bounds the DRAM tier (the off-heap arena), in bytes.
	// Default 1 GiB. In-flight values are carved from the same arena, so
	// it also bounds memory used by values being received.
	DRAMCacheSize int64
	// SendByReference lets Value.SendRange hand resident values to sockets
	// as pages (vmsplice, splice) rather than copying them. Reusing a page
	// sent that way then costs a fresh zeroed page (see send.go). Off:
	// SendRange copies.
	SendByReference bool
	// SendProbe, when set, is the start-up measurement that decides
	// SendByReference (dram-send-by-reference auto); it overrides it and
	// is reported in INFO.
	SendProbe *SendProbe
	// NVMeCapacity bounds the bytes of blob segments across devices.
	// Default: unbounded (the devices' free space).
	NVMeCapacity int64
	// Policy decides what happens at NVMeCapacity.
	Policy Policy
	// SmallCacheSize bounds the DRAM tier for small values (those stored
	// inline), in bytes. Default 256 MiB; negative disables it.
	SmallCacheSize int64
	// MetadataCacheSize is the metadata store's block cache, in bytes.
	// Small values live there too, so it plays the part of Redis's memory
	// for small keys. Default 256 MiB.
	MetadataCacheSize int64
	// InlineThreshold: values up to this size live in the metadata store;
	// larger values go to blob segments. Default 64 KiB.
	InlineThreshold int
	// SegmentSize is the size of one blob segment file. Default 256 MiB.
	SegmentSize int64
	// MemoryWait is how long an allocation waits for arena pages before
	// failing with ErrBusy. Default 30s.
	MemoryWait time.Duration
	// ExpireInterval is the period of the active expiry sweep. Default 100ms.
	ExpireInterval time.Duration
	// ScrubInterval is how often every shard is verified against its
	// checksum and bad ones repaired (with parity). 0: never.
	ScrubInterval time.Duration
	// RebuildRate bounds the bytes per second written when rebuilding a
	// replacement device, so clients keep their bandwidth. Default 256 MiB/s.
	RebuildRate int64
	// CompactInterval is how often segments with mostly dead space are
	// looked for and compacted. Default 10s.
	CompactInterval time.Duration
	// SyncWrites is KVRocks's rocksdb.write_options.sync. True: a write is
	// acknowledged (Sync returns) only once it is on stable storage (blob
	// segments and the metadata log are fdatasynced), so it survives a
	// power cut. False: once it has reached the operating system (the
	// device for O_DIRECT segments, the page cache for the metadata log),
	// so it survives a crash of the process; SyncInterval bounds what a
	// power cut can lose.
	SyncWrites bool
	// SyncInterval is how often everything written is made durable in the
	// background (blob segments, then the metadata log). With SyncWrites
	// false it bounds the writes a power cut loses. Default 1s.
	SyncInterval time.Duration
	// NoWriteBack keeps small strings out of the write-back tier
	// (write_back.go), which they take with SyncWrites false: every write
	// then commits through the metadata store's own log.
	NoWriteBack bool
	// writeBackFlush, when set, replaces wbFlushBytes (tests: flushes
	// every few writes).
	writeBackFlush int
	// MetadataFS is the metadata store's file system. Default: the
	// operating system's (mirrored across devices with parity). Tests use
	// a crashable in-memory one.
	MetadataFS vfs.FS
	// OpenDevice opens the device for one entry of Devices. Default:
	// nvme.OpenDir. Tests pass in-memory or fault-injecting devices.
	OpenDevice func(dir string) (nvme.Device, error)
	// Logf receives operational log lines. Default: discard.
	Logf func(format string, args ...any)
}

// Cond is a write precondition on the key's existence.
type Cond uint8

const (
	// Always writes regardless of the key's existence.
	Always Cond = iota
	// IfAbsent writes only when the key does not exist (NX).
	IfAbsent
	// IfPresent writes only when the key exists (XX).
	IfPresent
)

// PutOptions modify a Put.
type PutOptions struct {
	Cond Cond
	// ExpireAt is the absolute expiry in Unix milliseconds; 0 means none.
	ExpireAt int64
	// KeepTTL keeps the existing key's expiry (ExpireAt is ignored).
	KeepTTL bool
	// ReturnOld asks for the previous value (SET ... GET, GETSET). The
	// caller releases PutResult.Old.
	ReturnOld bool
	// Attrs are opaque protocol attributes stored with the value (the S3
	// front end keeps ETag, content type, user metadata and checksums here).
	Attrs []byte
	// Check, when set, runs under the key's lock with the current metadata
	// (exists=false for a missing key) and may veto the write by returning
	// an error, which Put returns unchanged (S3 If-Match / If-None-Match).
	Check func(cur Meta, exists bool) error
}

// PutResult reports what a Put did.
type PutResult struct {
	// Written is false when Cond or Check prevented the write.
	Written bool
	// Old is the previous value when ReturnOld was set and the key existed
	// as a string; nil otherwise. The caller must Release it.
	Old *Value
	// OldType is the previous key's type (TypeNone when absent).
	OldType Type
	// Meta is the stored metadata when Written.
	Meta Meta
}

// ExpireCond is the condition of EXPIRE's NX/XX/GT/LT options.
type ExpireCond uint8

const (
	ExpireAlways ExpireCond = iota
	ExpireNX                // only when the key has no expiry
	ExpireXX                // only when the key has an expiry
	ExpireGT                // only when the new expiry is greater
	ExpireLT                // only when the new expiry is less
)

// ScanOptions select keys for Scan. Keys come in byte order.
type ScanOptions struct {
	// Start is the first key to consider (inclusive); nil starts at the
	// beginning (or at Prefix).
	Start []byte
	// Prefix restricts keys to those with this prefix.
	Prefix []byte
	// Match is a Redis glob pattern (KEYS/SCAN MATCH); empty matches all.
	Match []byte
	// Type restricts to keys of this type (TypeNone: any).
	Type Type
	// Limit bounds the number of keys examined (SCAN COUNT) or returned
	// (listing); 0 means no limit.
	Limit int
	// LimitMatches makes Limit count returned keys instead of examined ones.
	LimitMatches bool
	// Filter, when set, skips the keys it returns false for before their
	// record is read (a slot's keys: SlotKeys); the cursor a stopped scan
	// returns is the next key it accepts.
	Filter func(key []byte) bool
}

// KeyspaceInfo describes a keyspace created with CreateKeyspace.
type KeyspaceInfo struct {
	Name    string
	Created time.Time
	Attrs   []byte
}
