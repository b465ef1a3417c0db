package s3

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// discardWriter is a ResponseWriter that keeps nothing but its header
// map, so that a benchmark counts the handler's own work only.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkHandler runs signed GET and HEAD requests of a 4 KiB object
// through the handler directly, without HTTP framing or sockets: the time
// and allocations are the server's own per-request work (routing, SigV4,
// lookup, response headers).
func BenchmarkHandler(b *testing.B) {
	ts := newTestServer(b, func(c *Config) { c.Logf = func(string, ...any) {} })
	c := ts.ts.Client()
	benchRequest(b, c, "PUT", ts.ts.URL+"/bench", nil)
	benchRequest(b, c, "PUT", ts.ts.URL+"/bench/obj", randBytes(1, 4096))
	h := ts.s.Handler()
	for _, m := range []string{"GET", "HEAD"} {
		b.Run(m, func(b *testing.B) { benchSigned(b, h, m, "/bench/obj", testCred) })
	}
	b.Run("PUT", func(b *testing.B) {
		body := randBytes(2, 4096)
		r := httptest.NewRequest("PUT", "http://127.0.0.1:9000/bench/put", nil)
		r.ContentLength = int64(len(body))
		sigv4.Sign(r, testCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
		w := &discardWriter{h: make(http.Header)}
		rd := &resetReader{}
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			rd.Reset(body)
			r.Body = rd
			h.ServeHTTP(w, r)
		}
	})
	// Last (an account makes PUTs look up the bucket owner): the same
	// GET by a userplus account of its own bucket: the cost of
	// deciding a non-admin account's request (policy, ACL, ownership).
	b.Run("GET-account", func(b *testing.B) {
		acct := ts.createAccount("benchuser", "benchsecret", roleUserPlus)
		ts.doAs(acct, "PUT", "/benchu", nil, nil)
		ts.doAs(acct, "PUT", "/benchu/obj", randBytes(1, 4096), nil)
		benchSigned(b, h, "GET", "/benchu/obj", acct)
	})
}

// benchSigned serves one bodiless request signed by cred, over and over.
func benchSigned(b *testing.B, h http.Handler, method, path string, cred Credential) {
	r := httptest.NewRequest(method, "http://127.0.0.1:9000"+path, nil)
	sigv4.Sign(r, cred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// resetReader is a reusable request body.
type resetReader struct{ bytes.Reader }

func (*resetReader) Close() error { return nil }
