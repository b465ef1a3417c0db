package s3

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestMD5LanesMatchCryptoMD5 hashes many streams at once, so that most
// run on the lanes, with writes of odd sizes, and checks every sum.
func TestMD5LanesMatchCryptoMD5(t *testing.T) {
	var l md5Lanes
	const streams = 12
	var wg, ready sync.WaitGroup
	errs := make(chan error, streams)
	start := make(chan struct{})
	onLanes := 0
	var mu sync.Mutex
	for i := range streams {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			data := make([]byte, 3<<20+rng.IntN(1<<16))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			h := l.get(-1)
			ready.Done()
			<-start
			if h.lane != nil {
				mu.Lock()
				onLanes++
				mu.Unlock()
			}
			for p := data; len(p) > 0; {
				n := min(len(p), 1+rng.IntN(300<<10))
				h.Write(p[:n])
				p = p[n:]
			}
			got := h.Sum(nil)
			h.release()
			h.release() // idempotent
			if want := md5.Sum(data); string(got) != string(want[:]) {
				errs <- fmt.Errorf("stream %d: MD5 %x, want %x", i, got, want)
			}
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if onLanes < streams-md5LaneThreshold {
		t.Errorf("%d of %d streams were hashed on the lanes", onLanes, streams)
	}
	if n := l.inflight.Load(); n != 0 {
		t.Errorf("%d bodies still counted in flight", n)
	}
	if h := l.get(100); h.lane != nil || h.large {
		t.Error("a small body was given a lane")
	}
}

// TestConcurrentPutETags uploads parts and objects in parallel, enough to
// put their bodies on the MD5 lanes, and checks each ETag is the MD5.
func TestConcurrentPutETags(t *testing.T) {
	ts := newTestServer(t, nil)
	if r, _ := ts.do("PUT", "/lanes", nil, nil); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := make([]byte, 2<<20+i*4097)
			for j := range body {
				body[j] = byte(j*31 + i)
			}
			r, _ := ts.do("PUT", fmt.Sprintf("/lanes/obj%d", i), body, map[string]string{"hash": "UNSIGNED-PAYLOAD"})
			want := md5.Sum(body)
			if r.StatusCode != http.StatusOK || strings.Trim(r.Header.Get("ETag"), `"`) != hex.EncodeToString(want[:]) {
				t.Errorf("object %d: %s ETag %s, want %x", i, r.Status, r.Header.Get("ETag"), want)
			}
		}()
	}
	wg.Wait()
	if n := ts.s.md5.inflight.Load(); n != 0 {
		t.Errorf("%d bodies still counted in flight", n)
	}
}
