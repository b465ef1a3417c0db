package engine

import (
	"fmt"
	"testing"
)

// The estimates redis-server 7.0 gives for PFADD of e0 ... e(n-1).
var redisHLLCounts = []struct{ n, count int }{
	{1, 1}, {10, 10}, {100, 100}, {1000, 1008}, {5000, 4968}, {10000, 9973},
	{50000, 49978}, {100000, 100853}, {300000, 303182}, {1000000, 991657},
}

func TestHLLMatchesRedis(t *testing.T) {
	for _, tc := range redisHLLCounts {
		if testing.Short() && tc.n > 100000 {
			continue
		}
		var regs [HLLRegisters]uint8
		for i := 0; i < tc.n; i++ {
			idx, n := hllPatLen([]byte(fmt.Sprintf("e%d", i)))
			regs[idx] = max(regs[idx], n)
		}
		if got := HLLCount(&regs); got != uint64(tc.count) {
			t.Errorf("n=%d: count %d; redis-server says %d", tc.n, got, tc.count)
		}
	}
}

// Registers survive the segment encoding, merging and a restart.
func TestHLLStorage(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	add := func(key string, from, to int) {
		for i := from; i < to; i += 1000 {
			var elems [][]byte
			for j := i; j < min(to, i+1000); j++ {
				elems = append(elems, []byte(fmt.Sprintf("e%d", j)))
			}
			txn(t, e, []string{key}, func(tx *Txn) error { _, err := tx.HLLAdd(0, elems); return err })
		}
	}
	count := func(keys ...string) uint64 {
		var regs [HLLRegisters]uint8
		txn(t, e, keys, func(tx *Txn) error {
			for i := range keys {
				if _, err := tx.HLLRegisters(i, &regs); err != nil {
					return err
				}
			}
			return nil
		})
		return HLLCount(&regs)
	}
	add("a", 0, 6000)
	add("b", 4000, 10000)
	if got := count("a"); got != want(t, 6000) {
		t.Fatalf("count a = %d", got)
	}
	if got := count("a", "b"); got != 9973 {
		t.Fatalf("union = %d; want 9973 (e0..e9999)", got)
	}
	txn(t, e, []string{"m", "a", "b"}, func(tx *Txn) error {
		var regs [HLLRegisters]uint8
		for i := 0; i < 3; i++ {
			if _, err := tx.HLLRegisters(i, &regs); err != nil {
				return err
			}
		}
		return tx.HLLStore(0, &regs)
	})
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	if got := count("m"); got != 9973 {
		t.Fatalf("merged after restart = %d", got)
	}
	// An empty HLL exists; a changed register reports a change.
	var changed bool
	txn(t, e, []string{"empty"}, func(tx *Txn) error { var err error; changed, err = tx.HLLAdd(0, nil); return err })
	if m, err := e.Stat("", []byte("empty")); !changed || err != nil || m.Type != TypeHyperLogLog {
		t.Fatalf("empty HLL: %v %+v %v", changed, m, err)
	}
	txn(t, e, []string{"a"}, func(tx *Txn) error { var err error; changed, err = tx.HLLAdd(0, [][]byte{[]byte("e1")}); return err })
	if changed {
		t.Fatal("adding a seen element changed a register")
	}
}

// want returns the single-key estimate for e0..e(n-1) computed in memory.
func want(t *testing.T, n int) uint64 {
	var regs [HLLRegisters]uint8
	for i := 0; i < n; i++ {
		idx, c := hllPatLen([]byte(fmt.Sprintf("e%d", i)))
		regs[idx] = max(regs[idx], c)
	}
	return HLLCount(&regs)
}

func TestHLLRegisterPacking(t *testing.T) {
	seg := make([]byte, hllSegBytes)
	vals := make([]uint8, hllSegRegs)
	for r := range vals {
		vals[r] = uint8((r*7 + 3) % 64)
		hllSetReg(seg, r, vals[r])
	}
	for r, v := range vals {
		if got := hllGetReg(seg, r); got != v {
			t.Fatalf("register %d = %d; want %d", r, got, v)
		}
	}
}

// The cached estimate is dropped by a change and equals a fresh count.
func TestHLLCountCache(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	count := func() uint64 {
		var n uint64
		txn(t, e, []string{"h"}, func(tx *Txn) error { var err error; n, err = tx.HLLCount(0); return err })
		return n
	}
	if count() != 0 {
		t.Fatal("absent key counts")
	}
	for _, tc := range redisHLLCounts[:6] {
		var elems [][]byte
		for i := 0; i < tc.n; i++ {
			elems = append(elems, []byte(fmt.Sprintf("e%d", i)))
		}
		txn(t, e, []string{"h"}, func(tx *Txn) error { _, err := tx.HLLAdd(0, elems); return err })
		for k := 0; k < 2; k++ { // computed, then cached
			if got := count(); got != uint64(tc.count) {
				t.Fatalf("n=%d pass %d: %d; want %d", tc.n, k, got, tc.count)
			}
		}
		if m, _ := e.Stat("", []byte("h")); len(m.Attrs) != hllCacheLen {
			t.Fatalf("no cached estimate after a count: %q", m.Attrs)
		}
	}
}
