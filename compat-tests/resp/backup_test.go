package resp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// selfCheckingValue is n bytes whose first 8 hold the seed of the rest, so
// a value read back can be checked whole without remembering it.
func selfCheckingValue(seed uint64, n int) []byte {
	v := randomBytes(seed, n)
	binary.LittleEndian.PutUint64(v, seed)
	return v
}

func checkSelfCheckingValue(v []byte) bool {
	if len(v) < 8 {
		return false
	}
	want := selfCheckingValue(binary.LittleEndian.Uint64(v), len(v))
	return bytes.Equal(v, want)
}

// TestBGSaveUnderLoad takes BGSAVE while go-redis writers store small and
// large values (new keys, and overwrites of hot keys, so that segments die
// and are removed while the backup is taken), then starts a second server
// on the backup directory: every key acknowledged before BGSAVE was sent
// is there with its bytes, and every other key there holds a whole value.
func TestBGSaveUnderLoad(t *testing.T) {
	backup := filepath.Join(t.TempDir(), "backup")
	srv := internal.Start(t, internal.Options{Args: []string{"--backup-dir", backup}})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	type acked struct {
		key  string
		seed uint64
		n    int
	}
	var (
		mu       sync.Mutex
		ackedAll []acked
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		errs     = make(chan error, 8)
	)
	sizes := []int{100, 5 << 10, 200 << 10, 700 << 10}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdb := newGoRedis(t, srv.Addr(), 2, "")
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				seed := uint64(w)<<32 | uint64(i)
				n := sizes[i%len(sizes)]
				key := fmt.Sprintf("w%d-%d", w, i)
				if i%3 == 2 {
					key = fmt.Sprintf("hot%d", i%5) // overwritten: its old segments die
				}
				if err := rdb.Set(ctx, key, selfCheckingValue(seed, n), 0).Err(); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				ackedAll = append(ackedAll, acked{key, seed, n})
				mu.Unlock()
			}
		}()
	}
	// Let the load build up some segments, then save under it.
	admin := newGoRedis(t, srv.Addr(), 2, "")
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(ackedAll) }
	waitFor(t, 2*time.Minute, "a segment on NVMe and 300 acknowledged writes", func() bool {
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		return srv.InfoInt(t, "nvme_segments") >= 1 && ackedCount() >= 300
	})
	before := srv.InfoInt(t, "last_bgsave_time")
	mu.Lock()
	mustHave := append([]acked(nil), ackedAll...)
	mu.Unlock()
	if err := admin.Do(ctx, "BGSAVE").Err(); err != nil {
		t.Fatal(err)
	}
	// bgsave_in_progress is 1 from before the reply until the copy is
	// complete; the writers go on meanwhile.
	waitFor(t, 2*time.Minute, "BGSAVE to finish", func() bool { return srv.InfoInt(t, "bgsave_in_progress") == 0 })
	if bgsaveFailed(t, admin) {
		t.Fatalf("BGSAVE failed:\n%s", srv.Log())
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	restored := internal.Start(t, internal.Options{Dir: backup})
	rdb := newGoRedis(t, restored.Addr(), 2, "")
	checked := 0
	for _, a := range mustHave {
		if strings.HasPrefix(a.key, "hot") {
			continue // may have been overwritten before the save: checked below
		}
		v, err := rdb.Get(ctx, a.key).Bytes()
		if err != nil {
			t.Fatalf("backup lacks %s (acknowledged before BGSAVE): %v", a.key, err)
		}
		if !bytes.Equal(v, selfCheckingValue(a.seed, a.n)) {
			t.Fatalf("%s: %d bytes in the backup differ from the %d acknowledged", a.key, len(v), a.n)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d keys were acknowledged before BGSAVE: the load did not run", checked)
	}
	// Every key the backup holds (including writes that raced with the
	// save, and the hot keys) holds a whole value.
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		v, err := rdb.Get(ctx, k).Bytes()
		if err != nil || !checkSelfCheckingValue(v) {
			t.Fatalf("%s in the backup: %d bytes, not a whole value (%v)", k, len(v), err)
		}
	}
	t.Logf("%d keys acknowledged before BGSAVE checked byte for byte; %d keys in the backup, all whole", checked, len(keys))

	// FLUSHBACKUP removes it; LASTSAVE moved.
	if err := admin.Do(ctx, "FLUSHBACKUP").Err(); err != nil {
		t.Fatal(err)
	}
	if ls, err := admin.Do(ctx, "LASTSAVE").Int64(); err != nil || ls < before {
		t.Errorf("LASTSAVE = %d, %v; want >= %d", ls, err, before)
	}
}

func bgsaveFailed(t *testing.T, rdb *redis.Client) bool {
	t.Helper()
	info, err := rdb.Info(context.Background(), "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(info, "last_bgsave_status:err")
}
