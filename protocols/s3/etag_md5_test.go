package s3

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/internal/md5x"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
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

// Bodies cut off mid-way while others upload: the cut ones store nothing
// and let go of their lanes (their pages go back to the arena while other
// bodies are hashed), the others keep exact ETags.
func TestAbandonedBodiesLeaveLanes(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PieceSize = 1 << 20 })
	if r, _ := ts.do("PUT", "/cut", nil, nil); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	u, _ := url.Parse(ts.ts.URL)
	before := ts.eng.Stats().DRAMUsed
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := randBytes(uint64(i), 3<<20+i*999)
			path := fmt.Sprintf("/cut/obj%d", i)
			if i%2 == 0 {
				r, _ := ts.do("PUT", path, body, map[string]string{"hash": "UNSIGNED-PAYLOAD"})
				want := md5.Sum(body)
				if r.StatusCode != http.StatusOK || strings.Trim(r.Header.Get("ETag"), `"`) != hex.EncodeToString(want[:]) {
					t.Errorf("object %d: %s ETag %s, want %x", i, r.Status, r.Header.Get("ETag"), want)
				}
				return
			}
			// A signed request whose connection closes after part of the body.
			req, _ := http.NewRequest("PUT", ts.ts.URL+path, nil)
			req.ContentLength = int64(len(body))
			sigv4.Sign(req, testCred, "us-east-1", time.Now(), "UNSIGNED-PAYLOAD")
			c, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Error(err)
				return
			}
			var head strings.Builder
			fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", path, u.Host, len(body))
			for k, vs := range req.Header {
				fmt.Fprintf(&head, "%s: %s\r\n", k, vs[0])
			}
			head.WriteString("\r\n")
			c.Write([]byte(head.String()))
			c.Write(body[:len(body)/2+i])
			c.Close()
		}()
	}
	wg.Wait()
	for i := 1; i < 12; i += 2 {
		deadline := time.Now().Add(5 * time.Second)
		for {
			r, _ := ts.do("HEAD", fmt.Sprintf("/cut/obj%d", i), nil, nil)
			if r.StatusCode == http.StatusNotFound {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("object %d: cut-off body stored (%s)", i, r.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Every buffer of the cut bodies went back to the arena: with the good
	// objects deleted, the arena is as before the uploads.
	for i := 0; i < 12; i += 2 {
		if r, _ := ts.do("DELETE", fmt.Sprintf("/cut/obj%d", i), nil, nil); r.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE obj%d: %s", i, r.Status)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.eng.Stats().DRAMUsed > before {
		if time.Now().After(deadline) {
			t.Fatalf("arena bytes in use %d, %d before the uploads: a cut body kept its buffer", ts.eng.Stats().DRAMUsed, before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
