package engine

import (
	"fmt"
	"testing"
)

func TestBloomBytes(t *testing.T) {
	for _, tc := range []struct {
		n    uint32
		fpp  float64
		want uint32
	}{
		{10, 0.01, 32}, {100, 0.01, 128}, {100000, 0.001, 262144}, {1 << 31, 0.0001, bloomMaxBytes},
	} {
		if got := bloomBytes(tc.n, tc.fpp); got != tc.want {
			t.Errorf("bloomBytes(%d, %g) = %d; want %d", tc.n, tc.fpp, got, tc.want)
		}
	}
}

func TestBloomChain(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	items := func(prefix string, n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = []byte(fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	p := BloomParams{Capacity: 1000, ErrorRate: 0.01, Expansion: 2}
	txn(t, e, []string{"bf"}, func(tx *Txn) error { return tx.BloomReserve(0, p) })
	if err := e.Txn("", [][]byte{[]byte("bf")}, func(tx *Txn) error { return tx.BloomReserve(0, p) }); err != ErrBloomExists {
		t.Fatalf("second reserve: %v", err)
	}
	added := 0
	for _, batch := range [][][]byte{items("a", 1000), items("b", 3000)} {
		txn(t, e, []string{"bf"}, func(tx *Txn) error {
			res, err := tx.BloomAdd(0, batch, p, false)
			for _, r := range res {
				if r == BloomAdded {
					added++
				}
			}
			return err
		})
	}
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	var info BloomInfo
	txn(t, e, []string{"bf"}, func(tx *Txn) error { var err error; info, _, err = tx.BloomInfo(0); return err })
	if info.Filters != 3 || info.Capacity != 7000 || info.Items != int64(added) || added < 3900 {
		t.Fatalf("info %+v, %d added", info, added)
	}
	// No false negatives; false positives near the configured rate.
	var fp int
	txn(t, e, []string{"bf"}, func(tx *Txn) error {
		ex, err := tx.BloomExists(0, append(items("a", 1000), items("b", 3000)...))
		for i, ok := range ex {
			if !ok {
				t.Fatalf("item %d is missing", i)
			}
		}
		if err != nil {
			return err
		}
		ex, err = tx.BloomExists(0, items("z", 20000))
		for _, ok := range ex {
			if ok {
				fp++
			}
		}
		return err
	})
	if rate := float64(fp) / 20000; rate > 0.03 {
		t.Fatalf("false-positive rate %.4f", rate)
	}
	// A non-scaling chain fills up.
	ns := BloomParams{Capacity: 10, ErrorRate: 0.01}
	txn(t, e, []string{"ns"}, func(tx *Txn) error {
		res, err := tx.BloomAdd(0, items("n", 20), ns, true)
		full := 0
		for _, r := range res {
			if r == BloomFull {
				full++
			}
		}
		if full == 0 || tx.Size(0) != 10 {
			t.Fatalf("%d full, %d items", full, tx.Size(0))
		}
		return err
	})
	if err := e.Txn("", [][]byte{[]byte("nope")}, func(tx *Txn) error { _, err := tx.BloomAdd(0, items("x", 1), p, false); return err }); err != ErrNotFound {
		t.Fatalf("add without create: %v", err)
	}
}

// An empty chain exists, and deleting it drops its filter too.
func TestBloomEmptyDelete(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	var ver uint64
	txn(t, e, []string{"bf"}, func(tx *Txn) error {
		if err := tx.BloomReserve(0, BloomParams{Capacity: 100, ErrorRate: 0.01, Expansion: 2}); err != nil {
			return err
		}
		m, _, _ := tx.Meta(0)
		ver = m.Version
		return nil
	})
	if m, err := e.Stat("", []byte("bf")); err != nil || m.Type != TypeBloom || m.Size != 0 {
		t.Fatalf("reserved chain: %+v %v", m, err)
	}
	if n, err := e.Delete("", [][]byte{[]byte("bf")}); n != 1 || err != nil {
		t.Fatalf("Delete: %d %v", n, err)
	}
	it, err := newSubIter(e.db, ver, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it.First() {
		t.Fatalf("sub-key %x left behind", it.Suffix())
	}
	it.Close()
}
