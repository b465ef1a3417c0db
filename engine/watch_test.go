package engine

import (
	"testing"
	"time"
)

// TestWatch: a Watch hears of every change to its keys, whoever makes
// it, and of nothing else.
func TestWatch(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	mustPut(t, e, "", "k", []byte("v"), PutOptions{})
	mustPut(t, e, "", "other", []byte("v"), PutOptions{})
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		if err := tx.Create(0, TypeHash); err != nil {
			return err
		}
		_, err := tx.HashSet(0, []byte("f"), []byte("v"), false)
		return err
	})
	cases := []struct {
		name    string
		key     string
		change  func()
		changed bool
	}{
		{"another key", "k", func() { mustPut(t, e, "", "other", []byte("x"), PutOptions{}) }, false},
		{"same name, other keyspace", "k", func() { mustPut(t, e, "ns2", "k", []byte("x"), PutOptions{}) }, false},
		{"a read", "k", func() { mustGet(t, e, "", "k") }, false},
		{"the same value", "k", func() { mustPut(t, e, "", "k", []byte("v"), PutOptions{}) }, true},
		{"a refused NX", "k", func() { mustPut(t, e, "", "k", []byte("v"), PutOptions{Cond: IfAbsent}) }, false},
		{"delete", "k", func() { e.Delete("", [][]byte{[]byte("k")}) }, true},
		{"create", "k", func() { mustPut(t, e, "", "k", []byte("v"), PutOptions{}) }, true},
		{"expire", "k", func() { e.Expire("", []byte("k"), nowMs()+100_000, ExpireAlways) }, true},
		{"persist", "k", func() { e.Persist("", []byte("k")) }, true},
		{"large", "k", func() { mustPut(t, e, "", "k", pattern(1, 100<<10), PutOptions{}) }, true},
		{"hash field", "h", func() {
			txn(t, e, []string{"h"}, func(tx *Txn) error { _, err := tx.HashSet(0, []byte("g"), []byte("v"), false); return err })
		}, true},
		{"rename onto", "k", func() { e.Rename("", []byte("other"), []byte("k"), false) }, true},
		{"flush", "k", func() { e.Flush("") }, true},
		{"in a group", "k", func() {
			e.Group(func(g *Engine) error { _, err := g.PutBytes("", []byte("k"), []byte("g"), PutOptions{}); return err })
		}, true},
		{"PutMany", "k", func() { e.PutMany("", [][]byte{[]byte("k")}, [][]byte{[]byte("m")}) }, true},
	}
	for _, c := range cases {
		w := e.NewWatch()
		if err := w.Add("", []byte(c.key)); err != nil {
			t.Fatal(err)
		}
		c.change()
		if got := w.Changed(); got != c.changed {
			t.Errorf("%s: Changed() = %v, want %v", c.name, got, c.changed)
		}
		w.Close()
	}
	if n := e.Watched(); n != 0 {
		t.Errorf("%d keys still watched after every watch closed", n)
	}

	// Expiry passing is a change, without waiting for the sweep; a key
	// already expired when watched is not.
	mustPut(t, e, "", "ttl", []byte("v"), PutOptions{ExpireAt: time.Now().Add(30 * time.Millisecond).UnixMilli()})
	mustPut(t, e, "", "dead", []byte("v"), PutOptions{ExpireAt: time.Now().Add(-time.Second).UnixMilli()})
	w := e.NewWatch()
	defer w.Close()
	w.Add("", []byte("dead"))
	if w.Changed() {
		t.Errorf("watching a key whose expiry had passed is a change")
	}
	w.Add("", []byte("ttl"))
	deadline := time.Now().Add(5 * time.Second)
	for !w.Changed() {
		if time.Now().After(deadline) {
			t.Fatal("the watched key's expiry passed and the watch did not see it")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
