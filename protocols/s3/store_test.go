package s3

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// TestPiecedBodies stores bodies larger than PieceSize, of known size and
// of unknown size (Transfer-Encoding: chunked, no Content-Length), and
// checks that they read back whole and leave no pieces behind.
func TestPiecedBodies(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PieceSize = 1 << 20 })
	ts.mustPut("/bkt", nil)
	for _, tc := range []struct {
		name    string
		size    int
		unknown bool
	}{
		{"known", 3<<20 + 12345, false},
		{"unknown", 3<<20 + 777, true},
		{"unknown-exact", 2 << 20, true},
		{"unknown-small", 1000, true},
	} {
		data := randBytes(uint64(tc.size), tc.size)
		var body io.Reader = bytes.NewReader(data)
		if tc.unknown {
			body = io.MultiReader(bytes.NewReader(data)) // hides the length
		}
		r, _ := http.NewRequest("PUT", ts.ts.URL+"/bkt/"+tc.name, body)
		if tc.unknown {
			r.ContentLength = -1
		}
		sigv4.Sign(r, testCred, "us-east-1", time.Now(), sha256hex(data))
		resp, err := ts.ts.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ts.expect(resp, out, 200, "")
		resp, got := ts.do("GET", "/bkt/"+tc.name, nil, nil)
		ts.expect(resp, got, 200, "")
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes back of %d", tc.name, len(got), len(data))
		}
	}
	n := 0
	ts.eng.Scan(uploadKS("bkt"), engine.ScanOptions{}, func(k []byte, _ *engine.Meta) bool {
		if !strings.HasPrefix(string(k), "b/") { // bucket documents
			n++
		}
		return true
	})
	if n != 0 {
		t.Fatalf("%d pieces left behind", n)
	}
	// A bad digest on a pieced body stores nothing.
	data := randBytes(9, 3<<20)
	resp, body := ts.do("PUT", "/bkt/bad", data, map[string]string{"hash": sha256hex(data[1:])})
	ts.expect(resp, body, 400, "XAmzContentSHA256Mismatch")
	resp, _ = ts.do("HEAD", "/bkt/bad", nil, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("bad pieced body stored: %d", resp.StatusCode)
	}
}
