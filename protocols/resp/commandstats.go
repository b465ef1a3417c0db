package resp

import (
	"math/bits"
	"strconv"
	"sync/atomic"
	"time"
)

// Per-command statistics, for INFO commandstats and latencystats (Redis 7
// formats) and the gateway's Prometheus metrics. Every command in the
// table has its counters (cmdSpec.stat), so counting costs no lookup and
// no allocation: after each request the dispatcher adds one to a latency
// bucket and the request's time to a sum (two atomic adds), plus one for a
// failed call. The duration is the one the slow log measures.
//
// As in Redis: calls counts requests the command ran for, failed_calls
// those of them answered with an error, rejected_calls requests refused
// before the command ran (wrong number of arguments, not authenticated,
// admin password needed, a large argument that could not be received).
// Unknown commands count nowhere. A pipelined run of plain SETs is timed
// as the commands are queued; the run's commit is charged to the request
// that triggers it.

// The latency histogram is log-linear over nanoseconds: values under 8 ns
// have a bucket each, then every power of two is split into latSub equal
// buckets, so a bucket's width is at most 1/8 of its values (a
// percentile read from it is at most 12.5% high). Durations past
// 2^(latMaxShift+4) ns (about 38 minutes) land in the last bucket.
const (
	latSubBits  = 3
	latSub      = 1 << latSubBits
	latMaxShift = 37
	latBuckets  = (latMaxShift + 2) * latSub
)

// latBucket returns the bucket of a duration of ns nanoseconds.
func latBucket(ns uint64) int {
	if ns < latSub {
		return int(ns)
	}
	shift := bits.Len64(ns) - latSubBits - 1
	if shift > latMaxShift {
		return latBuckets - 1
	}
	return (shift+1)*latSub + int(ns>>uint(shift)) - latSub
}

// latBucketMax returns the highest duration, in nanoseconds, of bucket i.
func latBucketMax(i int) uint64 {
	if i < latSub {
		return uint64(i)
	}
	shift := uint(i/latSub - 1)
	m := uint64(i%latSub + latSub)
	return (m+1)<<shift - 1
}

// LatencyBounds are the upper bounds of the buckets CommandStats reports,
// in seconds: powers of two from 2^10 ns (about 1 µs) to 2^35 ns (about
// 34 s). They fall on histogram bucket boundaries, so the cumulative
// counts are exact (a bucket counts durations below its bound).
var LatencyBounds = func() []float64 {
	b := make([]float64, 0, 26)
	for p := 10; p <= 35; p++ {
		b = append(b, float64(uint64(1)<<p)/1e9)
	}
	return b
}()

// cmdStat are one command's counters.
type cmdStat struct {
	nanos    atomic.Uint64 // time of all calls
	failed   atomic.Uint64
	rejected atomic.Uint64
	lat      [latBuckets]atomic.Uint64 // calls by duration; their sum is the calls
}

func (st *cmdStat) reset() {
	st.nanos.Store(0)
	st.failed.Store(0)
	st.rejected.Store(0)
	for i := range st.lat {
		st.lat[i].Store(0)
	}
}

// calls sums the histogram into dst (bucket counts, not cumulative) and
// returns the total.
func (st *cmdStat) load(dst *[latBuckets]uint64) (calls uint64) {
	for i := range st.lat {
		n := st.lat[i].Load()
		dst[i] = n
		calls += n
	}
	return calls
}

// initStats gives every command of the table its counters.
func (t *commandTable) initStats() {
	stats := make([]cmdStat, len(t.list))
	for i, s := range t.list {
		s.stat = &stats[i]
	}
}

// started marks cmd as run by spec (it passed lookup, arity and
// authentication), noting the errors replied so far so that countCommand
// tells a failed call. Called by exec.
func (c *conn) started(spec *cmdSpec, cmd *Command) {
	cmd.ran = spec
	cmd.errMark = c.wr.errs
}

// countCommand counts cmd, which exec finished (it was started at start),
// and returns its duration.
func (c *conn) countCommand(cmd *Command, start time.Time) time.Duration {
	d := time.Since(start)
	spec := cmd.ran
	erred := c.wr.errs != c.wr.errsCounted
	c.wr.errsCounted = c.wr.errs
	if spec == nil {
		// Refused before it ran (an error reply, and no start), or unknown;
		// a command held back without an error (queued in a transaction)
		// is not counted here. The rare path may look up.
		if erred && len(cmd.Args) > 0 {
			if s := c.s.commands.lookup(cmd.Args[0]); s != nil && s.stat != nil {
				s.stat.rejected.Add(1)
			}
		}
		return d
	}
	cmd.ran = nil
	st := spec.stat
	if st == nil {
		return d // a spec added to the table after it was built
	}
	ns := uint64(max(d, 0))
	st.lat[latBucket(ns)].Add(1)
	st.nanos.Add(ns)
	if c.wr.errs != cmd.errMark {
		st.failed.Add(1)
	}
	return d
}

// CommandStat is a snapshot of one command's counters.
type CommandStat struct {
	Name                  string
	Calls, Failed, Reject uint64
	Time                  time.Duration // of all calls
	// Buckets[i] counts calls that took less than LatencyBounds[i]
	// (cumulative, as Prometheus wants).
	Buckets []uint64
}

// CommandStats returns the counters of the commands that were called or
// rejected since the start or CONFIG RESETSTAT, by name. Safe for
// concurrent use; it allocates, for scrapes.
func (s *Server) CommandStats() []CommandStat {
	var hist [latBuckets]uint64
	var out []CommandStat
	for _, spec := range s.commands.list {
		st := spec.stat
		calls := st.load(&hist)
		failed, rejected := st.failed.Load(), st.rejected.Load()
		if calls == 0 && rejected == 0 {
			continue
		}
		cs := CommandStat{Name: spec.name, Calls: calls, Failed: failed, Reject: rejected,
			Time: time.Duration(st.nanos.Load()), Buckets: make([]uint64, len(LatencyBounds))}
		// Bound p = 2^(10+j) ns is the start of bucket (p-3+1)*latSub.
		var cum uint64
		i := 0
		for j := range LatencyBounds {
			end := (10 + j - latSubBits + 1) * latSub
			for ; i < end; i++ {
				cum += hist[i]
			}
			cs.Buckets[j] = cum
		}
		out = append(out, cs)
	}
	return out
}

// ResetStats is CONFIG RESETSTAT's part here: the per-command counters
// and latency histograms start again from zero.
func (s *Server) ResetStats() {
	for _, spec := range s.commands.list {
		spec.stat.reset()
	}
}

// latencyPercentiles are the percentiles INFO latencystats reports
// (Redis's latency-tracking-info-percentiles default).
var latencyPercentiles = [...]struct {
	name string
	p    float64
}{{"p50", 50}, {"p99", 99}, {"p99.9", 99.9}}

// infoCommandstats writes "cmdstat_<name>:calls=..,usec=..,usec_per_call=..,
// rejected_calls=..,failed_calls=.." per command called or rejected, as
// Redis 7 does (sorted by name).
func (c *conn) infoCommandstats(b []byte) []byte {
	var hist [latBuckets]uint64
	b = append(b, "# Commandstats\r\n"...)
	for _, spec := range c.s.commands.list {
		st := spec.stat
		calls := st.load(&hist)
		failed, rejected := st.failed.Load(), st.rejected.Load()
		if calls == 0 && failed == 0 && rejected == 0 {
			continue
		}
		usec := st.nanos.Load() / 1000
		b = append(b, "cmdstat_"...)
		b = append(b, spec.name...)
		b = append(b, ":calls="...)
		b = strconv.AppendUint(b, calls, 10)
		b = append(b, ",usec="...)
		b = strconv.AppendUint(b, usec, 10)
		b = append(b, ",usec_per_call="...)
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		b = strconv.AppendFloat(b, per, 'f', 2, 64)
		b = append(b, ",rejected_calls="...)
		b = strconv.AppendUint(b, rejected, 10)
		b = append(b, ",failed_calls="...)
		b = strconv.AppendUint(b, failed, 10)
		b = append(b, "\r\n"...)
	}
	return b
}

// infoLatencystats writes "latency_percentiles_usec_<name>:p50=..,p99=..,
// p99.9=.." per command called, as Redis 7 does: each percentile is the
// highest duration of the bucket it falls in, in microseconds with three
// decimals.
func (c *conn) infoLatencystats(b []byte) []byte {
	var hist [latBuckets]uint64
	b = append(b, "# Latencystats\r\n"...)
	for _, spec := range c.s.commands.list {
		calls := spec.stat.load(&hist)
		if calls == 0 {
			continue
		}
		b = append(b, "latency_percentiles_usec_"...)
		b = append(b, spec.name...)
		b = append(b, ':')
		for k, p := range latencyPercentiles {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, p.name...)
			b = append(b, '=')
			ns := percentile(&hist, calls, p.p)
			b = strconv.AppendFloat(b, float64(ns)/1000, 'f', 3, 64)
		}
		b = append(b, "\r\n"...)
	}
	return b
}

// percentile returns the highest duration of the bucket holding the p-th
// percentile of total values (HdrHistogram's value at percentile).
func percentile(hist *[latBuckets]uint64, total uint64, p float64) uint64 {
	want := uint64(p/100*float64(total) + 0.5)
	want = max(want, 1)
	var cum uint64
	for i, n := range hist {
		cum += n
		if cum >= want {
			return latBucketMax(i)
		}
	}
	return latBucketMax(latBuckets - 1)
}
