package engine

import (
	"math/rand/v2"
	"sort"
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
	// DRAM tier for small values.
	SmallEntries int
	SmallBytes   int64
	SmallHits    int64
	SmallMisses  int64
	// NVMe tier.
	NVMeCapacity        int64 // configured bound, 0 = the devices' free space
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
		SmallEntries:       smallEntries,
		SmallBytes:         smallBytes,
		SmallHits:          e.small.hits.Load(),
		SmallMisses:        e.small.misses.Load(),

		NVMeCapacity:        e.opts.NVMeCapacity,
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
	e.countsMu.RLock()
	for ks, c := range e.counts {
		if n := c.Load(); n > 0 {
			s.Keys[ks] = n
		}
	}
	e.countsMu.RUnlock()
	return s
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

func fastrand() uint32 { return rand.Uint32() }
