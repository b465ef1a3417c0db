package engine

import (
	"bytes"
	"testing"
	"time"
)

func TestMoveAcrossKeyspaces(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	big := pattern(3, 2<<20)
	at := time.Now().Add(time.Hour).UnixMilli()
	mustPut(t, e, "a", "big", big, PutOptions{ExpireAt: at})
	mustPut(t, e, "a", "small", []byte("v"), PutOptions{})
	mustPut(t, e, "b", "small", []byte("other"), PutOptions{})
	if err := e.Txn("a", [][]byte{[]byte("h")}, func(t *Txn) error {
		_, err := t.HashSet(0, []byte("f"), []byte("v"), false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"big", "h"} {
		if ok, err := e.Move("a", "b", []byte(k)); !ok || err != nil {
			t.Fatalf("Move %s: %v %v", k, ok, err)
		}
	}
	if !bytes.Equal(mustGet(t, e, "b", "big"), big) {
		t.Fatal("moved value wrong")
	}
	if m, _ := e.Stat("b", []byte("big")); m.ExpireAt != at {
		t.Fatalf("expiry %d, want %d", m.ExpireAt, at)
	}
	if _, err := e.Stat("a", []byte("big")); err != ErrNotFound {
		t.Fatalf("source still there: %v", err)
	}
	var got []byte
	if err := e.Txn("b", [][]byte{[]byte("h")}, func(t *Txn) error {
		var err error
		got, _, err = t.HashGet(0, []byte("f"), nil)
		return err
	}); err != nil || string(got) != "v" {
		t.Fatalf("moved hash field %q %v", got, err)
	}
	// The destination exists, the source does not, or they are one keyspace.
	for _, c := range []struct{ src, dst, key string }{{"a", "b", "small"}, {"a", "b", "missing"}, {"a", "a", "small"}} {
		if ok, err := e.Move(c.src, c.dst, []byte(c.key)); ok || err != nil {
			t.Fatalf("Move %+v: %v %v", c, ok, err)
		}
	}
	if string(mustGet(t, e, "a", "small")) != "v" || string(mustGet(t, e, "b", "small")) != "other" {
		t.Fatal("a refused move changed a value")
	}
	if e.DBSize("a") != 1 || e.DBSize("b") != 3 {
		t.Fatalf("DBSize a=%d b=%d", e.DBSize("a"), e.DBSize("b"))
	}
}
