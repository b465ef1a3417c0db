package engine

import (
	"bytes"
	"fmt"
	"testing"
)

func TestSmallCacheBoundAndScanResistance(t *testing.T) {
	c := newSmallCache(smallShards * 4096) // 4 KiB per shard
	var m Meta
	val := make([]byte, 100)
	hot := []byte("hot")
	c.put(hot, &m, val)
	for i := 0; i < 5000; i++ {
		c.get(hot, &m, nil) // keep it visited
		c.put([]byte(fmt.Sprint("cold", i)), &m, val)
	}
	entries, bytes := c.stats()
	if bytes > smallShards*4096 {
		t.Fatalf("cache holds %d bytes in %d entries, over its bound", bytes, entries)
	}
	var got []byte
	if !c.get(hot, &m, &got) || len(got) != 100 {
		t.Fatal("a key read between every insert was evicted by a scan of cold keys")
	}
	// An entry bigger than a shard's budget is not kept, and does not loop.
	c.put([]byte("huge"), &m, make([]byte, 8192))
	if c.get([]byte("huge"), &m, nil) {
		t.Fatal("oversized entry kept")
	}
}

func TestSmallCacheAllocatesNothingOnOverwrite(t *testing.T) {
	c := newSmallCache(1 << 20)
	var m Meta
	key, val := []byte("k"), make([]byte, 64)
	c.put(key, &m, val)
	var out []byte
	allocs := testing.AllocsPerRun(100, func() {
		c.put(key, &m, val)
		c.get(key, &m, &out)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per overwrite+read", allocs)
	}
}

// TestHotSmallGet: a GET of a small value in the small-value tier is
// served from it, with no metadata store lookup and no allocation.
func TestHotSmallGet(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	val := pattern(1, 1000)
	if _, err := e.PutBytes("", []byte("hot"), val, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	get := func() {
		v, err := e.Get("", []byte("hot"))
		if err != nil {
			t.Fatal(err)
		}
		v.Release()
	}
	get()
	hits, misses := e.small.hits.Load(), e.small.misses.Load()
	if a := testing.AllocsPerRun(200, get); a != 0 {
		t.Errorf("%v allocations per GET of a hot small value", a)
	}
	if d := e.small.misses.Load() - misses; d != 0 || e.small.hits.Load()-hits < 200 {
		t.Errorf("GETs of a hot small value: %d small-tier hits, %d misses (lookups in the metadata store)", e.small.hits.Load()-hits, d)
	}
	// GetSmall hands the same bytes over without copying them out.
	var sink appendSink
	if !e.GetSmall("", []byte("hot"), &sink) || !bytes.Equal(sink.b, val) {
		t.Fatalf("GetSmall of a hot small value: %q", sink.b)
	}
	if a := testing.AllocsPerRun(200, func() { sink.b = sink.b[:0]; e.GetSmall("", []byte("hot"), &sink) }); a != 0 {
		t.Errorf("%v allocations per GetSmall of a hot small value", a)
	}
	if e.GetSmall("", []byte("cold"), &sink) {
		t.Error("GetSmall of a missing key reported a value")
	}
	// Expired but not yet swept: Get removes it, so GetSmall leaves it.
	e.small.setExpire(appendMetaKey(nil, "", []byte("hot")), nowMs()-1)
	if e.GetSmall("", []byte("hot"), &sink) {
		t.Error("GetSmall of an expired key reported a value")
	}
}

type appendSink struct{ b []byte }

func (s *appendSink) SmallValue(val []byte) { s.b = append(s.b, val...) }
