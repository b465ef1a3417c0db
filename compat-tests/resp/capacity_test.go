package resp_test

import (
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// capacityValue is value i of a capacity test: a window of base.
func capacityValue(base []byte, i, size int) []byte {
	off := (i * 4096) % (len(base) - size)
	return base[off : off+size]
}

// TestCapacityNoEviction fills a small NVMe tier with maxmemory-policy
// noeviction: writes past capacity fail with an OOM error, and everything
// stored before is still there, byte for byte.
func TestCapacityNoEviction(t *testing.T) {
	const size = 1 << 20
	srv := internal.Start(t, internal.Options{Args: []string{
		"--nvme-capacity", "256mb", "--maxmemory-policy", "noeviction", "--dram-cache-size", "64mb"}})
	base := randomBytes(11, 8<<20)
	c := dialRaw(t, srv.Addr())
	stored := 0
	var oom string
	for i := range 1024 { // 1 GiB: four times the capacity
		c.write(encode(nil, []byte("SET"), []byte("cap:"+strconv.Itoa(i)), capacityValue(base, i, size)))
		line := c.readLine()
		if line == "+OK" {
			stored++
			continue
		}
		oom = line
		break
	}
	t.Logf("%d values of %d bytes stored before %q", stored, size, oom)
	if !strings.HasPrefix(oom, "-OOM ") {
		t.Fatalf("write past capacity: %q, want an -OOM error", oom)
	}
	if stored == 0 || stored > 256 {
		t.Fatalf("%d MiB stored in a 256 MiB NVMe tier", stored)
	}
	// Further writes keep failing the same way and change nothing.
	for i := stored; i < stored+4; i++ {
		c.write(encode(nil, []byte("SET"), []byte("cap:"+strconv.Itoa(i)), capacityValue(base, i, size)))
		if line := c.readLine(); !strings.HasPrefix(line, "-OOM ") {
			t.Fatalf("write %d past capacity: %q", i, line)
		}
	}
	c.send("SET", "cap:0", "overwrite refused or accepted, never a mix")
	overwritten := c.readLine() == "+OK"
	c.send("DBSIZE")
	c.expect(fmt.Sprintf(":%d\r\n", stored))
	for i := range stored {
		c.send("GET", "cap:"+strconv.Itoa(i))
		got := c.readBulk()
		if i == 0 && overwritten {
			if string(got) != "overwrite refused or accepted, never a mix" {
				t.Fatalf("cap:0 after an accepted overwrite: %d bytes", len(got))
			}
			continue
		}
		if want := capacityValue(base, i, size); crc32.ChecksumIEEE(got) != crc32.ChecksumIEEE(want) || len(got) != size {
			t.Fatalf("cap:%d changed after the tier filled: %d bytes", i, len(got))
		}
	}
	c.send("EXISTS", "cap:"+strconv.Itoa(stored))
	c.expect(":0\r\n")
	srv.Stop(t)
	if !t.Failed() {
		srv.Restart(t)
		c := dialRaw(t, srv.Addr())
		c.send("DBSIZE")
		c.expect(fmt.Sprintf(":%d\r\n", stored))
	}
}

// TestCapacityAllKeysLRU writes 1.5 times the NVMe capacity with
// maxmemory-policy allkeys-lru: every write succeeds, the oldest keys are
// evicted, and the recent ones (and a key read all along) are intact.
func TestCapacityAllKeysLRU(t *testing.T) {
	const (
		size   = 4 << 20
		writes = 192 // 768 MiB: the oldest segment must go
		recent = 16  // 64 MiB: an eighth of the tier
	)
	srv := internal.Start(t, internal.Options{Args: []string{
		"--nvme-capacity", "512mb", "--maxmemory-policy", "allkeys-lru", "--dram-cache-size", "64mb"}})
	base := randomBytes(12, 16<<20)
	c := dialRaw(t, srv.Addr())
	hot := capacityValue(base, 9999, size)
	c.write(encode(nil, []byte("SET"), []byte("lru:hot"), hot))
	c.expect("+OK\r\n")
	hotLost := -1
	for i := range writes {
		c.write(encode(nil, []byte("SET"), []byte("lru:"+strconv.Itoa(i)), capacityValue(base, i, size)))
		if line := c.readLine(); line != "+OK" {
			t.Fatalf("write %d of %d with allkeys-lru: %q", i, writes, line)
		}
		if i%8 == 0 && hotLost < 0 {
			c.send("GET", "lru:hot")
			if got := c.readBulk(); got == nil {
				hotLost = i
			} else if crc32.ChecksumIEEE(got) != crc32.ChecksumIEEE(hot) {
				t.Fatalf("lru:hot came back with other bytes")
			}
		}
	}
	c.send("EXISTS", "lru:0")
	if line := c.readLine(); line != ":0" {
		t.Fatalf("EXISTS of the oldest key after writing 4x capacity: %s, want :0 (evicted)", line)
	}
	c.send("DBSIZE")
	line := c.readLine()
	n, _ := strconv.Atoi(strings.TrimPrefix(line, ":"))
	t.Logf("DBSIZE %s after %d writes of %d bytes into 512 MiB", line, writes, size)
	if n < recent || n > 512<<20/size+1 {
		t.Fatalf("DBSIZE %s: want between %d and %d keys", line, recent, 512<<20/size+1)
	}
	// Every key still there has its own bytes; the most recent all are.
	for i := range writes {
		c.send("GET", "lru:"+strconv.Itoa(i))
		got := c.readBulk()
		if got == nil {
			if i >= writes-recent {
				t.Fatalf("recent key lru:%d evicted", i)
			}
			continue
		}
		if want := capacityValue(base, i, size); crc32.ChecksumIEEE(got) != crc32.ChecksumIEEE(want) {
			t.Fatalf("lru:%d came back with other bytes", i)
		}
	}
	if hotLost >= 0 {
		t.Errorf("lru:hot, read every 8 writes, was evicted by write %d: recently read items must be kept", hotLost)
	}
}

// fillMiB writes 1 MiB values until n are stored or a write fails, and
// returns how many were stored and the failing reply.
func fillMiB(t *testing.T, c *rawConn, prefix string, n int) (stored int, failed string) {
	t.Helper()
	base := randomBytes(13, 4<<20)
	for i := range n {
		c.write(encode(nil, []byte("SET"), []byte(prefix+strconv.Itoa(i)), capacityValue(base, i, 1<<20)))
		if line := c.readLine(); line != "+OK" {
			return stored, line
		}
		stored++
	}
	return stored, ""
}

// TestCapacitySmallTier: an NVMe capacity smaller than the default blob
// segment (256 MiB) still stores values up to about that capacity.
func TestCapacitySmallTier(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{
		"--nvme-capacity", "64mb", "--maxmemory-policy", "noeviction", "--dram-cache-size", "64mb"}})
	stored, failed := fillMiB(t, dialRaw(t, srv.Addr()), "small-tier:", 128)
	t.Logf("%d MiB stored in a 64 MiB tier, then %q", stored, failed)
	if stored < 32 || !strings.HasPrefix(failed, "-OOM ") {
		t.Fatalf("%d MiB stored in a 64 MiB tier before %q; want at least half of it, then -OOM", stored, failed)
	}
}

// TestCapacityAllKeysLRUOneSegment: with allkeys-lru, writes keep
// succeeding whatever the capacity, also when it holds fewer than two
// default-sized (256 MiB) blob segments.
func TestCapacityAllKeysLRUOneSegment(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{
		"--nvme-capacity", "300mb", "--maxmemory-policy", "allkeys-lru", "--dram-cache-size", "64mb"}})
	stored, failed := fillMiB(t, dialRaw(t, srv.Addr()), "lru-small:", 600)
	if failed != "" {
		t.Fatalf("allkeys-lru, 300 MiB tier: write %d of 600 (1 MiB each) failed: %q", stored+1, failed)
	}
}
