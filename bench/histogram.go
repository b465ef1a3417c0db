package bench

import (
	"math"
	"math/bits"
	"time"
)

// histSubBits sets the precision of a Histogram: each power-of-two range of
// values is split into 1<<histSubBits linear buckets, so a recorded value is
// reported within 1/(1<<histSubBits) (0.8%) of itself.
const (
	histSubBits  = 7
	histSub      = 1 << histSubBits
	histBuckets  = (64 - histSubBits + 1) * histSub
	histMaxValue = math.MaxInt64
)

// Histogram is an HDR-style log-linear histogram of non-negative int64 values
// (nanoseconds, here). Values below 2*histSub are counted exactly; above that,
// each power of two is divided into histSub buckets. Record is O(1) and
// allocates nothing; a Histogram is about 60 KiB and is meant to be owned by
// one worker and merged at the end.
//
// A Histogram is not safe for concurrent use.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	min    int64
	max    int64
	sum    float64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	h := &Histogram{}
	h.Reset()
	return h
}

// Reset empties the histogram.
func (h *Histogram) Reset() {
	clear(h.counts[:])
	h.total, h.sum = 0, 0
	h.min, h.max = histMaxValue, 0
}

// histIndex maps v to its bucket: idx = shift*histSub + (v >> shift) where
// shift is zero for small values and otherwise keeps histSubBits+1
// significant bits of v.
func histIndex(v int64) int {
	u := uint64(v)
	shift := bits.Len64(u) - histSubBits - 1
	if shift < 0 {
		shift = 0
	}
	return shift*histSub + int(u>>uint(shift))
}

// histBounds returns the lowest and highest value that map to bucket idx.
func histBounds(idx int) (lo, hi int64) {
	if idx < 2*histSub {
		return int64(idx), int64(idx)
	}
	shift := idx/histSub - 1
	m := uint64(idx - shift*histSub)
	lo = int64(m << uint(shift))
	hi = int64(((m + 1) << uint(shift)) - 1)
	if hi < lo { // the top bucket: (m+1)<<shift overflows
		hi = histMaxValue
	}
	return lo, hi
}

// Record adds one value. Negative values count as zero.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[histIndex(v)]++
	h.total++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// RecordDuration adds one duration.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest recorded value (0 when empty).
func (h *Histogram) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest recorded value.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the recorded values.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Percentile returns the value at percentile p (0..100): the highest value
// equivalent to the bucket holding the ceil(p% * count)-th smallest value,
// clamped to the recorded min and max. It returns 0 for an empty histogram.
func (h *Histogram) Percentile(p float64) int64 {
	if h.total == 0 {
		return 0
	}
	if p <= 0 {
		return h.min
	}
	if p >= 100 {
		return h.max
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := histBounds(i)
			return min(max(hi, h.min), h.max)
		}
	}
	return h.max
}
