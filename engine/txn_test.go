package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

func txn(t testing.TB, e *Engine, keys []string, fn func(tx *Txn) error) {
	t.Helper()
	bk := make([][]byte, len(keys))
	for i, k := range keys {
		bk[i] = []byte(k)
	}
	if err := e.Txn("", bk, fn); err != nil {
		t.Fatalf("Txn %v: %v", keys, err)
	}
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
}

func hashAll(t testing.TB, e *Engine, key string) map[string]string {
	t.Helper()
	out := map[string]string{}
	txn(t, e, []string{key}, func(tx *Txn) error {
		return tx.HashRange(0, nil, func(f, v []byte) bool {
			out[string(f)] = string(v)
			return true
		})
	})
	return out
}

func TestHashBasics(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		for i := 0; i < 10; i++ {
			added, err := tx.HashSet(0, []byte(fmt.Sprint("f", i)), []byte(fmt.Sprint("v", i)), false)
			if err != nil || !added {
				return fmt.Errorf("HashSet f%d: added=%v err=%v", i, added, err)
			}
		}
		if added, err := tx.HashSet(0, []byte("f3"), []byte("new"), false); err != nil || added {
			return fmt.Errorf("overwrite reported added=%v err=%v", added, err)
		}
		if added, err := tx.HashSet(0, []byte("f4"), []byte("nx"), true); err != nil || added {
			return fmt.Errorf("NX on existing field: added=%v err=%v", added, err)
		}
		return nil
	})
	if m, err := e.Stat("", []byte("h")); err != nil || m.Type != TypeHash || m.Size != 10 {
		t.Fatalf("Stat = %+v, %v; want a hash of 10", m, err)
	}
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		if ok, err := tx.HashDelete(0, []byte("f0")); !ok || err != nil {
			return fmt.Errorf("HashDelete f0 = %v, %v", ok, err)
		}
		if ok, err := tx.HashDelete(0, []byte("nope")); ok || err != nil {
			return fmt.Errorf("HashDelete nope = %v, %v", ok, err)
		}
		return nil
	})
	e.Close()
	e = openTest(t, dir, nil) // everything survives a restart
	defer e.Close()
	got := hashAll(t, e, "h")
	if len(got) != 9 || got["f3"] != "new" || got["f4"] != "v4" || got["f0"] != "" {
		t.Fatalf("after restart: %v", got)
	}
	if e.DBSize("") != 1 {
		t.Fatalf("DBSize = %d", e.DBSize(""))
	}
	// The string path answers WRONGTYPE-worthy metadata, and string
	// reads of a hash key see its type.
	v, err := e.Get("", []byte("h"))
	if err != nil || v.Meta().Type != TypeHash {
		t.Fatalf("Get of a hash: %v", err)
	}
	v.Release()
	if err := e.Update("", []byte("h"), func(*Value) (Update, error) { return Update{}, nil }); !errors.Is(err, ErrWrongType) {
		t.Fatalf("Update of a hash = %v, want ErrWrongType", err)
	}
}

func TestCollectionWrongType(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	mustPut(t, e, "", "s", []byte("x"), PutOptions{})
	err := e.Txn("", [][]byte{[]byte("s")}, func(tx *Txn) error {
		_, err := tx.HashSet(0, []byte("f"), []byte("v"), false)
		return err
	})
	if !errors.Is(err, ErrWrongType) {
		t.Fatalf("HashSet on a string = %v", err)
	}
	txn(t, e, []string{"z"}, func(tx *Txn) error { _, err := tx.SetAdd(0, []byte("m")); return err })
	for name, fn := range map[string]func(tx *Txn) error{
		"HashGet":   func(tx *Txn) error { _, _, err := tx.HashGet(0, []byte("f"), nil); return err },
		"ListPush":  func(tx *Txn) error { return tx.ListPush(0, []byte("f"), true) },
		"ZSetAdd":   func(tx *Txn) error { _, _, err := tx.ZSetAdd(0, []byte("f"), 1); return err },
		"ZSetScore": func(tx *Txn) error { _, _, err := tx.ZSetScore(0, []byte("f")); return err },
	} {
		if err := e.Txn("", [][]byte{[]byte("z")}, fn); !errors.Is(err, ErrWrongType) {
			t.Errorf("%s on a set = %v", name, err)
		}
	}
	// SET replaces a collection; the collection's sub-keys go with it.
	mustPut(t, e, "", "z", []byte("str"), PutOptions{})
	if got := string(mustGet(t, e, "", "z")); got != "str" {
		t.Fatalf("z = %q", got)
	}
	if e.DBSize("") != 2 {
		t.Fatalf("DBSize = %d", e.DBSize(""))
	}
}

func countSubkeys(t testing.TB, e *Engine) int {
	t.Helper()
	it, err := e.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for valid := it.SeekGE([]byte{prefixSub}); valid && it.Key()[0] == prefixSub; valid = it.Next() {
		n++
	}
	return n
}

func TestDeleteLargeHashReclaims(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	const n = 20000
	val := bytes.Repeat([]byte("v"), 100)
	for b := 0; b < n; b += 1000 {
		txn(t, e, []string{"big"}, func(tx *Txn) error {
			for i := b; i < b+1000; i++ {
				if _, err := tx.HashSet(0, []byte(fmt.Sprintf("field:%08d", i)), val, false); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := e.db.Flush(); err != nil {
		t.Fatal(err)
	}
	before := tablesSize(e)
	done := e.reclaim.done.Load()
	start := time.Now()
	if n, err := e.Delete("", [][]byte{[]byte("big")}); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Delete of %d fields took %v", n, d)
	}
	if got := countSubkeys(t, e); got != 0 {
		t.Fatalf("%d sub-keys visible after DEL", got)
	}
	deadline := time.Now().Add(20 * time.Second)
	for e.reclaim.done.Load() == done {
		if time.Now().After(deadline) {
			t.Fatal("the deleted range was not compacted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := tablesSize(e)
	if after > before/10 {
		t.Fatalf("sstables %d -> %d bytes after DEL: space not reclaimed", before, after)
	}
}

// tablesSize is the metadata store's sstable bytes on disk.
func tablesSize(e *Engine) int64 {
	m := e.db.Metrics()
	var n int64
	for _, l := range m.Levels {
		n += l.TablesSize
	}
	return n
}

func TestVersionsNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	var last uint64
	txn(t, e, []string{"h"}, func(tx *Txn) error { _, err := tx.HashSet(0, []byte("f"), []byte("v"), false); return err })
	m, _ := e.Stat("", []byte("h"))
	last = m.Version
	if _, err := e.Delete("", [][]byte{[]byte("h")}); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	e.Close()
	// The deleted hash had the highest version; nothing on disk records
	// it but the ceiling.
	e = openTest(t, dir, nil)
	defer e.Close()
	txn(t, e, []string{"h"}, func(tx *Txn) error { _, err := tx.HashSet(0, []byte("g"), []byte("v"), false); return err })
	m, _ = e.Stat("", []byte("h"))
	if m.Version <= last {
		t.Fatalf("version %d after restart, deleted one was %d", m.Version, last)
	}
	if got := hashAll(t, e, "h"); len(got) != 1 || got["g"] != "v" {
		t.Fatalf("new hash sees %v", got)
	}
}

func TestSetAndCopyRename(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	txn(t, e, []string{"s"}, func(tx *Txn) error {
		for _, m := range []string{"b", "a", "c", "a"} {
			if _, err := tx.SetAdd(0, []byte(m)); err != nil {
				return err
			}
		}
		return nil
	})
	members := func(key string) string {
		var out []string
		txn(t, e, []string{key}, func(tx *Txn) error {
			return tx.SetRange(0, nil, func(m []byte) bool { out = append(out, string(m)); return true })
		})
		return fmt.Sprint(out)
	}
	if got := members("s"); got != "[a b c]" {
		t.Fatalf("members = %s", got)
	}
	if ok, err := e.Copy("", []byte("s"), []byte("s2"), false); !ok || err != nil {
		t.Fatalf("Copy = %v, %v", ok, err)
	}
	txn(t, e, []string{"s"}, func(tx *Txn) error { _, err := tx.SetRemove(0, []byte("a")); return err })
	if got := members("s2"); got != "[a b c]" {
		t.Fatalf("copy changed with its source: %s", got)
	}
	if ok, err := e.Rename("", []byte("s2"), []byte("s3"), false); !ok || err != nil {
		t.Fatalf("Rename = %v, %v", ok, err)
	}
	if got := members("s3"); got != "[a b c]" {
		t.Fatalf("renamed set = %s", got)
	}
	if _, err := e.Stat("", []byte("s2")); err != ErrNotFound {
		t.Fatalf("old name: %v", err)
	}
	// Removing the last member deletes the key.
	txn(t, e, []string{"s"}, func(tx *Txn) error {
		for _, m := range []string{"b", "c"} {
			if _, err := tx.SetRemove(0, []byte(m)); err != nil {
				return err
			}
		}
		return nil
	})
	if _, err := e.Stat("", []byte("s")); err != ErrNotFound {
		t.Fatalf("emptied set still exists: %v", err)
	}
	if e.DBSize("") != 1 {
		t.Fatalf("DBSize = %d", e.DBSize(""))
	}
}

func TestZSetOrder(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	scores := map[string]float64{"a": 3, "b": -1.5, "c": 0, "d": math.Inf(1), "e": math.Inf(-1), "f": 3, "g": math.Copysign(0, -1), "h": 1e300}
	txn(t, e, []string{"z"}, func(tx *Txn) error {
		for m, s := range scores {
			if _, _, err := tx.ZSetAdd(0, []byte(m), s+1); err != nil {
				return err
			}
		}
		for m, s := range scores {
			if _, _, err := tx.ZSetAdd(0, []byte(m), s); err != nil {
				return err
			}
		}
		return nil
	})
	var order []string
	txn(t, e, []string{"z"}, func(tx *Txn) error {
		return tx.ZSetByScore(0, math.Inf(-1), math.Inf(1), false, func(m []byte, _ float64) bool {
			order = append(order, string(m))
			return true
		})
	})
	if got := fmt.Sprint(order); got != "[e b c g a f h d]" {
		t.Fatalf("order %s", got)
	}
	var rng []string
	txn(t, e, []string{"z"}, func(tx *Txn) error {
		return tx.ZSetByScore(0, 0, 3, true, func(m []byte, s float64) bool {
			rng = append(rng, fmt.Sprintf("%s %v", m, s))
			return true
		})
	})
	if got := fmt.Sprint(rng); got != "[f 3 a 3 g 0 c 0]" {
		t.Fatalf("range [0,3] reversed: %s", got)
	}
	txn(t, e, []string{"z"}, func(tx *Txn) error {
		r, s, ok, err := tx.ZSetRank(0, []byte("a"), false)
		if err != nil || !ok || r != 4 || s != 3 {
			return fmt.Errorf("rank a = %d %v %v %v", r, s, ok, err)
		}
		if tx.Size(0) != int64(len(scores)) {
			return fmt.Errorf("size %d", tx.Size(0))
		}
		return nil
	})
}

func TestListOps(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	txn(t, e, []string{"l"}, func(tx *Txn) error {
		for _, v := range []string{"c", "b", "a"} {
			if err := tx.ListPush(0, []byte(v), true); err != nil {
				return err
			}
		}
		for _, v := range []string{"d", "e"} {
			if err := tx.ListPush(0, []byte(v), false); err != nil {
				return err
			}
		}
		return nil
	})
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	all := func() string {
		var out []string
		txn(t, e, []string{"l"}, func(tx *Txn) error {
			n, err := tx.ListLen(0)
			if err != nil {
				return err
			}
			return tx.ListRange(0, 0, n-1, false, func(_ int64, v []byte) bool { out = append(out, string(v)); return true })
		})
		return fmt.Sprint(out)
	}
	if got := all(); got != "[a b c d e]" {
		t.Fatalf("list %s", got)
	}
	txn(t, e, []string{"l"}, func(tx *Txn) error {
		v, ok, err := tx.ListPop(0, true, nil)
		if string(v) != "a" || !ok || err != nil {
			return fmt.Errorf("lpop %q %v %v", v, ok, err)
		}
		v, ok, err = tx.ListPop(0, false, nil)
		if string(v) != "e" || !ok || err != nil {
			return fmt.Errorf("rpop %q %v %v", v, ok, err)
		}
		if _, err := tx.ListLen(0); err != nil {
			return err
		}
		tx.ListRewrite(0, 1, [][]byte{[]byte("x"), []byte("c"), []byte("d")})
		return nil
	})
	if got := all(); got != "[b x c d]" {
		t.Fatalf("after rewrite %s", got)
	}
	txn(t, e, []string{"l"}, func(tx *Txn) error { tx.ListLen(0); tx.ListTrim(0, 1, 2); return nil })
	if got := all(); got != "[x c]" {
		t.Fatalf("after trim %s", got)
	}
	txn(t, e, []string{"l"}, func(tx *Txn) error { tx.ListLen(0); tx.ListTrim(0, 1, 0); return nil })
	if _, err := e.Stat("", []byte("l")); err != ErrNotFound {
		t.Fatalf("emptied list: %v", err)
	}
}

func TestCollectionExpiry(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.ExpireInterval = 5 * time.Millisecond })
	defer e.Close()
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		for i := 0; i < 100; i++ {
			if _, err := tx.HashSet(0, []byte(fmt.Sprint(i)), []byte("v"), false); err != nil {
				return err
			}
		}
		return nil
	})
	if ok, err := e.Expire("", []byte("h"), nowMs()+30, ExpireAlways); !ok || err != nil {
		t.Fatalf("Expire = %v, %v", ok, err)
	}
	if m, err := e.Stat("", []byte("h")); err != nil || m.Size != 100 || m.ExpireAt == 0 {
		t.Fatalf("after Expire: %+v %v", m, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.DBSize("") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("hash did not expire")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := countSubkeys(t, e); n != 0 {
		t.Fatalf("%d sub-keys left after expiry", n)
	}
}

// A collection that empties is remembered as absent; every way a key
// comes back (a large value, RENAME, COPY, a new collection) must be seen.
func TestEmptiedKeyComesBack(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	empty := func(key string) {
		txn(t, e, []string{key}, func(tx *Txn) error { _, err := tx.SetAdd(0, []byte("m")); return err })
		txn(t, e, []string{key}, func(tx *Txn) error { _, err := tx.SetRemove(0, []byte("m")); return err })
		if _, err := e.Stat("", []byte(key)); err != ErrNotFound {
			t.Fatalf("%s after emptying: %v", key, err)
		}
	}
	empty("big")
	val := pattern(3, 200<<10)
	mustPut(t, e, "", "big", val, PutOptions{})
	if got := mustGet(t, e, "", "big"); !bytes.Equal(got, val) {
		t.Fatalf("large value over an emptied set: %d bytes", len(got))
	}
	empty("dst")
	mustPut(t, e, "", "src", []byte("v"), PutOptions{})
	if ok, err := e.Rename("", []byte("src"), []byte("dst"), false); !ok || err != nil {
		t.Fatalf("Rename = %v %v", ok, err)
	}
	if got := string(mustGet(t, e, "", "dst")); got != "v" {
		t.Fatalf("renamed onto an emptied key: %q", got)
	}
	empty("cp")
	if ok, err := e.Copy("", []byte("dst"), []byte("cp"), false); !ok || err != nil {
		t.Fatalf("Copy = %v %v", ok, err)
	}
	if got := string(mustGet(t, e, "", "cp")); got != "v" {
		t.Fatalf("copied onto an emptied key: %q", got)
	}
	empty("h")
	txn(t, e, []string{"h"}, func(tx *Txn) error { _, err := tx.HashSet(0, []byte("f"), []byte("v"), false); return err })
	if m, err := e.Stat("", []byte("h")); err != nil || m.Type != TypeHash {
		t.Fatalf("hash over an emptied set: %+v %v", m, err)
	}
	if n, err := e.Exists("", [][]byte{[]byte("big"), []byte("dst"), []byte("cp"), []byte("h")}); n != 4 || err != nil {
		t.Fatalf("Exists = %d %v", n, err)
	}
}
