package bench

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestHistIndexBounds(t *testing.T) {
	// Every value must fall inside the bounds of its own bucket, and buckets
	// must be contiguous and increasing.
	vals := []int64{0, 1, 127, 128, 255, 256, 257, 1000, 1 << 20, (1 << 20) + 12345, 1<<40 + 7, math.MaxInt64}
	for _, v := range vals {
		idx := histIndex(v)
		lo, hi := histBounds(idx)
		if v < lo || v > hi {
			t.Errorf("value %d -> bucket %d [%d,%d]", v, idx, lo, hi)
		}
		if idx >= histBuckets {
			t.Errorf("value %d -> bucket %d out of range", v, idx)
		}
	}
	for i := 1; i < histBuckets; i++ {
		_, prevHi := histBounds(i - 1)
		lo, _ := histBounds(i)
		if i >= 2*histSub && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
		if prevHi == math.MaxInt64 {
			break
		}
	}
}

func TestHistogramExactSmall(t *testing.T) {
	h := NewHistogram()
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	for _, tc := range []struct {
		p    float64
		want int64
	}{{50, 50}, {99, 99}, {99.9, 100}, {1, 1}, {0, 1}, {100, 100}} {
		if got := h.Percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %d, want %d", tc.p, got, tc.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50.5 {
		t.Errorf("count %d min %d max %d mean %v", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogramPercentilesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	vals := make([]int64, 200000)
	for i := range vals {
		// Log-uniform from 1µs to 1s, the span of the latencies we measure.
		vals[i] = int64(math.Exp(rng.Float64()*math.Log(1e6)) * 1e3)
		h.Record(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, p := range []float64{10, 50, 90, 99, 99.9, 99.99} {
		exact := vals[int(math.Ceil(p/100*float64(len(vals))))-1]
		got := h.Percentile(p)
		if got < exact || float64(got-exact) > float64(exact)/histSub {
			t.Errorf("p%v = %d, exact %d (tolerance %.2f%%)", p, got, exact, 100.0/histSub)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for v := int64(0); v < 10000; v++ {
		if v%3 == 0 {
			a.Record(v * 1000)
		} else {
			b.Record(v * 1000)
		}
		all.Record(v * 1000)
	}
	a.Merge(b)
	a.Merge(NewHistogram())
	for _, p := range []float64{1, 50, 99, 99.9} {
		if a.Percentile(p) != all.Percentile(p) {
			t.Errorf("p%v: merged %d, direct %d", p, a.Percentile(p), all.Percentile(p))
		}
	}
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() {
		t.Errorf("merged count/min/max %d/%d/%d, want %d/%d/%d", a.Count(), a.Min(), a.Max(), all.Count(), all.Min(), all.Max())
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	h := NewHistogram()
	if h.Percentile(99) != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	h.Record(-5)
	if h.Percentile(50) != 0 {
		t.Fatalf("negative recorded as %d", h.Percentile(50))
	}
}

func TestHistogramRecordNoAlloc(t *testing.T) {
	h := NewHistogram()
	v := int64(1)
	if n := testing.AllocsPerRun(1000, func() { v = v*3 + 1; h.Record(v & (1<<40 - 1)) }); n != 0 {
		t.Fatalf("Record allocates %v times per call", n)
	}
}
