package s3

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gpucache/gpucache/internal/md5x"
)

// A body goes to a lane only when large (or of unknown size) and read in
// place; its sum is the MD5 either way, and release is idempotent.
func TestETagHashChoice(t *testing.T) {
	var l md5Lanes
	data := make([]byte, 3<<20+5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	want := md5.Sum(data)
	for _, c := range []struct {
		size     int64
		inPlace  bool
		wantLane bool
	}{
		{100, true, false},
		{int64(len(data)), false, false},
		{int64(len(data)), true, md5x.Available()},
		{-1, true, md5x.Available()},
	} {
		h := newETagHash()
		if c.inPlace {
			h.inPlace(&l, c.size)
		}
		if (h.lane != nil) != c.wantLane {
			t.Fatalf("size %d in place %v: lane %v, want %v", c.size, c.inPlace, h.lane != nil, c.wantLane)
		}
		for p := data; len(p) > 0; {
			n := min(len(p), 65000)
			h.Write(p[:n])
			p = p[n:]
		}
		h.settle()
		if got := h.Sum(nil); string(got) != string(want[:]) {
			t.Fatalf("size %d in place %v: MD5 %x, want %x", c.size, c.inPlace, got, want)
		}
		h.release()
		h.release()
	}
}

// TestConcurrentPutETags uploads objects in parallel, whole and in engine
// pieces (a piece changes hands while the body is still being hashed),
// unsigned and signed, and checks each ETag is the MD5.
func TestConcurrentPutETags(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PieceSize = 1 << 20 })
	if r, _ := ts.do("PUT", "/lanes", nil, nil); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := make([]byte, 2<<20+i*4097)
			for j := range body {
				body[j] = byte(j*31 + i)
			}
			hdr := map[string]string{"hash": "UNSIGNED-PAYLOAD"}
			if i%3 == 0 {
				hdr = nil // signed payload: SHA-256 verified too
			}
			r, _ := ts.do("PUT", fmt.Sprintf("/lanes/obj%d", i), body, hdr)
			want := md5.Sum(body)
			if r.StatusCode != http.StatusOK || strings.Trim(r.Header.Get("ETag"), `"`) != hex.EncodeToString(want[:]) {
				t.Errorf("object %d: %s ETag %s, want %x", i, r.Status, r.Header.Get("ETag"), want)
			}
			if _, got := ts.do("GET", fmt.Sprintf("/lanes/obj%d", i), nil, nil); string(got) != string(body) {
				t.Errorf("object %d: GET returned other bytes", i)
			}
		}()
	}
	wg.Wait()
}
