package engine

import (
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/record"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/wal"
)

// With rocksdb.write_options.sync no the log's syncs are deferred (walFS),
// but pebble's log writer still stamps each chunk with the offset it
// believes synced. A power cut can leave the log with a hole in what the
// operating system had not yet written back (pages reach the device out
// of order) followed by a later chunk whose stamp claims the hole was
// synced; pebble then reads the hole as corruption and refuses to open.
// Nothing acknowledged before the last real sync lies past such a hole
// (the background round synced it), so the log's state at the hole is the
// point in time to recover to: repairLogTail cuts the log there and drops
// the logs written after it, as RocksDB's point-in-time WAL recovery does.

// repairLogTail finds the first record pebble cannot read in the logs of
// dir, oldest first, zeroes that log from the record on and removes every
// later log. It reports what it did, or "" when every log reads cleanly
// (the refusal was not about a log's tail, and is not this function's
// to fix).
func repairLogTail(fs vfs.FS, dir string) (string, error) {
	logs, err := wal.Scan(wal.Dir{FS: fs, Dirname: dir})
	if err != nil {
		return "", err
	}
	for i, ll := range logs {
		off, bad, err := firstBadRecord(ll)
		if err != nil {
			return "", err
		}
		if !bad {
			continue
		}
		size, err := zeroFrom(fs, off.PhysicalFile, off.Physical)
		if err != nil {
			return "", err
		}
		what := fmt.Sprintf("metadata log %s cut at offset %d of %d", fs.PathBase(off.PhysicalFile), off.Physical, size)
		for _, later := range logs[i+1:] {
			for s := range later.NumSegments() {
				sfs, path := later.SegmentLocation(s)
				if err := sfs.Remove(path); err != nil {
					return "", err
				}
				what += ", " + sfs.PathBase(path) + " removed"
			}
		}
		d, err := fs.OpenDir(dir)
		if err != nil {
			return "", err
		}
		err = d.Sync()
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		return what, err
	}
	return "", nil
}

// firstBadRecord reads ll to its end. A log that ends cleanly, or with a
// record cut short at its very end (pebble tolerates that in the newest
// log), is fine; otherwise it returns the offset of the first record that
// cannot be read.
func firstBadRecord(ll wal.LogicalLog) (wal.Offset, bool, error) {
	r := ll.OpenForRead()
	defer r.Close()
	for {
		_, off, err := r.NextRecord()
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return wal.Offset{}, false, nil
		case record.IsInvalidRecord(err) || pebble.IsCorruptionError(err):
			return off, true, nil
		default:
			return wal.Offset{}, false, err
		}
	}
}

// zeroFrom overwrites path with zeroes from off to its end, durably, and
// returns the file's size. vfs.File cannot truncate; a zeroed tail reads
// as the log's end.
func zeroFrom(fs vfs.FS, path string, off int64) (int64, error) {
	f, err := fs.OpenReadWrite(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	size := st.Size()
	zero := make([]byte, 64<<10)
	for o := off; o < size && err == nil; o += int64(len(zero)) {
		_, err = f.WriteAt(zero[:min(int64(len(zero)), size-o)], o)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return size, err
}
