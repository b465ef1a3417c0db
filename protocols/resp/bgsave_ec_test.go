package resp

import (
	"path/filepath"
	"testing"

	"github.com/gpucache/gpucache/engine"
)

// TestBGSaveErasureCoded: BGSAVE of an erasure-coded store is refused at
// once with the reason, not started and left to fail in the background;
// INFO persistence shows no save in progress.
func TestBGSaveErasureCoded(t *testing.T) {
	dir := t.TempDir()
	eng, err := engine.Open(engine.Options{
		Dir: dir, DRAMCacheSize: 64 << 20, ECData: 2, ECParity: 1,
		Devices: []string{filepath.Join(dir, "d0"), filepath.Join(dir, "d1"), filepath.Join(dir, "d2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := NewServer(eng, Config{})
	defer s.Close()
	s.SetBackupDir(filepath.Join(dir, "backup"))
	cl := newSyncConn(s)
	cl.run(encode("SET", "k", "v"))
	want := "-ERR BGSAVE cannot copy an erasure-coded store (--ec over several devices): copy its device directories while the server is stopped\r\n"
	if got := string(cl.run(encode("BGSAVE"))); got != want {
		t.Fatalf("BGSAVE: %q", got)
	}
	if s.ops.saving.Load() {
		t.Fatal("a refused BGSAVE left a save in progress")
	}
	if err := eng.Checkpoint(filepath.Join(dir, "backup")); err != engine.ErrCheckpointLayout {
		t.Fatalf("Checkpoint: %v", err)
	}
}
