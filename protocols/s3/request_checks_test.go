package s3

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// send sends r, signed for region unless region is empty, after mod
// (which runs after signing) and returns the response and body.
func (ts *testServer) send(r *http.Request, region, hash string, mod func(*http.Request)) (*http.Response, []byte) {
	ts.t.Helper()
	if region != "" {
		sigv4.Sign(r, testCred, region, time.Now(), hash)
	}
	if mod != nil {
		mod(r)
	}
	return ts.roundTrip(r)
}

func (ts *testServer) req(method, path string, body []byte) *http.Request {
	ts.t.Helper()
	r, err := http.NewRequest(method, ts.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	return r
}

func TestRequestShapeChecks(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, tc := range []struct {
		method, path string
		hdr          map[string]string
		status       int
		code, text   string
	}{
		{"PUT", "/b/k?partNumber=1", nil, 400, "InvalidArgument", "<ArgumentName>partNumber</ArgumentName>"},
		{"PUT", "/b/k?uploadId=x", nil, 405, "MethodNotAllowed", "<ResourceType>UPLOAD</ResourceType>"},
		{"POST", "/", nil, 405, "MethodNotAllowed", "<Method>POST</Method><ResourceType>SERVICE</ResourceType>"},
		{"POST", "/b/k", nil, 405, "MethodNotAllowed", ""},
		{"GET", "/b/k?uploads", nil, 400, "InvalidRequest", "?uploads subresource"},
		{"GET", "/b/k?versions", nil, 400, "InvalidRequest", "?versions sub-resource"},
		{"GET", "/b/k", map[string]string{"X-Amz-Copy-Source": "b/o"}, 400, "InvalidArgument", "<ArgumentValue>b/o</ArgumentValue>"},
		{"DELETE", "/b", map[string]string{"X-Amz-Copy-Source": "b/o"}, 400, "InvalidArgument", ""},
		{"PUT", "/b/k", map[string]string{"X-Amz-Meta-Big": strings.Repeat("d", 8<<10)}, 400, "RequestHeaderSectionTooLarge",
			"<MaxSizeAllowed>8192</MaxSizeAllowed>"},
	} {
		r := ts.req(tc.method, tc.path, nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		resp, body := ts.send(r, "", "", nil)
		ts.expect(resp, body, tc.status, tc.code)
		if !strings.Contains(string(body), tc.text) {
			t.Errorf("%s %s: body lacks %q: %s", tc.method, tc.path, tc.text, body)
		}
	}
}

func TestSignatureChecks(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	// Wrong region.
	resp, body := ts.send(ts.req("GET", "/", nil), "eu-west-1", sigv4.EmptySHA256, nil)
	ts.expect(resp, body, 400, "AuthorizationHeaderMalformed")
	if !strings.Contains(string(body), `the region &quot;eu-west-1&quot; is wrong; expecting &quot;us-east-1&quot;`) ||
		!strings.Contains(string(body), "<Region>us-east-1</Region>") {
		t.Fatalf("region error: %s", body)
	}
	// A bucket created in another region is addressed with its region.
	cb := []byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
	resp, body = ts.send(ts.req("PUT", "/eub", cb), "eu-west-1", sha256hex(cb), nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.send(ts.req("HEAD", "/eub", nil), "eu-west-1", sigv4.EmptySHA256, nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.send(ts.req("HEAD", "/bkt", nil), "eu-west-1", sigv4.EmptySHA256, nil)
	ts.expect(resp, body, 400, "")

	// x-amz-* headers outside the signature.
	resp, body = ts.send(ts.req("PUT", "/bkt/k", nil), "us-east-1", sigv4.EmptySHA256, func(r *http.Request) {
		r.Header.Set("X-Amz-Tagging", "a=b")
		r.Header.Set("X-Amz-Copy-Source", "bkt/x")
	})
	ts.expect(resp, body, 403, "AccessDenied")
	if !strings.Contains(string(body), "<HeadersNotSigned>x-amz-copy-source, x-amz-tagging</HeadersNotSigned>") {
		t.Fatalf("unsigned headers: %s", body)
	}
	// A session token, with permanent credentials only.
	r := ts.req("GET", "/", nil)
	r.Header.Set("X-Amz-Security-Token", "tok")
	resp, body = ts.send(r, "us-east-1", sigv4.EmptySHA256, nil)
	ts.expect(resp, body, 400, "InvalidToken")

	// An empty body with a wrong payload hash, before the handler looks.
	bad := strings.Repeat("0", 64)
	resp, body = ts.send(ts.req("PUT", "/nobucket/k?tagging", nil), "us-east-1", bad, nil)
	ts.expect(resp, body, 400, "XAmzContentSHA256Mismatch")
	if !strings.Contains(string(body), "<ClientComputedContentSHA256>"+bad) ||
		!strings.Contains(string(body), "<S3ComputedContentSHA256>"+sigv4.EmptySHA256) {
		t.Fatalf("mismatch: %s", body)
	}
	resp, body = ts.send(ts.req("PUT", "/bkt/k", nil), "us-east-1", "bogus", nil)
	ts.expect(resp, body, 400, "InvalidArgument")
	if !strings.Contains(string(body), "<ArgumentValue>bogus</ArgumentValue>") {
		t.Fatalf("bad hash: %s", body)
	}
	// aws-chunked bodies only for PutObject and UploadPart.
	chunk := []byte("5\r\nabcde\r\n0\r\n\r\n")
	r = ts.req("PUT", "/bkt?tagging", chunk)
	r.Header.Set("X-Amz-Decoded-Content-Length", "5")
	resp, body = ts.send(r, "us-east-1", sigv4.StreamingUnsignedTrailer, nil)
	ts.expect(resp, body, 400, "InvalidRequest")
}

func TestXXH3Checksums(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	for _, tc := range []struct{ hdr, val string }{
		{"x-amz-checksum-xxhash3", "jw+pSh/pbMQ="},
		{"x-amz-checksum-xxhash128", "8BLDqqIWji+ITOsp/JjN/Q=="},
	} {
		resp, body := ts.do("PUT", "/bkt/k", []byte("test data"), map[string]string{tc.hdr: tc.val})
		ts.expect(resp, body, 200, "")
		if resp.Header.Get(tc.hdr) != tc.val {
			t.Fatalf("%s: %q", tc.hdr, resp.Header.Get(tc.hdr))
		}
		resp, body = ts.do("PUT", "/bkt/k", []byte("test datA"), map[string]string{tc.hdr: tc.val})
		ts.expect(resp, body, 400, "BadDigest")
	}
}
