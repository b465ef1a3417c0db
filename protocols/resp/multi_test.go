package resp

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// roundTrip sends one request and returns its reply.
func roundTrip(nc net.Conn, r *bufio.Reader, args ...string) (string, error) {
	if _, err := nc.Write(encode(args...)); err != nil {
		return "", err
	}
	b, err := readReply(r)
	return string(b), err
}

// TestMultiWatchRace: clients increment one counter with WATCH, GET,
// MULTI, SET, EXEC retry loops while others write other keys in
// pipelines; every EXEC that answers an array counted once, every nil
// one wrote nothing.
func TestMultiWatchRace(t *testing.T) {
	_, addr := startServer(t, Config{})
	const clients, each = 4, 25
	var mu sync.Mutex
	succeeded := 0
	var wg sync.WaitGroup
	errs := make(chan error, clients+1)
	stop := make(chan struct{})
	// A pipelining writer of other keys: its plain SET runs commit beside
	// the transactions and never aborts them.
	noise, noiseR := dial(t, addr)
	go func() {
		nc, r := noise, noiseR
		for i := 0; ; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			var req []byte
			for j := 0; j < 16; j++ {
				req = append(req, encode("SET", "noise"+strconv.Itoa(j), strconv.Itoa(i))...)
			}
			if _, err := nc.Write(req); err != nil {
				errs <- err
				return
			}
			for j := 0; j < 16; j++ {
				if _, err := readReply(r); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for c := 0; c < clients; c++ {
		nc, r := dial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				steps := [][]string{{"WATCH", "counter"}, {"GET", "counter"}}
				var replies []string
				for _, s := range steps {
					rep, err := roundTrip(nc, r, s...)
					if err != nil {
						errs <- err
						return
					}
					replies = append(replies, rep)
				}
				n := 0
				if v, ok := strings.CutPrefix(replies[1], "$"); ok && v != "-1\r\n" {
					_, body, _ := strings.Cut(v, "\r\n")
					n, _ = strconv.Atoi(strings.TrimSuffix(body, "\r\n"))
				}
				for _, s := range [][]string{{"MULTI"}, {"SET", "counter", strconv.Itoa(n + 1)}} {
					if _, err := roundTrip(nc, r, s...); err != nil {
						errs <- err
						return
					}
				}
				rep, err := roundTrip(nc, r, "EXEC")
				switch {
				case err != nil:
					errs <- err
					return
				case rep == "*1\r\n+OK\r\n":
					mu.Lock()
					succeeded++
					mu.Unlock()
					done++
				case rep != "*-1\r\n":
					errs <- fmt.Errorf("EXEC answered %q", rep)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	nc, r := dial(t, addr)
	rep, err := roundTrip(nc, r, "GET", "counter")
	want := fmt.Sprintf("$%d\r\n%d\r\n", len(strconv.Itoa(clients*each)), clients*each)
	if err != nil || rep != want || succeeded != clients*each {
		t.Fatalf("counter %q (%v), %d EXECs succeeded; want %q", rep, err, succeeded, want)
	}
}

// TestMoveXInExecWakesWatch: a MOVEX queued by MULTI runs in EXEC's group
// with the other queued commands, and the keys it changes — gone from the
// source namespace, created in the destination — abort the EXEC of other
// clients that WATCH them, in either namespace.
func TestMoveXInExecWakesWatch(t *testing.T) {
	_, addr := startServer(t, Config{RequirePass: "pw", Namespaces: map[string]string{"ns1": "tok1"}})
	type client struct {
		nc net.Conn
		br *bufio.Reader
	}
	open := func(pass string) client {
		nc, br := dial(t, addr)
		c := client{nc, br}
		c.nc.Write(encode("AUTH", pass))
		if r, _ := readReply(c.br); string(r) != "+OK\r\n" {
			t.Fatalf("AUTH: %q", r)
		}
		return c
	}
	do := func(c client, want string, args ...string) {
		t.Helper()
		c.nc.Write(encode(args...))
		r, err := readReply(c.br)
		if err != nil || string(r) != want {
			t.Fatalf("%v: %q, %v; want %q", args, r, err, want)
		}
	}
	mover, dstWatcher, srcWatcher := open("pw"), open("tok1"), open("pw")
	do(mover, "+OK\r\n", "SET", "k", "v")
	do(dstWatcher, "+OK\r\n", "WATCH", "k") // absent in ns1 yet
	do(srcWatcher, "+OK\r\n", "WATCH", "k")
	for _, c := range []client{dstWatcher, srcWatcher} {
		do(c, "+OK\r\n", "MULTI")
		do(c, "+QUEUED\r\n", "SET", "k", "watcher")
	}
	do(mover, "+OK\r\n", "MULTI")
	do(mover, "+QUEUED\r\n", "MOVEX", "k", "tok1")
	do(mover, "+QUEUED\r\n", "SET", "after", "1")
	do(mover, "*2\r\n:1\r\n+OK\r\n", "EXEC")
	do(dstWatcher, "*-1\r\n", "EXEC")
	do(srcWatcher, "*-1\r\n", "EXEC")
	do(dstWatcher, "$1\r\nv\r\n", "GET", "k")
	do(srcWatcher, ":0\r\n", "EXISTS", "k")
	// A watch on a key the MOVEX leaves alone is not disturbed.
	do(srcWatcher, "+OK\r\n", "WATCH", "other")
	do(srcWatcher, "+OK\r\n", "MULTI")
	do(srcWatcher, "+QUEUED\r\n", "SET", "other", "1")
	do(mover, "+OK\r\n", "MULTI")
	do(mover, "+QUEUED\r\n", "MOVEX", "after", "tok1")
	do(mover, "*1\r\n:1\r\n", "EXEC")
	do(srcWatcher, "*1\r\n+OK\r\n", "EXEC")
}
