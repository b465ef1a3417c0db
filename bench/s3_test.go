package bench

import (
	"context"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3"
	"github.com/gpucache/gpucache/protocols/s3/s3test"
)

// TestRunS3Clients runs the s3 workload with both clients against an
// in-process S3 server, values verified in full: multipart uploads (12 MiB
// in 5 MiB parts), the CRT-style ranged and parallel reads, and misses.
func TestRunS3Clients(t *testing.T) {
	addr := s3test.Start(t, 256<<20, s3.Config{Credentials: []s3.Credential{{AccessKey: "benchkey", SecretKey: "benchsecret"}}})
	const size = 12 << 20
	env := &Env{Payload: NewPayload(size), Keys: NewKeySpace(7, "m", 1), Verify: VerifyFull, Timeout: 30 * time.Second}
	ep := &S3Endpoint{Endpoint: addr, AccessKey: "benchkey", SecretKey: "benchsecret", Region: "us-east-1",
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
