package resp_test

import (
	"bytes"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits for a line of the server's log containing s.
func waitLog(t testing.TB, srv *internal.Server, timeout time.Duration, s string) {
	t.Helper()
	waitFor(t, timeout, "log line "+strconv.Quote(s), func() bool { return strings.Contains(srv.Log(), s) })
}

// bulkHead is a request's head up to the header of a final bulk of n
// bytes, whose data the caller sends.
func bulkHead(n int, args ...string) []byte {
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)+1), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"+a+"\r\n"...)
	}
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n"...)
}

// TestQueryBufferLimit: query-buffer-limit set with CONFIG SET applies at
// once, to connected clients too. A non-value argument past it is
// answered with an error (its bytes dropped, the connection goes on); a
// request of small arguments past it is a protocol error, as Redis closes
// such a client.
func TestQueryBufferLimit(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	c := dialRaw(t, srv.Addr())
	c.send("CONFIG", "SET", "query-buffer-limit", "1mb")
	c.expect("+OK\r\n")
	c.write(encode(nil, []byte("GET"), bytes.Repeat([]byte{'k'}, 2<<20)))
	c.expect("-ERR request exceeds the client query buffer limit (query-buffer-limit)\r\n")
	c.send("PING")
	c.expect("+PONG\r\n")

	args := [][]byte{[]byte("MGET")}
	for i := range 24 {
		args = append(args, bytes.Repeat([]byte{byte('a' + i)}, 60<<10))
	}
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go nc.Write(encode(nil, args...))
	out, closed := readAll(nc, 5*time.Second)
	if string(out) != "-ERR Protocol error: query buffer limit exceeded\r\n" || !closed {
		t.Fatalf("MGET of 1.4 MiB: reply %q, closed %v", out, closed)
	}
	// Back to the default: the same requests are served.
	c.send("CONFIG", "SET", "query-buffer-limit", "1gb")
	c.expect("+OK\r\n")
	c.write(encode(nil, args...))
	if r := c.readReply(); r.kind != '*' || len(r.elems) != 24 {
		t.Fatalf("MGET under the default limit: %v", r)
	}
}

// TestOutputBufferLimit: output-buffer-limit set with CONFIG SET applies to
// connected clients. A reply larger than the hard limit disconnects its
// client; a client that does not take soft-limit bytes of replies within
// soft-seconds is disconnected, as Redis does; other clients go on.
func TestOutputBufferLimit(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--dram-cache-size", "256mb"}})
	w := newWitness(t, srv.Addr())
	big := randomBytes(50, 8<<20)
	w.c.write(encode(nil, []byte("SET"), []byte("out:big"), big))
	w.c.expect("+OK\r\n")
	reader := dialRaw(t, srv.Addr()) // connected before the change

	w.c.send("CONFIG", "SET", "output-buffer-limit", "4mb")
	w.c.expect("+OK\r\n")
	reader.send("GET", "out:big")
	if out, closed := readAll(reader.nc, 10*time.Second); len(out) != 0 || !closed {
		t.Fatalf("GET of 8 MiB over a 4 MiB hard limit: %d bytes, closed %v; want a disconnect", len(out), closed)
	}
	waitLog(t, srv, 10*time.Second, "over the output buffer hard limit")

	w.c.send("CONFIG", "SET", "output-buffer-limit", "normal 0 1mb 1 pubsub 32mb 8mb 60")
	w.c.expect("+OK\r\n")
	slow := dialRaw(t, srv.Addr())
	var req []byte
	for range 16 {
		req = append(req, encodeStrings("GET", "out:big")...)
	}
	slow.write(req)
	waitLog(t, srv, 30*time.Second, "over the output buffer soft limit")
	// What the slow client finds is a prefix of its replies, then the end.
	got, closed := readAll(slow.nc, 10*time.Second)
	if !closed || len(got) >= 16*len(big) {
		t.Fatalf("slow reader: %d bytes, closed %v; want fewer than all replies, then a disconnect", len(got), closed)
	}
	w.check(t, srv)
	w.c.send("CONFIG", "SET", "output-buffer-limit", "garbage")
	if line := w.c.readLine(); !strings.HasPrefix(line, "-ERR") {
		t.Fatalf("CONFIG SET of a malformed limit: %q", line)
	}
}

// TestClientMemoryBudget: maxmemory-clients bounds the memory of all client
// buffers together. A client that needs more waits (backpressure: the
// server reads nothing more from it) until another releases memory, or is
// answered -BUSY after the wait; the others go on.
func TestClientMemoryBudget(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	w := newWitness(t, srv.Addr())
	w.c.send("CONFIG", "SET", "maxmemory-clients", "8mb")
	w.c.expect("+OK\r\n")
	const keyLen = 6 << 20
	key := bytes.Repeat([]byte{'k'}, keyLen)

	// A holds 6 MiB for a key it sends slowly.
	a := dialRaw(t, srv.Addr())
	a.write(append(bulkHead(keyLen, "GET"), key[:1<<20]...))
	waitFor(t, 10*time.Second, "A's key charged to the budget", func() bool {
		return srv.InfoInt(t, "mem_clients_normal") >= keyLen
	})
	// B needs 6 MiB as well: it waits, and gets its reply once A's
	// request is done.
	b := dialRaw(t, srv.Addr())
	b.write(bulkHead(keyLen, "GET"))
	go b.nc.Write(key)
	waitFor(t, 10*time.Second, "B waiting for memory", func() bool {
		return srv.InfoInt(t, "clients_waiting_for_memory") == 1
	})
	w.c.send("PING") // others are served meanwhile
	w.c.expect("+PONG\r\n")
	a.write(append(key[1<<20:], "\r\n"...))
	a.expect("$-1\r\n")
	b.write([]byte("\r\n"))
	b.expect("$-1\r\n")

	// C finds the memory held by a stalled A for longer than the wait:
	// -BUSY, and its connection goes on.
	a.write(append(bulkHead(keyLen, "GET"), key[:1<<20]...))
	waitFor(t, 10*time.Second, "A's key charged to the budget", func() bool {
		return srv.InfoInt(t, "mem_clients_normal") >= keyLen
	})
	c := dialRaw(t, srv.Addr())
	c.write(bulkHead(keyLen, "GET"))
	go c.nc.Write(append(key, "\r\n"...))
	c.expect("-BUSY client buffers are full (maxmemory-clients), try again later\r\n")
	c.send("PING")
	c.expect("+PONG\r\n")
	a.nc.Close()
	waitFor(t, 10*time.Second, "A's memory released", func() bool {
		return srv.InfoInt(t, "mem_clients_normal") < 1<<20
	})
	w.check(t, srv)
}

// TestPipelineInFlight: a client that pipelines without reading its replies
// holds a bounded amount of server memory: the server stops reading it once
// about 1 MiB of replies waits on the socket, whatever it sent. Other
// clients go on, and the pipeliner gets every reply, in order, when it
// reads.
func TestPipelineInFlight(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	w := newWitness(t, srv.Addr())
	val := bytes.Repeat([]byte("v"), 4<<10)
	w.c.write(encode(nil, []byte("SET"), []byte("pipe:v"), val))
	w.c.expect("+OK\r\n")
	before := srv.InfoInt(t, "mem_clients_normal")

	const requests = 50000 // 200 MiB of replies, 1.2 MiB of requests
	p := dialRaw(t, srv.Addr())
	req := bytes.Repeat(encodeStrings("GET", "pipe:v"), requests)
	sent := make(chan error, 1)
	go func() {
		p.nc.SetWriteDeadline(time.Now().Add(2 * time.Minute))
		_, err := p.nc.Write(req)
		sent <- err
	}()
	waitFor(t, 30*time.Second, "replies waiting on the pipelining client", func() bool {
		return srv.InfoInt(t, "client_recent_max_output_buffer") >= 1<<20
	})
	held := srv.InfoInt(t, "mem_clients_normal") - before
	t.Logf("client buffers with %d requests pipelined and unread: +%d KiB", requests, held>>10)
	if held > 4<<20 {
		t.Fatalf("a pipelining client that does not read holds %d KiB of client buffers", held>>10)
	}
	// CLIENT LIST shows it: replies waiting (obuf), requests unparsed
	// (qbuf). NB: the server may be between two flushes when asked (a
	// batch just taken by the socket buffer), so ask until it is blocked
	// on the socket again.
	var list string
	var qbuf, obuf int
	waitFor(t, 30*time.Second, "CLIENT LIST showing the pipeliner's waiting replies", func() bool {
		w.c.send("CLIENT", "LIST")
		list = string(w.c.readBulk())
		m := regexp.MustCompile(`qbuf=(\d+) obuf=(\d+) cmd=get`).FindStringSubmatch(list)
		if m == nil {
			t.Fatalf("no pipelining client in CLIENT LIST:\n%s", list)
		}
		qbuf, _ = strconv.Atoi(m[1])
		obuf, _ = strconv.Atoi(m[2])
		return obuf >= 1<<20
	})
	if qbuf == 0 {
		t.Errorf("CLIENT LIST qbuf=0 for a client with requests unread:\n%s", list)
	}
	w.check(t, srv)
	want := bulk(val)
	for range requests {
		p.expectBytes(want)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}
