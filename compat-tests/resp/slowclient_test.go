package resp_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// rss reads used_memory_rss from INFO memory.
func rss(t *testing.T, c *rawConn) int64 {
	t.Helper()
	c.send("INFO", "memory")
	info := string(c.readBulk())
	m := regexp.MustCompile(`(?m)^used_memory_rss:(\d+)\r?$`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no used_memory_rss in INFO memory:\n%s", info)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// TestSlowReader pipelines 2 GiB of GET replies on a connection that does
// not read them: the server's memory stays bounded (replies wait on the
// socket, under the default 1 GiB output-buffer-limit), other clients are
// served meanwhile, and the slow client still gets its replies in order.
func TestSlowReader(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--dram-cache-size", "256mb"}})
	w := newWitness(t, srv.Addr())
	big := randomBytes(31, 32<<20)
	w.c.write(encode(nil, []byte("SET"), []byte("slow:big"), big))
	w.c.expect("+OK\r\n")
	before := rss(t, w.c)

	slow := dialRaw(t, srv.Addr())
	var req []byte
	for range 64 {
		req = append(req, encodeStrings("GET", "slow:big")...)
	}
	slow.write(req)
	// The server is stuck writing the first 32 MiB reply to a client that
	// does not read it (more than the sockets' buffers hold).
	waitFor(t, 30*time.Second, "a reply waiting on the slow client", func() bool {
		return srv.InfoInt(t, "client_recent_max_output_buffer") >= int64(len(big))
	})

	w.check(t, srv)
	after := rss(t, w.c)
	t.Logf("RSS %d MiB before, %d MiB with 2 GiB of replies pending", before>>20, after>>20)
	if after-before > 512<<20 {
		t.Fatalf("RSS grew by %d MiB for one client's unread replies", (after-before)>>20)
	}
	// The slow client may still read what it asked for, in order.
	for i := range 3 {
		if got := slow.readBulk(); len(got) != len(big) || string(got[:64]) != string(big[:64]) {
			t.Fatalf("slow client's reply %d: %d bytes", i, len(got))
		}
	}
	slow.nc.Close()
	waitFor(t, 30*time.Second, "the slow client gone", func() bool {
		return srv.InfoInt(t, "connected_clients") == 2 // the witness and INFO's own
	})
	w.check(t, srv)
}
