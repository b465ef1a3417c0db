package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3"
)

// TestRunS3Clients runs the s3 workload with both clients against an
// in-process S3 server, values verified in full: multipart uploads (12 MiB
// in 5 MiB parts), the CRT-style ranged and parallel reads, and misses.
func TestRunS3Clients(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: t.TempDir(), DRAMCacheSize: 256 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s3.NewServer(eng, s3.Config{Credentials: []s3.Credential{{AccessKey: "benchkey", SecretKey: "benchsecret"}}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		eng.Close()
	})
	const size = 12 << 20
	env := &Env{Payload: NewPayload(size), Keys: NewKeySpace(7, "m", 1), Verify: VerifyFull, Timeout: 30 * time.Second}
	ep := &S3Endpoint{Endpoint: ln.Addr().String(), AccessKey: "benchkey", SecretKey: "benchsecret", Region: "us-east-1",
		Bucket: "bench", PartSize: 5 << 20}
	for _, mode := range []string{S3ModeCRT, S3ModeMinio} {
		cfg := LMCacheConfig{Mode: mode, Concurrency: 2, WorkingSet: 3 * size, GetPasses: 2, PrefixChunks: 4, HitRatio: 0.5}
		res, err := RunS3(context.Background(), env, &Target{Name: "s3", S3: ep}, cfg, size)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if len(res) != 2 {
			t.Fatalf("%s: %d phases", mode, len(res))
		}
		for _, r := range res {
			if r.Errors > 0 {
				t.Errorf("%s %s: %d errors, first: %v", mode, r.Phase, r.Errors, r.FirstErr)
			}
			if r.Mode != mode || r.Hist.Count() == 0 {
				t.Errorf("%s %s: mode %q, %d operations", mode, r.Phase, r.Mode, r.Hist.Count())
			}
		}
		if res[1].Hits == 0 || res[1].Misses == 0 {
			t.Errorf("%s get: %d hits, %d misses; want both", mode, res[1].Hits, res[1].Misses)
		}
	}
}
