//go:build fabric

package fastpath

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/client"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

// waitInfo polls INFO until field satisfies ok, or fails after 20 s.
func waitInfo(t *testing.T, srv *internal.Server, field string, ok func(int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := srv.InfoInt(t, field)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("INFO %s stuck at %d", field, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func serverErr(t *testing.T, err error, prefix string) {
	t.Helper()
	var se *client.ServerError
	if !errors.As(err, &se) || !strings.HasPrefix(se.Text, prefix) {
		t.Fatalf("got %v, want an error starting %q", err, prefix)
	}
	t.Logf("%s", se.Text)
}

// TestBlobFailures: a region too small, a bad rkey, a transfer that times
// out and a client that vanishes mid-transfer each fail that command only;
// a failed BLOB.SET stores nothing; sessions are freed on disconnect; no
// arena page stays in use.
func TestBlobFailures(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := start(t, p, "--fabric-transfer-timeout", "1500")
			c := dial(t, srv, p)
			const n = 8 << 20
			buf := alloc(t, c, n)
			pattern(buf.Bytes(), 7)
			if err := c.Set("good", buf, 0, n); err != nil {
				t.Fatal(err)
			}
			base := srv.InfoInt(t, "fastpath_arena_used_bytes")

			// Regions too small: refused before any transfer.
			_, _, err := c.Get("good", buf, 0, n-1)
			serverErr(t, err, "ERR client address space smaller than object length")
			args, _ := c.Triples([]client.Segment{{Buf: buf, Off: 0, Len: 4096}})
			_, err = c.Do(append([]string{"BLOB.SET", "short", strconv.Itoa(n)}, args...)...)
			serverErr(t, err, "ERR client address space smaller than object length")

			// A key that names no registration.
			args, _ = c.Triples([]client.Segment{{Buf: buf, Off: 0, Len: n}})
			args[0] = "987654321"
			_, err = c.Do(append([]string{"BLOB.SET", "badkey", strconv.Itoa(n)}, args...)...)
			if p.name == "shm" {
				// shm reads the peer's memory directly (cross-memory
				// attach) and does not enforce the key: the bytes at the
				// address are stored.
				v, err2 := c.Do("GET", "badkey")
				if err != nil || err2 != nil || v.(string) != string(buf.Bytes()) {
					t.Fatalf("shm BLOB.SET under a bad key: %v %v", err, err2)
				}
			} else {
				serverErr(t, err, "ERR EFA read")
				if v, _ := c.Do("EXISTS", "badkey"); v != int64(0) {
					t.Fatalf("a failed BLOB.SET stored the key: EXISTS %v", v)
				}
			}
			// tcp;ofi_rxm cancels the read, or (1.17, now and then) never
			// ends it: then its pages stay held, and counted, not reused.
			held := func(v int64) bool { return v == 0 || v == n }
			if p.name == "shm" {
				held = func(v int64) bool { return v == 0 }
			}
			waitInfo(t, srv, "fastpath_held_bytes", held)

			// A passive peer that never progresses (no Progress around the
			// command): over tcp the read waits for it and times out.
			if p.name != "shm" {
				c2 := dial(t, srv, p)
				b2 := alloc(t, c2, n)
				args, _ = c2.Triples([]client.Segment{{Buf: b2, Off: 0, Len: n}})
				_, err = c2.Do(append([]string{"BLOB.SET", "stalled", strconv.Itoa(n)}, args...)...)
				serverErr(t, err, "ERR EFA read: fabric: transfer timed out")
				if v, _ := c.Do("EXISTS", "stalled"); v != int64(0) {
					t.Fatalf("a timed-out BLOB.SET stored the key")
				}
				if srv.InfoInt(t, "fastpath_transfer_timeouts") < 1 {
					t.Fatal("timeout not counted")
				}
				// The client vanishes with the read still posted: its
				// pages come back once the provider fails the read.
				c2.Close()
				waitInfo(t, srv, "largeobj_efa_sessions", func(v int64) bool { return v == 1 })
				waitInfo(t, srv, "fastpath_held_bytes", func(v int64) bool { return v == 0 || v == n })
			}

			// The value is untouched and other clients go on.
			c3 := dial(t, srv, p)
			b3 := alloc(t, c3, n)
			got, _, err := c3.Get("good", b3, 0, n)
			if err != nil || got != n || string(b3.Bytes()) != string(buf.Bytes()) {
				t.Fatalf("good after failures: n %d err %v", got, err)
			}
			c3.Close()
			c.Close()
			// Every session ended with its connection; the arena holds the
			// stored values and what is counted as held, nothing more.
			waitInfo(t, srv, "largeobj_efa_sessions", func(v int64) bool { return v == 0 })
			h := srv.InfoInt(t, "fastpath_held_bytes")
			waitInfo(t, srv, "fastpath_arena_used_bytes", func(v int64) bool { return v <= base+h+n })
		})
	}
}

// TestBlobLimits: HELLO beyond fabric-max-sessions is refused (the client
// falls back to TCP and says why); transfers beyond fabric-max-transfers
// wait for a slot and then complete.
func TestBlobLimits(t *testing.T) {
	p := providers[0]
	srv := start(t, p, "--fabric-max-sessions", "2", "--fabric-max-transfers", "1")
	var cs []*client.Client
	for i := 0; i < 2; i++ {
		cs = append(cs, dial(t, srv, p))
	}
	extra, err := client.Dial(srv.Addr(), client.Options{Provider: p.name})
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if extra.Transport() != "tcp" || !strings.Contains(fmt.Sprint(extra.FallbackReason()), "fabric-max-sessions") {
		t.Fatalf("third client: transport %s, reason %v", extra.Transport(), extra.FallbackReason())
	}
	const n = 16 << 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(cs))
	for i, c := range cs {
		buf := alloc(t, c, n)
		pattern(buf.Bytes(), 100+i)
		wg.Add(1)
		go func(i int, c *client.Client, buf *client.Buffer) {
			defer wg.Done()
			key := fmt.Sprintf("lim%d", i)
			for j := 0; j < 4; j++ {
				if err := c.Set(key, buf, 0, n); err != nil {
					errs <- err
					return
				}
				if got, _, err := c.Get(key, buf, 0, n); err != nil || got != n {
					errs <- fmt.Errorf("get: %d %v", got, err)
					return
				}
			}
		}(i, c, buf)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if w := srv.InfoInt(t, "fastpath_transfer_waits"); w == 0 {
		t.Log("no transfer waited for a slot this run (the two clients never overlapped)")
	}
	if v := srv.InfoInt(t, "fastpath_sessions_refused"); v != 1 {
		t.Fatalf("fastpath_sessions_refused %d, want 1", v)
	}
}
