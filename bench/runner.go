package bench

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Recorder collects one worker's measurements of one phase. It is owned by
// its worker (no locks); runPhase merges all recorders at the end.
type Recorder struct {
	hist     *Histogram
	ops      int64
	bytes    int64
	hits     int64
	misses   int64
	errs     int64
	firstErr error
	prog     *Progress
}

func newRecorder(p *Progress) *Recorder {
	return &Recorder{hist: NewHistogram(), prog: p}
}

// Op records one operation that moved n value bytes in time lat.
func (r *Recorder) Op(lat time.Duration, n int) {
	r.hist.RecordDuration(lat)
	r.ops++
	r.bytes += int64(n)
	r.prog.add(1, int64(n))
}

// Hit and Miss count the outcome of a read that was expected to miss or hit.
func (r *Recorder) Hit()  { r.hits++ }
func (r *Recorder) Miss() { r.misses++ }

// Fail records an operation-level failure; the first one is kept.
func (r *Recorder) Fail(err error) {
	r.errs++
	if r.firstErr == nil {
		r.firstErr = err
	}
}

// PhaseResult is the measurement of one phase of one workload cell against
// one target, possibly merged over several rounds.
type PhaseResult struct {
	Workload string
	Mode     string
	Phase    string
	// Size is the value size, or 0 when sizes vary (small workload).
	Size   int
	Target string

	Ops     int64
	Bytes   int64
	Hits    int64
	Misses  int64
	Errors  int64
	Elapsed time.Duration
	Hist    *Histogram
	// FirstErr is the first failure seen, if any.
	FirstErr error
	// RoundGBps and RoundOps are the throughput of each round.
	RoundGBps []float64
	RoundOps  []float64
	// ServerCPU is the user + system CPU time the server process spent
	// while the phase ran (0 when its process is unknown).
	ServerCPU time.Duration
}

// GBps returns the throughput in 10^9 bytes per second.
func (r *PhaseResult) GBps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Elapsed.Seconds() / 1e9
}

// OpsPerSec returns operations per second.
func (r *PhaseResult) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// HitRate returns the fraction of reads that found their key, or -1 when
// the phase did no reads that could miss.
func (r *PhaseResult) HitRate() float64 {
	if r.Hits+r.Misses == 0 {
		return -1
	}
	return float64(r.Hits) / float64(r.Hits+r.Misses)
}

// Merge adds another round of the same cell and target.
func (r *PhaseResult) Merge(o *PhaseResult) {
	r.Ops += o.Ops
	r.Bytes += o.Bytes
	r.Hits += o.Hits
	r.Misses += o.Misses
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	r.ServerCPU += o.ServerCPU
	r.Hist.Merge(o.Hist)
	if r.FirstErr == nil {
		r.FirstErr = o.FirstErr
	}
	r.RoundGBps = append(r.RoundGBps, o.RoundGBps...)
	r.RoundOps = append(r.RoundOps, o.RoundOps...)
}

// runPhase runs fn on n workers at once and merges what they record. The
// clock runs from the moment all workers are released until the last one
// returns; the server's CPU time (env.ServerPID) is read at both ends. A
// worker returning an error (a broken connection) counts as one failure;
// the other workers go on.
func runPhase(ctx context.Context, env *Env, label string, n int, fn func(ctx context.Context, w int, rec *Recorder) error) *PhaseResult {
	prog := env.Progress
	recs := make([]*Recorder, n)
	for i := range recs {
		recs[i] = newRecorder(prog)
	}
	var wg sync.WaitGroup
	release := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			<-release
			if err := fn(ctx, w, recs[w]); err != nil && !errors.Is(err, context.Canceled) {
				recs[w].Fail(err)
			}
		}(i)
	}
	prog.Begin(label)
	cpu0, cpuErr := ProcCPU(env.ServerPID)
	start := time.Now()
	close(release)
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, cpuErr1 := ProcCPU(env.ServerPID)
	prog.End()

	res := &PhaseResult{Hist: NewHistogram(), Elapsed: elapsed}
	if env.ServerPID != 0 && cpuErr == nil && cpuErr1 == nil {
		res.ServerCPU = cpu1 - cpu0
	}
	for _, r := range recs {
		res.Hist.Merge(r.hist)
		res.Ops += r.ops
		res.Bytes += r.bytes
		res.Hits += r.hits
		res.Misses += r.misses
		res.Errors += r.errs
		if res.FirstErr == nil {
			res.FirstErr = r.firstErr
		}
	}
	res.RoundGBps = []float64{res.GBps()}
	res.RoundOps = []float64{res.OpsPerSec()}
	return res
}
