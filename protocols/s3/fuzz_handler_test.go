package s3

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// FuzzHandler sends signed requests of any method, path, query, headers
// and body through the whole handler: routing, validation, the engine.
// Whatever arrives, the answer is an S3 reply: a status the operation can
// give, never 500 (InternalError means the server did not handle
// something), and an error body that is AWS XML with a code.
func FuzzHandler(f *testing.F) {
	ts := newTestServer(f, func(c *Config) { c.Logf = func(string, ...any) {} })
	resp, body := ts.do("PUT", "/fuzz", nil, nil)
	ts.expect(resp, body, 200, "")
	for _, p := range []string{"/fuzz/a", "/fuzz/dir/b", "/fuzz/lock"} {
		resp, body := ts.do("PUT", p, []byte("seed "+p), nil)
		ts.expect(resp, body, 200, "")
	}
	resp, body = ts.do("POST", "/fuzz/mp?uploads", nil, nil)
	ts.expect(resp, body, 200, "")
	var init struct{ UploadId string }
	xml.Unmarshal(body, &init)
	up := url.QueryEscape(init.UploadId)

	seeds := []struct {
		method, path, query, headers string
		body                         []byte
	}{
		{"GET", "/fuzz/a", "", "Range: bytes=0-2", nil},
		{"GET", "/fuzz/a", "partNumber=1", "If-Match: \"x\"", nil},
		{"PUT", "/fuzz/c", "", "X-Amz-Checksum-Crc32: AAAAAA==\nX-Amz-Sdk-Checksum-Algorithm: CRC32", []byte("data")},
		{"PUT", "/fuzz/c", "", "X-Amz-Copy-Source: /fuzz/a\nX-Amz-Metadata-Directive: REPLACE", nil},
		{"PUT", "/fuzz/mp", "partNumber=2&uploadId=" + up, "", []byte("part")},
		{"PUT", "/fuzz/mp", "partNumber=3&uploadId=" + up, "X-Amz-Copy-Source: fuzz/a\nX-Amz-Copy-Source-Range: bytes=0-1", nil},
		{"POST", "/fuzz/mp", "uploadId=" + up, "", []byte("<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>")},
		{"GET", "/fuzz", "list-type=2&prefix=d&delimiter=/&max-keys=1&encoding-type=url", "", nil},
		{"GET", "/fuzz", "uploads&key-marker=a", "", nil},
		{"POST", "/fuzz", "delete", "Content-Md5: 1B2M2Y8AsgTpgAmY7PhCfg==", []byte("<Delete><Object><Key>a</Key></Object></Delete>")},
		{"PUT", "/fuzz", "policy", "", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::fuzz/*"}]}`)},
		{"PUT", "/fuzz/lock", "retention", "", []byte("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>")},
		{"PUT", "/fuzz", "acl", "X-Amz-Acl: public-read", nil},
		{"PUT", "/fuzz/t", "tagging", "", []byte("<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>")},
		{"PATCH", "/", "", "", []byte("<Account><Access>u</Access><Secret>s</Secret><Role>user</Role></Account>")},
		{"DELETE", "/fuzz/mp", "uploadId=" + up, "", nil},
		{"HEAD", "/fuzz/dir/b", "", "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT", nil},
		{"PUT", "/fuzz/lock", "tagging&retention", "", []byte("<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>")},
		{"PUT", "/fuzz/e", "", "X-Amz-Server-Side-Encryption: aws:kms\nX-Amz-Storage-Class: GLACIER", []byte("x")},
		{"GET", "/fuzz/a", "versionId=v1", "X-Amz-Server-Side-Encryption-Customer-Algorithm: AES256", nil},
		{"PUT", "/fuzz/a", "renameObject", "X-Amz-Write-Offset-Bytes: 4", nil},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.headers, s.body)
	}
	h := ts.s.Handler()
	f.Fuzz(func(t *testing.T, method, path, query, headers string, body []byte) {
		if !httpguts.ValidHeaderFieldName(method) || len(body) > 64<<10 {
			return
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Host: "127.0.0.1:9000",
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: make(http.Header), RemoteAddr: "127.0.0.1:1",
			ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body))}
		r.RequestURI = r.URL.RequestURI()
		for line := range strings.SplitSeq(headers, "\n") {
			k, v, ok := strings.Cut(line, ":")
			v = strings.TrimSpace(v)
			if !ok || !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) ||
				strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Transfer-Encoding") || strings.EqualFold(k, "Host") {
				continue
			}
			r.Header.Add(k, v)
		}
		sigv4.Sign(r, testCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code < 100 || w.Code > 599 {
			t.Fatalf("%s %s?%s: status %d", method, path, query, w.Code)
		}
		out := w.Body.Bytes()
		if w.Code >= 500 && w.Code != 501 && w.Code != 503 {
			t.Fatalf("%s %s?%s %q: status %d: %s", method, path, query, headers, w.Code, out)
		}
		if w.Code >= 400 && method != "HEAD" && len(out) > 0 {
			var e struct {
				XMLName xml.Name
				Code    string
			}
			if err := xml.Unmarshal(out, &e); err != nil || e.XMLName.Local != "Error" || e.Code == "" {
				t.Fatalf("%s %s?%s: status %d, body not an AWS error: %v %s", method, path, query, w.Code, err, out)
			}
		}
	})
}
