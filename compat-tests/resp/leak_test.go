package resp_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// serverCounts are the resources a client that left must not keep.
type serverCounts struct {
	goroutines, sockets, dramUsed, clientMem, clients int64
}

// countServer reads them over one connection kept for the purpose (a new
// connection per query would be counted while the server reaps it).
func countServer(t *testing.T, info *rawConn, pid int) serverCounts {
	t.Helper()
	info.send("INFO")
	fields := make(map[string]int64)
	for line := range strings.SplitSeq(string(info.readBulk()), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				fields[k] = n
			}
		}
	}
	return serverCounts{
		goroutines: fields["goroutines"],
		sockets:    int64(openSockets(t, pid)),
		dramUsed:   fields["dram_used"],
		clientMem:  fields["mem_clients_normal"],
		clients:    fields["connected_clients"],
	}
}

// TestNoLeaks: slow readers, slow writers, half-closed connections and
// clients that vanish mid-value (with FIN or RST), many at once, leave
// nothing behind once they are gone: no arena pages, goroutines, sockets
// or client-buffer memory, counted before and after. (Other descriptors
// may grow: the values stored open blob segments.)
func TestNoLeaks(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--dram-cache-size", "256mb"}})
	w := newWitness(t, srv.Addr())
	big := randomBytes(70, 8<<20)
	w.c.write(encode(nil, []byte("SET"), []byte("leak:big"), big))
	w.c.expect("+OK\r\n")
	pid := int(srv.InfoInt(t, "process_id"))
	info := dialRaw(t, srv.Addr())
	waitFor(t, 10*time.Second, "only the witness and the INFO client connected", func() bool {
		return countServer(t, info, pid).clients == 2
	})
	before := countServer(t, info, pid)

	// abort closes with RST (the client vanishes) or FIN.
	abort := func(nc net.Conn, rst bool) {
		if rst {
			nc.(*net.TCPConn).SetLinger(0)
		}
		nc.Close()
	}
	value := randomBytes(71, 32<<20)
	clients := map[string]func(nc net.Conn, i int){
		// Pipelines GETs of 8 MiB, reads a little, leaves.
		"slow reader": func(nc net.Conn, i int) {
			var req []byte
			for range 8 {
				req = append(req, encodeStrings("GET", "leak:big")...)
			}
			nc.Write(req)
			readN(nc, 64<<10)
			abort(nc, i%2 == 0)
		},
		// Sends a 32 MiB value in small pieces, then vanishes.
		"slow writer": func(nc net.Conn, i int) {
			nc.Write(bulkHead(len(value), "SET", fmt.Sprintf("leak:slow:%d", i)))
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for off := 0; off < 2<<20; off += 64 << 10 {
				<-tick.C // the pace of a slow client
				nc.Write(value[off : off+64<<10])
			}
			abort(nc, i%2 == 0)
		},
		// Half-closes mid-value: the server reads EOF.
		"half-closed mid-value": func(nc net.Conn, i int) {
			nc.Write(append(bulkHead(len(value), "SET", fmt.Sprintf("leak:half:%d", i)), value[:4<<20]...))
			nc.(*net.TCPConn).CloseWrite()
			readAll(nc, 10*time.Second) // the server closes its side
			nc.Close()
		},
		// Half-closes after requests whose replies it never reads.
		"half-closed, not reading": func(nc net.Conn, i int) {
			var req []byte
			for range 8 {
				req = append(req, encodeStrings("GET", "leak:big")...)
			}
			nc.Write(req)
			nc.(*net.TCPConn).CloseWrite()
			readN(nc, 1<<20)
			abort(nc, i%2 == 0)
		},
		// Pipelines large SETs (the writer goroutine takes them) and
		// vanishes in the middle of the third value.
		"vanish mid-pipeline": func(nc net.Conn, i int) {
			key := fmt.Sprintf("leak:pipe:%d", i)
			bufs := net.Buffers{
				bulkHead(4<<20, "SET", key+":a"), value[:4<<20], []byte("\r\n"),
				bulkHead(4<<20, "SET", key+":b"), value[:4<<20], []byte("\r\n"),
				bulkHead(len(value), "SET", key+":c"), value[:8<<20],
			}
			bufs.WriteTo(nc)
			abort(nc, i%2 == 0)
		},
	}
	var wg sync.WaitGroup
	for name, fn := range clients {
		for i := range 8 {
			nc, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
			if err != nil {
				t.Fatalf("%s %d: %v", name, i, err)
			}
			nc.SetDeadline(time.Now().Add(time.Minute))
			wg.Add(1)
			go func() {
				defer wg.Done()
				fn(nc, i)
			}()
		}
	}
	wg.Wait()
	w.check(t, srv)

	// The server notices each departure; then everything is back.
	var after serverCounts
	deadline := time.Now().Add(time.Minute)
	for {
		after = countServer(t, info, pid)
		if after.clients == before.clients && after.goroutines <= before.goroutines &&
			after.sockets == before.sockets && after.clientMem == before.clientMem {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the clients left: %+v, before them: %+v", after, before)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	t.Logf("before: %+v; after: %+v", before, after)
	// The pipelined values received whole before the client vanished
	// were stored (and stay resident); nothing of the abandoned ones was.
	count := func(format string) int64 {
		var keys []string
		for i := range 8 {
			keys = append(keys, fmt.Sprintf(format, i))
		}
		info.send(append([]string{"EXISTS"}, keys...)...)
		n, err := strconv.ParseInt(strings.TrimPrefix(info.readLine(), ":"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	stored := count("leak:pipe:%d:a") + count("leak:pipe:%d:b")
	for _, f := range []string{"leak:pipe:%d:c", "leak:slow:%d", "leak:half:%d"} {
		if n := count(f); n != 0 {
			t.Errorf("%d abandoned values %q stored", n, f)
		}
	}
	// (The DRAM tier may not keep all of them resident, and may have let
	// go of values resident before: less arena use is no leak.)
	if extra := after.dramUsed - before.dramUsed; extra > stored*(4<<20) {
		t.Errorf("arena use grew by %d bytes; the %d values stored hold %d", extra, stored, stored*(4<<20))
	}
}
