package nvme

import (
	"sync/atomic"
	"time"
)

// Health records a device's I/O outcomes. A device is marked failed after
// FailAfter consecutive errors; a success resets the run. Safe for
// concurrent use.
type Health struct {
	// FailAfter is the number of consecutive I/O errors after which the
	// device is considered failed. Zero means 8.
	FailAfter int64

	reads, writes, syncs    atomic.Int64
	readErrs, writeErrs     atomic.Int64
	consecutiveErrs         atomic.Int64
	failed                  atomic.Bool
	readNanos, writeNanos   atomic.Int64
	maxLatencyNanos         atomic.Int64
	bytesRead, bytesWritten atomic.Int64
}

// HealthStats is a snapshot of a Health record.
type HealthStats struct {
	Reads, Writes, Syncs    int64
	ReadErrors, WriteErrors int64
	BytesRead, BytesWritten int64
	ReadNanos, WriteNanos   int64
	MaxLatency              time.Duration
	Failed                  bool
}

// ObserveRead records one read of n bytes that took d and ended with err.
func (h *Health) ObserveRead(n int, d time.Duration, err error) {
	h.reads.Add(1)
	h.readNanos.Add(int64(d))
	h.bytesRead.Add(int64(n))
	h.observe(d, err, &h.readErrs)
}

// ObserveSync records one sync that took d. Sync errors count as write
// errors: they mean acknowledged writes may not be durable.
func (h *Health) ObserveSync(d time.Duration, err error) {
	h.syncs.Add(1)
	h.writeNanos.Add(int64(d))
	h.observe(d, err, &h.writeErrs)
}

// ObserveWrite records one write that took d.
func (h *Health) ObserveWrite(n int, d time.Duration, err error) {
	h.writes.Add(1)
	h.writeNanos.Add(int64(d))
	h.bytesWritten.Add(int64(n))
	h.observe(d, err, &h.writeErrs)
}

func (h *Health) observe(d time.Duration, err error, errs *atomic.Int64) {
	for {
		m := h.maxLatencyNanos.Load()
		if int64(d) <= m || h.maxLatencyNanos.CompareAndSwap(m, int64(d)) {
			break
		}
	}
	if err == nil {
		h.consecutiveErrs.Store(0)
		return
	}
	errs.Add(1)
	limit := h.FailAfter
	if limit == 0 {
		limit = 8
	}
	if h.consecutiveErrs.Add(1) >= limit {
		h.failed.Store(true)
	}
}

// SetFailAfter sets the number of consecutive errors after which the device
// is marked failed. Call it before the device is shared.
func (h *Health) SetFailAfter(n int64) { h.FailAfter = n }

// Reset clears the failed mark and the run of consecutive errors, for
// example after an operator replaced a cable. Counters are kept.
func (h *Health) Reset() {
	h.consecutiveErrs.Store(0)
	h.failed.Store(false)
}

// MarkFailed marks the device failed (for example when it vanished).
func (h *Health) MarkFailed() { h.failed.Store(true) }

// Failed reports whether the device has been marked failed.
func (h *Health) Failed() bool { return h.failed.Load() }

// Stats returns a snapshot.
func (h *Health) Stats() HealthStats {
	return HealthStats{
		Reads: h.reads.Load(), Writes: h.writes.Load(), Syncs: h.syncs.Load(),
		ReadErrors: h.readErrs.Load(), WriteErrors: h.writeErrs.Load(),
		BytesRead: h.bytesRead.Load(), BytesWritten: h.bytesWritten.Load(),
		ReadNanos: h.readNanos.Load(), WriteNanos: h.writeNanos.Load(),
		MaxLatency: time.Duration(h.maxLatencyNanos.Load()),
		Failed:     h.failed.Load(),
	}
}
