package s3compat

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

var compatCred = sigv4.Credential{AccessKey: accessKey, SecretKey: secretKey}

// crtClient replays what LMCache's s3:// connector (the AWS CRT S3
// client) sends: virtual-host addressing, UNSIGNED-PAYLOAD, multipart in
// 8 MiB parts with unquoted ETags, ranged GETs.
type crtClient struct {
	t      *testing.T
	tg     *target
	c      *http.Client
	bucket string
}

func (c *crtClient) do(method, key, query string, body []byte, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	host := c.bucket + "." + domain + ":" + strings.Split(c.tg.Host, ":")[1]
	u := c.tg.URL() + "/" + key
	if key == "" {
		u = c.tg.URL() + "/"
	}
	if query != "" {
		u += "?" + query
	}
	r, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	r.Host = host
	r.Header.Set("User-Agent", "CRTS3NativeClient/0.1.x")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	sigv4.Sign(r, compatCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
	resp, err := c.c.Do(r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, key, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", method, key, err)
	}
	return resp, out
}

func want(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
}

func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func TestLMCacheCRTSequence(t *testing.T) {
	t.Run("h2", func(t *testing.T) { testCRTSequence(t, startTarget(t, true), 2) })
	// The client asks for h2 and falls back when the server offers only
	// HTTP/1.1, as the CRT client does.
	t.Run("http1.1", func(t *testing.T) { testCRTSequence(t, startTarget(t, true, "--s3-tls-http2", "no"), 1) })
}

func testCRTSequence(t *testing.T, tg *target, proto int) {
	c := &crtClient{t: t, tg: tg, c: tg.httpClient(), bucket: "lmcache"}
	// Bucket creation is not LMCache's job; do it path-style.
	resp, body := c.do("PUT", "", "", nil)
	want(t, resp, body, 200)
	if resp.ProtoMajor != proto {
		t.Errorf("protocol %s, want HTTP/%d over TLS", resp.Proto, proto)
	}

	// A 32 MiB KV chunk: CreateMultipartUpload, 4 parts of 8 MiB, Complete
	// with unquoted ETags in pretty-printed XML.
	const part = 8 << 20
	data := pattern(1, 4*part)
	key := "vllm%40model_1_0_abc"
	resp, body = c.do("POST", key, "uploads", nil)
	want(t, resp, body, 200)
	var init struct{ UploadId string }
	if err := xml.Unmarshal(body, &init); err != nil || init.UploadId == "" {
		t.Fatalf("CreateMultipartUpload: %v %s", err, body)
	}
	etags := make([]string, 4)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := c.do("PUT", key, fmt.Sprintf("partNumber=%d&uploadId=%s", i+1, init.UploadId), data[i*part:(i+1)*part])
			if resp.StatusCode != 200 {
				t.Errorf("UploadPart %d: %d %s", i+1, resp.StatusCode, body)
			}
			etags[i] = strings.Trim(resp.Header.Get("ETag"), `"`)
		}()
	}
	wg.Wait()
	var xb strings.Builder
	xb.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n")
	for i, e := range etags {
		fmt.Fprintf(&xb, "    <Part>\n        <ETag>%s</ETag>\n         <PartNumber>%d</PartNumber>\n    </Part>\n", e, i+1)
	}
	xb.WriteString("</CompleteMultipartUpload>")
	resp, body = c.do("POST", key, "uploadId="+init.UploadId, []byte(xb.String()))
	want(t, resp, body, 200)
	if !bytes.Contains(body, []byte("-4&quot;</ETag>")) {
		t.Fatalf("Complete ETag not md5-of-md5s-4: %s", body)
	}

	// HEAD for the size.
	resp, body = c.do("HEAD", key, "", nil)
	want(t, resp, body, 200)
	if resp.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD Content-Length %q", resp.Header.Get("Content-Length"))
	}
	etag := resp.Header.Get("ETag")

	// GET: first range learns the size, the rest go in parallel with If-Match.
	resp, first := c.do("GET", key, "", nil, "Range", "bytes=0-8388607")
	want(t, resp, first, 206)
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 0-8388607/%d", len(data)) {
		t.Fatalf("Content-Range %q", cr)
	}
	got := make([]byte, len(data))
	copy(got, first)
	for i := 1; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := fmt.Sprintf("bytes=%d-%d", i*part, (i+1)*part-1)
			resp, b := c.do("GET", key, "", nil, "Range", rng, "If-Match", etag)
			if resp.StatusCode != 206 || len(b) != part {
				t.Errorf("ranged GET %s: %d, %d bytes", rng, resp.StatusCode, len(b))
				return
			}
			copy(got[i*part:], b)
		}()
	}
	wg.Wait()
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatal("reassembled object differs")
	}
	resp, body = c.do("GET", key, "", nil, "Range", "bytes=0-99", "If-Match", `"0123"`)
	want(t, resp, body, 412)

	// A 1000-byte object: the first GET asks for 8 MiB and must get 206.
	small := pattern(2, 1000)
	resp, body = c.do("PUT", "small", "", small, "Content-Type", "application/octet-stream")
	want(t, resp, body, 200)
	resp, body = c.do("GET", "small", "", nil, "Range", "bytes=0-8388607")
	want(t, resp, body, 206)
	if cr := resp.Header.Get("Content-Range"); cr != "bytes 0-999/1000" || !bytes.Equal(body, small) {
		t.Fatalf("small GET: Content-Range %q, %d bytes", cr, len(body))
	}
	// An empty object is fetched with partNumber=1.
	resp, body = c.do("PUT", "empty", "", nil)
	want(t, resp, body, 200)
	resp, body = c.do("GET", "empty", "partNumber=1", nil)
	if (resp.StatusCode != 200 && resp.StatusCode != 206) || len(body) != 0 {
		t.Fatalf("empty partNumber=1: %d %q", resp.StatusCode, body)
	}
	// Eviction: DELETE, then GET answers a clean 404 NoSuchKey.
	resp, body = c.do("DELETE", key, "", nil)
	want(t, resp, body, 204)
	resp, body = c.do("GET", key, "", nil, "Range", "bytes=0-8388607")
	want(t, resp, body, 404)
	if !bytes.Contains(body, []byte("<Code>NoSuchKey</Code>")) {
		t.Fatalf("GET after DELETE: %s", body)
	}
	resp, body = c.do("HEAD", key, "", nil)
	want(t, resp, body, 404)
}
