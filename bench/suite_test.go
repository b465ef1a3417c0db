package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tinySuite runs in a second or two.
func tinySuite() Suite {
	s := QuickSuite()
	s.Workloads = []string{WorkloadLMCache, WorkloadSmall, WorkloadS3}
	s.Sizes = []int{64 << 10, 1 << 20}
	for i := range s.LMCache {
		s.LMCache[i].WorkingSet = 8 << 20
	}
	s.S3.WorkingSet = 4 << 20
	s.Small.Keys, s.Small.Ops, s.Small.Clients = 200, 2000, 4
	s.Verify = VerifyFull
	s.Seed = 1
	return s
}

func TestRunSuiteRedisAndRaw(t *testing.T) {
	srv := startRedisForTest(t)
	raw := startRaw(t, NewPayload(1<<20))
	targets := []*Target{
		{Name: "redis", Addr: srv.Addr, PID: srv.PID(), S3: &S3Endpoint{Endpoint: "127.0.0.1:1", Bucket: "b"}},
		{Name: "raw", Kind: TargetRaw, Addr: raw.Addr()},
	}
	s := tinySuite()
	rep, err := RunSuite(context.Background(), s, targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	// lmcache: 2 modes x 2 sizes x 2 phases x 2 targets; small: 2 phases x
	// 2 targets; s3: the redis target's endpoint is unreachable (skipped),
	// the raw target runs 2 clients x 2 sizes x 2 phases.
	if want := 16 + 4 + 8; len(rep.Rows) != want {
		t.Errorf("%d rows, want %d", len(rep.Rows), want)
	}
	if len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0], "skipping s3 on redis") {
		t.Errorf("skipped = %q", rep.Skipped)
	}
	if rep.Errors() != 0 {
		for _, r := range rep.Rows {
			if r.Errors > 0 {
				t.Errorf("%s %s %s %s: %s", r.Workload, r.Mode, r.Phase, r.Target, r.FirstError)
			}
		}
	}
	for _, r := range rep.Rows {
		if r.Ops == 0 || r.P50us <= 0 || r.P99us < r.P50us || r.P999us < r.P99us {
			t.Errorf("%s %s %s %s: ops %d p50 %v p99 %v p99.9 %v", r.Workload, r.Mode, r.Phase, r.Target, r.Ops, r.P50us, r.P99us, r.P999us)
		}
		if len(r.RoundGBps) != s.Rounds {
			t.Errorf("%s %s: %d rounds recorded, want %d", r.Workload, r.Target, len(r.RoundGBps), s.Rounds)
		}
		switch {
		case r.Target == "redis" && r.PeakRSS <= 0:
			t.Errorf("redis row without peak RSS")
		case r.Target == "redis" && r.Workload != WorkloadS3 && r.Ratios["raw"] <= 0:
			t.Errorf("redis %s %s row without ratio to raw: %v", r.Workload, r.Phase, r.Ratios)
		case r.Target == "raw" && r.Ratios != nil:
			t.Errorf("raw row has ratios %v", r.Ratios)
		}
		if r.Target == "redis" && r.Workload != WorkloadS3 {
			var other *Row
			for _, o := range rep.Rows {
				if o.order[0] == r.order[0] && o.order[1] == r.order[1] && o.Target == "raw" {
					other = o
				}
			}
			if other == nil || other.Bytes != r.Bytes || other.Ops != r.Ops {
				t.Errorf("%s %s %s: targets did different work", r.Workload, r.Mode, r.Phase)
			}
		}
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"redis/raw", "native-b8", "python", "64KiB", "1MiB", "64B-4KiB", "VmHWM at end: redis", "skipping s3"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	dir := t.TempDir()
	if err := rep.WriteJSON(filepath.Join(dir, "r.json")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "r.json"))
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Rows) != len(rep.Rows) || back.Rows[0].GBps != rep.Rows[0].GBps {
		t.Errorf("JSON round trip: %v, %d rows", err, len(back.Rows))
	}

	var svg bytes.Buffer
	if err := rep.WritePlot(&svg); err != nil {
		t.Fatal(err)
	}
	checkXML(t, svg.Bytes())
	if n := strings.Count(svg.String(), "<polyline"); n < 8 {
		t.Errorf("plot has %d lines", n)
	}
}

func checkXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
}

func TestS3UnreachableSkips(t *testing.T) {
	env := &Env{Payload: NewPayload(1 << 20), Keys: NewKeySpace(1, "m", 1), Timeout: time.Second}
	tg := &Target{Name: "x", S3: &S3Endpoint{Endpoint: "127.0.0.1:1", Bucket: "b"}}
	_, err := RunS3(context.Background(), env, tg, LMCacheConfig{Concurrency: 1, WorkingSet: 1 << 20}, 1<<20)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("RunS3 against a closed port: %v, want ErrUnreachable", err)
	}
}

func TestValueReader(t *testing.T) {
	p := NewPayload(1 << 20)
	for _, n := range []int{16, 17, 1000, 1 << 20} {
		want := p.AppendValue(nil, 77, n)
		r := &valueReader{p: p, stamp: 77, size: n}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: ReadAll differs (err %v)", n, err)
		}
		for _, off := range []int{0, 3, 8, n / 2, n - 9, n - 8, n - 1} {
			buf := make([]byte, 11)
			k, _ := r.ReadAt(buf, int64(off))
			if !bytes.Equal(buf[:k], want[off:min(off+11, n)]) {
				t.Fatalf("size %d: ReadAt(%d) = %x, want %x", n, off, buf[:k], want[off:min(off+11, n)])
			}
		}
		if pos, _ := r.Seek(0, io.SeekStart); pos != 0 {
			t.Fatal("seek")
		}
		if err := p.Verify(want, 77, n, VerifyFull); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCLIRawQuick(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Main([]string{"run", "--target", "raw", "--quick", "--no-progress", "--sizes", "64KiB,256KiB",
		"--working-set", "2MiB", "--small-ops", "500", "--small-keys", "100", "--rounds", "1", "--verify", "full",
		"--json", filepath.Join(dir, "r.json"), "--plot", filepath.Join(dir, "p.svg")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "native-b8") || !strings.Contains(out.String(), "256KiB") {
		t.Errorf("table:\n%s", out.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "p.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkXML(t, b)
	if code := Main([]string{"run", "--modes", "native-bx"}, &out, &errb); code != 2 {
		t.Errorf("bad mode: exit %d, want 2", code)
	}
	if code := Main([]string{"nope"}, &out, &errb); code != 2 {
		t.Errorf("bad command: exit %d, want 2", code)
	}
}

func TestCLIPresetsAndOverrides(t *testing.T) {
	f := newFlags("compare", io.Discard)
	if err := f.fs.Parse([]string{"--quick", "--modes", "native,native-b4", "--concurrency", "3", "--sizes", "1MiB,2mb", "--small-sizes", "100,200"}); err != nil {
		t.Fatal(err)
	}
	s, err := f.suite()
	if err != nil {
		t.Fatal(err)
	}
	q := QuickSuite()
	if len(s.LMCache) != 2 || s.LMCache[1].Batch != 4 || s.LMCache[0].Concurrency != 3 || s.S3.Concurrency != 3 {
		t.Errorf("modes/concurrency not applied: %+v", s.LMCache)
	}
	if s.LMCache[0].WorkingSet != q.LMCache[0].WorkingSet || s.Rounds != q.Rounds {
		t.Errorf("quick preset lost: working set %d rounds %d", s.LMCache[0].WorkingSet, s.Rounds)
	}
	if len(s.Sizes) != 2 || s.Sizes[1] != 2<<20 || s.Small.MinSize != 100 || s.Small.MaxSize != 200 {
		t.Errorf("sizes %v small %d..%d", s.Sizes, s.Small.MinSize, s.Small.MaxSize)
	}
	f = newFlags("compare", io.Discard)
	f.fs.Parse(nil)
	if s, _ := f.suite(); s.Rounds != FullSuite().Rounds || len(s.LMCache) != 3 {
		t.Errorf("default is not the full preset: %d rounds, %d modes", s.Rounds, len(s.LMCache))
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64": 64, "4KiB": 4096, "2gb": 2 << 30, "80MiB": 80 << 20, "1.5k": 1536, " 7 m ": 7 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "5q"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
	if FormatSize(80<<20) != "80MiB" || FormatSize(64) != "64B" || FormatSize(7340200) != "7.0MiB" {
		t.Errorf("FormatSize: %s %s %s", FormatSize(80<<20), FormatSize(64), FormatSize(7340200))
	}
}

func TestKeyShapes(t *testing.T) {
	ks := NewKeySpace(5, "Qwen/Qwen3-Coder-30B-A3B-Instruct", 4)
	native := string(ks.AppendNative(nil, 6))
	if !strings.HasPrefix(native, "Qwen/Qwen3-Coder-30B-A3B-Instruct@00000002@") || strings.Count(native, "@") != 2 {
		t.Errorf("native key %q", native)
	}
	py := string(ks.AppendPython(nil, 6, suffixKV))
	if !strings.HasPrefix(py, "vllm@Qwen/Qwen3-Coder-30B-A3B-Instruct@4@2@") || !strings.HasSuffix(py, "@bfloat16kv_bytes") {
		t.Errorf("python key %q", py)
	}
	if obj := string(ks.AppendObject(nil, 6)); strings.Contains(obj, "/") {
		t.Errorf("object name %q keeps '/'", obj)
	}
	if len(PythonMeta(32<<20)) != pythonMetaSize {
		t.Error("metadata size")
	}
	// Some hashes are negative when printed signed, as Python prints them.
	neg := false
	for i := uint64(0); i < 64; i++ {
		neg = neg || strings.Contains(string(ks.AppendPython(nil, i, "")), "@-")
	}
	if !neg {
		t.Error("no negative chunk hash in 64 keys")
	}
	if ks.ChunkHash(3) == ks.ChunkHash(MissIndex(3)) {
		t.Error("miss index collides")
	}
}
