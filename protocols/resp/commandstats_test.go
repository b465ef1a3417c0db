package resp

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLatBucket: the buckets cover the durations in order without gaps,
// each within 1/8 of its values, and the reported bounds fall on bucket
// starts.
func TestLatBucket(t *testing.T) {
	prev := -1
	for ns := uint64(0); ns < 1<<16; ns++ {
		i := latBucket(ns)
		if i != prev && i != prev+1 {
			t.Fatalf("latBucket(%d) = %d after %d", ns, i, prev)
		}
		if ns > latBucketMax(i) || (i > 0 && ns <= latBucketMax(i-1)) {
			t.Fatalf("%d ns in bucket %d of [%d, %d]", ns, i, latBucketMax(i-1)+1, latBucketMax(i))
		}
		prev = i
	}
	for _, ns := range []uint64{1 << 20, 1<<20 + 12345, 3e9, 1 << 40} {
		i := latBucket(ns)
		lo := latBucketMax(i-1) + 1
		if ns < lo || ns > latBucketMax(i) {
			t.Errorf("%d ns in bucket %d of [%d, %d]", ns, i, lo, latBucketMax(i))
		}
		if w := latBucketMax(i) - lo + 1; w*8 > lo {
			t.Errorf("bucket %d width %d over 1/8 of %d", i, w, lo)
		}
	}
	if latBucket(1<<62) != latBuckets-1 {
		t.Errorf("huge durations: bucket %d", latBucket(1<<62))
	}
	for j, b := range LatencyBounds {
		ns := uint64(b*1e9 + 0.5)
		if latBucketMax(latBucket(ns)-1) != ns-1 {
			t.Errorf("bound %d (%v s) is not a bucket start", j, b)
		}
	}
}

// TestCommandStats: calls, failed and rejected calls are counted per
// command as Redis counts them, INFO commandstats and latencystats report
// them in Redis 7's format, CommandStats agrees, and CONFIG RESETSTAT
// clears them.
func TestCommandStats(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	var req []byte
	for range 10 {
		req = append(req, encode("GET", "missing")...)
	}
	req = append(req, encode("SET", "k", "v")...)
	req = append(req, encode("INCR", "k")...) // not an integer: failed
	req = append(req, encode("GET")...)       // wrong arity: rejected
	req = append(req, encode("NOSUCH", "x")...)
	sc.run(req)

	info := string(sc.run(encode("INFO", "commandstats")))
	for _, want := range []string{
		`cmdstat_get:calls=10,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0` + "\r\n",
		`cmdstat_set:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0` + "\r\n",
		`cmdstat_incr:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1` + "\r\n",
	} {
		if !regexp.MustCompile(want).MatchString(info) {
			t.Errorf("INFO commandstats lacks %q:\n%s", want, info)
		}
	}
	if strings.Contains(info, "nosuch") || !strings.Contains(info, "# Commandstats\r\n") {
		t.Errorf("INFO commandstats:\n%s", info)
	}
	lat := string(sc.run(encode("INFO", "latencystats")))
	if !regexp.MustCompile(`latency_percentiles_usec_get:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}` + "\r\n").MatchString(lat) {
		t.Errorf("INFO latencystats:\n%s", lat)
	}

	byName := map[string]CommandStat{}
	for _, cs := range s.CommandStats() {
		byName[cs.Name] = cs
	}
	get := byName["get"]
	if get.Calls != 10 || get.Reject != 1 || get.Failed != 0 || get.Buckets[len(get.Buckets)-1] != 10 || get.Time <= 0 {
		t.Errorf("CommandStats get = %+v", get)
	}
	if byName["incr"].Failed != 1 {
		t.Errorf("CommandStats incr = %+v", byName["incr"])
	}

	if out := sc.run(encode("CONFIG", "RESETSTAT")); string(out) != "+OK\r\n" {
		t.Fatalf("CONFIG RESETSTAT: %q", out)
	}
	info = string(sc.run(encode("INFO", "commandstats")))
	// Only the INFO just before is counted by now (CONFIG ran, then reset).
	if strings.Contains(info, "cmdstat_get") || !strings.Contains(info, "cmdstat_config:calls=1,") {
		t.Errorf("after CONFIG RESETSTAT:\n%s", info)
	}
}

// TestPercentile: the percentile is the highest duration of the bucket
// holding it.
func TestPercentile(t *testing.T) {
	var h [latBuckets]uint64
	for range 98 {
		h[latBucket(1000)]++
	}
	h[latBucket(50_000)]++
	h[latBucket(2_000_000)]++
	if p := percentile(&h, 100, 50); p != latBucketMax(latBucket(1000)) {
		t.Errorf("p50 = %d", p)
	}
	if p := percentile(&h, 100, 99); p != latBucketMax(latBucket(50_000)) {
		t.Errorf("p99 = %d", p)
	}
	if p := percentile(&h, 100, 99.9); p != latBucketMax(latBucket(2_000_000)) {
		t.Errorf("p99.9 = %d", p)
	}
}

// TestCommandStatsAllocs: counting adds no allocation to the request path.
func TestCommandStatsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	s.SetSlowlog(time.Hour, 128)
	sc := newSyncConn(s)
	batch := bytes.Join([][]byte{encode("PING"), encode("GET"), encode("INCR", "x", "y")}, nil)
	sc.run(batch)
	if a := testing.AllocsPerRun(200, func() { sc.run(batch) }); a != 0 {
		t.Errorf("%v allocs per batch, want 0", a)
	}
}
