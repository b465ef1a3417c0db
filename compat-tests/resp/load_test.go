package resp_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// loadShape is one size of the load run.
type loadShape struct {
	conns      int   // connections in all (idle ones make up the rest)
	pipeliners int   // connections pipelining small SET/GET batches
	writers    int   // connections each with a large value in flight
	value      int   // bytes of each large value
	dram       int64 // dram-cache-size
	clientMem  int64 // maxmemory-clients
}

// The CI run, and the full one behind GPUCACHE_LOAD=full.
var (
	loadCI   = loadShape{conns: 2000, pipeliners: 8, writers: 16, value: 32 << 20, dram: 256 << 20, clientMem: 64 << 20}
	loadFull = loadShape{conns: 10000, pipeliners: 100, writers: 64, value: 32 << 20, dram: 1 << 30, clientMem: 256 << 20}
)

// perConnOverhead is what a connection costs outside the client buffers
// the budget accounts: its goroutine's stack and its state.
const perConnOverhead = 16 << 10

// The metadata store's configured memory: its block cache (set small
// here) and its memtables (pebble keeps up to two of 64 MiB while one
// flushes).
const (
	loadMetaCacheMiB = 16
	loadMetaMemory   = loadMetaCacheMiB<<20 + 2*64<<20
)

// TestLoadManyClients holds many connections, most idle, some pipelining,
// while writers each have a large value in flight, more than the DRAM tier
// holds at once. Every request succeeds (the writers wait for memory:
// backpressure, not errors), every value reads back intact, and the
// server's peak RSS stays within its memory at start plus dram-cache-size,
// maxmemory-clients and a small fixed cost per connection.
//
// GPUCACHE_LOAD=full runs the full size (10,000 connections, 64 writers of
// 32 MiB); the default is a CI-sized run (2,000 connections, 16 writers).
func TestLoadManyClients(t *testing.T) {
	shape := loadCI
	if os.Getenv("GPUCACHE_LOAD") == "full" {
		shape = loadFull
	}
	// -short is how the compat tests run against a server built with
	// -race, whose shadow memory voids the RSS bound: a smaller run that
	// still checks every reply.
	checkRSS := !testing.Short()
	if testing.Short() {
		shape.conns, shape.pipeliners, shape.writers = 500, 4, 4
	}
	raiseNoFile(t, uint64(shape.conns+2048))
	maxClients := shape.conns + shape.writers + 64
	srv := internal.Start(t, internal.Options{Args: []string{
		"--dram-cache-size", strconv.FormatInt(shape.dram>>20, 10) + "mb",
		"--maxmemory-clients", strconv.FormatInt(shape.clientMem>>20, 10) + "mb",
		"--maxclients", strconv.Itoa(maxClients),
		"--rocksdb.block_cache_size", strconv.Itoa(loadMetaCacheMiB),
	}})
	pid := int(srv.InfoInt(t, "process_id"))
	rssStart := procStatus(t, pid, "VmRSS")
	fdStart := openFiles(t, pid)
	start := time.Now()

	// Idle connections; every tenth proves it is served.
	idle := shape.conns - shape.pipeliners - shape.writers
	ncs := make([]net.Conn, 0, idle)
	defer func() {
		for _, nc := range ncs {
			nc.Close()
		}
	}()
	for i := range idle {
		nc, err := net.DialTimeout("tcp", srv.Addr(), 10*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		ncs = append(ncs, nc)
		if i%10 == 0 {
			nc.SetDeadline(time.Now().Add(30 * time.Second))
			nc.Write(encodeStrings("PING"))
			if out, err := readN(nc, 7); err != nil || string(out) != "+PONG\r\n" {
				t.Fatalf("idle connection %d: %q %v", i, out, err)
			}
		}
	}
	waitFor(t, time.Minute, "every idle connection accepted", func() bool {
		return srv.InfoInt(t, "connected_clients") >= int64(idle)
	})
	t.Logf("%d idle connections in %v", idle, time.Since(start).Round(time.Millisecond))

	var stop atomic.Bool
	var pipelined atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, shape.pipeliners+shape.writers)
	small := bytes.Repeat([]byte("p"), 1024)
	for p := range shape.pipeliners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if msg := pipeline(srv.Addr(), p, small, &stop, &pipelined); msg != "" {
				errs <- msg
			}
		}()
	}

	base := randomBytes(60, shape.value)
	var sampler sync.WaitGroup
	var peakClientMem atomic.Int64
	sampleDone := make(chan struct{})
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-sampleDone:
				return
			case <-tick.C:
				// NB: not InfoInt, which fails the test from this
				// goroutine; a sample the busy server answers late is
				// skipped.
				if n, err := infoField(srv.Addr(), "mem_clients_normal"); err == nil {
					peakClientMem.Store(max(peakClientMem.Load(), n))
				}
			}
		}
	}()
	writeStart := time.Now()
	var writers sync.WaitGroup
	for w := range shape.writers {
		writers.Add(1)
		go func() {
			defer writers.Done()
			if msg := largeSetGet(srv.Addr(), w, base); msg != "" {
				errs <- msg
			}
		}()
	}
	writers.Wait()
	writeTime := time.Since(writeStart)
	stop.Store(true)
	wg.Wait()
	close(sampleDone)
	sampler.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	hwm := procStatus(t, pid, "VmHWM")
	bound := rssStart + shape.dram + shape.clientMem + loadMetaMemory + int64(shape.conns)*perConnOverhead
	t.Logf("%d connections (%d idle, %d pipelining, %d writers of %d MiB): writes done in %v (%.0f MiB/s), %d pipelined requests",
		shape.conns, idle, shape.pipeliners, shape.writers, shape.value>>20, writeTime.Round(time.Millisecond),
		float64(shape.writers*shape.value)/(1<<20)/writeTime.Seconds(), pipelined.Load())
	t.Logf("server RSS: %d MiB at start, peak %d MiB; bound %d MiB (start + dram-cache-size %d + maxmemory-clients %d + metadata store %d + %d KiB per connection); client buffers peak %d MiB; Go heap %d MiB of %d MiB from the OS; fds %d at start, %d with the load",
		rssStart>>20, hwm>>20, bound>>20, shape.dram>>20, shape.clientMem>>20, loadMetaMemory>>20, perConnOverhead>>10,
		peakClientMem.Load()>>20, srv.InfoInt(t, "used_memory_go_heap")>>20, srv.InfoInt(t, "used_memory_go_sys")>>20,
		fdStart, openFiles(t, pid))
	if checkRSS && hwm > bound {
		t.Errorf("peak RSS %d MiB over the bound %d MiB", hwm>>20, bound>>20)
	}
}

// infoField reads an integer field of INFO clients on a new connection.
func infoField(addr, name string) (int64, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	nc.Write(encodeStrings("INFO", "clients"))
	br := bufio.NewReader(nc)
	head, err := br.ReadString('\n')
	if err != nil || len(head) < 3 || head[0] != '$' {
		return 0, fmt.Errorf("INFO: %q %v", head, err)
	}
	n, err := strconv.Atoi(head[1 : len(head)-2])
	if err != nil {
		return 0, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO has no %s", name)
}

// readN reads exactly n bytes.
func readN(nc net.Conn, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(nc, b)
	return b, err
}

// pipeline sends batches of 32 SET and 32 GET of small values and checks
// every reply, until stop.
func pipeline(addr string, id int, val []byte, stop *atomic.Bool, done *atomic.Int64) string {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return fmt.Sprintf("pipeliner %d: %v", id, err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64<<10)
	var req []byte
	for i := range 32 {
		req = encode(req, []byte("SET"), []byte(fmt.Sprintf("pipe:%d:%d", id, i)), val)
	}
	for i := range 32 {
		req = encode(req, []byte("GET"), []byte(fmt.Sprintf("pipe:%d:%d", id, i)))
	}
	want := bulk(val)
	for !stop.Load() {
		nc.SetDeadline(time.Now().Add(2 * time.Minute))
		if _, err := nc.Write(req); err != nil {
			return fmt.Sprintf("pipeliner %d: write: %v", id, err)
		}
		for i := range 32 {
			line, err := br.ReadString('\n')
			if err != nil || line != "+OK\r\n" {
				return fmt.Sprintf("pipeliner %d: SET %d: %q %v", id, i, line, err)
			}
		}
		got := make([]byte, len(want))
		for i := range 32 {
			if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, want) {
				return fmt.Sprintf("pipeliner %d: GET %d: %q %v", id, i, quoteShort(got), err)
			}
		}
		done.Add(64)
	}
	return ""
}

// largeSetGet stores a large value (base with the writer's tag in front),
// then reads it back and compares it as it streams in.
func largeSetGet(addr string, id int, base []byte) string {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return fmt.Sprintf("writer %d: %v", id, err)
	}
	defer nc.Close()
	key := fmt.Sprintf("large:%d", id)
	tag := fmt.Appendf(nil, "%08d", id)
	nc.SetDeadline(time.Now().Add(5 * time.Minute))
	bufs := net.Buffers{bulkHead(len(base), "SET", key), tag, base[len(tag):], []byte("\r\n")}
	if _, err := bufs.WriteTo(nc); err != nil {
		return fmt.Sprintf("writer %d: SET: %v", id, err)
	}
	br := bufio.NewReaderSize(nc, 1<<20)
	if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
		return fmt.Sprintf("writer %d: SET: %q %v", id, line, err)
	}
	nc.Write(encodeStrings("GET", key))
	head := fmt.Sprintf("$%d\r\n", len(base))
	if line, err := br.ReadString('\n'); err != nil || line != head {
		return fmt.Sprintf("writer %d: GET: %q %v", id, line, err)
	}
	chunk := make([]byte, 1<<20)
	for off := 0; off < len(base); {
		n := min(len(chunk), len(base)-off)
		if _, err := io.ReadFull(br, chunk[:n]); err != nil {
			return fmt.Sprintf("writer %d: GET at %d: %v", id, off, err)
		}
		want := base[off : off+n]
		got := chunk[:n]
		if off == 0 {
			if !bytes.Equal(got[:len(tag)], tag) {
				return fmt.Sprintf("writer %d: GET returned another writer's value (%q)", id, got[:len(tag)])
			}
			got, want = got[len(tag):], want[len(tag):]
		}
		if !bytes.Equal(got, want) {
			return fmt.Sprintf("writer %d: GET differs in the MiB at %d", id, off)
		}
		off += n
	}
	return ""
}
