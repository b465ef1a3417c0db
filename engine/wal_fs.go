package engine

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// walFS is the metadata store's file system when writes are acknowledged
// once they reach the operating system (rocksdb.write_options.sync no).
//
// Pebble's commit with NoSync only copies a batch into the log writer's
// buffer; the write(2) happens later on pebble's flush goroutine, so a
// kill -9 right after an acknowledgement could lose it. A commit with Sync
// waits for that write and then for the log file's Sync. walFS turns the
// log files' Sync into a no-op that remembers the file: Engine.Sync then
// returns once the log records are in the operating system (they survive
// kill -9) without waiting for the device, and the background sync round
// (durability.go) makes them durable with one real fdatasync per interval.
//
// Only write-ahead log files are deferred. Sstables, the MANIFEST and
// directories keep their real syncs, so pebble's own crash consistency
// (an sstable is durable before the MANIFEST names it) is untouched.
type walFS struct {
	vfs.FS

	mu    sync.Mutex
	dirty map[*walFile]struct{}
}

func newWALFS(inner vfs.FS) *walFS {
	return &walFS{FS: inner, dirty: make(map[*walFile]struct{})}
}

// isWAL reports whether name is a pebble write-ahead log (NNNNNN.log).
func isWAL(name string) bool { return strings.HasSuffix(name, ".log") }

func (fs *walFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !isWAL(name) {
		return f, err
	}
	return &walFile{File: f, fs: fs}, nil
}

func (fs *walFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return fs.wrap(name, f, err)
}

func (fs *walFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	return fs.wrap(newname, f, err)
}

func (fs *walFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, category, opts...)
	return fs.wrap(name, f, err)
}

func (fs *walFS) Unwrap() vfs.FS { return fs.FS }

// syncDeferred makes every log write that reached the operating system
// before the call durable: one real sync per log file written since the
// last call.
func (fs *walFS) syncDeferred() error {
	fs.mu.Lock()
	files := make([]*walFile, 0, len(fs.dirty))
	for f := range fs.dirty {
		files = append(files, f)
	}
	clear(fs.dirty)
	fs.mu.Unlock()
	var first error
	for _, f := range files {
		if err := f.realSync(); err != nil {
			if first == nil {
				first = err
			}
			// Still dirty: the next round tries again.
			fs.markDirty(f)
		}
	}
	return first
}

func (fs *walFS) markDirty(f *walFile) {
	fs.mu.Lock()
	fs.dirty[f] = struct{}{}
	fs.mu.Unlock()
}

// walFile is a write-ahead log file whose syncs are deferred.
type walFile struct {
	vfs.File
	fs *walFS

	// seq counts deferred syncs; synced is seq at the last real one.
	// Sync touches only seq, so pebble's flush never waits on a device.
	seq atomic.Uint64

	mu     sync.Mutex // orders realSync against Close
	synced uint64
	closed bool
}

// Sync returns at once: the log writer calls it after its write(2), so the
// records are in the operating system. The file is synced for real by the
// next background round.
func (f *walFile) Sync() error {
	f.seq.Add(1)
	f.fs.markDirty(f)
	return nil
}

func (f *walFile) SyncData() error { return f.Sync() }

// SyncTo promises nothing when it returns false, which is the truth here.
func (f *walFile) SyncTo(int64) (bool, error) { return false, f.Sync() }

func (f *walFile) realSync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.realSyncLocked()
}

func (f *walFile) realSyncLocked() error {
	target := f.seq.Load()
	if f.closed || target == f.synced {
		return nil
	}
	if err := f.File.SyncData(); err != nil {
		return err
	}
	f.synced = target
	return nil
}

// Close syncs for real first: pebble closes a log when it rotates to the
// next one, and a closed file can no longer be synced by the round.
func (f *walFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	err := f.realSyncLocked()
	f.closed = true
	f.fs.mu.Lock()
	delete(f.fs.dirty, f)
	f.fs.mu.Unlock()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}
