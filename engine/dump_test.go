package engine

import (
	"math"
	"testing"
)

// TestFill: Fill of new collections matches adding the same elements one
// by one (duplicates: the last wins), and refuses a key not just made.
func TestFill(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	b := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, x := range s {
			out[i] = []byte(x)
		}
		return out
	}
	err := e.Txn("", [][]byte{[]byte("h"), []byte("s"), []byte("z"), []byte("l")}, func(t *Txn) error {
		for i, c := range []struct {
			typ    Type
			elems  [][]byte
			scores []float64
		}{
			{TypeHash, b("f", "1", "g", "2", "f", "3"), nil},
			{TypeSet, b("a", "b", "a"), nil},
			{TypeZSet, b("m", "n", "m"), []float64{1, 2, math.Inf(-1)}},
			{TypeList, b("x", "", "x"), nil},
		} {
			if err := t.Replace(i, c.typ); err != nil {
				return err
			}
			if err := t.Fill(i, c.typ, c.elems, c.scores); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Txn("", [][]byte{[]byte("h"), []byte("s"), []byte("z"), []byte("l")}, func(tx *Txn) error {
		for i := range 4 {
			if _, ok, err := tx.Meta(i); !ok || err != nil {
				t.Fatalf("key %d: %v %v", i, ok, err)
			}
		}
		if v, _, _ := tx.HashGet(0, []byte("f"), nil); string(v) != "3" || tx.Size(0) != 2 {
			t.Fatalf("hash: f=%q size %d", v, tx.Size(0))
		}
		if tx.Size(1) != 2 {
			t.Fatalf("set size %d", tx.Size(1))
		}
		if s, ok, _ := tx.ZSetScore(2, []byte("m")); !ok || !math.IsInf(s, -1) || tx.Size(2) != 2 {
			t.Fatalf("zset: m=%v size %d", s, tx.Size(2))
		}
		var got []string
		var first []byte
		tx.ZSetByRank(2, 0, false, func(m []byte, _ float64) bool {
			if first == nil {
				first = append([]byte(nil), m...)
			}
			return true
		})
		if string(first) != "m" {
			t.Fatalf("zset index: first %q", first)
		}
		tx.ListRange(3, 0, 2, false, func(_ int64, v []byte) bool { got = append(got, string(v)); return true })
		if len(got) != 3 || got[0] != "x" || got[1] != "" || got[2] != "x" {
			t.Fatalf("list %q", got)
		}
		// Not a key just made by Replace.
		if err := tx.Fill(0, TypeHash, b("a", "b"), nil); err != errFillNotNew {
			t.Fatalf("Fill of an existing hash: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
