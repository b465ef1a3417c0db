package gateway

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestS3OnlyWhenConfigured: the S3 front end starts only when the file or
// the command line names an s3-* key; defaults alone do not start it.
func TestS3OnlyWhenConfigured(t *testing.T) {
	c := NewConfig(nil)
	if err := c.Load("testdata/kvrocks.conf"); err != nil {
		t.Fatal(err)
	}
	if s3Requested(c) {
		t.Fatal("a stock kvrocks.conf asks for S3")
	}
	if err := c.Override("s3-bind", "0.0.0.0"); err != nil {
		t.Fatal(err)
	}
	if !s3Requested(c) || c.Int("s3-port") != 9000 {
		t.Fatalf("--s3-bind given: requested %v, port %d", s3Requested(c), c.Int("s3-port"))
	}
	if NewConfig(nil).Given("port") {
		t.Fatal("a default counts as given")
	}
}

// TestRenameCommandLines: every rename-command line is kept in order, ""
// disables; a malformed line is KVRocks's error.
func TestRenameCommandLines(t *testing.T) {
	f := filepath.Join(t.TempDir(), "k.conf")
	os.WriteFile(f, []byte("rename-command KEYS \"\"\nrename-command FLUSHALL wipe\n"), 0o644)
	c := NewConfig(nil)
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Renames(), [][2]string{{"KEYS", ""}, {"FLUSHALL", "wipe"}}; !slices.Equal(got, want) {
		t.Fatalf("Renames = %v, want %v", got, want)
	}
	if got := c.Match("rename-*"); !slices.Equal(got, [][2]string{{"rename-command", `KEYS ""`}, {"rename-command", "FLUSHALL wipe"}}) {
		t.Fatalf("CONFIG GET rename-* = %v", got)
	}
	if err := c.Override("rename-command", "KEYS"); err == nil || err.Error() != "Invalid rename-command format" {
		t.Fatalf("rename-command KEYS: %v", err)
	}
}

// TestConfigSetKVRocksKeys: KVRocks's run-time keys are accepted (with a
// warning), its read-only and unknown keys refused with its error text.
func TestConfigSetKVRocksKeys(t *testing.T) {
	var warned []string
	c := NewConfig(func(f string, a ...any) { warned = append(warned, f) })
	if err := c.SetRuntime("rocksdb.max_open_files", "100"); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 {
		t.Fatalf("no warning for a key without effect: %v", warned)
	}
	for _, key := range []string{"port", "rocksdb.block_size", "masterauth", "nope"} {
		err := c.SetRuntime(key, "1")
		if err == nil || err.Error() != "Unsupported CONFIG parameter: "+key {
			t.Errorf("CONFIG SET %s: %v", key, err)
		}
	}
	if err := c.SetRuntime("backup-dir", "/tmp/x"); err != nil {
		t.Fatal(err)
	}
}
