package s3

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// untouchedBody is a request body that fails the test if read.
type untouchedBody struct {
	t    *testing.T
	name string
}

func (b untouchedBody) Read([]byte) (int, error) {
	b.t.Errorf("%s: the body was read before the request was authenticated and authorized", b.name)
	return 0, http.ErrBodyReadAfterClose
}

func (untouchedBody) Close() error { return nil }

// TestNoBodyBeforeAuthentication sends large streaming (aws-chunked) and
// plain uploads that fail authentication or authorization, and checks
// that the server answers without reading a byte of the body: nothing
// reaches the engine, and what the connection costs is the header
// buffers (net/http then discards at most 256 KiB of the unread body or
// closes the connection).
func TestNoBodyBeforeAuthentication(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.mustPut("/bkt", nil)
	ts.createAccount("other", "othersecret", roleUser)
	const size = 64 << 20
	now := time.Now()
	for _, tc := range []struct {
		name   string
		cred   Credential
		region string
		date   time.Time
		hash   string
		path   string
		status int
	}{
		{"bad seed signature", Credential{AccessKey: testCred.AccessKey, SecretKey: "wrong"}, "us-east-1", now, sigv4.StreamingPayload, "/bkt/k", 403},
		{"unknown account", Credential{AccessKey: "nobody", SecretKey: "x"}, "us-east-1", now, sigv4.StreamingPayload, "/bkt/k", 403},
		{"wrong region", testCred, "eu-west-3", now, sigv4.StreamingPayload, "/bkt/k", 400},
		{"expired date", testCred, "us-east-1", now.Add(-time.Hour), sigv4.StreamingPayload, "/bkt/k", 403},
		{"future date", testCred, "us-east-1", now.Add(time.Hour), sigv4.StreamingPayload, "/bkt/k", 403},
		{"account without grant", Credential{AccessKey: "other", SecretKey: "othersecret"}, "us-east-1", now, sigv4.StreamingPayload, "/bkt/k", 403},
		{"no such bucket", testCred, "us-east-1", now, sigv4.StreamingPayload, "/nobkt/k", 404},
		{"trailer mode, bad signature", Credential{AccessKey: testCred.AccessKey, SecretKey: "wrong"}, "us-east-1", now, sigv4.StreamingPayloadTrailer, "/bkt/k", 403},
		{"unsigned payload, bad signature", Credential{AccessKey: testCred.AccessKey, SecretKey: "wrong"}, "us-east-1", now, sigv4.UnsignedPayload, "/bkt/k", 403},
		{"anonymous", Credential{}, "", now, "", "/bkt/k", 403},
		{"anonymous multipart part", Credential{}, "", now, "", "/bkt/k?partNumber=1&uploadId=x", 403},
	} {
		r := httptest.NewRequest("PUT", "http://127.0.0.1"+tc.path, nil)
		r.Body = untouchedBody{t: t, name: tc.name}
		if tc.hash == sigv4.StreamingPayload || tc.hash == sigv4.StreamingPayloadTrailer {
			r.Header.Set("Content-Encoding", "aws-chunked")
			r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(size))
			r.ContentLength = size + size/(64<<10)*90
		} else {
			r.ContentLength = size
		}
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		if tc.cred.AccessKey != "" {
			sigv4.Sign(r, tc.cred, tc.region, tc.date, tc.hash)
		}
		w := httptest.NewRecorder()
		ts.s.Handler().ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%s: status %d %s, want %d", tc.name, w.Code, w.Body, tc.status)
		}
	}
	if ks, err := ts.s.checkBucket("bkt"); err != nil {
		t.Fatal(err)
	} else if _, err := ts.eng.Stat(ks, []byte("k")); err == nil {
		t.Fatal("a refused upload stored its key")
	}
}
