package resp_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// segmentFiles counts the blob segment files under dir.
func segmentFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "seg-") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnauthenticatedLimits: with requirepass set, a client that has not
// authenticated may send what AUTH and HELLO need (at most 10 arguments of
// 16 KiB), as Redis allows; a larger request is a protocol error that
// closes the connection before any of it is stored: no DRAM arena page, no
// segment on the devices, no heap buffer the size of the declared bulk.
func TestUnauthenticatedLimits(t *testing.T) {
	const pass = "s3cret"
	srv := internal.Start(t, internal.Options{Password: pass, Args: []string{
		"--requirepass", pass, "--dram-cache-size", "256mb"}})
	admin := dialRaw(t, srv.Addr())
	admin.send("AUTH", pass)
	admin.expect("+OK\r\n")
	pid := int(srv.InfoInt(t, "process_id"))
	dramBefore := srv.InfoInt(t, "dram_used")
	segsBefore := srv.InfoInt(t, "nvme_segments")
	filesBefore := segmentFiles(t, srv.Dir())
	hwmBefore := procStatus(t, pid, "VmHWM")

	// Each case is a request head the server must refuse before reading
	// the rest of it: the reply comes while the client still has bytes
	// to send.
	cases := []struct {
		name, head, want string
	}{
		{"LargeSet", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16777216\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"LargeKey", "*2\r\n$3\r\nGET\r\n$536870912\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"LargeAuth", "*2\r\n$4\r\nAUTH\r\n$100000\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"ManyArgs", "*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{"HugeArgCount", "*1000000\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Several clients at once, each writing 1 MiB of the value
			// after the head: none of it may be held.
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					nc, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
					if err != nil {
						errs <- err.Error()
						return
					}
					defer nc.Close()
					nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
					go nc.Write(append([]byte(tc.head), bytes.Repeat([]byte{'v'}, 1<<20)...))
					out, closed := readAll(nc, 5*time.Second)
					if string(out) != tc.want || !closed {
						errs <- fmt.Sprintf("client %d: reply %q, closed %v; want %q, then close", i, out, closed, tc.want)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
	dramAfter := srv.InfoInt(t, "dram_used")
	segsAfter := srv.InfoInt(t, "nvme_segments")
	filesAfter := segmentFiles(t, srv.Dir())
	hwmAfter := procStatus(t, pid, "VmHWM")
	t.Logf("dram_used %d -> %d, nvme_segments %d -> %d, segment files %d -> %d, VmHWM %d -> %d MiB",
		dramBefore, dramAfter, segsBefore, segsAfter, filesBefore, filesAfter, hwmBefore>>20, hwmAfter>>20)
	if dramAfter != dramBefore || segsAfter != segsBefore || filesAfter != filesBefore {
		t.Errorf("unauthenticated requests took engine resources")
	}
	// 40 clients each declared up to 512 MiB and wrote 1 MiB of it.
	if hwmAfter-hwmBefore > 32<<20 {
		t.Errorf("peak RSS grew by %d MiB for unauthenticated requests", (hwmAfter-hwmBefore)>>20)
	}

	// A request within the limits is answered NOAUTH, as before.
	c := dialRaw(t, srv.Addr())
	c.write(encode(nil, []byte("SET"), []byte("k"), bytes.Repeat([]byte{'v'}, 16<<10)))
	c.expect("-NOAUTH Authentication required.\r\n")
	c.send("GET", "k")
	c.expect("-NOAUTH Authentication required.\r\n")
	// AUTH lifts the limits for the very next request of the pipeline.
	big := randomBytes(20, 16<<20)
	c.write(append(encodeStrings("AUTH", pass), encode(nil, []byte("SET"), []byte("unauth:after"), big)...))
	c.expect("+OK\r\n")
	c.expect("+OK\r\n")
	c.send("GET", "unauth:after")
	c.expectBytes(bulk(big))
	admin.send("PING")
	admin.expect("+PONG\r\n")
}
