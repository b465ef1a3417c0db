package engine

import (
	"io"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestWALFSDefersLogSyncs: a log file's Sync through walFS leaves the bytes
// unsynced (a crash clone loses them) until syncDeferred; other files sync
// at once; Close of a log syncs what was deferred.
func TestWALFSDefersLogSyncs(t *testing.T) {
	mem := vfs.NewCrashableMem()
	fs := newWALFS(mem)
	survives := func(name string) string {
		t.Helper()
		clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
		f, err := clone.Open(name)
		if err != nil {
			return ""
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		return string(b)
	}
	if err := fs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	syncDir := func() {
		for _, name := range []string{"/", "/d"} {
			d, _ := mem.OpenDir(name)
			d.Sync()
			d.Close()
		}
	}
	log, _ := fs.Create("/d/000001.log", vfs.WriteCategoryUnspecified)
	sst, _ := fs.Create("/d/000002.sst", vfs.WriteCategoryUnspecified)
	syncDir()
	log.Write([]byte("record"))
	sst.Write([]byte("table"))
	if err := log.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := sst.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := survives("/d/000002.sst"); got != "table" {
		t.Fatalf("sstable after its Sync: %q survives, want it all", got)
	}
	if got := survives("/d/000001.log"); got != "" {
		t.Fatalf("log after a deferred Sync: %q survives, want nothing yet", got)
	}
	if err := fs.syncDeferred(); err != nil {
		t.Fatal(err)
	}
	if got := survives("/d/000001.log"); got != "record" {
		t.Fatalf("log after syncDeferred: %q survives, want it all", got)
	}
	log.Write([]byte(" more"))
	log.Sync()
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	if got := survives("/d/000001.log"); got != "record more" {
		t.Fatalf("log after Close: %q survives, want it all", got)
	}
	if err := fs.syncDeferred(); err != nil {
		t.Fatalf("syncDeferred after Close: %v", err)
	}
	sst.Close()
}
