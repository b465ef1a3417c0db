package resp

import (
	"sync"
	"time"
)

// rateSamples is how many once-a-second samples the instantaneous rates
// of INFO stats span (Redis averages over its last 16 samples too).
const rateSamples = 5

// rateSampler keeps the last few samples of the server's running totals,
// taken by the server's once-a-second sweep (idleReaper), so that INFO's
// instantaneous_* fields are measured rates, not zeros.
type rateSampler struct {
	mu      sync.Mutex
	samples [rateSamples]rateSample
	n, next int
}

type rateSample struct {
	at            time.Time
	cmds, in, out int64
}

func (r *rateSampler) add(s rateSample) {
	r.mu.Lock()
	r.samples[r.next] = s
	r.next = (r.next + 1) % rateSamples
	r.n = min(r.n+1, rateSamples)
	r.mu.Unlock()
}

// rates returns commands per second and input and output KiB per second
// over the samples held (zeros before two samples exist).
func (r *rateSampler) rates() (ops int64, inKBps, outKBps float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n < 2 {
		return 0, 0, 0
	}
	newest := r.samples[(r.next+rateSamples-1)%rateSamples]
	oldest := r.samples[(r.next+rateSamples-r.n)%rateSamples]
	dt := newest.at.Sub(oldest.at).Seconds()
	if dt <= 0 {
		return 0, 0, 0
	}
	ops = int64(float64(newest.cmds-oldest.cmds)/dt + 0.5)
	return ops, float64(newest.in-oldest.in) / dt / 1024, float64(newest.out-oldest.out) / dt / 1024
}

// sampleRates records the server's totals now.
func (s *Server) sampleRates(now time.Time) {
	cmds, in, out, _, _ := s.totals()
	s.rates.add(rateSample{at: now, cmds: cmds, in: in, out: out})
}
