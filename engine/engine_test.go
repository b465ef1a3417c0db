package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/ec"
)

func openTest(t testing.TB, dir string, mod func(*Options)) *Engine {
	t.Helper()
	o := Options{Dir: dir, DRAMCacheSize: 64 << 20, SegmentSize: 8 << 20, MemoryWait: 2 * time.Second}
	if mod != nil {
		mod(&o)
	}
	e, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return e
}

func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	// NB: one 8-byte store per word, not eight byte stores: under -race
	// each store is checked, and tests make hundreds of MB of this.
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustGet(t testing.TB, e *Engine, ks, key string) []byte {
	t.Helper()
	v, err := e.Get(ks, []byte(key))
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	defer v.Release()
	out, err := v.AppendTo(nil)
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	return out
}

func mustPut(t testing.TB, e *Engine, ks, key string, val []byte, opts PutOptions) PutResult {
	t.Helper()
	res, err := e.PutBytes(ks, []byte(key), val, opts)
	if err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPutGetSizes(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	sizes := []int{0, 1, 100, 64 << 10, 64<<10 + 1, 256 << 10, 1<<20 + 3, 5 << 20, 9 << 20}
	for i, n := range sizes {
		mustPut(t, e, "", fmt.Sprint("k", n), pattern(uint64(i), n), PutOptions{})
	}
	for i, n := range sizes {
		if got := mustGet(t, e, "", fmt.Sprint("k", n)); !bytes.Equal(got, pattern(uint64(i), n)) {
			t.Fatalf("size %d: wrong bytes", n)
		}
	}
	if got := e.DBSize(""); got != int64(len(sizes)) {
		t.Fatalf("DBSize = %d, want %d", got, len(sizes))
	}
	if _, err := e.Get("", []byte("missing")); err != ErrNotFound {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := e.Get("other", []byte("k100")); err != ErrNotFound {
		t.Fatalf("keyspaces must not see each other's keys: %v", err)
	}
}

func TestPersistenceAndRecovery(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	want := map[string][]byte{}
	for i := 0; i < 20; i++ {
		n := []int{10, 200 << 10, 3 << 20}[i%3]
		k := fmt.Sprint("key", i)
		want[k] = pattern(uint64(i), n)
		mustPut(t, e, "ns", k, want[k], PutOptions{})
	}
	// Overwrite and delete some, leaving dead blob space behind.
	want["key1"] = []byte("small now")
	mustPut(t, e, "ns", "key1", want["key1"], PutOptions{})
	if n, err := e.Delete("ns", [][]byte{[]byte("key2"), []byte("key5")}); err != nil || n != 2 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	delete(want, "key2")
	delete(want, "key5")
	e.Sync()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// A segment no metadata references (a crash between the blob write and
	// the metadata commit) must be reclaimed on open.
	orphan := filepath.Join(dir, "blobs", segmentName(999)+".s0") // shard 0 of a 1+0 volume
	if err := os.WriteFile(orphan, make([]byte, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, nil)
	defer e.Close()
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("unreferenced segment survived recovery: %v", err)
	}
	for k, v := range want {
		if got := mustGet(t, e, "ns", k); !bytes.Equal(got, v) {
			t.Fatalf("%s: wrong bytes after reopen", k)
		}
	}
	if got := e.DBSize("ns"); got != int64(len(want)) {
		t.Fatalf("DBSize after reopen = %d, want %d", got, len(want))
	}
	// New writes after recovery must not collide with old segments.
	mustPut(t, e, "ns", "fresh", pattern(77, 2<<20), PutOptions{})
	if !bytes.Equal(mustGet(t, e, "ns", "fresh"), pattern(77, 2<<20)) {
		t.Fatal("fresh value wrong")
	}
}

func TestConditionsAndReturnOld(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	for _, n := range []int{5, 1 << 20} {
		k := fmt.Sprint("c", n)
		if r := mustPut(t, e, "", k, pattern(1, n), PutOptions{Cond: IfPresent}); r.Written {
			t.Fatal("XX wrote a missing key")
		}
		if r := mustPut(t, e, "", k, pattern(1, n), PutOptions{Cond: IfAbsent}); !r.Written {
			t.Fatal("NX did not write a missing key")
		}
		r := mustPut(t, e, "", k, pattern(2, n), PutOptions{Cond: IfAbsent, ReturnOld: true})
		if r.Written || r.Old == nil {
			t.Fatalf("NX on existing: written=%v old=%v", r.Written, r.Old)
		}
		old, _ := r.Old.AppendTo(nil)
		r.Old.Release()
		if !bytes.Equal(old, pattern(1, n)) {
			t.Fatal("NX GET returned wrong old value")
		}
		r = mustPut(t, e, "", k, pattern(3, n), PutOptions{ReturnOld: true})
		old, _ = r.Old.AppendTo(nil)
		r.Old.Release()
		if !r.Written || !bytes.Equal(old, pattern(1, n)) {
			t.Fatal("SET GET: wrong old value")
		}
		if !bytes.Equal(mustGet(t, e, "", k), pattern(3, n)) {
			t.Fatal("SET GET: wrong new value")
		}
	}
	errVeto := errors.New("veto")
	_, err := e.PutBytes("", []byte("c5"), []byte("x"), PutOptions{Check: func(m Meta, exists bool) error {
		if !exists || m.Size != 5 {
			t.Errorf("Check saw exists=%v size=%d", exists, m.Size)
		}
		return errVeto
	}})
	if err != errVeto {
		t.Fatalf("Check veto: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.ExpireInterval = 10 * time.Millisecond })
	defer e.Close()
	soon := time.Now().Add(150 * time.Millisecond).UnixMilli()
	mustPut(t, e, "", "small", []byte("v"), PutOptions{ExpireAt: soon})
	mustPut(t, e, "", "big", pattern(1, 1<<20), PutOptions{ExpireAt: soon})
	mustPut(t, e, "", "keep", []byte("v"), PutOptions{ExpireAt: soon})
	if ok, err := e.Persist("", []byte("keep")); !ok || err != nil {
		t.Fatalf("Persist = %v, %v", ok, err)
	}
	m, err := e.Stat("", []byte("big"))
	if err != nil || m.ExpireAt != soon {
		t.Fatalf("Stat: %+v %v", m, err)
	}
	// KEEPTTL keeps it; a plain SET clears it.
	mustPut(t, e, "", "small", []byte("w"), PutOptions{KeepTTL: true})
	if m, _ := e.Stat("", []byte("small")); m.ExpireAt != soon {
		t.Fatal("KEEPTTL lost the expiry")
	}
	deadline := time.Now().Add(3 * time.Second)
	for e.DBSize("") != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// The active sweep removed them without anyone reading them.
	if n := e.DBSize(""); n != 1 {
		t.Fatalf("DBSize after expiry = %d, want 1", n)
	}
	if _, err := e.Get("", []byte("big")); err != ErrNotFound {
		t.Fatalf("expired big: %v", err)
	}
	if got := mustGet(t, e, "", "keep"); string(got) != "v" {
		t.Fatal("persisted key lost")
	}
	// An expiry in the past deletes at once.
	if ok, _ := e.Expire("", []byte("keep"), time.Now().Add(-time.Second).UnixMilli(), ExpireAlways); !ok {
		t.Fatal("Expire in the past reported no change")
	}
	if _, err := e.Stat("", []byte("keep")); err != ErrNotFound {
		t.Fatal("Expire in the past did not delete")
	}
}

func TestExpireConditions(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	mustPut(t, e, "", "k", []byte("v"), PutOptions{})
	later := time.Now().Add(time.Hour).UnixMilli()
	cases := []struct {
		at   int64
		cond ExpireCond
		want bool
	}{
		{later, ExpireXX, false},
		{later, ExpireGT, false}, // no TTL counts as infinite
		{later, ExpireNX, true},
		{later + 1, ExpireNX, false},
		{later - 1, ExpireGT, false},
		{later + 1, ExpireGT, true},
		{later + 5, ExpireLT, false},
		{later, ExpireLT, true},
	}
	for i, c := range cases {
		if got, err := e.Expire("", []byte("k"), c.at, c.cond); got != c.want || err != nil {
			t.Fatalf("case %d: Expire = %v, %v; want %v", i, got, err, c.want)
		}
	}
}

func TestRenameAndUpdate(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	big := pattern(9, 2<<20)
	mustPut(t, e, "", "a", big, PutOptions{ExpireAt: time.Now().Add(time.Hour).UnixMilli()})
	mustPut(t, e, "", "b", []byte("old"), PutOptions{})
	if ok, err := e.Rename("", []byte("a"), []byte("b"), true); ok || err != nil {
		t.Fatalf("RENAMENX onto existing: %v %v", ok, err)
	}
	if ok, err := e.Rename("", []byte("a"), []byte("b"), false); !ok || err != nil {
		t.Fatalf("RENAME: %v %v", ok, err)
	}
	if !bytes.Equal(mustGet(t, e, "", "b"), big) {
		t.Fatal("renamed value wrong")
	}
	if m, _ := e.Stat("", []byte("b")); m.ExpireAt == 0 {
		t.Fatal("RENAME dropped the expiry")
	}
	if _, err := e.Rename("", []byte("a"), []byte("c"), false); err != ErrNotFound {
		t.Fatalf("RENAME of missing: %v", err)
	}
	if e.DBSize("") != 1 {
		t.Fatalf("DBSize after rename = %d", e.DBSize(""))
	}
	// Concurrent increments through Update must not lose any.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				err := e.Update("", []byte("ctr"), func(cur *Value) (Update, error) {
					n := 0
					if cur != nil {
						fmt.Sscan(string(cur.Bytes()), &n)
					}
					return Update{Action: UpdateReplace, Value: []byte(fmt.Sprint(n + 1))}, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := string(mustGet(t, e, "", "ctr")); got != "800" {
		t.Fatalf("counter = %s, want 800", got)
	}
	// APPEND growing a value past the inline threshold moves it to a blob.
	for i := 0; i < 3; i++ {
		chunk := pattern(uint64(i), 40<<10)
		if err := e.Update("", []byte("app"), func(cur *Value) (Update, error) {
			var b []byte
			if cur != nil {
				b, _ = cur.AppendTo(nil)
			}
			return Update{Action: UpdateReplace, Value: append(b, chunk...)}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := append(append(pattern(0, 40<<10), pattern(1, 40<<10)...), pattern(2, 40<<10)...)
	if !bytes.Equal(mustGet(t, e, "", "app"), want) {
		t.Fatal("appended value wrong")
	}
}

func TestScanAndGlob(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	var names []string
	for i := 0; i < 50; i++ {
		k := fmt.Sprintf("user:%03d", i)
		names = append(names, k)
		mustPut(t, e, "", k, []byte("x"), PutOptions{})
	}
	mustPut(t, e, "", "other", []byte("x"), PutOptions{})
	var got []string
	var cursor []byte
	for {
		next, err := e.Scan("", ScanOptions{Start: cursor, Match: []byte("user:*"), Limit: 7}, func(k []byte, _ *Meta) bool {
			got = append(got, string(k))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if next == nil {
			break
		}
		cursor = next
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("scan returned %d keys: %v", len(got), got)
	}
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"a*b", "ab", true}, {"a*b", "axxb", true}, {"a*b", "axxc", false},
		{"h?llo", "hello", true}, {"h[ae]llo", "hallo", true}, {"h[^e]llo", "hello", false},
		{"h[a-c]llo", "hbllo", true}, {`h\*llo`, "h*llo", true}, {`h\*llo`, "hello", false},
		{"*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), false},
	} {
		if got := matchGlob([]byte(c.p), []byte(c.s)); got != c.ok {
			t.Errorf("matchGlob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestComposeSharesExtents(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	p1, p2 := pattern(1, 3<<20), pattern(2, 1<<20+5)
	mustPut(t, e, "parts", "1", p1, PutOptions{})
	mustPut(t, e, "parts", "2", p2, PutOptions{})
	written := e.Stats().NVMeBytesWritten
	res, err := e.Compose("b", []byte("obj"), []Source{{KS: "parts", Key: []byte("1"), Len: -1}, {KS: "parts", Key: []byte("2"), Len: -1}}, PutOptions{Attrs: []byte("etag")})
	if err != nil || !res.Written {
		t.Fatalf("Compose: %v", err)
	}
	if e.Stats().NVMeBytesWritten != written {
		t.Fatal("Compose of whole values copied bytes")
	}
	// The parts can go; the composed object keeps the extents alive.
	e.Delete("parts", [][]byte{[]byte("1"), []byte("2")})
	e.Sync()
	want := append(append([]byte(nil), p1...), p2...)
	if !bytes.Equal(mustGet(t, e, "b", "obj"), want) {
		t.Fatal("composed value wrong")
	}
	v, err := e.Open("b", []byte("obj"))
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if _, err := v.WriteRange(&w, 3<<20-10, 20); err != nil {
		t.Fatal(err)
	}
	v.Release()
	if !bytes.Equal(w.Bytes(), want[3<<20-10:3<<20+10]) {
		t.Fatal("ranged read across extents wrong")
	}
	// A range cutting through extents is copied.
	if _, err := e.Compose("b", []byte("cut"), []Source{{KS: "b", Key: []byte("obj"), Off: 100, Len: 2 << 20}}, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustGet(t, e, "b", "cut"), want[100:100+2<<20]) {
		t.Fatal("cut compose wrong")
	}
}

func TestCorruptionIsDetected(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	val := pattern(5, 1<<20)
	mustPut(t, e, "", "k", val, PutOptions{})
	m, _ := e.Stat("", []byte("k"))
	e.Close()
	x := m.Extents()[0]
	f, err := os.OpenFile(filepath.Join(dir, "blobs", segmentName(x.Segment)+".s0"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xde, 0xad}, x.Offset+12345); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	if _, err := e.Get("", []byte("k")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt blob: Get = %v, want ErrCorrupt", err)
	}
	if e.Stats().NVMeCorruptReads != 1 {
		t.Fatal("corrupt read not counted")
	}
}

func TestCapacityNoEviction(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) {
		o.NVMeCapacity = 16 << 20
		o.SegmentSize = 4 << 20
	})
	defer e.Close()
	var stored []string
	var full bool
	for i := 0; i < 20; i++ {
		k := fmt.Sprint("k", i)
		_, err := e.PutBytes("", []byte(k), pattern(uint64(i), 1<<20), PutOptions{})
		if err == ErrNoSpace {
			full = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, k)
	}
	e.Sync()
	if !full {
		t.Fatal("never ran out of capacity")
	}
	for i, k := range stored {
		if !bytes.Equal(mustGet(t, e, "", k), pattern(uint64(i), 1<<20)) {
			t.Fatalf("%s lost after ErrNoSpace", k)
		}
	}
	// Deleting frees whole segments, and writes succeed again.
	e.Delete("", [][]byte{[]byte(stored[0]), []byte(stored[1]), []byte(stored[2]), []byte(stored[3])})
	if _, err := e.PutBytes("", []byte("again"), pattern(1, 1<<20), PutOptions{}); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
}

func TestCapacityEviction(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) {
		o.NVMeCapacity = 16 << 20
		o.SegmentSize = 4 << 20
		o.Policy = EvictLRU
		o.DRAMCacheSize = 4 << 20 // tiny DRAM tier: only the hottest stay resident
	})
	defer e.Close()
	for i := 0; i < 60; i++ {
		if _, err := e.PutBytes("", []byte(fmt.Sprint("k", i)), pattern(uint64(i), 1<<20), PutOptions{}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		// Keep k0 hot.
		if v, err := e.Get("", []byte("k0")); err == nil {
			v.Release()
		}
	}
	e.Sync()
	st := e.Stats()
	if st.NVMeSegmentsEvicted == 0 || st.NVMeKeysEvicted == 0 {
		t.Fatalf("no eviction: %+v", st)
	}
	if st.NVMeUsed > 16<<20+4<<20 {
		t.Fatalf("NVMe used %d beyond capacity", st.NVMeUsed)
	}
	if !bytes.Equal(mustGet(t, e, "", "k0"), pattern(0, 1<<20)) {
		t.Fatal("hot key was not kept")
	}
	if !bytes.Equal(mustGet(t, e, "", "k59"), pattern(59, 1<<20)) {
		t.Fatal("newest key missing")
	}
	// Every surviving key reads back right; evicted ones are simply gone.
	n := 0
	for i := 0; i < 60; i++ {
		v, err := e.Get("", []byte(fmt.Sprint("k", i)))
		if err == ErrNotFound {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := v.AppendTo(nil)
		v.Release()
		if !bytes.Equal(b, pattern(uint64(i), 1<<20)) {
			t.Fatalf("k%d wrong after eviction", i)
		}
		n++
	}
	if int64(n) != e.DBSize("") {
		t.Fatalf("DBSize %d but %d keys readable", e.DBSize(""), n)
	}
}

func TestDRAMPressure(t *testing.T) {
	// Values far beyond the DRAM tier: reads must come back from NVMe and
	// the arena must never run dry while readers hold values.
	e := openTest(t, t.TempDir(), func(o *Options) { o.DRAMCacheSize = 8 << 20 })
	defer e.Close()
	for i := 0; i < 12; i++ {
		mustPut(t, e, "", fmt.Sprint("k", i), pattern(uint64(i), 2<<20), PutOptions{})
	}
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				i := (g*7 + r) % 12
				v, err := e.Get("", []byte(fmt.Sprint("k", i)))
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := v.AppendTo(nil)
				v.Release()
				if !bytes.Equal(b, pattern(uint64(i), 2<<20)) {
					t.Errorf("k%d wrong", i)
				}
			}
		}(g)
	}
	wg.Wait()
	st := e.Stats()
	if st.DRAMMisses == 0 || st.DRAMEvictions == 0 {
		t.Fatalf("expected DRAM misses and evictions: %+v", st)
	}
	if _, err := e.NewBuffer(64 << 20); err != ErrTooLarge {
		t.Fatalf("buffer beyond the arena: %v", err)
	}
}

func TestFlushAndKeyspaces(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	if err := e.CreateKeyspace("s3:a", []byte("attrs")); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateKeyspace("s3:a", nil); err != ErrKeyspaceExists {
		t.Fatalf("duplicate keyspace: %v", err)
	}
	mustPut(t, e, "s3:a", "x", pattern(1, 1<<20), PutOptions{})
	mustPut(t, e, "", "y", []byte("y"), PutOptions{})
	if err := e.DeleteKeyspace("s3:a"); err != ErrKeyspaceNotEmpty {
		t.Fatalf("delete non-empty keyspace: %v", err)
	}
	if err := e.Flush("s3:a"); err != nil {
		t.Fatal(err)
	}
	if e.DBSize("s3:a") != 0 || e.DBSize("") != 1 {
		t.Fatal("Flush touched another keyspace")
	}
	if err := e.DeleteKeyspace("s3:a"); err != nil {
		t.Fatal(err)
	}
	list, _ := e.Keyspaces()
	if len(list) != 0 {
		t.Fatalf("keyspaces after delete: %v", list)
	}
	if err := e.FlushAll(); err != nil || e.DBSize("") != 0 {
		t.Fatalf("FlushAll: %v, %d keys left", err, e.DBSize(""))
	}
	if _, _, used := e.blobs.stats(); used != 0 {
		t.Fatalf("live bytes after FlushAll: %d", used)
	}
}

// TestModel runs random operations against the engine and a map, then
// reopens the engine and compares again.
func TestModel(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, func(o *Options) { o.DRAMCacheSize = 16 << 20; o.SegmentSize = 2 << 20 })
	model := map[string][]byte{}
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 7, 1000, 70 << 10, 300 << 10, 1 << 20}
	for op := 0; op < 600; op++ {
		k := fmt.Sprint("k", r.IntN(40))
		switch r.IntN(6) {
		case 0, 1, 2:
			v := pattern(r.Uint64(), sizes[r.IntN(len(sizes))])
			mustPut(t, e, "", k, v, PutOptions{})
			model[k] = v
		case 3:
			n, _ := e.Delete("", [][]byte{[]byte(k)})
			if _, ok := model[k]; ok != (n == 1) {
				t.Fatalf("op %d: Delete %s = %d, model has %v", op, k, n, ok)
			}
			delete(model, k)
		case 4:
			k2 := fmt.Sprint("k", r.IntN(40))
			_, err := e.Rename("", []byte(k), []byte(k2), false)
			if _, ok := model[k]; !ok {
				if err != ErrNotFound {
					t.Fatalf("op %d: rename missing: %v", op, err)
				}
				continue
			}
			model[k2] = model[k]
			if k2 != k {
				delete(model, k)
			}
		case 5:
			v, err := e.Get("", []byte(k))
			want, ok := model[k]
			if !ok {
				if err != ErrNotFound {
					t.Fatalf("op %d: Get %s = %v, want not found", op, k, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("op %d: Get %s: %v", op, k, err)
			}
			b, _ := v.AppendTo(nil)
			v.Release()
			if !bytes.Equal(b, want) {
				t.Fatalf("op %d: %s wrong", op, k)
			}
		}
	}
	e.Sync()
	check := func() {
		if e.DBSize("") != int64(len(model)) {
			t.Fatalf("DBSize %d, model %d", e.DBSize(""), len(model))
		}
		for k, want := range model {
			if !bytes.Equal(mustGet(t, e, "", k), want) {
				t.Fatalf("%s wrong", k)
			}
		}
	}
	check()
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	check()
	// Space is reclaimed: live bytes equal what the model holds in blobs.
	var live int64
	for _, v := range model {
		if len(v) > defaultInlineThreshold {
			live += int64(len(v))
		}
	}
	if _, _, l := e.blobs.stats(); l != live {
		t.Fatalf("live bytes %d, model %d", l, live)
	}
}

// sparseSegments opens an engine with 4 MiB segments and fills four of
// them with 1 MiB values k0-k15, then deletes three of every four: every
// segment keeps one live value (k0, k4, k8, k12) and nothing is freed by
// deletion. It returns the engine and the value of ki.
func sparseSegments(t *testing.T, dram int64, compactEvery time.Duration) (*Engine, func(i int) []byte) {
	e := openTest(t, t.TempDir(), func(o *Options) {
		o.SegmentSize = 4 << 20
		o.CompactInterval = compactEvery
		o.DRAMCacheSize = dram
	})
	val := func(i int) []byte { return pattern(uint64(i), 1<<20-4096) }
	for i := 0; i < 16; i++ {
		mustPut(t, e, "", fmt.Sprint("k", i), val(i), PutOptions{})
	}
	for i := 0; i < 16; i++ {
		if i%4 != 0 {
			e.Delete("", [][]byte{[]byte(fmt.Sprint("k", i))})
		}
	}
	return e, val
}

func TestCompactionReclaimsDeadSpace(t *testing.T) {
	e, val := sparseSegments(t, 8<<20, 20*time.Millisecond)
	defer e.Close()
	e.Sync()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st := e.Stats(); st.NVMeCompactions >= 3 && st.NVMeUsed <= 8<<20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := e.Stats()
	if st.NVMeCompactions < 3 || st.NVMeUsed > 8<<20 {
		t.Fatalf("compactions %d, NVMe used %d MiB", st.NVMeCompactions, st.NVMeUsed>>20)
	}
	for i := 0; i < 16; i += 4 {
		if !bytes.Equal(mustGet(t, e, "", fmt.Sprint("k", i)), val(i)) {
			t.Fatalf("k%d wrong after compaction", i)
		}
	}
}

// Compaction writes values resident in DRAM from there and reads the others
// back; both must land whole, as reads from the NVMe tier show.
func TestCompactionMovesFromDRAM(t *testing.T) {
	// Compaction runs here, not in the background, so that it starts
	// after k0 and k4 left the DRAM tier.
	e, val := sparseSegments(t, 64<<20, time.Hour)
	defer e.Close()
	for _, k := range []string{"k0", "k4"} {
		e.cache.drop(appendMetaKey(nil, "", []byte(k)))
	}
	e.Sync()
	for id := e.blobs.compactionCandidate(); id != 0; id = e.blobs.compactionCandidate() {
		if !e.compactSegment(id) {
			t.Fatalf("compaction of segment %d stopped", id)
		}
	}
	st := e.Stats()
	if st.NVMeCompactions < 4 || st.NVMeMovedFromDRAM != 2 {
		t.Fatalf("compactions %d, moved from DRAM %d (want 2: k8, k12)", st.NVMeCompactions, st.NVMeMovedFromDRAM)
	}
	for i := 0; i < 16; i += 4 {
		k := fmt.Sprint("k", i)
		e.cache.drop(appendMetaKey(nil, "", []byte(k))) // read from the new blob
		if !bytes.Equal(mustGet(t, e, "", k), val(i)) {
			t.Fatalf("%s wrong after compaction", k)
		}
	}
	if st := e.Stats(); st.NVMeCorruptReads != 0 {
		t.Fatalf("%d corrupt reads", st.NVMeCorruptReads)
	}
}

// TestStreamWhileRelocating streams values with Open while other goroutines
// overwrite, delete and compact them: a reader must see whole, correct
// values or ErrNotFound, never a vanished segment.
func TestStreamWhileRelocating(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) {
		o.SegmentSize = 2 << 20
		o.DRAMCacheSize = 8 << 20
		o.CompactInterval = time.Millisecond
	})
	defer e.Close()
	vals := [][]byte{pattern(1, 700<<10), pattern(2, 900<<10)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := []byte(fmt.Sprint("k", i%3))
			if i%5 == 4 {
				e.Delete("", [][]byte{k})
			} else if _, err := e.PutBytes("", k, vals[i%2], PutOptions{}); err != nil {
				t.Error(err)
				return
			}
			e.cache.drop(appendMetaKey(nil, "", k)) // force NVMe reads
		}
	}()
	deadline := time.Now().Add(1500 * time.Millisecond)
	reads := 0
	for time.Now().Before(deadline) {
		v, err := e.Open("", []byte(fmt.Sprint("k", reads%3)))
		reads++
		if err == ErrNotFound {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		_, err = v.WriteRange(&w, 0, v.Len())
		v.Release()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if !bytes.Equal(w.Bytes(), vals[0]) && !bytes.Equal(w.Bytes(), vals[1]) {
			t.Fatal("streamed bytes match no written value")
		}
	}
	close(stop)
	wg.Wait()
}

// TestMetadataSurvivesDeviceLoss runs 2+1 over three device directories:
// the metadata store is mirrored on two of them, and losing any one
// device (blobs and metadata mirror together) loses nothing.
func TestMetadataSurvivesDeviceLoss(t *testing.T) {
	for lost := 0; lost < 3; lost++ {
		t.Run(fmt.Sprint("lose", lost), func(t *testing.T) {
			root := t.TempDir()
			devs := []string{filepath.Join(root, "d0"), filepath.Join(root, "d1"), filepath.Join(root, "d2")}
			mod := func(o *Options) { o.Devices, o.ECData, o.ECParity = devs, 2, 1 }
			e := openTest(t, filepath.Join(root, "dir"), mod)
			want := map[string][]byte{}
			for i := 0; i < 10; i++ {
				k := fmt.Sprint("k", i)
				want[k] = pattern(uint64(i), []int{10, 300 << 10, 2 << 20}[i%3])
				mustPut(t, e, "", k, want[k], PutOptions{})
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(devs[lost]); err != nil {
				t.Fatal(err)
			}
			// Restart with the devices listed in another order, too.
			devs[0], devs[2] = devs[2], devs[0]
			e = openTest(t, filepath.Join(root, "dir"), mod)
			for k, v := range want {
				if !bytes.Equal(mustGet(t, e, "", k), v) {
					t.Fatalf("%s wrong after losing device %d", k, lost)
				}
			}
			mustPut(t, e, "", "after", []byte("x"), PutOptions{})
			e.Close()
			// Every mirror now holds the store again: losing another device
			// still loses nothing.
			os.RemoveAll(devs[(lost+1)%3])
			e = openTest(t, filepath.Join(root, "dir"), mod)
			defer e.Close()
			if string(mustGet(t, e, "", "after")) != "x" || e.DBSize("") != 11 {
				t.Fatalf("metadata lost after a second single-device loss: %d keys", e.DBSize(""))
			}
		})
	}
}

func TestRefuseToStartWithoutMetadata(t *testing.T) {
	root := t.TempDir()
	devs := []string{filepath.Join(root, "d0"), filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	mod := func(o *Options) { o.Devices, o.ECData, o.ECParity = devs, 2, 1 }
	e := openTest(t, filepath.Join(root, "dir"), mod)
	mustPut(t, e, "", "k", pattern(1, 1<<20), PutOptions{})
	e.Close()
	os.RemoveAll(filepath.Join(devs[0], "meta"))
	os.RemoveAll(filepath.Join(devs[1], "meta"))
	if _, err := Open(Options{Dir: filepath.Join(root, "dir"), Devices: devs, ECData: 2, ECParity: 1}); err == nil || !strings.Contains(err.Error(), "refusing to start empty") {
		t.Fatalf("Open without any metadata mirror: %v", err)
	}
}

// TestRebuildReplacementDevice replaces a lost device with an empty one:
// the engine rebuilds it in the background, after which another device can
// go too.
func TestRebuildReplacementDevice(t *testing.T) {
	root := t.TempDir()
	devs := []string{filepath.Join(root, "d0"), filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	mod := func(o *Options) { o.Devices, o.ECData, o.ECParity = devs, 2, 1 }
	e := openTest(t, filepath.Join(root, "dir"), mod)
	for i := 0; i < 6; i++ {
		mustPut(t, e, "", fmt.Sprint("k", i), pattern(uint64(i), 1<<20+i), PutOptions{})
	}
	e.Close()
	os.RemoveAll(devs[1])
	os.MkdirAll(devs[1], 0o755) // the empty replacement
	e = openTest(t, filepath.Join(root, "dir"), mod)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.Devices()
		if !st.Degraded && !st.Rebuild.Running && st.Rebuild.FilesDone > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rebuild did not finish: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.Close()
	os.RemoveAll(devs[2])
	e = openTest(t, filepath.Join(root, "dir"), mod)
	defer e.Close()
	for i := 0; i < 6; i++ {
		if !bytes.Equal(mustGet(t, e, "", fmt.Sprint("k", i)), pattern(uint64(i), 1<<20+i)) {
			t.Fatalf("k%d wrong after rebuild and a second loss", i)
		}
	}
}

func TestPutMany(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	mustPut(t, e, "", "big", pattern(1, 1<<20), PutOptions{})
	mustPut(t, e, "", "ttl", []byte("x"), PutOptions{ExpireAt: time.Now().Add(time.Hour).UnixMilli()})
	keys := [][]byte{[]byte("a"), []byte("big"), []byte("ttl"), []byte("a")}
	vals := [][]byte{[]byte("1"), []byte("2"), []byte("3"), []byte("4")}
	if err := e.PutMany("", keys, vals); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	for k, want := range map[string]string{"a": "4", "big": "2", "ttl": "3"} {
		if got := string(mustGet(t, e, "", k)); got != want {
			t.Fatalf("%s = %q, want %q", k, got, want)
		}
	}
	if m, _ := e.Stat("", []byte("ttl")); m.ExpireAt != 0 {
		t.Fatal("PutMany kept an expiry")
	}
	if e.DBSize("") != 3 {
		t.Fatalf("DBSize = %d", e.DBSize(""))
	}
	if _, _, live := e.blobs.stats(); live != 0 {
		t.Fatal("the overwritten blob is still referenced")
	}
	if err := e.PutMany("", [][]byte{[]byte("x")}, [][]byte{make([]byte, 1<<20)}); err != ErrTooLarge {
		t.Fatalf("large value: %v", err)
	}
	// Concurrent PutMany calls over overlapping keys in different orders
	// must not deadlock (stripes are locked in index order).
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				ks := [][]byte{[]byte(fmt.Sprint("p", (i+g)%7)), []byte(fmt.Sprint("p", (i*3+g)%7)), []byte(fmt.Sprint("p", i%5))}
				if err := e.PutMany("", ks, [][]byte{[]byte("v"), []byte("v"), []byte("v")}); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

// TestStreamedPut fills buffers the way a front end does (ReadFrom, which
// reports filled pages) so chunks go to NVMe while the value arrives; values
// must read back identical, abandoned streams must free their space, and a
// restart must find everything.
func TestStreamedPut(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, func(o *Options) { o.SegmentSize = 64 << 20; o.DRAMCacheSize = 256 << 20 })
	sizes := []int{8 << 20, 8<<20 + 1, 32<<20 - 7, 33 << 20}
	if testing.Short() {
		sizes = []int{8<<20 + 1, 33 << 20} // across a stream chunk, and past the old cap
	}
	for i, n := range sizes {
		buf, err := e.NewBuffer(int64(n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := buf.ReadFrom(bytes.NewReader(pattern(uint64(i), n))); err != nil {
			t.Fatal(err)
		}
		if !buf.stream.active {
			t.Fatalf("size %d: not streamed", n)
		}
		if _, err := e.Put("", []byte(fmt.Sprint("s", i)), buf, PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A stream abandoned half way (client gone) must not leak its extent
	// or break the segment.
	buf, _ := e.NewBuffer(16 << 20)
	buf.ReadFrom(io.LimitReader(bytes.NewReader(pattern(9, 16<<20)), 10<<20))
	buf.Release()
	// NX refused after streaming: the value is dropped cleanly.
	buf, _ = e.NewBuffer(16 << 20)
	buf.ReadFrom(bytes.NewReader(pattern(9, 16<<20)))
	if r, err := e.Put("", []byte("s0"), buf, PutOptions{Cond: IfAbsent}); err != nil || r.Written {
		t.Fatalf("NX over existing: %v %v", r.Written, err)
	}
	e.Sync()
	check := func() {
		for i, n := range sizes {
			e.cache.drop(appendMetaKey(nil, "", []byte(fmt.Sprint("s", i))))
			if !bytes.Equal(mustGet(t, e, "", fmt.Sprint("s", i)), pattern(uint64(i), n)) {
				t.Fatalf("size %d: wrong bytes", n)
			}
		}
	}
	check()
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	check()
}

// TestSmallTiers: a tier smaller than the segment size still stores values
// up to about its capacity, and in cache mode keeps accepting writes.
func TestSmallTiers(t *testing.T) {
	for _, policy := range []Policy{NoEviction, EvictLRU} {
		e := openTest(t, t.TempDir(), func(o *Options) {
			o.NVMeCapacity, o.SegmentSize, o.Policy = 16<<20, 256<<20, policy
		})
		stored := 0
		for i := 0; i < 64; i++ {
			_, err := e.PutBytes("", []byte(fmt.Sprint("k", i)), pattern(uint64(i), 512<<10), PutOptions{})
			if err == ErrNoSpace && policy == NoEviction {
				break
			}
			if err != nil {
				t.Fatalf("policy %d: put %d: %v", policy, i, err)
			}
			stored++
		}
		if policy == NoEviction && stored < 16 {
			t.Fatalf("only %d x 512 KiB stored in a 16 MiB tier", stored)
		}
		if policy == EvictLRU && stored != 64 {
			t.Fatalf("cache mode stopped after %d writes", stored)
		}
		e.Close()
	}
}

func TestScanMatchSeeksToLiteralPrefix(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	for i := 0; i < 300; i++ {
		mustPut(t, e, "", fmt.Sprintf("a:%03d", i), []byte("x"), PutOptions{})
	}
	mustPut(t, e, "", "user:1", []byte("x"), PutOptions{})
	var got []string
	next, err := e.Scan("", ScanOptions{Match: []byte("user:*"), Limit: 1}, func(k []byte, _ *Meta) bool {
		got = append(got, string(k))
		return true
	})
	if err != nil || len(got) != 1 || got[0] != "user:1" || next != nil {
		t.Fatalf("SCAN MATCH user:* COUNT 1 = %v, next %q, %v: should seek past the a: keys", got, next, err)
	}
	if !matchGlob([]byte(`us\*r`), []byte("us*r")) || string(globPrefix([]byte(`us\*r`))) != "us" {
		t.Fatal("escaped pattern")
	}
}

// TestLostStripesStayDegraded: losing more devices than there is parity and
// rebuilding onto blank replacements cannot restore the data; the volume
// must keep reporting degraded instead of "ok" once the slots are rebuilt.
func TestLostStripesStayDegraded(t *testing.T) {
	root := t.TempDir()
	devs := []string{filepath.Join(root, "d0"), filepath.Join(root, "d1"), filepath.Join(root, "d2"), filepath.Join(root, "d3")}
	mod := func(o *Options) { o.Devices, o.ECData, o.ECParity = devs, 2, 2 }
	e := openTest(t, filepath.Join(root, "dir"), mod)
	mustPut(t, e, "", "k", pattern(1, 2<<20), PutOptions{})
	e.Close()
	// Lose d1, d2 and d3 (three devices with two parity): the metadata
	// survives on d0's mirror, every blob stripe keeps one shard of four.
	for _, d := range devs[1:] {
		os.RemoveAll(d)
		os.MkdirAll(d, 0o755)
	}
	e = openTest(t, filepath.Join(root, "dir"), mod)
	defer e.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.Devices()
		if !rebuilding(st) && !st.Rebuild.Running && e.repair.lost.Load() > 0 {
			if !st.Degraded {
				t.Fatalf("stripes lost but the volume reports not degraded: %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rebuild did not report lost stripes: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := e.Get("", []byte("k")); err == nil {
		t.Fatal("a value beyond repair read back without error")
	}
}

// TestVanishedDeviceIsMarkedFailed removes a device directory under a
// running engine: the repair loop's check marks it failed (INFO shows it),
// and reads keep returning the right bytes from the other devices.
func TestVanishedDeviceIsMarkedFailed(t *testing.T) {
	root := t.TempDir()
	devs := []string{filepath.Join(root, "d0"), filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	e := openTest(t, filepath.Join(root, "dir"), func(o *Options) { o.Devices, o.ECData, o.ECParity = devs, 2, 1 })
	defer e.Close()
	want := pattern(3, 3<<20)
	mustPut(t, e, "", "k", want, PutOptions{})
	os.RemoveAll(devs[2])
	deadline := time.Now().Add(12 * time.Second)
	for {
		st := e.Devices()
		failed := 0
		for _, d := range st.Devices {
			if d.State == ec.DeviceFailed {
				failed++
			}
		}
		if failed == 1 && st.Degraded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vanished device not reported failed: %+v", st.Devices)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.cache.drop(appendMetaKey(nil, "", []byte("k")))
	if !bytes.Equal(mustGet(t, e, "", "k"), want) {
		t.Fatal("wrong bytes with one device gone")
	}
}

// TestComposeResidentSharesPages composes values resident in the DRAM tier:
// the result is resident too, made of the same arena pages, which stay
// until neither the sources nor the result hold them.
func TestComposeResidentSharesPages(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	p1, p2, p3 := pattern(1, 2<<20), pattern(2, 1<<20), pattern(3, 300<<10+7)
	for i, p := range [][]byte{p1, p2, p3} {
		mustPut(t, e, "parts", fmt.Sprint(i), p, PutOptions{})
	}
	used := e.Stats().DRAMUsed
	srcs := []Source{{KS: "parts", Key: []byte("0"), Len: -1}, {KS: "parts", Key: []byte("1"), Len: -1}, {KS: "parts", Key: []byte("2"), Len: -1}}
	if _, err := e.Compose("b", []byte("obj"), srcs, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := e.Stats().DRAMUsed; got != used {
		t.Fatalf("Compose of resident values took DRAM: %d bytes in use, %d before", got, used)
	}
	e.Delete("parts", [][]byte{[]byte("0"), []byte("1"), []byte("2")})
	want := append(append(append([]byte(nil), p1...), p2...), p3...)
	misses := e.Stats().DRAMMisses
	if !bytes.Equal(mustGet(t, e, "b", "obj"), want) {
		t.Fatal("composed value wrong")
	}
	if e.Stats().DRAMMisses != misses {
		t.Fatal("composed value of resident parts was not resident")
	}
	if got := e.Stats().DRAMUsed; got != used {
		t.Fatalf("%d bytes in use after the parts went, want the %d they shared", got, used)
	}
	e.Delete("b", [][]byte{[]byte("obj")})
	if got := e.Stats().DRAMUsed; got != 0 {
		t.Fatalf("%d bytes still in use after every holder let go", got)
	}
	// A source that is not a whole number of pages, other than the last,
	// cannot share: the result is still right, read from the NVMe tier.
	mustPut(t, e, "parts", "odd", p3, PutOptions{})
	mustPut(t, e, "parts", "1", p2, PutOptions{})
	srcs = []Source{{KS: "parts", Key: []byte("odd"), Len: -1}, {KS: "parts", Key: []byte("1"), Len: -1}}
	if _, err := e.Compose("b", []byte("odd"), srcs, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustGet(t, e, "b", "odd"), append(append([]byte(nil), p3...), p2...)) {
		t.Fatal("composed value of unaligned parts wrong")
	}
}

// Values from 2 MiB up stream to the NVMe tier as their pages fill, in
// chunks of about a quarter of the value (1-4 MiB). Around each size where
// the chunking changes, on one device and on 2+1 erasure coding, a
// streamed value reads back whole from DRAM and, after a restart, from
// the NVMe tier.
func TestStreamedPutSizes(t *testing.T) {
	sizes := []int64{2<<20 - 1, 2 << 20, 2<<20 + 100, 4<<20 + 5, 8<<20 - 3, 9<<20 + 3, 16<<20 + 4096, 17 << 20}
	if testing.Short() {
		// Either side of the streaming threshold, and one past two chunks.
		sizes = []int64{2<<20 - 1, 2 << 20, 16<<20 + 4096}
	}
	for _, ec := range []bool{false, true} {
		t.Run(fmt.Sprint("ec=", ec), func(t *testing.T) {
			root := t.TempDir()
			var mod func(*Options)
			if ec {
				devs := []string{filepath.Join(root, "d0"), filepath.Join(root, "d1"), filepath.Join(root, "d2")}
				mod = func(o *Options) { o.Devices, o.ECData, o.ECParity = devs, 2, 1 }
			}
			e := openTest(t, filepath.Join(root, "dir"), mod)
			for i, size := range sizes {
				val := pattern(uint64(300+i), int(size))
				b, err := e.NewBuffer(size)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.ReadFrom(bytes.NewReader(val)); err != nil {
					t.Fatal(err)
				}
				if want := size >= 2<<20; b.Streaming() != want {
					t.Fatalf("%d bytes: streaming %v, want %v", size, b.Streaming(), want)
				}
				if _, err := e.Put("", []byte(fmt.Sprint("s", size)), b, PutOptions{}); err != nil {
					t.Fatal(err)
				}
				if got := mustGet(t, e, "", fmt.Sprint("s", size)); !bytes.Equal(got, val) {
					t.Fatalf("%d bytes: read back differs", size)
				}
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e = openTest(t, filepath.Join(root, "dir"), mod)
			defer e.Close()
			for i, size := range sizes {
				if got := mustGet(t, e, "", fmt.Sprint("s", size)); !bytes.Equal(got, pattern(uint64(300+i), int(size))) {
					t.Fatalf("%d bytes after restart: read back differs", size)
				}
			}
		})
	}
}
