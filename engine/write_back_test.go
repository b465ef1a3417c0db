package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gpucache/gpucache/nvme"
)

// TestWriteBackModel drives small-string writes (which take the write-back
// tier) mixed with writes that go through the metadata store over the same
// keys (deletes, expiries, hashes, renames, groups) against a reference
// map. At random points the tier is drained to the store, the engine is
// restarted cleanly, or it is crashed as kill -9 crashes it (every byte
// written to the operating system kept, nothing else): after each, every
// key must read as the model says, and SCAN must list the model's keys.
func TestWriteBackModel(t *testing.T) {
	inner := nvme.NewMem("dev0", 1<<30)
	open := func(fs vfs.FS) *Engine {
		e, err := Open(Options{
			Dir: "/db", Devices: []string{"dev0"}, ECData: 1, MetadataFS: fs,
			DRAMCacheSize: 64 << 20, SegmentSize: 4 << 20, MetadataCacheSize: 8 << 20,
			OpenDevice:     func(string) (nvme.Device, error) { return inner, nil },
			writeBackFlush: 16 << 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	mem := vfs.NewCrashableMem()
	e := open(mem)
	defer func() { e.Close() }()

	type entry struct {
		val  []byte
		hash bool // a hash with one field "f" holding val
	}
	model := map[string]entry{}
	r := rand.New(rand.NewPCG(1, 2))
	key := func() string { return fmt.Sprintf("k%02d", r.IntN(40)) }
	val := func() []byte { return fmt.Appendf(nil, "v%d-%s", r.IntN(1000), bytes.Repeat([]byte("x"), r.IntN(300))) }
	hashSet := func(g *Engine, k string, v []byte) error {
		return g.Txn("", [][]byte{[]byte(k)}, func(tx *Txn) error {
			_, err := tx.HashSet(0, []byte("f"), v, false)
			return err
		})
	}

	check := func(step int, what string) {
		t.Helper()
		for i := range 40 {
			k := fmt.Sprintf("k%02d", i)
			want, ok := model[k]
			v, err := e.Get("", []byte(k))
			switch {
			case !ok:
				if err == nil {
					v.Release()
					t.Fatalf("step %d (%s): %s exists, want absent", step, what, k)
				}
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("step %d (%s): GET %s: %v", step, what, k, err)
				}
			case want.hash:
				if err != nil {
					t.Fatalf("step %d (%s): GET %s: %v", step, what, k, err)
				}
				typ := v.meta.Type
				v.Release()
				if typ != TypeHash {
					t.Fatalf("step %d (%s): %s is a %v, want a hash", step, what, k, typ)
				}
			default:
				if err != nil {
					t.Fatalf("step %d (%s): GET %s: %v", step, what, k, err)
				}
				got, _ := v.AppendTo(nil)
				v.Release()
				if !bytes.Equal(got, want.val) {
					t.Fatalf("step %d (%s): %s = %.20q, want %.20q", step, what, k, got, want.val)
				}
			}
		}
		n := 0
		if _, err := e.Scan("", ScanOptions{}, func(k []byte, m *Meta) bool {
			if _, ok := model[string(k)]; !ok {
				t.Errorf("step %d (%s): SCAN lists %s, which the model does not hold", step, what, k)
			}
			n++
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if n != len(model) || e.DBSize("") != int64(len(model)) {
			t.Fatalf("step %d (%s): SCAN lists %d keys, DBSIZE %d, want %d", step, what, n, e.DBSize(""), len(model))
		}
	}

	var flushes, evicts int64
	reopen := func(fs vfs.FS) {
		wb := e.WriteBack()
		flushes, evicts = flushes+wb.Flushes, evicts+wb.Evicts
		e.Close()
		mem = fs.(*vfs.MemFS)
		e = open(mem)
	}
	const steps = 3000
	for step := range steps {
		var err error
		op := r.IntN(100)
		switch {
		case op < 40: // SET
			k, v := key(), val()
			if _, err = e.PutBytes("", []byte(k), v, PutOptions{}); err == nil || errors.Is(err, ErrWrongType) {
				err = nil
				model[k] = entry{val: v}
			}
		case op < 55: // MSET
			keys := [][]byte{[]byte(key()), []byte(key()), []byte(key())}
			vals := [][]byte{val(), val(), val()}
			if err = e.PutMany("", keys, vals); err == nil {
				for i, k := range keys {
					model[string(k)] = entry{val: vals[i]}
				}
			}
		case op < 65: // APPEND
			k, v := key(), val()
			err = e.Update("", []byte(k), func(cur *Value) (Update, error) {
				var old []byte
				if cur != nil {
					old, _ = cur.AppendTo(nil)
				}
				return Update{Action: UpdateReplace, Value: append(old, v...)}, nil
			})
			if m := model[k]; errors.Is(err, ErrWrongType) && m.hash {
				err = nil
			} else if err == nil {
				model[k] = entry{val: append(bytes.Clone(model[k].val), v...)}
			}
		case op < 75: // DEL
			k := key()
			if _, err = e.Delete("", [][]byte{[]byte(k)}); err == nil {
				delete(model, k)
			}
		case op < 80: // EXPIRE far away: the key leaves the tier
			k := key()
			if _, err = e.Expire("", []byte(k), time.Now().Add(time.Hour).UnixMilli(), ExpireAlways); err == nil {
				_, err = e.Persist("", []byte(k))
			}
		case op < 86: // HSET over whatever is there, after a DEL
			k, v := key(), val()
			if _, err = e.Delete("", [][]byte{[]byte(k)}); err == nil {
				if err = hashSet(e, k, v); err == nil {
					model[k] = entry{val: v, hash: true}
				}
			}
		case op < 90: // RENAME
			src, dst := key(), key()
			var ok bool
			ok, err = e.Rename("", []byte(src), []byte(dst), false)
			if errors.Is(err, ErrNotFound) {
				err = nil
			} else if err == nil && ok {
				m := model[src]
				delete(model, src)
				model[dst] = m
			}
		case op < 94: // MULTI: SET, DEL, SET
			a, b, v1, v2 := key(), key(), val(), val()
			err = e.Group(func(g *Engine) error {
				if _, err := g.PutBytes("", []byte(a), v1, PutOptions{}); err != nil {
					return err
				}
				if _, err := g.Delete("", [][]byte{[]byte(b)}); err != nil {
					return err
				}
				_, err := g.PutBytes("", []byte(b), v2, PutOptions{})
				return err
			})
			if err == nil {
				model[a] = entry{val: v1}
				model[b] = entry{val: v2}
			}
		case op < 96:
			e.drain()
			check(step, "drained")
		case op < 98:
			reopen(mem)
			check(step, "restarted")
		default:
			// kill -9: what reached the operating system stays.
			reopen(mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(uint64(step), 1))}))
			check(step, "crashed")
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if err := e.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	check(steps, "end")
	wb := e.WriteBack()
	t.Logf("write-back tier: %d flushes, %d evictions", flushes+wb.Flushes, evicts+wb.Evicts)
	if flushes+wb.Flushes == 0 || evicts+wb.Evicts == 0 {
		t.Error("the tier never flushed or never evicted: the test misses what it is about")
	}
}

// TestWriteBackEvictionMark: a key written to the tier and then deleted
// (or given an expiry) through the store must stay so after a crash, even
// though the tier's log still holds its value: the eviction mark the
// store keeps makes replay skip it.
func TestWriteBackEvictionMark(t *testing.T) {
	mem := vfs.NewCrashableMem()
	open := func(fs vfs.FS) *Engine {
		return openTest(t, "/db", func(o *Options) {
			o.MetadataFS = fs
			o.Devices = []string{"dev0"}
			inner := nvme.NewMem("dev0", 1<<30)
			o.OpenDevice = func(string) (nvme.Device, error) { return inner, nil }
		})
	}
	e := open(mem)
	if _, err := e.PutBytes("", []byte("a"), []byte("1"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutBytes("", []byte("b"), []byte("2"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := e.WriteBack().Keys; n != 2 {
		t.Fatalf("%d keys in the write-back tier, want 2", n)
	}
	if _, err := e.Delete("", [][]byte{[]byte("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Expire("", []byte("b"), time.Now().Add(time.Hour).UnixMilli(), ExpireAlways); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	if wb := e.WriteBack(); wb.Keys != 0 || wb.Evicts != 2 {
		t.Fatalf("write-back tier after DEL and EXPIRE: %+v, want no keys and 2 evictions", wb)
	}
	crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 1))})
	e.Close()
	e = open(crashed)
	defer e.Close()
	if _, err := e.Get("", []byte("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a after the crash: %v, want not found (deleted)", err)
	}
	if got := mustGet(t, e, "", "b"); string(got) != "2" {
		t.Errorf("b after the crash = %q, want 2", got)
	}
	if ttl, err := e.Stat("", []byte("b")); err != nil || ttl.ExpireAt == 0 {
		t.Errorf("b after the crash: %+v, %v: want its expiry kept", ttl, err)
	}
}

// TestWriteBackSetAllocs: a pipelined run of small SETs through the tier
// allocates nothing in steady state.
func TestWriteBackSetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	keys := make([][]byte, 16)
	vals := make([][]byte, 16)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
		vals[i] = bytes.Repeat([]byte{'v'}, 100)
	}
	for range 100 {
		if err := e.PutManySync("", keys, vals); err != nil {
			t.Fatal(err)
		}
	}
	if e.WriteBack().Keys != 16 {
		t.Fatalf("write-back tier holds %d keys, want 16", e.WriteBack().Keys)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if err := e.PutManySync("", keys, vals); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per pipelined run of 16 SETs, want 0", allocs)
	}
}
