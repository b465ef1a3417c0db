package engine

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
)

// ErrCheckpointLayout is returned by Checkpoint (and CheckpointSupported)
// for a store whose layout a checkpoint does not cover: an erasure-coded
// store over several devices, or one whose metadata store is on another
// file system. A consistent copy of an erasure-coded store needs, taken at
// one instant, the shard files of every device and the metadata store,
// which is mirrored on m+1 of the devices through the mirroring file
// system; pebble's checkpoint writes through that file system to every
// mirror at once, so a copy outside the devices cannot be taken with it
// safely. Such a store is backed up by copying every device directory
// while the server is stopped (SHUTDOWN), and restored by starting on the
// copies with the same --devices order and --ec.
var ErrCheckpointLayout = errors.New("engine: checkpoints cover a store on one device (the default <dir>/blobs) only; " +
	"back up an erasure-coded store by copying its device directories while the server is stopped")

// CheckpointSupported reports whether Checkpoint can copy this store: nil,
// or ErrCheckpointLayout.
func (e *Engine) CheckpointSupported() error {
	if len(e.opts.Devices) != 1 || e.opts.ECParity > 0 || e.opts.MetadataFS != nil {
		return ErrCheckpointLayout
	}
	return nil
}

// Checkpoint writes a consistent copy of the store to dir, which becomes a
// data directory of its own: Open on it (Options.Dir = dir, no Devices)
// serves every key committed before Checkpoint was called, with the same
// bytes. An existing dir is replaced only once the new copy is complete.
//
// The metadata store is copied by pebble's checkpoint (sstables hard
// linked, the log copied). Value segments are hard linked (copied when dir
// is on another file system): segments are append-only and never written
// in place, so a link taken after the metadata checkpoint holds every
// extent the checkpoint's records reference. While Checkpoint runs no
// segment file is removed (blobStore.holds), so compaction, eviction and
// deletes cannot take a referenced segment away between the metadata
// checkpoint and the links; their removals wait until Checkpoint returns.
// Segments the checkpoint does not reference are dropped by recovery when
// the copy is opened.
//
// Safe for concurrent use with every other method; concurrent Checkpoints
// to the same dir are the caller's to serialize.
func (e *Engine) Checkpoint(dir string) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if err := e.CheckpointSupported(); err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("engine: cannot clear %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("engine: cannot create %s: %w", tmp, err)
	}
	if err := e.checkpointInto(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	// Replace the previous copy: the old one stays whole until the new one
	// is complete and durable.
	old := dir + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("engine: cannot move the previous checkpoint aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("engine: cannot install checkpoint %s: %w", dir, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

func (e *Engine) checkpointInto(tmp string) error {
	s := e.blobs
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.holds--
		s.mu.Unlock()
		s.reap(false /* metadata sync decided by reap */)
	}()

	// Blob bytes that records reference are in the files (written before
	// their records committed); syncing makes the links durable copies.
	if err := s.syncAll(); err != nil {
		return err
	}
	// The copy holds every write that returned before the call: the
	// write-back tier's in the metadata store (its log is not copied).
	e.drain()
	if err := e.db.Checkpoint(filepath.Join(tmp, "meta"), pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("engine: cannot checkpoint the metadata store: %w", err)
	}
	if s.checkpointed != nil {
		s.checkpointed()
	}
	// NB: a reap that took its dying list before the hold may still be
	// removing files; those segments died before the checkpoint, so its
	// records do not reference them. Holding filesMu shared waits for it
	// and keeps the listing below from racing with it.
	s.filesMu.RLock()
	defer s.filesMu.RUnlock()
	dst := filepath.Join(tmp, "blobs")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("engine: cannot create %s: %w", dst, err)
	}
	src := e.opts.Devices[0]
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("engine: cannot list %s: %w", src, err)
	}
	for _, ent := range entries {
		if !ent.Type().IsRegular() {
			continue
		}
		if err := linkOrCopy(filepath.Join(src, ent.Name()), filepath.Join(dst, ent.Name())); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // a probe file or a segment that died before the hold
			}
			return err
		}
	}
	for _, d := range []string{dst, filepath.Join(tmp, "meta"), tmp} {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// linkOrCopy hard links src to dst, or copies it (and syncs the copy) when
// they are on different file systems.
func linkOrCopy(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil {
		return nil
	}
	var le *os.LinkError
	if !errors.As(err, &le) || !errors.Is(le.Err, syscall.EXDEV) {
		return fmt.Errorf("engine: cannot link %s: %w", src, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("engine: cannot copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("engine: cannot copy %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("engine: cannot copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("engine: cannot sync %s: %w", dst, err)
	}
	return out.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("engine: cannot open %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("engine: cannot sync %s: %w", dir, err)
	}
	return nil
}
