package engine

import (
	"fmt"
	"math/rand/v2"
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

// TestSubCacheList runs random list operations, a few per Txn, against a
// model, with elements of up to 8 bytes (held in the cache) and longer
// ones (read from the store) mixed, and checks every element read (pops,
// LINDEX, LRANGE) against the model: the cache must answer exactly as the
// store, before and after a reopen (no cache) and across a group's writes.
func TestSubCacheList(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	defer func() { e.Close() }()
	rng := rand.New(rand.NewPCG(1, 2))
	var model []string
	val := func() string {
		if rng.IntN(3) == 0 {
			return fmt.Sprintf("long-element-%d", rng.IntN(1e6))
		}
		return fmt.Sprintf("e%d", rng.IntN(1e6))
	}
	check := func(op string, got []byte, ok bool, want string, wantOK bool) {
		t.Helper()
		if ok != wantOK || ok && string(got) != want {
			t.Fatalf("%s = %q, %v; want %q, %v", op, got, ok, want, wantOK)
		}
	}
	step := func(tx *Txn) error {
		switch op := rng.IntN(10); {
		case op < 4:
			v, left := val(), rng.IntN(2) == 0
			if err := tx.ListPush(0, []byte(v), left); err != nil {
				return err
			}
			if left {
				model = append([]string{v}, model...)
			} else {
				model = append(model, v)
			}
		case op < 7:
			left := rng.IntN(2) == 0
			got, ok, err := tx.ListPop(0, left, nil)
			if err != nil {
				return err
			}
			want, wantOK := "", len(model) > 0
			if wantOK && left {
				want, model = model[0], model[1:]
			} else if wantOK {
				want, model = model[len(model)-1], model[:len(model)-1]
			}
			check("ListPop", got, ok, want, wantOK)
		case op < 8:
			if len(model) == 0 {
				return nil
			}
			pos := rng.IntN(len(model))
			got, ok, err := tx.ListIndex(0, int64(pos), nil)
			if err != nil {
				return err
			}
			check("ListIndex", got, ok, model[pos], true)
		case op < 9:
			if n, err := tx.ListLen(0); err != nil || n == 0 {
				return err
			}
			pos, v := rng.IntN(len(model)), val()
			tx.ListSet(0, int64(pos), []byte(v))
			model[pos] = v
		default:
			if n, err := tx.ListLen(0); err != nil || n < 4 {
				return err
			}
			// LINSERT-like: rewrite from a position on.
			from := rng.IntN(len(model))
			vals := append([]string{val()}, model[from:]...)
			bv := make([][]byte, len(vals))
			for j, v := range vals {
				bv[j] = []byte(v)
			}
			tx.ListRewrite(0, int64(from), bv)
			model = append(model[:from], vals...)
		}
		return nil
	}
	checkAll := func() {
		t.Helper()
		var got []string
		txn(t, e, []string{"l"}, func(tx *Txn) error {
			return tx.ListRange(0, 0, int64(len(model))-1, false, func(_ int64, v []byte) bool {
				got = append(got, string(v))
				return true
			})
		})
		if fmt.Sprint(got) != fmt.Sprint(model) {
			t.Fatalf("LRANGE = %v; want %v", got, model)
		}
	}
	for round := 0; round < 3; round++ {
		for i := 0; i < 300; i++ {
			txn(t, e, []string{"l"}, func(tx *Txn) error {
				for n := rng.IntN(20); n >= 0; n-- {
					if err := step(tx); err != nil {
						return err
					}
				}
				return nil
			})
			if i == 150 {
				if err := e.Group(func(g *Engine) error {
					return g.Txn("", [][]byte{[]byte("l")}, func(tx *Txn) error { return step(tx) })
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		checkAll()
		e.Close()
		e = openTest(t, dir, nil)
	}
	// A list created now is cached (a Txn tracks up to pendMax writes),
	// and its pops of short values are answered from the cache.
	txn(t, e, []string{"q"}, func(tx *Txn) error {
		for i := 0; i < 50; i++ {
			if err := tx.ListPush(0, []byte(fmt.Sprint(i)), false); err != nil {
				return err
			}
		}
		return nil
	})
	var ver uint64
	txn(t, e, []string{"q"}, func(tx *Txn) error {
		m, _, err := tx.Meta(0)
		ver = m.Version
		return err
	})
	s := e.subs.get(ver)
	if s == nil || s.l == nil || s.l.count != 50 {
		t.Fatalf("a new list's set: %v", s)
	}
	// LRANGE from the set, forward and reverse, and in a Txn that pushed
	// first (its push is not in the set: the store answers).
	lrange := func(start, stop int64, reverse, push bool) string {
		var got []string
		txn(t, e, []string{"q"}, func(tx *Txn) error {
			if push {
				if err := tx.ListPush(0, []byte("new"), true); err != nil {
					return err
				}
			}
			return tx.ListRange(0, start, stop, reverse, func(pos int64, v []byte) bool {
				got = append(got, fmt.Sprintf("%d:%s", pos, v))
				return len(got) < 5
			})
		})
		return fmt.Sprint(got)
	}
	for _, c := range []struct {
		start, stop   int64
		reverse, push bool
		want          string
	}{
		{0, 49, false, false, "[0:0 1:1 2:2 3:3 4:4]"},
		{10, 12, false, false, "[10:10 11:11 12:12]"},
		{40, 49, true, false, "[49:49 48:48 47:47 46:46 45:45]"},
		{0, 2, false, true, "[0:new 1:0 2:1]"},
	} {
		if got := lrange(c.start, c.stop, c.reverse, c.push); got != c.want {
			t.Fatalf("ListRange(%d, %d, reverse %v, after a push %v) = %s; want %s", c.start, c.stop, c.reverse, c.push, got, c.want)
		}
	}
	txn(t, e, []string{"q"}, func(tx *Txn) error {
		_, _, err := tx.ListPop(0, true, nil)
		return err
	})
	for i := 0; i < 50; i++ {
		txn(t, e, []string{"q"}, func(tx *Txn) error {
			got, ok, err := tx.ListPop(0, true, nil)
			if err == nil && (!ok || string(got) != fmt.Sprint(i)) {
				t.Fatalf("pop %d = %q, %v", i, got, ok)
			}
			return err
		})
		// The last pop deletes the key, and its set with it.
		if s := e.subs.get(ver); i < 49 && (s == nil || s.l.count != 49-i) || i == 49 && s != nil {
			t.Fatalf("after pop %d the set is %v", i, s)
		}
	}
}

// TestListVals drives a list's ring with random pushes and pops at both
// ends, overwrites, middle removals and gaps, against a map: a held value
// must be the last one set, and the bytes it reports must add up to its
// ring's size.
func TestListVals(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var l listVals
	model := map[uint64]subVal{}
	var bytes int64
	var hits, lookups int
	lo, hi := listMid, listMid // the model list's bounds [lo, hi)
	for i := 0; i < 200000; i++ {
		v := makeSubVal([]byte(fmt.Sprint(i % 1000)))
		switch op := rng.IntN(20); {
		case op < 6:
			lo--
			bytes += l.set(lo, v)
			model[lo] = v
		case op < 11:
			bytes += l.set(hi, v)
			model[hi] = v
			hi++
		case op < 14 && lo < hi:
			bytes += l.del(lo)
			delete(model, lo)
			lo++
		case op < 17 && lo < hi:
			hi--
			bytes += l.del(hi)
			delete(model, hi)
		case op < 18 && lo < hi:
			idx := lo + uint64(rng.IntN(int(hi-lo)))
			bytes += l.set(idx, v)
			model[idx] = v
		case op < 19 && lo < hi:
			// A rewrite from the middle (LINSERT, LREM): removed,
			// then set again.
			idx := lo + uint64(rng.IntN(int(hi-lo)))
			bytes += l.del(idx)
			if _, ok := l.get(idx); ok {
				t.Fatalf("step %d: index %d held after its removal", i, idx-listMid)
			}
			bytes += l.set(idx, v)
			model[idx] = v
		}
		if bytes != int64(len(l.buf))*subValBytes {
			t.Fatalf("step %d: %d bytes reported, ring of %d", i, bytes, len(l.buf))
		}
		for _, idx := range []uint64{lo - 1, lo, hi - 1, hi, lo + uint64(rng.IntN(int(hi-lo)+1))} {
			got, ok := l.get(idx)
			want, held := model[idx]
			if ok && (!held || got != want) {
				t.Fatalf("step %d: index %d holds %v; model %v, %v", i, idx-listMid, got, want, held)
			}
			if idx >= lo && idx < hi && held {
				lookups++
				if ok {
					hits++
				}
			}
		}
	}
	// Kept contiguous, as a list's indexes are, the ring holds every
	// element.
	if hits != lookups {
		t.Fatalf("%d of %d lookups of present elements held", hits, lookups)
	}
	// A write beyond either end starts the ring over there, in a small
	// ring.
	bytes += l.set(hi+1000, makeSubVal([]byte("far")))
	if got, ok := l.get(hi + 1000); !ok || string(got.b[:got.n]) != "far" || l.count != 1 || len(l.buf) != listValsMin {
		t.Fatalf("after a write past the end: %v, %v, count %d, ring %d", got, ok, l.count, len(l.buf))
	}
	if _, ok := l.get(lo); ok && lo < hi {
		t.Fatal("the ring holds an element from before a gap")
	}
	// Grown by pushes and emptied by pops, the ring shrinks back.
	for i := 0; i < 100000; i++ {
		bytes += l.set(hi+1001+uint64(i), makeSubVal(nil))
	}
	for i := 0; i <= 100000; i++ {
		bytes += l.del(hi + 1000 + uint64(i))
	}
	if l.count != 0 || len(l.buf) != listValsMin || bytes != int64(len(l.buf))*subValBytes {
		t.Fatalf("after popping all: count %d, ring %d, %d bytes reported", l.count, len(l.buf), bytes)
	}
}
