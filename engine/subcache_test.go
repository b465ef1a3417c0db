package engine

import (
	"fmt"
	"testing"
)

// TestSubCache checks that the sub-key cache answers exactly as the store:
// fields added, overwritten and deleted in one Txn and across Txns, a
// group's writes, a replaced version, and the cache-less path after a
// reopen.
func TestSubCache(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	defer func() { e.Close() }()
	set := func(f string) bool {
		var isNew bool
		txn(t, e, []string{"h"}, func(tx *Txn) error {
			var err error
			isNew, err = tx.HashSet(0, []byte(f), []byte("v"+f), false)
			return err
		})
		return isNew
	}
	// Several writes of one field in a Txn: the second sees the first.
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		for _, want := range []bool{true, false} {
			if isNew, err := tx.HashSet(0, []byte("a"), []byte("1"), false); err != nil || isNew != want {
				t.Fatalf("HashSet a = %v, %v; want %v", isNew, err, want)
			}
		}
		if ok, err := tx.HashDelete(0, []byte("a")); !ok || err != nil {
			t.Fatalf("HashDelete a = %v, %v", ok, err)
		}
		_, err := tx.HashSet(0, []byte("b"), []byte("2"), false)
		return err
	})
	v := func() uint64 {
		var ver uint64
		txn(t, e, []string{"h"}, func(tx *Txn) error {
			m, _, err := tx.Meta(0)
			ver = m.Version
			return err
		})
		return ver
	}
	if e.subs.get(v()) == nil {
		t.Fatal("a hash created here has no cached set")
	}
	if !set("a") || set("a") || set("b") || !set("c") {
		t.Fatal("HashSet new/existing answers wrong")
	}
	// A failed Txn leaves the cache as the store.
	err := e.Txn("", [][]byte{[]byte("h")}, func(tx *Txn) error {
		if _, err := tx.HashSet(0, []byte("d"), nil, false); err != nil {
			return err
		}
		return fmt.Errorf("fail")
	})
	if err == nil {
		t.Fatal("Txn did not fail")
	}
	if !set("d") {
		t.Fatal("a field of a failed Txn is seen")
	}
	// A group's writes drop the set; answers stay right.
	if err := e.Group(func(g *Engine) error {
		return g.Txn("", [][]byte{[]byte("h")}, func(tx *Txn) error {
			_, err := tx.HashDelete(0, []byte("d"))
			return err
		})
	}); err != nil {
		t.Fatal(err)
	}
	if e.subs.get(v()) != nil {
		t.Fatal("a group's write kept the set")
	}
	if !set("d") || set("a") {
		t.Fatal("answers after a group's write are wrong")
	}
	// Replaced by a new hash: the old set goes, the new one is exact.
	old := v()
	if _, err := e.Delete("", [][]byte{[]byte("h")}); err != nil {
		t.Fatal(err)
	}
	if e.subs.get(old) != nil {
		t.Fatal("a deleted hash's set stayed")
	}
	if !set("a") || set("a") {
		t.Fatal("a recreated hash answers wrong")
	}
	want := map[string]string{"a": "va"}
	if got := hashAll(t, e, "h"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hash = %v, want %v", got, want)
	}
	// Sets and sorted sets.
	for _, m := range []string{"x", "y", "x"} {
		txn(t, e, []string{"s", "z"}, func(tx *Txn) error {
			if _, err := tx.SetAdd(0, []byte(m)); err != nil {
				return err
			}
			_, _, err := tx.ZSetAdd(1, []byte(m), 1)
			return err
		})
	}
	txn(t, e, []string{"s", "z"}, func(tx *Txn) error {
		if _, err := tx.Open(0, TypeSet); err != nil {
			return err
		}
		if _, err := tx.Open(1, TypeZSet); err != nil {
			return err
		}
		if tx.Size(0) != 2 || tx.Size(1) != 2 {
			t.Fatalf("sizes %d %d, want 2 2", tx.Size(0), tx.Size(1))
		}
		return nil
	})
	// A held score answers ZADD's old score.
	txn(t, e, []string{"z"}, func(tx *Txn) error {
		old, existed, err := tx.ZSetAdd(0, []byte("x"), 2.5)
		if err != nil || !existed || old != 1 {
			t.Fatalf("ZSetAdd x = %v, %v, %v; want 1, true", old, existed, err)
		}
		old, existed, err = tx.ZSetAdd(0, []byte("x"), 3)
		if err != nil || !existed || old != 2.5 {
			t.Fatalf("ZSetAdd x again = %v, %v, %v; want 2.5, true", old, existed, err)
		}
		return nil
	})
	txn(t, e, []string{"z"}, func(tx *Txn) error {
		if sc, ok, err := tx.ZSetScore(0, []byte("x")); sc != 3 || !ok || err != nil {
			t.Fatalf("ZSetScore x = %v, %v, %v; want 3", sc, ok, err)
		}
		return nil
	})
	// After a reopen nothing is cached and the store answers.
	e.Close()
	e = openTest(t, dir, nil)
	if set("a") || !set("e") {
		t.Fatal("answers after reopen are wrong")
	}
}

// BenchmarkHashSetRandom is redis-benchmark's HSET on one hash: random
// fields among 100000, about half of them new.
func BenchmarkHashSetRandom(b *testing.B) {
	e := openTest(b, b.TempDir(), nil)
	defer e.Close()
	keys := [][]byte{[]byte("myhash")}
	field := make([]byte, 0, 32)
	val := []byte("xxx")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		field = fmt.Appendf(field[:0], "element:%d", (uint64(i)*2654435761)%100000)
		if err := e.Txn("", keys, func(tx *Txn) error {
			_, err := tx.HashSet(0, field, val, false)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkZSetAddRandom is redis-benchmark's ZADD on one sorted set:
// random members among 100000 with random scores.
func BenchmarkZSetAddRandom(b *testing.B) {
	e := openTest(b, b.TempDir(), nil)
	defer e.Close()
	keys := [][]byte{[]byte("myzset")}
	member := make([]byte, 0, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := (uint64(i) * 2654435761) % 100000
		member = fmt.Appendf(member[:0], "element:%d", r)
		if err := e.Txn("", keys, func(tx *Txn) error {
			_, _, err := tx.ZSetAdd(0, member, float64(r%1000))
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSubCacheBudget checks that a set passing the memory bound is
// dropped and its collection answers from the store.
func TestSubCacheBudget(t *testing.T) {
	defer func(m int64) { subCacheMax = m }(subCacheMax)
	subCacheMax = 20 * subEntryBytes([]byte("f00"))
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	for n := 0; n < 2; n++ {
		for i := 0; i < 40; i++ {
			f := []byte(fmt.Sprintf("f%02d", i))
			txn(t, e, []string{"h"}, func(tx *Txn) error {
				isNew, err := tx.HashSet(0, f, f, false)
				if err == nil && isNew != (n == 0) {
					t.Fatalf("pass %d: HashSet %s new = %v", n, f, isNew)
				}
				return err
			})
		}
	}
	if got := e.subs.n.Load(); got > subCacheMax || got < 0 {
		t.Fatalf("cache holds %d bytes, bound %d", got, subCacheMax)
	}
	if len(hashAll(t, e, "h")) != 40 {
		t.Fatal("fields lost")
	}
}
