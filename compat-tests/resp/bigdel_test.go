package resp_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// dirSize is the bytes of the sstables under dir. Log files are no
// measure of the data they hold: pebble keeps up to three obsolete logs to
// reuse for new memtables, and a reused log keeps its old length.
func dirSize(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".sst") {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDelHugeHash: DEL of a hash with many fields answers at once and its
// space comes back. 200k fields by default, 50k under -short (the run
// against a server built with -race); GPUCACHE_BIG_FIELDS=1000000 for the
// full-size run.
func TestDelHugeHash(t *testing.T) {
	fields := 200_000
	if testing.Short() {
		fields = 50_000
	}
	if s := os.Getenv("GPUCACHE_BIG_FIELDS"); s != "" {
		fields, _ = strconv.Atoi(s)
	}
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	val := string(randomBytes(1, 100))
	const perCmd = 1000
	pipe := rdb.Pipeline()
	for i := 0; i < fields; i += perCmd {
		args := make([]any, 0, 2*perCmd)
		for j := i; j < i+perCmd && j < fields; j++ {
			args = append(args, fmt.Sprintf("field:%09d", j), val)
		}
		pipe.HSet(ctx, "huge", args...)
		if pipe.Len() == 20 {
			_, err := pipe.Exec(ctx)
			must(t, err)
		}
	}
	_, err := pipe.Exec(ctx)
	must(t, err)
	wantInt(t, "HLEN", rdb.HLen(ctx, "huge"), int64(fields))
	// Everything into the sstables first (KVRocks's FLUSHMEMTABLE), so
	// that their size measures the hash.
	must(t, rdb.Do(ctx, "FLUSHMEMTABLE").Err())
	meta := filepath.Join(srv.Dir(), "meta")
	before := dirSize(t, meta)

	start := time.Now()
	wantInt(t, "DEL", rdb.Del(ctx, "huge"), 1)
	took := time.Since(start)
	t.Logf("DEL of %d fields took %v; metadata store %d MB", fields, took, before>>20)
	if took > time.Second {
		t.Errorf("DEL of %d fields took %v", fields, took)
	}
	wantInt(t, "EXISTS after DEL", rdb.Exists(ctx, "huge"), 0)
	wantInt(t, "HLEN after DEL", rdb.HLen(ctx, "huge"), 0)
	// A new hash under the same name starts empty.
	wantInt(t, "HSET after DEL", rdb.HSet(ctx, "huge", "f", "v"), 1)
	wantInt(t, "HLEN of the new hash", rdb.HLen(ctx, "huge"), 1)

	deadline := time.Now().Add(60 * time.Second)
	for {
		after := dirSize(t, meta)
		if after < before/4 {
			t.Logf("metadata store %d MB -> %d MB after %v", before>>20, after>>20, time.Since(start))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metadata store still %d bytes (was %d) a minute after DEL", after, before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
