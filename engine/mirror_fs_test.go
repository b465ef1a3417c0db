package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestMirrorFileWritesEveryCopy writes through the mirror FS and syncs
// the ways pebble does: every copy holds the bytes. The syncs run on the
// copies in parallel, which -race checks.
func TestMirrorFileWritesEveryCopy(t *testing.T) {
	roots := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	m, err := syncMirrors(roots, nil, false, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Create(filepath.Join(roots[0], "000001.log"), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("mirror"), 1000)
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SyncTo(int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncData(); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range roots {
		got, err := os.ReadFile(filepath.Join(r, "000001.log"))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("copy in %s: %d bytes, %v", r, len(got), err)
		}
	}
}
