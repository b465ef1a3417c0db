package engine

import (
	"testing"
	"time"
)

// TestAllocWakesOnAdmission: an allocation waiting for pages held by a
// value in flight gets them soon after that value is stored and admitted
// to the DRAM cache (which can then evict it), not when its wait runs out.
func TestAllocWakesOnAdmission(t *testing.T) {
	e := openTest(t, t.TempDir(), func(o *Options) { o.DRAMCacheSize = 64 << 20; o.MemoryWait = 20 * time.Second })
	defer e.Close()
	a, err := e.NewBuffer(40 << 20)
	if err != nil {
		t.Fatal(err)
	}
	copyIntoPages(a, 0, pattern(9, 40<<20))
	type result struct {
		b   *Buffer
		err error
		at  time.Time
	}
	done := make(chan result)
	go func() {
		b, err := e.NewBuffer(40 << 20)
		done <- result{b, err, time.Now()}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.arena.mu.Lock()
		waiting := e.arena.waiters > 0
		e.arena.mu.Unlock()
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second allocation never waited")
		}
		time.Sleep(time.Millisecond) // poll interval
	}
	stored := time.Now()
	if _, err := e.Put("", []byte("a"), a, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("waiting allocation: %v", r.err)
	}
	defer r.b.Release()
	if wait := r.at.Sub(stored); wait > 5*time.Second {
		t.Fatalf("the waiting allocation got its pages %v after the value holding them was stored", wait)
	}
}
