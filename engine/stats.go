package engine

import (
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Stats are the engine's figures for INFO and metrics.
type Stats struct {
	// DRAM tier.
	DRAMCapacity   int64 // arena bytes
	DRAMUsed       int64 // arena bytes in use (resident values + values in flight)
	DRAMResident   int64 // bytes of values resident in the DRAM tier
	DRAMEntries    int
	DRAMHits       int64
	DRAMMisses     int64
	DRAMEvictions  int64
	DRAMAdmissions int64
	// Sending by reference (Options.SendByReference): bytes handed to
	// sockets as arena pages, and sent pages renewed before their reuse.
	DRAMBytesSentByRef int64
	DRAMPagesRenewed   int64
	// DRAMInvalidations counts resident values dropped because their key
	// was deleted, overwritten or expired (DRAMEvictions: to make room).
	DRAMInvalidations int64
	// Arena backpressure: allocations that waited for pages, the time
	// they waited in all, and those that gave up with ErrBusy.
	DRAMArenaWaits    int64
	DRAMArenaWaitTime time.Duration
	DRAMArenaBusy     int64
	// Get's outcomes by the tier that answered: the DRAM tier (small
	// values or resident pages), the NVMe tier (metadata store or blob
	// segments), or neither (the key is absent or expired). Promotions
	// count values read from NVMe and admitted to the DRAM tier.
	LookupDRAMHits int64
	LookupNVMeHits int64
	LookupMisses   int64
	DRAMPromotions int64
	// DRAM tier for small values.
	SmallEntries int
	SmallBytes   int64
	SmallHits    int64
	SmallMisses  int64
	// NVMe tier.
	NVMeCapacity int64 // configured bound, 0 = the devices' free space
	// NVMeLimit is the bytes NVMeUsed may reach before writes need room
	// (evicting, or failing with ErrNoSpace under noeviction): NVMeCapacity,
	// or without a bound NVMeUsed plus the devices' free space (read at
	// most once a second). NVMeLimit - NVMeUsed is what a client may still
	// store.
	NVMeLimit           int64
	NVMeUsed            int64 // bytes of segment files
	NVMeLive            int64 // bytes of values referenced by keys
	NVMeSegments        int
	NVMeReads           int64
	NVMeWrites          int64
	NVMeBytesRead       int64
	NVMeBytesWritten    int64
	NVMeSegmentsEvicted int64
	NVMeKeysEvicted     int64
	NVMeCorruptReads    int64
	NVMeNoSpaceErrors   int64
	NVMeCompactions     int64 // segments compacted
	NVMeMovedFromDRAM   int64 // values compaction moved from their DRAM copy, not a read
	// Keys.
	Sequence    uint64           // last version handed out: grows with every write (INFO sequence:)
	Keys        map[string]int64 // per keyspace, non-empty ones
	ExpiredKeys int64
	// Policy in force.
	Policy Policy
}

// Stats returns a snapshot of the engine's figures.
func (e *Engine) Stats() Stats {
	entries, pages := e.cache.stats()
	smallEntries, smallBytes := e.small.stats()
	segs, used, live := e.blobs.stats()
	s := Stats{
		DRAMCapacity:       e.arena.capacity(),
		DRAMUsed:           e.arena.inUse.Load() * pageSize,
		DRAMResident:       int64(pages) * pageSize,
		DRAMEntries:        entries,
		DRAMHits:           e.cache.hits.Load(),
		DRAMMisses:         e.cache.misses.Load(),
		DRAMEvictions:      e.cache.evictions.Load(),
		DRAMAdmissions:     e.cache.admissions.Load(),
		DRAMBytesSentByRef: e.arena.sent.Load(),
		DRAMPagesRenewed:   e.arena.renewed.Load(),
		DRAMInvalidations:  e.cache.invalidations.Load(),
		DRAMArenaWaits:     e.arena.waits.Load(),
		DRAMArenaWaitTime:  time.Duration(e.arena.waitNanos.Load()),
		DRAMArenaBusy:      e.arena.busy.Load(),
		LookupDRAMHits:     e.lookups.dramHits.Load(),
		LookupNVMeHits:     e.lookups.nvmeHits.Load(),
		LookupMisses:       e.lookups.misses.Load(),
		DRAMPromotions:     e.lookups.promotions.Load(),
		SmallEntries:       smallEntries,
		SmallBytes:         smallBytes,
		SmallHits:          e.small.hits.Load(),
		SmallMisses:        e.small.misses.Load(),

		NVMeCapacity:        e.opts.NVMeCapacity,
		NVMeLimit:           e.opts.NVMeCapacity,
		NVMeUsed:            used,
		NVMeLive:            live,
		NVMeSegments:        segs,
		NVMeReads:           e.blobs.reads.Load(),
		NVMeWrites:          e.blobs.writes.Load(),
		NVMeBytesRead:       e.blobs.bytesRead.Load(),
		NVMeBytesWritten:    e.blobs.bytesWritten.Load(),
		NVMeSegmentsEvicted: e.blobs.segmentsEvicted.Load(),
		NVMeKeysEvicted:     e.keyEvictions.Load(),
		NVMeCorruptReads:    e.blobs.corrupt.Load(),
		NVMeNoSpaceErrors:   e.noSpaceErrors.Load(),
		NVMeCompactions:     e.compactions.Load(),
		NVMeMovedFromDRAM:   e.relocatedFromDRAM.Load(),

		Sequence:    e.versions.next.Load(),
		Keys:        make(map[string]int64),
		ExpiredKeys: e.expired.Load(),
		Policy:      e.opts.Policy,
	}
	if s.NVMeLimit <= 0 {
		s.NVMeLimit = used + e.free.get(e.vol)
	}
	e.countsMu.RLock()
	for ks, c := range e.counts {
		if n := c.Load(); n > 0 {
			s.Keys[ks] = n
		}
	}
	e.countsMu.RUnlock()
	return s
}

// lookupCounters count Get's outcomes by the tier that answered, and the
// values a Get promoted from the NVMe tier to the DRAM tier.
type lookupCounters struct {
	dramHits, nvmeHits, misses atomic.Int64
	promotions                 atomic.Int64
}

// KeyspaceNames returns the names in s.Keys, sorted.
func (s *Stats) KeyspaceNames() []string {
	names := make([]string, 0, len(s.Keys))
	for k := range s.Keys {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// freeSpaceTTL bounds how often Stats asks the devices for their free
// space (a directory walk and statfs per device).
const freeSpaceTTL = time.Second

// freeSpace caches the volume's free bytes for Stats.
type freeSpace struct {
	mu   sync.Mutex
	at   time.Time
	free int64
}

// usager is a volume that can tell its free space (ec.Volume).
type usager interface {
	Usage() (used, free int64, err error)
}

func (f *freeSpace) get(v volume) int64 {
	u, ok := v.(usager)
	if !ok {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.at) < freeSpaceTTL {
		return f.free
	}
	if _, free, err := u.Usage(); err == nil {
		f.free = free
	}
	f.at = time.Now()
	return f.free
}

// ExpiryStats are the figures of a keyspace's keys with an expiry.
type ExpiryStats struct {
	Keys   int64         // keys with an expiry still in the future
	AvgTTL time.Duration // their mean time to live
}

// Expiry counts ks's keys with an expiry, from the expiry index: exact,
// at a cost proportional to the keys with an expiry in every keyspace
// (none for a cache written without TTLs). Keys already due but not yet
// removed are not counted.
func (e *Engine) Expiry(ks string) (ExpiryStats, error) {
	if e.closed.Load() {
		return ExpiryStats{}, ErrClosed
	}
	now := nowMs()
	var lower [9]byte
	lower[0] = prefixExpire
	binary.BigEndian.PutUint64(lower[1:], uint64(now+1))
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: lower[:], UpperBound: []byte{prefixExpire + 1}})
	if err != nil {
		return ExpiryStats{}, err
	}
	var st ExpiryStats
	var sum int64
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) < 10 || int(k[9]) != len(ks) || len(k) < 10+len(ks) || string(k[10:10+len(ks)]) != ks {
			continue
		}
		st.Keys++
		sum += int64(binary.BigEndian.Uint64(k[1:9])) - now
	}
	if err := it.Close(); err != nil {
		return ExpiryStats{}, err
	}
	if st.Keys > 0 {
		st.AvgTTL = time.Duration(sum/st.Keys) * time.Millisecond
	}
	return st, nil
}

func fastrand() uint32 { return rand.Uint32() }
