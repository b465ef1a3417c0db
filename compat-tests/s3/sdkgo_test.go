package s3compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// sdkClient is an AWS SDK for Go v2 client of the target with its
// defaults (checksums when supported, its own retryer), path-style or
// virtual-host addressing.
func sdkClient(t *testing.T, tg *target, pathStyle bool) *s3.Client {
	t.Helper()
	endpoint := tg.URL()
	if !pathStyle {
		// Virtual-host buckets are <bucket>.s3.test; the client dials
		// every name to the target.
		u, _ := url.Parse(endpoint)
		_, port, _ := net.SplitHostPort(u.Host)
		endpoint = u.Scheme + "://" + domain + ":" + port
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: pathStyle,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, nil
		}),
		HTTPClient: tg.httpClient(),
	})
}

// TestAWSSDKGoV2PathStyle drives the server with the AWS SDK for Go v2 in
// the shape of NVIDIA NIXL's object plugin (which Dynamo KVBM's object
// tier, vLLM's offloading connector and SGLang HiCache reach S3 through):
// path-style addressing, region us-east-1, PutObject of KV blocks,
// GetObject with `Range: bytes=off-end`, HeadObject for sizes, and the
// SDK's typed errors for a missing object; over HTTP and HTTPS.
func TestAWSSDKGoV2PathStyle(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			tg := startTarget(t, useTLS)
			c := sdkClient(t, tg, true)
			ctx := context.Background()
			bucket := "nixl-kv"
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
				t.Fatal(err)
			}
			// KVBM names an object after its block's sequence hash.
			blocks := map[string][]byte{
				"12609465791219520761": pattern(11, 32<<20),
				"9052171733650612093":  pattern(12, 2<<20+17),
				"1":                    pattern(13, 1),
			}
			for k, v := range blocks {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: bytes.NewReader(v)}); err != nil {
					t.Fatalf("PutObject %s: %v", k, err)
				}
			}
			for k, v := range blocks {
				h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(k)})
				if err != nil {
					t.Fatalf("HeadObject %s: %v", k, err)
				}
				if aws.ToInt64(h.ContentLength) != int64(len(v)) {
					t.Errorf("HeadObject %s: length %d, want %d", k, aws.ToInt64(h.ContentLength), len(v))
				}
				n := int64(len(v))
				for _, r := range [][2]int64{{0, n - 1}, {n / 3, n - 1}, {n / 2, n / 2}, {n - 1, n - 1}} {
					o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(k),
						Range: aws.String(fmt.Sprintf("bytes=%d-%d", r[0], r[1]))})
					if err != nil {
						t.Fatalf("GetObject %s %v: %v", k, r, err)
					}
					got, err := io.ReadAll(o.Body)
					o.Body.Close()
					if err != nil || !bytes.Equal(got, v[r[0]:r[1]+1]) {
						t.Fatalf("GetObject %s bytes=%d-%d: %d bytes (%v), not the stored range", k, r[0], r[1], len(got), err)
					}
					if want := fmt.Sprintf("bytes %d-%d/%d", r[0], r[1], n); aws.ToString(o.ContentRange) != want {
						t.Errorf("Content-Range %q, want %q", aws.ToString(o.ContentRange), want)
					}
				}
			}
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("404")})
			var nsk *types.NoSuchKey
			if !errors.As(err, &nsk) {
				t.Errorf("GetObject of a missing key: %v, want NoSuchKey", err)
			}
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("404")})
			var nf *types.NotFound
			if !errors.As(err, &nf) {
				t.Errorf("HeadObject of a missing key: %v, want NotFound", err)
			}
		})
	}
}

// TestLMCacheS3AdapterShape sends, with the AWS SDK for Go v2 and
// virtual-host addressing, the requests LMCache's multi-process `s3` L2
// adapter makes (its own client is awscrt; this is the same request shape
// from another real client): keys `<model>@<rank %08x>@<object group id hex>@<chunk hash hex>`,
// PUT, HEAD for lookups (which needs a Content-Length > 0), GET, DELETE,
// and ListObjectsV2 with prefix, max-keys and continuation-token.
func TestLMCacheS3AdapterShape(t *testing.T) {
	tg := startTarget(t, false)
	c := sdkClient(t, tg, false)
	ctx := context.Background()
	bucket := "lmcache-l2"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 23 {
		k := fmt.Sprintf("Qwen3-8B@00000000@%x@%016x", i%3, 0x6c9faa6ae5af1bd0+i)
		want = append(want, k)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k),
			Body: bytes.NewReader(pattern(uint64(i), 4096+i)), ContentType: aws.String("application/octet-stream")}); err != nil {
			t.Fatalf("PutObject %s: %v", k, err)
		}
	}
	// Another model's chunk, outside the prefix.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("Llama-3-8B@00000000@0@00"),
		Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}

	var got []string
	var token *string
	pages := 0
	for {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("Qwen3-8B@"),
			MaxKeys: aws.Int32(5), ContinuationToken: token})
		if err != nil {
			t.Fatalf("ListObjectsV2 page %d: %v", pages, err)
		}
		pages++
		if len(out.Contents) > 5 {
			t.Fatalf("page %d has %d keys, max-keys 5", pages, len(out.Contents))
		}
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
			if aws.ToInt64(o.Size) <= 0 {
				t.Errorf("%s listed with size %d", aws.ToString(o.Key), aws.ToInt64(o.Size))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		token = out.NextContinuationToken
		if token == nil || pages > 10 {
			t.Fatal("truncated listing without a usable continuation token")
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) || pages != 5 {
		t.Fatalf("listing: %d keys in %d pages, want %d keys in 5 pages in order\n%v", len(got), pages, len(want), got)
	}

	for _, k := range want[:3] {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(k)})
		if err != nil || aws.ToInt64(h.ContentLength) <= 0 {
			t.Fatalf("HEAD %s: %v (length %d)", k, err, aws.ToInt64(h.ContentLength))
		}
		o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(o.Body)
		o.Body.Close()
		if i := keyIndex(k); !bytes.Equal(b, pattern(uint64(i), 4096+i)) {
			t.Errorf("GET %s: wrong bytes", k)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
		var nf *types.NotFound
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(k)}); !errors.As(err, &nf) {
			t.Errorf("HEAD after DELETE: %v, want NotFound", err)
		}
	}
}

// keyIndex recovers i from the keys TestLMCacheS3AdapterShape writes.
func keyIndex(k string) int {
	var h uint64
	var g int
	fmt.Sscanf(k, "Qwen3-8B@00000000@%x@%016x", &g, &h)
	return int(h - 0x6c9faa6ae5af1bd0)
}
