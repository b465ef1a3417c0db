package s3

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Request metrics. Every request is counted under its S3 operation, with
// its outcome (success, or the S3 error code it was answered with) and
// its time from the first header byte read to the handler's return; body
// bytes are counted both ways. Counting costs a few atomic adds and no
// allocation; an error takes a mutex. Server.Stats takes a snapshot (the
// gateway exports it on /metrics).

// LatencyBounds are the upper bounds, in seconds, of the latency
// histogram's buckets (a last bucket holds the rest).
var LatencyBounds = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Stats is a snapshot of the request metrics.
type Stats struct {
	// Operations are the operations that saw a request, by name.
	Operations []OpStats
	// BytesIn counts request bodies read (decoded: without chunk
	// signatures); BytesOut the object bytes GETs sent.
	BytesIn, BytesOut uint64
}

// OpStats are one operation's figures.
type OpStats struct {
	Name string // S3 API name ("GetObject"), "Admin" or "Unknown"
	OK   uint64
	// Errors counts the requests answered with each S3 error code.
	Errors map[string]uint64
	// Buckets[i] counts requests that took at most LatencyBounds[i]
	// (cumulative, as Prometheus wants); Count and Sum cover all.
	Buckets [len(LatencyBounds)]uint64
	Count   uint64
	Sum     time.Duration
}

type opCounters struct {
	ok      atomic.Uint64
	buckets [len(LatencyBounds) + 1]atomic.Uint64 // not cumulative
	nanos   atomic.Uint64
	mu      sync.Mutex
	errs    map[string]uint64
}

type serverStats struct {
	ops     [numOps]opCounters
	in, out atomic.Uint64
}

func (st *serverStats) record(op op, err error, d time.Duration) {
	c := &st.ops[op]
	if err == nil {
		c.ok.Add(1)
	} else {
		code := toAPIError(err).Code
		c.mu.Lock()
		if c.errs == nil {
			c.errs = map[string]uint64{}
		}
		c.errs[code]++
		c.mu.Unlock()
	}
	secs := d.Seconds()
	i := sort.SearchFloat64s(LatencyBounds[:], secs)
	c.buckets[i].Add(1)
	c.nanos.Add(uint64(d))
}

// Stats returns a snapshot of the request metrics.
func (s *Server) Stats() Stats {
	st := &s.stats
	out := Stats{BytesIn: st.in.Load(), BytesOut: st.out.Load()}
	for op := range st.ops {
		c := &st.ops[op]
		o := OpStats{Name: opSpecs[op].name, OK: c.ok.Load(), Sum: time.Duration(c.nanos.Load())}
		var cum uint64
		for i := range c.buckets {
			cum += c.buckets[i].Load()
			if i < len(o.Buckets) {
				o.Buckets[i] = cum
			}
		}
		o.Count = cum
		c.mu.Lock()
		if len(c.errs) > 0 {
			o.Errors = make(map[string]uint64, len(c.errs))
			for k, v := range c.errs {
				o.Errors[k] = v
			}
		}
		c.mu.Unlock()
		if o.Count > 0 {
			out.Operations = append(out.Operations, o)
		}
	}
	sort.Slice(out.Operations, func(i, j int) bool { return out.Operations[i].Name < out.Operations[j].Name })
	return out
}
