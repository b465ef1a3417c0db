package resp_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

var stormSeed = flag.Uint64("storm.seed", 1, "seed of the kill -9 write storm (value sizes, kill moments)")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// TestRestartKeepsData stores small and large values, a TTL, a counter and
// a deletion, stops the server with SIGTERM, starts it again on the same
// directory, and finds everything as it was.
func TestRestartKeepsData(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	write := func() map[string][]byte {
		rdb := newGoRedis(t, srv.Addr(), 2, "")
		defer rdb.Close()
		want := make(map[string][]byte)
		for i := range 200 {
			k := fmt.Sprintf("small:%d", i)
			want[k] = randomBytes(uint64(i), 1+i*37)
		}
		for i, size := range []int{1 << 20, 8<<20 + 3, 32 << 20} {
			want[fmt.Sprintf("large:%d", i)] = randomBytes(uint64(1000+i), size)
		}
		for k, v := range want {
			must(t, rdb.Set(ctx, k, v, 0).Err())
		}
		must(t, rdb.Set(ctx, "ttl", "v", 1000*time.Second).Err())
		want["ttl"] = []byte("v")
		must(t, rdb.IncrBy(ctx, "counter", 41).Err())
		must(t, rdb.Incr(ctx, "counter").Err())
		want["counter"] = []byte("42")
		must(t, rdb.Set(ctx, "deleted", "v", 0).Err())
		must(t, rdb.Del(ctx, "deleted").Err())
		must(t, rdb.Set(ctx, "overwritten", randomBytes(7, 2<<20), 0).Err())
		must(t, rdb.Set(ctx, "overwritten", "short", 0).Err())
		want["overwritten"] = []byte("short")
		return want
	}
	check := func(want map[string][]byte) {
		t.Helper()
		rdb := newGoRedis(t, srv.Addr(), 3, "")
		defer rdb.Close()
		for k, v := range want {
			got, err := rdb.Get(ctx, k).Bytes()
			if err != nil || string(got) != string(v) {
				t.Fatalf("after restart %q: %d bytes, %v; want the %d bytes written", k, len(got), err, len(v))
			}
		}
		wantInt(t, "EXISTS deleted", rdb.Exists(ctx, "deleted"), 0)
		if ttl := rdb.TTL(ctx, "ttl").Val(); ttl < 900*time.Second {
			t.Fatalf("TTL after restart = %v, want about 1000s", ttl)
		}
		if n := rdb.DBSize(ctx).Val(); n != int64(len(want)) {
			t.Fatalf("DBSIZE after restart = %d, want %d", n, len(want))
		}
	}
	want := write()
	srv.Stop(t)
	srv.Restart(t)
	check(want)
	// And once more, with no writes in between.
	srv.Stop(t)
	srv.Restart(t)
	check(want)
}

// stormValue is a value a storm writer sent: a window of the shared random
// buffer, with its checksum.
type stormValue struct {
	off, size int
	crc       uint32
}

// TestKillDuringWriteStorm kills the server with SIGKILL while several
// clients write a mix of small and 1-32 MiB values, a few times at random
// moments. After each restart every acknowledged write is there with its
// bytes, and any unacknowledged write that is there has its exact bytes
// too (never a torn or mixed value).
func TestKillDuringWriteStorm(t *testing.T) {
	const (
		writers   = 4
		rounds    = 4
		roundData = 1 << 30 // bytes written per round at most (a bound; the kill comes first)
	)
	r := rand.New(rand.NewPCG(*stormSeed, 99))
	t.Logf("seed %d (-storm.seed)", *stormSeed)
	base := randomBytes(*stormSeed, 64<<20)
	srv := internal.Start(t, internal.Options{})

	var mu sync.Mutex
	acked := make(map[string]stormValue)
	inflight := make(map[string]stormValue) // sent, not acknowledged

	for round := range rounds {
		var killed atomic.Bool
		var sent atomic.Int64
		errs := make(chan string, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wr := rand.New(rand.NewPCG(*stormSeed, uint64(round*writers+w)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				nc, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
				if err != nil {
					errs <- err.Error()
					return
				}
				defer nc.Close()
				br := bufio.NewReader(nc)
				for n := 0; sent.Load() < roundData; n++ {
					size := 1 + wr.IntN(4096)
					if wr.IntN(10) < 3 {
						size = 1<<20 + wr.IntN(31<<20)
					}
					off := wr.IntN(len(base) - size)
					v := stormValue{off, size, crc32.Checksum(base[off:off+size], castagnoli)}
					key := fmt.Sprintf("storm:%d:%d:%d", round, w, n)
					mu.Lock()
					inflight[key] = v
					mu.Unlock()
					bufs := net.Buffers{[]byte(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(key), key, size)),
						base[off : off+size], []byte("\r\n")}
					nc.SetDeadline(time.Now().Add(rawTimeout))
					_, err := bufs.WriteTo(nc)
					var line string
					if err == nil {
						line, err = br.ReadString('\n')
					}
					if err != nil {
						if !killed.Load() {
							errs <- fmt.Sprintf("writer %d: %v before the kill", w, err)
						}
						return
					}
					if line != "+OK\r\n" {
						errs <- fmt.Sprintf("writer %d: SET %s: %q", w, key, line)
						return
					}
					sent.Add(int64(size))
					mu.Lock()
					delete(inflight, key)
					acked[key] = v
					mu.Unlock()
				}
			}()
		}
		// Kill once a random amount of data was acknowledged, with
		// writes in flight.
		target := int64(1<<20 + r.IntN(96<<20))
		waitFor(t, 2*time.Minute, "writes acknowledged", func() bool { return sent.Load() >= target || len(errs) > 0 })
		killed.Store(true)
		srv.Kill(t)
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		mu.Lock()
		t.Logf("round %d: killed after %d MiB acknowledged; %d writes acknowledged so far, %d in flight, %d MiB this round",
			round, target>>20, len(acked), len(inflight), sent.Load()>>20)
		mu.Unlock()
		if t.Failed() {
			return
		}
		srv.Restart(t)
		verifyStorm(t, srv.Addr(), acked, inflight)
		if t.Failed() {
			return
		}
	}
}

// verifyStorm reads every acknowledged key (and every in-flight one) back
// over pipelined raw GETs and checks length and checksum.
func verifyStorm(t *testing.T, addr string, acked, inflight map[string]stormValue) {
	t.Helper()
	c := dialRaw(t, addr)
	type probe struct {
		key      string
		v        stormValue
		required bool
	}
	var probes []probe
	for k, v := range acked {
		probes = append(probes, probe{k, v, true})
	}
	for k, v := range inflight {
		probes = append(probes, probe{k, v, false})
	}
	sort.Slice(probes, func(i, j int) bool { return probes[i].key < probes[j].key })
	var lost, torn, present []string
	for start := 0; start < len(probes); start += 64 {
		batch := probes[start:min(start+64, len(probes))]
		var req []byte
		for _, p := range batch {
			req = append(req, encodeStrings("GET", p.key)...)
		}
		c.write(req)
		for _, p := range batch {
			got := c.readBulk()
			if got != nil && !p.required {
				present = append(present, p.key)
			}
			switch {
			case got == nil && p.required:
				lost = append(lost, p.key)
			case got == nil:
			case len(got) != p.v.size || crc32.Checksum(got, castagnoli) != p.v.crc:
				torn = append(torn, fmt.Sprintf("%s (%d bytes, want %d)", p.key, len(got), p.v.size))
			}
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged writes lost after kill -9, e.g. %s", len(lost), len(acked), strings.Join(lost[:min(5, len(lost))], ", "))
	}
	if len(torn) > 0 {
		t.Errorf("%d values came back with wrong bytes after kill -9, e.g. %s", len(torn), strings.Join(torn[:min(5, len(torn))], ", "))
	}
	// In-flight writes are settled now: those that made it must stay.
	for _, k := range present {
		acked[k] = inflight[k]
	}
	clear(inflight)
}
