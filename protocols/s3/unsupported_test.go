package s3

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestUnhonourableRequestsRefused checks that each request asking for
// something the server does not do is refused with S3's error and
// changes nothing.
func TestUnhonourableRequestsRefused(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	orig := []byte("original value")
	ts.mustPut("/bkt/obj", orig)
	sseC := map[string]string{
		"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256",
		"X-Amz-Server-Side-Encryption-Customer-Key":       "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
		"X-Amz-Server-Side-Encryption-Customer-Key-Md5":   "ShR+T2ndzMGgRzv1ol4nyA==",
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	absent := func(path string) {
		t.Helper()
		resp, body := ts.do("HEAD", path, nil, nil)
		if resp.StatusCode != 404 {
			t.Fatalf("%s stored by a refused request: %d %s", path, resp.StatusCode, body)
		}
	}
	unchanged := func() {
		t.Helper()
		resp, body := ts.do("GET", "/bkt/obj", nil, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, orig) {
			t.Fatalf("obj changed by a refused request: %d %q", resp.StatusCode, body)
		}
	}
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		hdr                map[string]string
		status             int
		code               string
	}{
		{"SSE-S3 put", "PUT", "/bkt/new", []byte("x"), with(nil, "X-Amz-Server-Side-Encryption", "AES256"), 501, "NotImplemented"},
		{"SSE-KMS put", "PUT", "/bkt/new", []byte("x"), with(nil, "X-Amz-Server-Side-Encryption", "aws:kms",
			"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "k1"), 501, "NotImplemented"},
		{"SSE bucket key", "PUT", "/bkt/new", []byte("x"), with(nil, "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true"), 501, "NotImplemented"},
		{"SSE-C put over HTTP", "PUT", "/bkt/new", []byte("x"), sseC, 400, "InvalidRequest"},
		{"SSE-C get over HTTP", "GET", "/bkt/obj", nil, sseC, 400, "InvalidRequest"},
		{"SSE multipart", "POST", "/bkt/new?uploads", nil, with(nil, "X-Amz-Server-Side-Encryption", "AES256"), 501, "NotImplemented"},
		{"SSE copy", "PUT", "/bkt/new", nil, with(nil, "X-Amz-Copy-Source", "/bkt/obj", "X-Amz-Server-Side-Encryption", "aws:kms"), 501, "NotImplemented"},
		{"SSE header on GET", "GET", "/bkt/obj", nil, with(nil, "X-Amz-Server-Side-Encryption", "AES256"), 400, "InvalidArgument"},
		{"storage class", "PUT", "/bkt/new", []byte("x"), with(nil, "X-Amz-Storage-Class", "GLACIER"), 400, "InvalidStorageClass"},
		{"storage class on copy", "PUT", "/bkt/new", nil, with(nil, "X-Amz-Copy-Source", "/bkt/obj", "X-Amz-Storage-Class", "DEEP_ARCHIVE"), 400, "InvalidStorageClass"},
		{"append", "PUT", "/bkt/obj", []byte("appended"), with(nil, "X-Amz-Write-Offset-Bytes", "14"), 501, "NotImplemented"},
		{"MFA delete", "DELETE", "/bkt/obj", nil, with(nil, "X-Amz-Mfa", "SERIAL 123456"), 501, "NotImplemented"},
		{"version GET", "GET", "/bkt/obj?versionId=3HL4kqtJlcpXroDTDmJ", nil, nil, 400, "InvalidArgument"},
		{"version DELETE", "DELETE", "/bkt/obj?versionId=3HL4kqtJlcpXroDTDmJ", nil, nil, 400, "InvalidArgument"},
		{"version tagging", "PUT", "/bkt/obj?tagging&versionId=v2", []byte("<Tagging><TagSet></TagSet></Tagging>"), nil, 400, "InvalidArgument"},
		{"rename", "PUT", "/bkt/obj?renameObject", nil, nil, 501, "NotImplemented"},
		{"create session", "GET", "/bkt?session", nil, nil, 501, "NotImplemented"},
		{"lifecycle", "PUT", "/bkt?lifecycle", []byte("<LifecycleConfiguration/>"), nil, 501, "NotImplemented"},
		{"bucket encryption", "PUT", "/bkt?encryption", []byte("<ServerSideEncryptionConfiguration/>"), nil, 501, "NotImplemented"},
		{"requester pays", "PUT", "/bkt?requestPayment", []byte("<RequestPaymentConfiguration/>"), nil, 501, "NotImplemented"},
		{"replication", "GET", "/bkt?replication", nil, nil, 501, "NotImplemented"},
		{"versioning", "PUT", "/bkt?versioning", []byte("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"), nil, 501, "NotImplemented"},
		{"torrent", "GET", "/bkt/obj?torrent", nil, nil, 501, "NotImplemented"},
		{"restore", "POST", "/bkt/obj?restore", []byte("<RestoreRequest/>"), nil, 501, "NotImplemented"},
		{"select", "POST", "/bkt/obj?select&select-type=2", []byte("<SelectObjectContentRequest/>"), nil, 501, "NotImplemented"},
	} {
		resp, body := ts.do(tc.method, tc.path, tc.body, tc.hdr)
		if resp.StatusCode != tc.status || !bytes.Contains(body, []byte("<Code>"+tc.code+"</Code>")) {
			t.Errorf("%s: %s %s: %d %s, want %d %s", tc.name, tc.method, tc.path, resp.StatusCode, body, tc.status, tc.code)
		}
		absent("/bkt/new")
		unchanged()
	}
	resp, body := ts.do("GET", "/bkt?uploads", nil, nil)
	if bytes.Contains(body, []byte("<Upload>")) {
		t.Fatalf("an upload was created by a refused request: %d %s", resp.StatusCode, body)
	}

	// What the server does do is not refused.
	resp, body = ts.do("GET", "/bkt/obj?versionId=null", nil, nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("PUT", "/bkt/std", []byte("x"), map[string]string{"X-Amz-Storage-Class": "STANDARD", "X-Amz-Request-Payer": "requester"})
	ts.expect(resp, body, 200, "")

	// DeleteObjects naming a version deletes nothing.
	resp, body = ts.do("POST", "/bkt?delete", []byte("<Delete><Object><Key>obj</Key><VersionId>v2</VersionId></Object></Delete>"), nil)
	ts.expect(resp, body, 200, "NoSuchVersion")
	unchanged()

	// A POST object form asking for encryption.
	resp, body = ts.postForm(postForm{bucket: "bkt", key: "new", file: []byte("x"),
		fields: map[string]string{"x-amz-server-side-encryption": "AES256"}})
	ts.expect(resp, body, 501, "NotImplemented")
	absent("/bkt/new")
}

// TestSSECOverTLS checks the SSE-C answers over TLS: a write is not
// implemented, a read or copy source naming a key does not apply.
func TestSSECOverTLS(t *testing.T) {
	ts := newTestServer(t, nil)
	plain := ts.ts
	ts.ts = httptest.NewTLSServer(ts.s.Handler())
	defer func() { ts.ts.Close(); ts.ts = plain }()
	ts.mustPut("/bkt", nil)
	ts.mustPut("/bkt/obj", []byte("plain"))
	sseC := map[string]string{
		"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256",
		"X-Amz-Server-Side-Encryption-Customer-Key":       "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
		"X-Amz-Server-Side-Encryption-Customer-Key-Md5":   "ShR+T2ndzMGgRzv1ol4nyA==",
	}
	resp, body := ts.do("PUT", "/bkt/new", []byte("secret"), sseC)
	ts.expect(resp, body, 501, "NotImplemented")
	resp, body = ts.do("HEAD", "/bkt/new", nil, nil)
	ts.expect(resp, body, 404, "")
	resp, body = ts.do("GET", "/bkt/obj", nil, sseC)
	ts.expect(resp, body, 400, "InvalidRequest")
	resp, _ = ts.do("HEAD", "/bkt/obj", nil, sseC)
	if resp.StatusCode != 400 {
		t.Fatalf("HEAD with SSE-C: %d", resp.StatusCode)
	}
	resp, body = ts.do("PUT", "/bkt/copy", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/obj",
		"X-Amz-Copy-Source-Server-Side-Encryption-Customer-Algorithm": "AES256"})
	ts.expect(resp, body, 400, "InvalidRequest")
	resp, body = ts.do("GET", "/bkt/obj", nil, nil)
	if resp.StatusCode != http.StatusOK || string(body) != "plain" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
}
