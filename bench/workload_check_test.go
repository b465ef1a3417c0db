package bench

import (
	"testing"
)

// checkLMCache checks the counts of an lmcache run: every chunk written
// once, no failures, a hit rate near the configured one, and byte counts
// that match the operations.
func checkLMCache(t *testing.T, res []*PhaseResult, cfg LMCacheConfig, size int) {
	t.Helper()
	if len(res) != 2 {
		t.Fatalf("%d phases, want 2", len(res))
	}
	set, get := res[0], res[1]
	nkeys := max(int(cfg.WorkingSet/int64(size)), cfg.Concurrency)
	for _, r := range res {
		if r.Errors != 0 {
			t.Errorf("%s %s: %d errors, first: %v", r.Mode, r.Phase, r.Errors, r.FirstErr)
		}
		if r.Bytes != r.Ops*int64(size) {
			t.Errorf("%s %s: %d bytes for %d ops of %d", r.Mode, r.Phase, r.Bytes, r.Ops, size)
		}
		if r.Hist.Count() != uint64(r.Ops) || r.Hist.Percentile(50) <= 0 {
			t.Errorf("%s %s: histogram holds %d values for %d ops (p50 %d)", r.Mode, r.Phase, r.Hist.Count(), r.Ops, r.Hist.Percentile(50))
		}
		if r.GBps() <= 0 || r.Elapsed <= 0 {
			t.Errorf("%s %s: throughput %v over %v", r.Mode, r.Phase, r.GBps(), r.Elapsed)
		}
	}
	if set.Ops != int64(nkeys) {
		t.Errorf("%s set: %d ops, want %d", set.Mode, set.Ops, nkeys)
	}
	if get.Hits != get.Ops || get.Hits == 0 {
		t.Errorf("%s get: %d hits for %d data ops", get.Mode, get.Hits, get.Ops)
	}
	if cfg.HitRatio < 1 && get.Misses == 0 {
		t.Errorf("%s get: no misses with hit ratio %v", get.Mode, cfg.HitRatio)
	}
	if cfg.Mode == ModeNative {
		if hr := get.HitRate(); hr < cfg.HitRatio-0.15 || hr > cfg.HitRatio+0.15 {
			t.Errorf("%s get: hit rate %.2f, configured %.2f", get.Mode, hr, cfg.HitRatio)
		}
	}
}

func checkSmall(t *testing.T, res []*PhaseResult, keys, ops int) {
	t.Helper()
	if len(res) != 2 {
		t.Fatalf("%d phases, want 2", len(res))
	}
	for _, r := range res {
		if r.Errors != 0 {
			t.Errorf("small %s: %d errors, first: %v", r.Phase, r.Errors, r.FirstErr)
		}
		if r.Bytes < r.Ops*64 || r.Bytes > r.Ops*4096 {
			t.Errorf("small %s: %d bytes for %d ops", r.Phase, r.Bytes, r.Ops)
		}
	}
	if res[0].Ops != int64(keys) {
		t.Errorf("small load: %d ops, want %d", res[0].Ops, keys)
	}
	if res[1].Ops < int64(ops) || res[1].Ops > int64(ops)+int64(ops)/10 {
		t.Errorf("small mix: %d ops, want about %d", res[1].Ops, ops)
	}
	if res[1].Hits == 0 || res[1].Hits >= res[1].Ops {
		t.Errorf("small mix: %d GET hits in %d ops (want GETs and SETs)", res[1].Hits, res[1].Ops)
	}
}
