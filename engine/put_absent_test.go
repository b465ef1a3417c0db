package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestAbsentFilter: every way of creating a key (Put small and large,
// PutMany, a collection through Txn, both inside a Group) leaves the key in
// the absent-key filter, also after a restart, so no existing key is ever
// reported missing; keys never written are proven absent almost always.
func TestAbsentFilter(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	put := func(g *Engine, key string, size int) {
		t.Helper()
		if _, err := g.PutBytes("", []byte(key), pattern(uint64(size), size), PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	hash := func(g *Engine, key string) {
		t.Helper()
		if err := g.Txn("", [][]byte{[]byte(key)}, func(tx *Txn) error {
			if err := tx.Create(0, TypeHash); err != nil {
				return err
			}
			_, err := tx.HashSet(0, []byte("f"), []byte("v"), false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	put(e, "small", 100)
	put(e, "large", 300<<10)
	if err := e.PutMany("", [][]byte{[]byte("m1"), []byte("m2"), []byte("m1")}, [][]byte{[]byte("a"), []byte("b"), []byte("c")}); err != nil {
		t.Fatal(err)
	}
	hash(e, "hash")
	if err := e.Group(func(g *Engine) error {
		put(g, "g-small", 10)
		if err := g.PutMany("", [][]byte{[]byte("g-m")}, [][]byte{[]byte("v")}); err != nil {
			return err
		}
		hash(g, "g-hash")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	written := []string{"small", "large", "m1", "m2", "hash", "g-small", "g-m", "g-hash"}
	check := func(e *Engine) {
		t.Helper()
		// Small strings reach the store, and the filter, when the
		// write-back tier flushes.
		e.drain()
		for _, k := range written {
			if !e.absent.mayContain(appendMetaKey(nil, "", []byte(k))) {
				t.Errorf("key %q written but not in the absent-key filter", k)
			}
			if _, err := e.Stat("", []byte(k)); err != nil {
				t.Errorf("Stat %q: %v", k, err)
			}
		}
		fp := 0
		for i := range 10000 {
			if e.absent.mayContain(appendMetaKey(nil, "", fmt.Appendf(nil, "never-%d", i))) {
				fp++
			}
		}
		if fp > 300 {
			t.Errorf("%d of 10000 keys never written may exist, want about 1%%", fp)
		}
	}
	check(e)
	if got := mustGet(t, e, "", "m1"); string(got) != "c" {
		t.Errorf("GET m1 = %q, want the last value named", got)
	}
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	check(e)
}

// TestAbsentFilterRebuild: keys created while the filter is rebuilt from a
// scan are in the new filter.
func TestAbsentFilterRebuild(t *testing.T) {
	// NB: without the write-back tier, which would hold the keys until
	// after the rebuilds.
	e := openTest(t, t.TempDir(), func(o *Options) { o.NoWriteBack = true })
	defer e.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var keys [][]byte
	started := make(chan struct{}, 2) // each writer's first key is in
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := fmt.Appendf(nil, "w%d-%d", w, i)
				if err := e.PutMany("", [][]byte{k}, [][]byte{[]byte("v")}); err != nil {
					t.Error(err)
					if i == 0 {
						started <- struct{}{}
					}
					return
				}
				mu.Lock()
				keys = append(keys, k)
				mu.Unlock()
				if i == 0 {
					started <- struct{}{}
				}
			}
		}()
	}
	// The rebuilds start once both writers are writing.
	<-started
	<-started
	before := e.absent.rebuilds.Load()
	for range 5 {
		if err := e.rebuildAbsent(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if got := e.absent.rebuilds.Load() - before; got != 5 {
		t.Errorf("%d rebuilds, want 5", got)
	}
	if len(keys) == 0 {
		t.Fatal("no key written during the rebuilds")
	}
	for _, k := range keys {
		if !e.absent.mayContain(appendMetaKey(nil, "", k)) {
			t.Fatalf("key %q written during a rebuild is not in the filter", k)
		}
	}
}
