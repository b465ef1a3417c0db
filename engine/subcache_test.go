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
	// After a reopen nothing is cached and the store answers.
	e.Close()
	e = openTest(t, dir, nil)
	if set("a") || !set("e") {
		t.Fatal("answers after reopen are wrong")
	}
}
