package s3

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

var testCred = Credential{AccessKey: "testkey", SecretKey: "testsecret"}

// testServer is a Server over a fresh engine behind httptest.
type testServer struct {
	t   testing.TB
	eng *engine.Engine
	s   *Server
	ts  *httptest.Server
}

func newTestServer(t testing.TB, mod func(*Config)) *testServer {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir(), DRAMCacheSize: 256 << 20, SegmentSize: 64 << 20, MemoryWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Credentials: []Credential{testCred}, Domains: []string{"s3.test"}, Logf: t.Logf}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewServer(eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		eng.Close()
	})
	return &testServer{t: t, eng: eng, s: s, ts: ts}
}

// do sends a request signed with testCred (payload hash of body unless
// hash is given) and returns the response with its body read.
func (ts *testServer) do(method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	ts.t.Helper()
	r, err := http.NewRequest(method, ts.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	hash := ""
	for k, v := range hdr {
		if k == "hash" {
			hash = v
			continue
		}
		r.Header.Set(k, v)
	}
	if hash == "" {
		hash = sha256hex(body)
	}
	if hdr["Host"] != "" {
		r.Host = hdr["Host"]
	}
	if hash != "nosign" {
		sigv4.Sign(r, testCred, "us-east-1", time.Now(), hash)
	}
	return ts.roundTrip(r)
}

// roundTrip sends r and returns the response with its body read.
func (ts *testServer) roundTrip(r *http.Request) (*http.Response, []byte) {
	ts.t.Helper()
	resp, err := ts.ts.Client().Do(r)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func (ts *testServer) expect(resp *http.Response, body []byte, status int, code string) {
	ts.t.Helper()
	if resp.StatusCode != status {
		ts.t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
	if code != "" && !strings.Contains(string(body), "<Code>"+code+"</Code>") {
		ts.t.Fatalf("%s %s: want code %s: %s", resp.Request.Method, resp.Request.URL, code, body)
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
