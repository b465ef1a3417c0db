package s3compat

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestS3Metrics checks that the binary's /metrics (admin-port) counts S3
// requests by operation and outcome, times them, and counts body bytes.
func TestS3Metrics(t *testing.T) {
	admin := internal.FreePort(t)
	tg := startTarget(t, false, "--admin-port", strconv.Itoa(admin))
	if !tg.Real {
		t.Skip("/metrics is the binary's")
	}
	mc := minioClient(t, tg, false)
	ctx := context.Background()
	if err := mc.MakeBucket(ctx, "metrics", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	body := pattern(5, 1<<20)
	if _, err := mc.PutObject(ctx, "metrics", "obj", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		o, err := mc.GetObject(ctx, "metrics", "obj", minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := io.Copy(io.Discard, o); n != int64(len(body)) {
			t.Fatalf("GET returned %d bytes", n)
		}
		o.Close()
	}
	if _, err := mc.StatObject(ctx, "metrics", "missing", minio.StatObjectOptions{}); err == nil {
		t.Fatal("HEAD of a missing key succeeded")
	}

	var text []byte
	scrape := func() {
		t.Helper()
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(admin) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		text, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	metric := func(re string) float64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + re + ` (\S+)$`).FindSubmatch(text)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	want := map[string]float64{
		`gpucache_s3_requests_total\{operation="CreateBucket",outcome="OK"\}`:             1,
		`gpucache_s3_requests_total\{operation="PutObject",outcome="OK"\}`:                1,
		`gpucache_s3_requests_total\{operation="GetObject",outcome="OK"\}`:                2,
		`gpucache_s3_requests_total\{operation="HeadObject",outcome="NoSuchKey"\}`:        1,
		`gpucache_s3_request_duration_seconds_count\{operation="GetObject"\}`:             2,
		`gpucache_s3_request_duration_seconds_bucket\{operation="GetObject",le="\+Inf"\}`: 2,
	}
	// A request is counted when its handler returns, after the last byte of
	// its reply left: the client can be done before the count moves. Scrape
	// until every count has reached what was done (never past it), or give up.
	deadline := time.Now().Add(10 * time.Second)
	for {
		scrape()
		done := true
		for re, w := range want {
			if metric(re) < w {
				done = false
			}
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for re, w := range want {
		if got := metric(re); got != w {
			t.Errorf("%s = %v, want %v in /metrics:\n%s", re, got, w, text)
		}
	}
	if got := metric(`gpucache_s3_body_bytes_total\{direction="out"\}`); got != float64(2*len(body)) {
		t.Errorf("bytes out %v, want %d", got, 2*len(body))
	}
	if got := metric(`gpucache_s3_body_bytes_total\{direction="in"\}`); got < float64(len(body)) {
		t.Errorf("bytes in %v, want at least %d", got, len(body))
	}
}
