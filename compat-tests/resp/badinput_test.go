package resp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// witness is a client connected before the bad input arrives, with data
// that must stay intact.
type witness struct {
	c    *rawConn
	big  []byte
	keys map[string][]byte
}

func newWitness(t *testing.T, addr string) *witness {
	w := &witness{c: dialRaw(t, addr), big: randomBytes(5, 4<<20), keys: make(map[string][]byte)}
	w.keys["witness:big"] = w.big
	w.keys["witness:small"] = []byte("small value")
	w.keys["witness:binary"] = []byte("\x00\r\n$-1\r\n*3\r\n")
	for k, v := range w.keys {
		w.c.write(encode(nil, []byte("SET"), []byte(k), v))
		w.c.expect("+OK\r\n")
	}
	return w
}

// check fails unless the witness connection still works and its data is
// intact.
func (w *witness) check(t *testing.T, srv *internal.Server) {
	t.Helper()
	if exited, err := srv.Exited(); exited {
		t.Fatalf("server exited: %v", err)
	}
	w.c.send("PING")
	w.c.expect("+PONG\r\n")
	for k, v := range w.keys {
		w.c.send("GET", k)
		w.c.expectBytes(bulk(v))
	}
	// And a new connection works too.
	c := dialRaw(t, srv.Addr())
	c.send("GET", "witness:small")
	c.expectBytes(bulk(w.keys["witness:small"]))
	c.nc.Close()
}

// readAll reads what the server sends until it closes the connection or
// is quiet for quiet; closed reports whether it closed.
func readAll(nc net.Conn, quiet time.Duration) (out []byte, closed bool) {
	buf := make([]byte, 64<<10)
	for {
		nc.SetReadDeadline(time.Now().Add(quiet))
		n, err := nc.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return out, false
			}
			return out, true // EOF or reset
		}
	}
}

// TestBadInput sends malformed requests, each on its own connection, and
// checks that the server answers a RESP error (and closes) or waits for
// more, and that it stays up with other clients' data intact.
func TestBadInput(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	w := newWitness(t, srv.Addr())
	garbage := randomBytes(77, 64<<10)

	for _, tc := range []struct {
		name  string
		input []byte
		// reply is the exact reply; "" means the first reply must be a
		// RESP error and the connection must then close.
		reply string
		// open: the request is incomplete; the server must answer nothing
		// and keep the connection open, waiting for the rest.
		open bool
	}{
		{name: "MultibulkHuge", input: []byte("*99999999999\r\n"),
			reply: "-ERR Protocol error: invalid multibulk length\r\n"},
		{name: "MultibulkNotANumber", input: []byte("*x\r\n"),
			reply: "-ERR Protocol error: invalid multibulk length\r\n"},
		{name: "BulkNegative", input: []byte("*1\r\n$-5\r\n"),
			reply: "-ERR Protocol error: invalid bulk length\r\n"},
		{name: "BulkHuge", input: []byte("*1\r\n$9999999999999\r\n"),
			reply: "-ERR Protocol error: invalid bulk length\r\n"},
		{name: "BulkOverProtoMaxBulkLen", input: []byte("*2\r\n$3\r\nGET\r\n$600000000\r\nabc"),
			reply: "-ERR Protocol error: invalid bulk length\r\n"},
		{name: "NotABulk", input: []byte("*1\r\n:5\r\n")},
		{name: "BulkWithoutCRLF", input: []byte("*2\r\n$3\r\nGET\r\n$3\r\nabcXYZ")},
		{name: "ErrorAfterGoodCommand", input: []byte("*1\r\n$4\r\nPING\r\n*x\r\n"),
			reply: "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
		{name: "TruncatedSet", input: []byte("*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$5\r\nval"), open: true},
		{name: "TruncatedHeader", input: []byte("*3\r\n$3\r\nSE"), open: true},
		{name: "TruncatedLargeBulk", input: append([]byte("*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$8388608\r\n"), garbage...), open: true},
		{name: "EmptyArraysAndLines", input: []byte("*0\r\n\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"), reply: "+PONG\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(tc.input); err != nil {
				t.Fatalf("write: %v", err)
			}
			out, closed := readAll(nc, time.Second)
			switch {
			case tc.open:
				if len(out) > 0 || closed {
					t.Fatalf("incomplete request: got %q, closed %v; want no reply and an open connection", out, closed)
				}
			case tc.reply != "":
				if string(out) != tc.reply {
					t.Fatalf("reply %q, want %q", out, tc.reply)
				}
			default:
				if !bytes.HasPrefix(out, []byte("-ERR ")) || !bytes.HasSuffix(out, []byte("\r\n")) || bytes.Count(out, []byte("\r\n")) != 1 {
					t.Fatalf("reply %q, want one RESP error line", out)
				}
				if !closed {
					t.Fatalf("connection left open after a protocol error")
				}
			}
			w.check(t, srv)
		})
	}
	// Truncated writes must not have been applied.
	w.c.send("EXISTS", "truncated")
	w.c.expect(":0\r\n")

	t.Run("BinaryGarbage", func(t *testing.T) {
		for i := range 8 {
			nc, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			chunk := garbage[i*8<<10 : (i+1)*8<<10]
			if i%2 == 1 {
				chunk = append([]byte("*"), chunk...) // looks like an array
			}
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			nc.Write(chunk)
			out, _ := readAll(nc, 300*time.Millisecond)
			nc.Close()
			// Whatever came back is RESP error lines (unknown commands
			// made of garbage, or a protocol error).
			for _, line := range strings.SplitAfter(string(out), "\r\n") {
				if line != "" && !strings.HasPrefix(line, "-") {
					t.Fatalf("garbage %d: reply line %q is not an error", i, line)
				}
			}
		}
		w.check(t, srv)
	})
	t.Run("SplitInline", func(t *testing.T) {
		c := dialRaw(t, srv.Addr())
		// INFO's own request is 14 bytes: the server has read "PIN"
		// once the input total grew by 3 more than the next INFO's.
		in := srv.InfoInt(t, "total_net_input_bytes")
		c.write([]byte("PIN"))
		waitFor(t, 10*time.Second, "the server read the first part", func() bool {
			return srv.InfoInt(t, "total_net_input_bytes")-in >= 14+3
		})
		c.write([]byte("G\r\n"))
		c.expect("+PONG\r\n")
		w.check(t, srv)
	})
	t.Run("OversizedInline", func(t *testing.T) {
		nc, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		// Written while reading: the server may close before taking it all.
		go nc.Write(bytes.Repeat([]byte("a"), 1<<20))
		out, closed := readAll(nc, 3*time.Second)
		if string(out) != "-ERR Protocol error: too big inline request\r\n" || !closed {
			t.Fatalf("reply %q, closed %v; want the too big inline request error, then close", out, closed)
		}
		w.check(t, srv)
	})
}

// raiseNoFile lifts this process's open-file limit to the hard limit, so
// that it (and servers started after, which inherit it) can hold many
// connections.
func raiseNoFile(t *testing.T, want uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < want {
		t.Skipf("RLIMIT_NOFILE hard limit %d < %d", lim.Max, want)
	}
	if lim.Cur < want {
		lim.Cur = want
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// TestMaxClients opens many idle connections beyond maxclients: those over
// the limit get the KVRocks error and are closed, the server stays up, a
// client connected before keeps working, and new clients get in once the
// idle ones leave.
func TestMaxClients(t *testing.T) {
	const (
		maxClients = 100
		conns      = 2000
	)
	raiseNoFile(t, 2*conns+256)
	srv := internal.Start(t, internal.Options{Args: []string{"--maxclients", "100"}})
	w := newWitness(t, srv.Addr())

	ncs := make([]net.Conn, 0, conns)
	defer func() {
		for _, nc := range ncs {
			nc.Close()
		}
	}()
	for range conns {
		nc, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(ncs), err)
		}
		ncs = append(ncs, nc)
	}
	var mu sync.Mutex
	var rejected, idle int
	var other []string
	var wg sync.WaitGroup
	for _, nc := range ncs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			out, err := io.ReadAll(nc)
			mu.Lock()
			defer mu.Unlock()
			var ne net.Error
			switch {
			case string(out) == "-ERR max number of clients reached\r\n" && err == nil:
				rejected++
			case len(out) == 0 && errors.As(err, &ne) && ne.Timeout():
				idle++
			default:
				other = append(other, string(out)+" / "+errString(err))
			}
		}()
	}
	wg.Wait()
	t.Logf("%d rejected, %d idle", rejected, idle)
	if len(other) > 0 {
		t.Fatalf("%d connections got something else, e.g. %q", len(other), other[0])
	}
	if idle > maxClients-1 || rejected < conns-maxClients+1 {
		t.Fatalf("%d connections accepted and %d rejected with maxclients %d (one held by the witness)", idle, rejected, maxClients)
	}
	w.check2(t, srv)
	for _, nc := range ncs {
		nc.Close()
	}
	ncs = nil
	// The idle ones are gone: a new client is served again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.Addr())
		cancel()
		if err == nil {
			c.Write(encodeStrings("PING"))
			out, _ := readAll(c, time.Second)
			c.Close()
			if string(out) == "+PONG\r\n" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new client served within 10s after the idle ones closed")
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	w.check(t, srv)
}

// check2 is check without the new connection (the server is full).
func (w *witness) check2(t *testing.T, srv *internal.Server) {
	t.Helper()
	if exited, err := srv.Exited(); exited {
		t.Fatalf("server exited: %v", err)
	}
	for k, v := range w.keys {
		w.c.send("GET", k)
		w.c.expectBytes(bulk(v))
	}
}

func errString(err error) string {
	if err == nil {
		return "EOF"
	}
	return err.Error()
}
