// Package ec_test checks erasure coding from the outside: real gpucache
// processes with --ec 4+2 over six device directories, clients over RESP,
// and devices deleted, corrupted, replaced or failing between and during
// runs. Every test reads every value back and compares bytes: a value
// comes back identical or as an error, never as wrong bytes.
//
// Most tests start from a copy of one populated volume (the fixture: 2,000
// small values, a few medium blobs and eight 32 MiB values), written once
// per test process by the first test that needs it.
package ec_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { internal.Main(m) }

const (
	ecK, ecM = 4, 2
	nDevices = ecK + ecM
)

// dataset is the fixture's content, generated deterministically.
type dataset struct {
	keys []string // small first, then medium, then large
	vals map[string][]byte
}

var data = sync.OnceValue(func() *dataset {
	ds := &dataset{vals: make(map[string][]byte)}
	add := func(key string, size int) {
		ds.keys = append(ds.keys, key)
		ds.vals[key] = valueFor(key, size)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		add(fmt.Sprintf("small:%04d", i), 1+r.IntN(4096))
	}
	for i := range 16 {
		add(fmt.Sprintf("medium:%02d", i), 100<<10+r.IntN(2<<20))
	}
	for i := range 8 {
		add(fmt.Sprintf("large:%d", i), 32<<20)
	}
	return ds
})

// valueFor returns size pseudo-random bytes determined by key.
func valueFor(key string, size int) []byte {
	var seed [32]byte
	copy(seed[:], key)
	b := make([]byte, size)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// volume is a data directory and its device directories.
type volume struct {
	dir  string
	devs []string // by the slot they were created in
}

func newVolume(root string) volume {
	v := volume{dir: filepath.Join(root, "data")}
	for i := range nDevices {
		v.devs = append(v.devs, filepath.Join(root, fmt.Sprintf("d%d", i)))
	}
	return v
}

// args are the server's arguments for the devices in the order given.
func ecArgs(devs []string, extra ...string) []string {
	args := []string{"--devices", strings.Join(devs, ","), "--ec", fmt.Sprintf("%d+%d", ecK, ecM), "--dram-cache-size", "256mb"}
	return append(args, extra...)
}

// start starts a server on v with the devices in the given order.
func (v volume) start(t testing.TB, devs []string, extra ...string) *internal.Server {
	t.Helper()
	return internal.Start(t, internal.Options{Dir: v.dir, Args: ecArgs(devs, extra...)})
}

// fixture is the populated volume every copy comes from.
var fixture struct {
	once sync.Once
	root string
	err  string
}

// populated returns a private copy of the fixture volume, writing the
// fixture first if no test has yet.
func populated(t *testing.T) volume {
	t.Helper()
	fixture.once.Do(func() {
		root, err := os.MkdirTemp("", "gpucache-ec-fixture-")
		if err != nil {
			fixture.err = err.Error()
			return
		}
		internal.AtExit(func() { os.RemoveAll(root) })
		v := newVolume(root)
		start := time.Now()
		srv := v.start(t, v.devs)
		rdb := client(t, srv.Addr())
		writeAll(t, rdb, data(), data().keys)
		srv.Stop(t)
		if !t.Failed() {
			fixture.root = root
		}
		t.Logf("fixture written in %v", time.Since(start).Round(time.Millisecond))
	})
	if fixture.root == "" {
		t.Fatalf("no fixture volume: %s", fixture.err)
	}
	dst := t.TempDir()
	out, err := exec.Command("cp", "-a", fixture.root+"/.", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("cannot copy the fixture volume: %v: %s", err, out)
	}
	return newVolume(dst)
}

func client(t testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{
		Addr:         addr,
		Protocol:     2,
		DialTimeout:  5 * time.Second,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
		PoolSize:     4,
		MaxRetries:   -1, // a retry would hide a failed first attempt
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	t.Cleanup(cancel)
	return c
}

// writeAll stores keys of ds: small values pipelined, blobs four at a time.
func writeAll(t testing.TB, rdb *redis.Client, ds *dataset, keys []string) {
	t.Helper()
	c := ctx(t)
	pipe := rdb.Pipeline()
	var blobs []string
	for _, k := range keys {
		if strings.HasPrefix(k, "small:") {
			pipe.Set(c, k, ds.vals[k], 0)
			if pipe.Len() == 200 {
				if _, err := pipe.Exec(c); err != nil {
					t.Fatalf("pipelined SET: %v", err)
				}
			}
			continue
		}
		blobs = append(blobs, k)
	}
	if _, err := pipe.Exec(c); err != nil && pipe.Len() > 0 {
		t.Fatalf("pipelined SET: %v", err)
	}
	errs := parallel(blobs, 4, func(k string) error { return rdb.Set(c, k, ds.vals[k], 0).Err() })
	for k, err := range errs {
		t.Fatalf("SET %s: %v", k, err)
	}
}

// parallel runs fn on every key with n goroutines and returns the errors
// by key.
func parallel(keys []string, n int, fn func(string) error) map[string]error {
	var mu sync.Mutex
	errs := make(map[string]error)
	ch := make(chan string)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range ch {
				if err := fn(k); err != nil {
					mu.Lock()
					errs[k] = err
					mu.Unlock()
				}
			}
		}()
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
	return errs
}

// readResult is what reading a set of keys found.
type readResult struct {
	wrong  []string         // values that came back different: never allowed
	errors map[string]error // values that came back as an error
}

// readAll GETs keys and compares them with ds. Small values are read
// pipelined, blobs four at a time.
func readAll(t testing.TB, rdb *redis.Client, ds *dataset, keys []string) readResult {
	t.Helper()
	c := ctx(t)
	res := readResult{errors: make(map[string]error)}
	var mu sync.Mutex
	check := func(k string, got []byte, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			res.errors[k] = err
		case !bytes.Equal(got, ds.vals[k]):
			res.wrong = append(res.wrong, fmt.Sprintf("%s (%d bytes, want %d)", k, len(got), len(ds.vals[k])))
		}
	}
	var small, blobs []string
	for _, k := range keys {
		if strings.HasPrefix(k, "small:") {
			small = append(small, k)
		} else {
			blobs = append(blobs, k)
		}
	}
	for i := 0; i < len(small); i += 200 {
		batch := small[i:min(i+200, len(small))]
		pipe := rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(batch))
		for j, k := range batch {
			cmds[j] = pipe.Get(c, k)
		}
		pipe.Exec(c)
		for j, k := range batch {
			got, err := cmds[j].Bytes()
			check(k, got, err)
		}
	}
	parallel(blobs, 4, func(k string) error {
		got, err := rdb.Get(c, k).Bytes()
		check(k, got, err)
		return nil
	})
	sort.Strings(res.wrong)
	return res
}

// readAllOK reads keys and fails the test unless every one is identical.
func readAllOK(t testing.TB, rdb *redis.Client, ds *dataset, keys []string) {
	t.Helper()
	res := readAll(t, rdb, ds, keys)
	if len(res.wrong) > 0 {
		t.Fatalf("%d of %d values came back WRONG: %v", len(res.wrong), len(keys), res.wrong)
	}
	if len(res.errors) > 0 {
		t.Fatalf("%d of %d values came back as errors, e.g. %s", len(res.errors), len(keys), firstError(res.errors))
	}
}

func firstError(errs map[string]error) string {
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %v", keys[0], errs[keys[0]])
}

// info is one INFO reply, parsed.
type info struct {
	fields  map[string]string
	devices map[string]string // device directory -> state
	raw     string
}

func getInfo(t testing.TB, rdb *redis.Client, section string) info {
	t.Helper()
	raw, err := rdb.Info(ctx(t), section).Result()
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	in := info{fields: make(map[string]string), devices: make(map[string]string), raw: raw}
	for _, line := range strings.Split(raw, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		in.fields[k] = v
		if strings.HasPrefix(k, "device") {
			var name, state string
			for _, kv := range strings.Split(v, ",") {
				if x, ok := strings.CutPrefix(kv, "name="); ok {
					name = x
				}
				if x, ok := strings.CutPrefix(kv, "state="); ok {
					state = x
				}
			}
			in.devices[name] = state
		}
	}
	return in
}

// int returns a numeric field, failing the test if it is absent.
func (in info) int(t testing.TB, name string) int64 {
	t.Helper()
	v, ok := in.fields[name]
	if !ok {
		t.Fatalf("INFO has no %s:\n%s", name, in.raw)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("INFO %s:%s is not a number", name, v)
	}
	return n
}

// waitInfo polls INFO devices until cond holds or timeout passes.
func waitInfo(t testing.TB, rdb *redis.Client, timeout time.Duration, what string, cond func(info) bool) info {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		in := getInfo(t, rdb, "devices")
		if cond(in) {
			return in
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; INFO devices:\n%s", timeout, what, in.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rebuildDone reports whether no slot is rebuilding any more and a rebuild
// has ended.
func rebuildDone(t testing.TB) func(info) bool {
	return func(in info) bool {
		for _, s := range in.devices {
			if s == "rebuilding" {
				return false
			}
		}
		return in.int(t, "rebuild_running") == 0 && in.int(t, "rebuild_ended") > 0
	}
}

// shardHolders maps shard index -> device index for the segment file
// with the most bytes on the devices.
func shardHolders(t testing.TB, v volume) map[int]int {
	t.Helper()
	sizes := make(map[string]int64)
	where := make(map[string]map[int]int)
	for d, dev := range v.devs {
		names, _ := filepath.Glob(filepath.Join(dev, "*.s[0-9]*"))
		for _, p := range names {
			if strings.HasSuffix(p, ".crc") {
				continue
			}
			base := filepath.Base(p)
			i := strings.LastIndex(base, ".s")
			idx, err := strconv.Atoi(base[i+2:])
			if err != nil {
				continue
			}
			seg := base[:i]
			if where[seg] == nil {
				where[seg] = make(map[int]int)
			}
			where[seg][idx] = d
			if fi, err := os.Stat(p); err == nil {
				sizes[seg] += fi.Size()
			}
		}
	}
	best := ""
	for seg := range where {
		if best == "" || sizes[seg] > sizes[best] {
			best = seg
		}
	}
	if len(where[best]) != nDevices {
		t.Fatalf("segment %q has shards on %d devices, want %d", best, len(where[best]), nDevices)
	}
	return where[best]
}

// removeDevices deletes device directories (by index) while no server
// runs, or under a running one.
func removeDevices(t testing.TB, v volume, idx ...int) {
	t.Helper()
	for _, i := range idx {
		if err := os.RemoveAll(v.devs[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// order returns v's devices in a permutation.
func order(v volume, perm ...int) []string {
	out := make([]string, len(perm))
	for i, p := range perm {
		out[i] = v.devs[p]
	}
	return out
}
