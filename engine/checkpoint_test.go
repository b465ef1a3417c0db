package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestCheckpointUnderChurn takes a checkpoint while writers overwrite and
// delete large values (so segments die and compaction and reaping run),
// then opens the checkpoint: every key committed before Checkpoint was
// called reads back with its bytes as of that moment or later.
func TestCheckpointUnderChurn(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, filepath.Join(dir, "live"), func(o *Options) { o.SegmentSize = 1 << 20 })
	defer e.Close()

	// Keys written before the checkpoint and never touched again.
	fixed := map[string][]byte{}
	for i := range 40 {
		n := 100
		if i%2 == 0 {
			n = 200<<10 + i
		}
		k := fmt.Sprint("fixed", i)
		fixed[k] = pattern(uint64(i), n)
		mustPut(t, e, "", k, fixed[k], PutOptions{})
	}

	// Churn: overwrite and delete keys so segments empty out and are
	// removed while the checkpoint runs.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var churnErr atomic.Value
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := []byte(fmt.Sprint("churn", w, "-", i%8))
				if _, err := e.PutBytes("", k, pattern(uint64(i), 300<<10), PutOptions{}); err != nil {
					churnErr.Store(err)
					return
				}
				if i%3 == 0 {
					if _, err := e.Delete("", [][]byte{k}); err != nil {
						churnErr.Store(err)
						return
					}
				}
				if err := e.Sync(); err != nil {
					churnErr.Store(err)
					return
				}
			}
		}()
	}
	for range 3 {
		if err := e.Checkpoint(filepath.Join(dir, "backup")); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if err, _ := churnErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	if e.Stats().NVMeSegments == 0 {
		t.Fatal("no segments: the test does not exercise blobs")
	}

	b := openTest(t, filepath.Join(dir, "backup"), nil)
	defer b.Close()
	if b.Stats().NVMeSegments == 0 {
		t.Fatal("the checkpoint holds no segments")
	}
	for k, want := range fixed {
		if got := mustGet(t, b, "", k); !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes differ from the %d written", k, len(got), len(want))
		}
	}
	// Churned keys that exist read back whole (a value of the pattern
	// family, never torn).
	for w := range 2 {
		for i := range 8 {
			v, err := b.Get("", []byte(fmt.Sprint("churn", w, "-", i)))
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.AppendTo(nil)
			v.Release()
			if err != nil || len(got) != 300<<10 {
				t.Fatalf("churn%d-%d: %d bytes, %v", w, i, len(got), err)
			}
		}
	}
	// A second checkpoint replaces the first in place.
	if err := e.Checkpoint(filepath.Join(dir, "backup")); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointKeepsDyingSegments deletes every key of a sealed segment
// between the metadata checkpoint and the segment links, and reaps: the
// segment the checkpoint references must still be linked.
func TestCheckpointKeepsDyingSegments(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, filepath.Join(dir, "live"), func(o *Options) { o.SegmentSize = 1 << 20 })
	defer e.Close()
	var keys [][]byte
	for i := range 8 { // 8 x 300 KiB: the first segments fill and seal
		k := []byte(fmt.Sprint("k", i))
		keys = append(keys, k)
		mustPut(t, e, "", string(k), pattern(uint64(i), 300<<10), PutOptions{})
	}
	before := e.blobs.segmentsRemoved.Load()
	e.blobs.checkpointed = func() {
		if _, err := e.Delete("", keys); err != nil {
			t.Error(err)
		}
		if err := e.Sync(); err != nil {
			t.Error(err)
		}
		e.blobs.reap(false)
	}
	if err := e.Checkpoint(filepath.Join(dir, "backup")); err != nil {
		t.Fatal(err)
	}
	e.blobs.checkpointed = nil
	if e.blobs.segmentsRemoved.Load() == before {
		t.Fatal("no segment died after the checkpoint: the test does not exercise the hold")
	}
	b := openTest(t, filepath.Join(dir, "backup"), nil)
	defer b.Close()
	for i, k := range keys {
		if got := mustGet(t, b, "", string(k)); !bytes.Equal(got, pattern(uint64(i), 300<<10)) {
			t.Fatalf("%s: %d bytes differ", k, len(got))
		}
	}
}

// TestCheckpointRefusesMultiDevice: a layout a checkpoint does not cover
// is refused, not half copied.
func TestCheckpointRefusesMultiDevice(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, filepath.Join(dir, "live"), func(o *Options) {
		o.Devices = []string{filepath.Join(dir, "d0"), filepath.Join(dir, "d1")}
		o.ECData, o.ECParity = 1, 1
	})
	defer e.Close()
	if err := e.Checkpoint(filepath.Join(dir, "backup")); !errors.Is(err, ErrCheckpointLayout) {
		t.Fatalf("Checkpoint = %v, want ErrCheckpointLayout", err)
	}
}

// TestCheckpointAcrossFileSystems: a backup directory on another file
// system (tmpfs here) gets copies instead of hard links, and opens whole.
func TestCheckpointAcrossFileSystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "gpucache-checkpoint-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	defer os.RemoveAll(shm)
	dir := t.TempDir()
	e := openTest(t, filepath.Join(dir, "live"), func(o *Options) { o.SegmentSize = 1 << 20 })
	defer e.Close()
	want := map[string][]byte{}
	for i := range 6 {
		k := fmt.Sprint("k", i)
		want[k] = pattern(uint64(i), 300<<10+i)
		mustPut(t, e, "", k, want[k], PutOptions{})
	}
	backup := filepath.Join(shm, "backup")
	if err := e.Checkpoint(backup); err != nil {
		t.Fatal(err)
	}
	// Copies, not links: each file of the backup has a single link.
	segs, _ := filepath.Glob(filepath.Join(backup, "blobs", "seg-*"))
	if len(segs) == 0 {
		t.Fatal("no segment in the backup")
	}
	for _, s := range segs {
		var st syscall.Stat_t
		if err := syscall.Stat(s, &st); err != nil || st.Nlink != 1 {
			t.Fatalf("%s: %d links, %v", s, st.Nlink, err)
		}
	}
	b := openTest(t, backup, nil)
	defer b.Close()
	for k, v := range want {
		if got := mustGet(t, b, "", k); !bytes.Equal(got, v) {
			t.Fatalf("%s differs", k)
		}
	}
}
