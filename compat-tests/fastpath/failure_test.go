//go:build fabric

package fastpath

import (
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpucache/gpucache/client"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

// waitInfo polls INFO until field satisfies ok, or fails after 20 s.
func waitInfo(t *testing.T, srv *internal.Server, field string, ok func(int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	reset := false
	for {
		v, err := srv.Info(field)
		if err != nil && !reset && errors.Is(err, syscall.ECONNRESET) {
			// NB: a RESP connection accepted while a fabric session
			// closes can be reset (libfabric 1.17's tcp provider; see
			// scripts/fabric-tests.sh and the README's caveats). Once per
			// wait it is logged and the query made again.
			t.Logf("INFO %s: %v; again", field, err)
			reset = true
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
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

// TestBlobBadAddress: a region outside the client's registered memory
// fails that command only, with the direction named; a failed BLOB.SET
// leaves the key's value as it was; the connection and its session go on.
func TestBlobBadAddress(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := start(t, p, "--fabric-transfer-timeout", "5000")
			c := dial(t, srv, p)
			const n = 8 << 20
			buf := alloc(t, c, n)
			pattern(buf.Bytes(), 11)
			if err := c.Set("good", buf, 0, n); err != nil {
				t.Fatal(err)
			}
			base := srv.InfoInt(t, "fastpath_arena_used_bytes")
			args, err := c.Triples([]client.Segment{{Buf: buf, Off: 0, Len: n}})
			if err != nil {
				t.Fatal(err)
			}
			if p.name == "shm" {
				// shm checks no registration: the server reads the
				// client's address space directly, and page zero is
				// mapped in no process.
				args[1] = "16"
			} else {
				// Just past the end of the registration.
				a, _ := strconv.ParseUint(args[1], 10, 64)
				args[1] = strconv.FormatUint(a+n, 10)
			}
			do := func(cmd ...string) (any, error) {
				stop := c.Progress() // a passive peer progresses while it waits
				defer stop()
				return c.Do(cmd...)
			}
			_, err = do(append([]string{"BLOB.SET", "good", strconv.Itoa(n)}, args...)...)
			serverErr(t, err, "ERR EFA read")
			_, err = do(append([]string{"BLOB.SET", "fresh", strconv.Itoa(n)}, args...)...)
			serverErr(t, err, "ERR EFA read")
			if v, _ := c.Do("EXISTS", "fresh"); v != int64(0) {
				t.Fatalf("a failed BLOB.SET stored the key: EXISTS %v", v)
			}
			if p.name != "shm" {
				// shm's write asks the client's side to take the bytes,
				// which refuses and never answers: see the README's
				// caveats and TestBlobFailures. tcp answers with an error.
				_, err = do(append([]string{"BLOB.GET", "good"}, args...)...)
				serverErr(t, err, "ERR EFA write")
			}
			if srv.InfoInt(t, "largeobj_efa_read_errors") < 2 {
				t.Fatal("failed reads not counted")
			}
			// The value is as it was. Over shm the same session goes on;
			// tcp;ofi_rxm (1.17) usually drops its connection to a peer
			// that refused an operation, and the session's later
			// transfers fail ("not connected"), but not always: when it
			// kept the connection the transfer must succeed whole; when
			// it dropped it the error names the direction and the client
			// opens a new session.
			c2 := c
			if p.name != "shm" {
				b := alloc(t, c, n)
				got, _, err := c.Get("good", b, 0, n)
				if err == nil {
					if got != n || string(b.Bytes()) != string(buf.Bytes()) {
						t.Fatalf("the same session's read after the refused ones: %d bytes, content differs", got)
					}
					t.Log("tcp;ofi_rxm kept the connection after the refused operations")
				} else {
					serverErr(t, err, "ERR EFA write")
				}
				c2 = dial(t, srv, p)
			}
			b2 := alloc(t, c2, n)
			got, crc, err := c2.Get("good", b2, 0, n)
			if err != nil || got != n || string(b2.Bytes()) != string(buf.Bytes()) ||
				crc != crc32.Checksum(buf.Bytes(), castagnoli) {
				t.Fatalf("good after bad addresses: n %d err %v", got, err)
			}
			c.Close()
			c2.Close()
			waitInfo(t, srv, "largeobj_efa_sessions", func(v int64) bool { return v == 0 })
			waitInfo(t, srv, "fastpath_held_bytes", func(v int64) bool { return v == 0 })
			waitInfo(t, srv, "fastpath_arena_used_bytes", func(v int64) bool { return v <= base })
		})
	}
}

// TestBlobVanish: a client that goes away while the server's transfer to
// or from it is in flight (a passive peer that stopped progressing, then
// closed its connection and endpoint) costs that command only: nothing is
// stored, its session ends within moments (the server notices the closed
// connection: tcp;ofi_rxm 1.17 does not fail the transfer, which would
// otherwise last until the transfer timeout), and the pages come back or
// stay counted as held; another client goes on.
func TestBlobVanish(t *testing.T) {
	p := providers[1] // shm moves the bytes inside the server's post: nothing stays in flight
	const timeout = 30 * time.Second
	srv := start(t, p, "--fabric-transfer-timeout", strconv.Itoa(int(timeout.Milliseconds())))
	c := dial(t, srv, p)
	const n = 8 << 20
	buf := alloc(t, c, n)
	pattern(buf.Bytes(), 21)
	if err := c.Set("good", buf, 0, n); err != nil {
		t.Fatal(err)
	}
	base := srv.InfoInt(t, "fastpath_arena_used_bytes")
	for _, cmd := range []string{"BLOB.SET", "BLOB.GET"} {
		t.Run(cmd, func(t *testing.T) {
			c2 := dial(t, srv, p)
			b2 := alloc(t, c2, n)
			args, err := c2.Triples([]client.Segment{{Buf: b2, Off: 0, Len: n}})
			if err != nil {
				t.Fatal(err)
			}
			key := "good"
			if cmd == "BLOB.SET" {
				key = "vanished"
				args = append([]string{strconv.Itoa(n)}, args...)
			}
			done := make(chan error, 1)
			go func() {
				// No Progress: the transfer stays in flight.
				_, err := c2.Do(append([]string{cmd, key}, args...)...)
				done <- err
			}()
			waitInfo(t, srv, "fastpath_transfers_in_flight", func(v int64) bool { return v == 1 })
			start := time.Now()
			c2.Close()
			if err := <-done; err == nil {
				t.Fatal("the command succeeded on a closed connection")
			}
			waitInfo(t, srv, "fastpath_transfers_in_flight", func(v int64) bool { return v == 0 })
			waitInfo(t, srv, "largeobj_efa_sessions", func(v int64) bool { return v == 1 })
			if d := time.Since(start); d > timeout/3 {
				t.Fatalf("the session outlived its client by %v", d)
			}
			if v, _ := c.Do("EXISTS", "vanished"); v != int64(0) {
				t.Fatalf("BLOB.SET from a vanished client stored the key: EXISTS %v", v)
			}
			h := waitInfo(t, srv, "fastpath_held_bytes", func(v int64) bool { return v == 0 || v == n })
			waitInfo(t, srv, "fastpath_arena_used_bytes", func(v int64) bool { return v <= base+h })
		})
	}
	b3 := alloc(t, c, n)
	got, _, err := c.Get("good", b3, 0, n)
	if err != nil || got != n || string(b3.Bytes()) != string(buf.Bytes()) {
		t.Fatalf("good after vanished clients: n %d err %v", got, err)
	}
}
