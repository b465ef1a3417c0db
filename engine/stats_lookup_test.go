package engine

import (
	"bytes"
	"testing"
	"time"
)

// TestLookupStats: Get's outcomes are counted by the tier that answered,
// a value read back from the NVMe tier is a promotion, and dropping a
// resident value on delete is an invalidation, not an eviction.
func TestLookupStats(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	get := func(key string) bool {
		t.Helper()
		v, err := e.Get("", []byte(key))
		if err == ErrNotFound {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		v.Release()
		return true
	}
	before := e.Stats()
	for range 10 {
		if get("missing") {
			t.Fatal("found missing")
		}
	}
	big := bytes.Repeat([]byte("x"), 1<<20)
	mustPut(t, e, "", "big", big, PutOptions{})
	mustPut(t, e, "", "small", []byte("v"), PutOptions{})
	mustPut(t, e, "", "brief", []byte("v"), PutOptions{ExpireAt: time.Now().Add(-time.Second).UnixMilli()})
	get("big")
	get("small")
	get("brief") // expired: a miss
	// Off the DRAM tier, the next read comes from NVMe and is promoted.
	kb := getKeyBuf()
	e.cache.drop(kb.meta("", []byte("big")))
	putKeyBuf(kb)
	get("big")
	get("big")
	s := e.Stats()
	d := func(a, b int64) int64 { return a - b }
	if got := d(s.LookupMisses, before.LookupMisses); got != 11 {
		t.Errorf("misses +%d, want +11", got)
	}
	if got := d(s.LookupNVMeHits, before.LookupNVMeHits); got != 1 {
		t.Errorf("NVMe hits +%d, want +1", got)
	}
	if got := d(s.LookupDRAMHits, before.LookupDRAMHits); got != 3 {
		t.Errorf("DRAM hits +%d, want +3", got)
	}
	if got := d(s.DRAMPromotions, before.DRAMPromotions); got != 1 {
		t.Errorf("promotions +%d, want +1", got)
	}
	if got := d(s.DRAMInvalidations, before.DRAMInvalidations); got != 1 {
		t.Errorf("invalidations +%d, want +1 (the drop)", got)
	}
	if _, err := e.Delete("", [][]byte{[]byte("big")}); err != nil {
		t.Fatal(err)
	}
	if got := e.Stats().DRAMInvalidations - s.DRAMInvalidations; got != 1 {
		t.Errorf("DEL of a resident value: invalidations +%d, want +1", got)
	}
	if s.DRAMEvictions != before.DRAMEvictions {
		t.Errorf("evictions moved without pressure")
	}
}

// TestArenaBackpressureStats: an allocation that waits for pages is
// counted with its wait, and one that gives up as busy too.
func TestArenaBackpressureStats(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.DRAMCacheSize = 4 << 20; o.MemoryWait = 20 * time.Millisecond })
	defer e.Close()
	held, err := e.NewBuffer(e.arena.capacity())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.NewBuffer(pageSize); err != ErrBusy {
		t.Fatalf("allocation with the arena held: %v, want ErrBusy", err)
	}
	held.Release()
	s := e.Stats()
	if s.DRAMArenaWaits != 1 || s.DRAMArenaBusy != 1 || s.DRAMArenaWaitTime < 20*time.Millisecond {
		t.Errorf("waits %d busy %d wait time %v", s.DRAMArenaWaits, s.DRAMArenaBusy, s.DRAMArenaWaitTime)
	}
}
