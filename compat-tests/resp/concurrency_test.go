package resp_test

import (
	"fmt"
	"hash/crc32"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestConcurrentOverwrites has several clients overwrite the same keys
// with large values of different sizes while others read them: every read
// returns exactly one of the values written (never a mix, a torn value or
// an error), and after the writers stop every key holds one of them.
func TestConcurrentOverwrites(t *testing.T) {
	// By reference, replies are pages the socket holds until the client
	// reads them, while writers free and reuse those pages.
	for _, byRef := range []string{"no", "yes"} {
		t.Run("send-by-reference-"+byRef, func(t *testing.T) { testConcurrentOverwrites(t, byRef) })
	}
}

func testConcurrentOverwrites(t *testing.T, byRef string) {
	const (
		writers = 3
		readers = 2
		keys    = 3
		rounds  = 8
	)
	srv := internal.Start(t, internal.Options{Args: []string{"--dram-send-by-reference", byRef}})
	base := randomBytes(21, 40<<20)
	// Candidate values: window (w, r) of base, 1-9 MiB, some small.
	size := func(w, r int) int {
		if (w+r)%4 == 0 {
			return 100 + w*10 + r
		}
		return 1<<20 + ((w*rounds+r)*1237)%(8<<20)
	}
	val := func(w, r int) []byte { off := (w*rounds + r) * 65536; return base[off : off+size(w, r)] }
	valid := make(map[uint64]bool) // crc<<32 | len
	for w := range writers {
		for r := range rounds {
			v := val(w, r)
			valid[uint64(crc32.ChecksumIEEE(v))<<32|uint64(len(v))] = true
		}
	}
	isValid := func(b []byte) bool { return valid[uint64(crc32.ChecksumIEEE(b))<<32|uint64(len(b))] }

	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan string, writers+readers)
	for w := range writers {
		goRaw(&wg, srv.Addr(), errs, fmt.Sprintf("writer %d", w), func(c *rawConn) {
			for r := range rounds {
				for k := range keys {
					c.write(encode(nil, []byte("SET"), []byte(fmt.Sprintf("contended:%d", k)), val(w, r)))
					c.expect("+OK\r\n")
				}
			}
		})
	}
	var rwg sync.WaitGroup
	reads := make([]int, readers)
	for rd := range readers {
		goRaw(&rwg, srv.Addr(), errs, fmt.Sprintf("reader %d", rd), func(c *rawConn) {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				c.send("GET", fmt.Sprintf("contended:%d", i%keys))
				if got := c.readBulk(); got != nil && !isValid(got) {
					c.t.Fatalf("GET returned %d bytes that no writer wrote", len(got))
				}
				reads[rd]++
			}
		})
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	t.Logf("reads during the writes: %v", reads)
	c := dialRaw(t, srv.Addr())
	for k := range keys {
		c.send("GET", fmt.Sprintf("contended:%d", k))
		if got := c.readBulk(); !isValid(got) {
			t.Fatalf("contended:%d holds %d bytes that no writer wrote", k, len(got))
		}
	}
	sent, renewed := srv.InfoInt(t, "dram_bytes_sent_by_ref"), srv.InfoInt(t, "dram_pages_renewed")
	t.Logf("sent by reference: %d bytes; pages renewed: %d", sent, renewed)
	if (sent != 0) != (byRef == "yes") || (renewed != 0) != (byRef == "yes") {
		t.Fatalf("dram-send-by-reference %s: %d bytes sent by reference, %d pages renewed", byRef, sent, renewed)
	}
}

// TestIdleTimeout checks the timeout setting: an idle client is closed
// after about that many seconds; a busy one is not.
func TestIdleTimeout(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--timeout", "1"}})
	idle := dialRaw(t, srv.Addr())
	busy := dialRaw(t, srv.Addr())
	start := time.Now()
	for time.Since(start) < 2500*time.Millisecond {
		busy.send("PING")
		busy.expect("+PONG\r\n")
		time.Sleep(100 * time.Millisecond) // paces the busy client's activity (not a wait)
	}
	idle.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := idle.nc.Read(make([]byte, 64))
	if ne, ok := err.(net.Error); n > 0 || (ok && ne.Timeout()) || err == nil {
		t.Fatalf("idle client after 1s timeout: read %d bytes, %v; want the connection closed", n, err)
	}
	if elapsed := time.Since(start); elapsed > 6*time.Second {
		t.Fatalf("idle client closed after %v with timeout 1", elapsed)
	}
	busy.send("PING")
	busy.expect("+PONG\r\n")
}
