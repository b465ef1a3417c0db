package engine

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/gpucache/gpucache/nvme"
)

// Durability, as KVRocks's rocksdb.write_options.sync names it.
//
// With SyncWrites (sync yes) a blob is fdatasynced before its metadata
// commits and Sync fdatasyncs the metadata log: an acknowledged write is on
// stable storage. Without it (sync no, the default) a blob is written with
// O_DIRECT (or to the page cache where the file system refuses O_DIRECT)
// before its metadata commits, and Sync waits until the metadata log
// records are written to the operating system (walFS): an acknowledged
// write survives kill -9. In both modes the background round below makes
// everything durable every SyncInterval: blob segments first, then a record
// of the highest version whose blob is now durable, then the metadata log.
//
// Recovery uses that record. A metadata record with a higher version may
// have reached stable storage while its blob did not (the two live in
// different files, synced apart, and a device may reorder writes it was
// never asked to flush): its extents are checked against their CRCs, and a
// value whose bytes are not all there is removed, so it reads as missing,
// never as wrong bytes. That check costs at most one interval of writes.
// So that removal never loses an older value, a large value that replaces
// an existing key is synced before its record commits in both modes (Put).
//
// Segments nothing references are removed only after the metadata that
// stopped referencing them is durable (blobStore.reap), so the metadata
// store and the segments agree after any crash.

// prefixState marks engine bookkeeping records in the metadata store.
const prefixState = '!'

// durableVersionKey holds the highest version whose blob bytes were synced
// before the record itself was written (uvarint).
var durableVersionKey = []byte{prefixState, 'd', 'u', 'r', 'a', 'b', 'l', 'e'}

const defaultSyncInterval = time.Second

// DurabilityInfo describes the durability mode and the background sync.
type DurabilityInfo struct {
	// SyncWrites is rocksdb.write_options.sync.
	SyncWrites bool
	// SyncInterval is the background sync period.
	SyncInterval time.Duration
	// LastSync is when the last completed background round began: every
	// write acknowledged before it is durable (zero: none yet). With
	// SyncWrites false it trails the clock by at most SyncInterval as long
	// as the devices keep up.
	LastSync time.Time
	// SyncRounds and SyncErrors count background rounds and failed ones.
	SyncRounds, SyncErrors int64
	// RecoveryChecked and RecoveryDropped count, at the last start, values
	// written after the last completed round whose blobs were checked, and
	// those removed because their bytes had not reached the device.
	RecoveryChecked, RecoveryDropped int64
}

// Durability reports the durability mode and the background sync's state.
func (e *Engine) Durability() DurabilityInfo {
	d := DurabilityInfo{
		SyncWrites: e.opts.SyncWrites, SyncInterval: e.opts.SyncInterval,
		SyncRounds: e.syncRounds.Load(), SyncErrors: e.syncErrors.Load(),
		RecoveryChecked: e.recoveryChecked, RecoveryDropped: e.recoveryDropped,
	}
	if ns := e.lastSync.Load(); ns != 0 {
		d.LastSync = time.Unix(0, ns)
	}
	return d
}

// syncLoop runs the background round twice per SyncInterval: a write
// acknowledged just after one round began is covered by the next, which
// ends within the interval as long as a round takes less than half of it.
func (e *Engine) syncLoop() {
	e.every(max(e.opts.SyncInterval/2, time.Millisecond), func() {
		if err := e.syncRound(); err != nil {
			e.opts.Logf("background sync failed (retried next round): %v", err)
		}
	})
}

// syncRound makes every write acknowledged before it began durable, then
// removes segments that died before it.
func (e *Engine) syncRound() error {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	// NB: a version is taken after its blob write completed, so every blob
	// of a version up to v is covered by the segment syncs that follow.
	start := time.Now()
	v := e.versions.next.Load()
	err := e.blobs.syncAll()
	if err == nil && v != e.durableVersion {
		var rec [binary.MaxVarintLen64]byte
		err = e.db.Set(durableVersionKey, binary.AppendUvarint(rec[:0], v), pebble.NoSync)
	}
	if err == nil && e.wb != nil {
		// NB: before the metadata log: a drop record follows the eviction
		// it ends in the metadata log (write_back.go).
		err = e.wb.syncFiles()
	}
	if err == nil {
		err = e.syncMetadata()
	}
	e.syncRounds.Add(1)
	if err != nil {
		e.syncErrors.Add(1)
		return err
	}
	e.durableVersion = v
	e.lastSync.Store(start.UnixNano())
	e.blobs.reap(true /* metadata synced */)
	return nil
}

// syncMetadata makes every committed metadata change durable, whatever the
// mode: the log records reach the operating system, then the device.
func (e *Engine) syncMetadata() error {
	if err := e.db.LogData(nil, pebble.Sync); err != nil {
		return err
	}
	if e.wal != nil {
		return e.wal.syncDeferred()
	}
	return nil
}

// loadDurableVersion reads the record written by the last completed round.
func (e *Engine) loadDurableVersion() (uint64, error) {
	val, closer, err := e.db.Get(durableVersionKey)
	if err == pebble.ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	v, n := binary.Uvarint(val)
	if n <= 0 {
		return 0, fmt.Errorf("%w: durable version record", ErrCorrupt)
	}
	return v, nil
}

// suspect is a value recovery must check: written after the last completed
// background round, so its blob may not have reached the device.
type suspect struct {
	mk   []byte
	meta Meta
}

// checkSuspects removes every suspect whose bytes fail their CRC (or whose
// segment is gone), so that it reads as missing. Runs during Open.
func (e *Engine) checkSuspects(suspects []suspect) error {
	if len(suspects) == 0 {
		return nil
	}
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	buf := nvme.AlignedAlloc(verifyChunk)
	defer nvme.AlignedFree(buf)
	for i := range suspects {
		s := &suspects[i]
		e.recoveryChecked++
		var bad error
		for _, x := range s.meta.extents {
			if bad = e.blobs.verify(x, buf); bad != nil {
				break
			}
		}
		if bad == nil {
			continue
		}
		ks, key, _ := splitMetaKey(s.mk)
		if err := e.deleteLocked(kb, string(ks), key, s.mk, &s.meta); err != nil {
			return err
		}
		e.recoveryDropped++
		e.opts.Logf("recovery: key %q in keyspace %q was written %v before the crash but its value had not reached the device (%v); removed",
			key, ks, time.Since(time.Unix(0, s.meta.ModTime)).Round(time.Millisecond), bad)
	}
	if e.recoveryDropped > 0 {
		return e.syncMetadata()
	}
	return nil
}

// verifyChunk is the read size of verify.
const verifyChunk = 1 << 20

// verify reads an extent back through buf (aligned, verifyChunk bytes) and
// checks its CRC.
func (s *blobStore) verify(x Extent, buf []byte) error {
	f, err := s.file(x.Segment)
	if err != nil {
		return err
	}
	start := x.Offset &^ (nvme.Align - 1)
	end := roundUp(x.Offset+x.Length, nvme.Align)
	crc := uint32(0)
	for pos := start; pos < end; pos += verifyChunk {
		n := min(int64(verifyChunk), end-pos)
		if _, err := f.ReadvAt([][]byte{buf[:n]}, pos); err != nil {
			return err
		}
		lo, hi := max(x.Offset, pos)-pos, min(x.Offset+x.Length, pos+n)-pos
		crc = crc32.Update(crc, castagnoli, buf[lo:hi])
	}
	if crc != x.CRC {
		return fmt.Errorf("%w: segment %s offset %d: crc %08x, want %08x", ErrCorrupt, segmentName(x.Segment), x.Offset, crc, x.CRC)
	}
	return nil
}

// Promise says in one line what an acknowledged write survives in this
// mode, for logs.
func (d DurabilityInfo) Promise() string {
	if d.SyncWrites {
		return fmt.Sprintf("rocksdb.write_options.sync yes: a write is acknowledged once it is on stable storage (fdatasync): it survives kill -9 and power loss; background sync every %v", d.SyncInterval)
	}
	return fmt.Sprintf("rocksdb.write_options.sync no: a write is acknowledged once it has reached the operating system: it survives kill -9 of the server; everything is synced every %v, so a power cut loses at most the writes of the last %v", d.SyncInterval, d.SyncInterval)
}
