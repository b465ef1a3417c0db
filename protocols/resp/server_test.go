package resp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startServer serves a server of a fresh engine on a loopback listener.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	eng := openEngine(t)
	s := NewServer(eng, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return s, ln.Addr().String()
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc, bufio.NewReader(nc)
}

// TestGoRedis runs the go-redis v9 client (HELLO 3 handshake, pipelines,
// large values) against the server.
func TestGoRedis(t *testing.T) {
	_, addr := startServer(t, Config{})
	for _, proto := range []int{2, 3} {
		ctx := context.Background()
		rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto})
		defer rdb.Close()
		if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("RESP%d SET: %v", proto, err)
		}
		if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("RESP%d GET = %q, %v", proto, v, err)
		}
		if err := rdb.Get(ctx, "missing").Err(); err != redis.Nil {
			t.Fatalf("RESP%d GET missing: %v", proto, err)
		}
		big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB
		big[12345] = 'X'
		pipe := rdb.Pipeline()
		for i := 0; i < 3; i++ {
			pipe.Set(ctx, "big"+string(rune('0'+i)), big, time.Hour)
		}
		get := pipe.Get(ctx, "big1")
		ex := pipe.Exists(ctx, "big0", "big1", "big2", "nope")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("RESP%d pipeline: %v", proto, err)
		}
		if b, _ := get.Bytes(); !bytes.Equal(b, big) {
			t.Fatalf("RESP%d: 32 MiB value came back different", proto)
		}
		if n := ex.Val(); n != 3 {
			t.Fatalf("RESP%d EXISTS = %d", proto, n)
		}
		if ttl := rdb.TTL(ctx, "big0").Val(); ttl < 59*time.Minute {
			t.Fatalf("RESP%d TTL = %v", proto, ttl)
		}
		keys, cursor, err := rdb.Scan(ctx, 0, "big*", 100).Result()
		if err != nil || cursor != 0 || len(keys) != 3 {
			t.Fatalf("RESP%d SCAN = %v, %d, %v", proto, keys, cursor, err)
		}
		info, err := rdb.Info(ctx).Result()
		if err != nil {
			t.Fatalf("RESP%d INFO: %v", proto, err)
		}
		for _, want := range []string{"# Server\r\n", "# Clients\r\n", "# Memory\r\n", "# Persistence\r\n", "# Stats\r\n", "# Replication\r\nrole:master\r\n", "# CPU\r\n", "# Keyspace\r\n", "sequence:", "# Tiers\r\n", "dram_hits:", "nvme_used:"} {
			if !strings.Contains(info, want) {
				t.Fatalf("RESP%d INFO lacks %q:\n%s", proto, want, info)
			}
		}
		if n, err := rdb.Del(ctx, "big0", "big1", "big2").Result(); err != nil || n != 3 {
			t.Fatalf("RESP%d DEL = %d, %v", proto, n, err)
		}
	}
}

// TestPipelinedLargeSets writes hundreds of MB of SETs before reading any
// reply, as LMCache's C++ client does; the server must keep up with
// bounded memory and answer each one.
func TestPipelinedLargeSets(t *testing.T) {
	if testing.Short() {
		t.Skip("large transfer")
	}
	_, addr := startServer(t, Config{})
	nc, br := dial(t, addr)
	const n, size = 12, 32 << 20
	val := bytes.Repeat([]byte{0xa5}, size)
	go func() {
		for i := 0; i < n; i++ {
			key := "chunk" + string(rune('a'+i))
			nc.Write(encode("SET", key, string(val)))
		}
		nc.Write(encode("EXISTS", "chunka", "chunkl"))
		nc.Write(encode("GET", "chunkc"))
	}()
	for i := 0; i < n; i++ {
		r, err := readReply(br)
		if err != nil || string(r) != "+OK\r\n" {
			t.Fatalf("reply %d: %q, %v", i, r, err)
		}
	}
	if r, _ := readReply(br); string(r) != ":2\r\n" {
		t.Fatalf("EXISTS: %q", r)
	}
	r, err := readReply(br)
	if err != nil || !bytes.Equal(r, append(append([]byte("$33554432\r\n"), val...), "\r\n"...)) {
		t.Fatalf("GET of 32 MiB: %d bytes, %v", len(r), err)
	}
}

// TestProtocolErrorCloses checks that malformed input is answered and
// closes only that connection.
func TestProtocolErrorCloses(t *testing.T) {
	_, addr := startServer(t, Config{})
	good, gr := dial(t, addr)
	bad, br := dial(t, addr)
	bad.Write([]byte("*1\r\n$4\r\nPING\r\n*1\r\n:x\r\n"))
	all, _ := io.ReadAll(br)
	if string(all) != "+PONG\r\n-ERR Protocol error: expected '$'\r\n" {
		t.Fatalf("bad client got %q", all)
	}
	good.Write(encode("PING"))
	if r, _ := readReply(gr); string(r) != "+PONG\r\n" {
		t.Fatalf("good client got %q", r)
	}
}

func TestMaxClients(t *testing.T) {
	s, addr := startServer(t, Config{MaxClients: 1})
	c1, r1 := dial(t, addr)
	c1.Write(encode("PING"))
	readReply(r1)
	_, r2 := dial(t, addr)
	all, _ := io.ReadAll(r2)
	if string(all) != "-ERR max number of clients reached\r\n" {
		t.Fatalf("second client got %q", all)
	}
	if s.NumClients() != 1 {
		t.Fatalf("%d clients", s.NumClients())
	}
}

func TestIdleTimeout(t *testing.T) {
	_, addr := startServer(t, Config{Timeout: 200 * time.Millisecond})
	_, br := dial(t, addr)
	start := time.Now()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("read: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestQuitAndKill(t *testing.T) {
	_, addr := startServer(t, Config{})
	c1, r1 := dial(t, addr)
	c1.Write(append(encode("QUIT"), encode("PING")...))
	if all, _ := io.ReadAll(r1); string(all) != "+OK\r\n" {
		t.Fatalf("QUIT: %q", all)
	}
	victim, vr := dial(t, addr)
	victim.Write(encode("CLIENT", "ID"))
	id, _ := readReply(vr)
	killer, kr := dial(t, addr)
	killer.Write(encode("CLIENT", "KILL", "ID", strings.Trim(string(id), ":\r\n")))
	if r, _ := readReply(kr); string(r) != ":1\r\n" {
		t.Fatalf("CLIENT KILL: %q", r)
	}
	if _, err := vr.ReadByte(); err == nil {
		t.Fatalf("killed client still connected")
	}
	killer.Write(encode("CLIENT", "LIST"))
	if r, _ := readReply(kr); !bytes.Contains(r, []byte("cmd=client")) {
		t.Fatalf("CLIENT LIST: %q", r)
	}
}

// TestBusyBulkKeepsConnection checks that a value the arena cannot hold is
// answered with an error while the connection stays usable.
func TestBusyBulkKeepsConnection(t *testing.T) {
	_, addr := startServer(t, Config{})
	nc, br := dial(t, addr)
	huge := bytes.Repeat([]byte("z"), 300<<20) // larger than the test arena
	go func() {
		nc.Write(encode("SET", "huge", string(huge)))
		nc.Write(encode("PING"))
	}()
	r, err := readReply(br)
	if err != nil || !bytes.HasPrefix(r, []byte("-ERR value is larger")) {
		t.Fatalf("SET huge: %q, %v", r, err)
	}
	if r, _ := readReply(br); string(r) != "+PONG\r\n" {
		t.Fatalf("after: %q", r)
	}
}

// TestFlushMemTable: FLUSHMEMTABLE answers OK once a flush of the
// memtables ran, ASYNC answers OK too, other arguments are a syntax error,
// and the keys read back after both.
func TestFlushMemTable(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	sc.run(encode("SET", "k", "v"))
	sc.run(encode("HSET", "h", "f", "v"))
	if got := string(sc.run(encode("FLUSHMEMTABLE"))); got != "+OK\r\n" {
		t.Fatalf("FLUSHMEMTABLE: %q", got)
	}
	if m := eng.MetadataStats(); m.Flushes == 0 {
		t.Fatalf("no flush after FLUSHMEMTABLE: %+v", m)
	}
	for _, c := range []struct{ req, want string }{
		{"FLUSHMEMTABLE async", "+OK\r\n"},
		{"FLUSHMEMTABLE now", "-ERR syntax error\r\n"},
		{"FLUSHMEMTABLE ASYNC x", "-ERR syntax error\r\n"},
		{"GET k", "$1\r\nv\r\n"},
		{"HGET h f", "$1\r\nv\r\n"},
	} {
		if got := string(sc.run(encode(strings.Fields(c.req)...))); got != c.want {
			t.Errorf("%s: %q, want %q", c.req, got, c.want)
		}
	}
}
