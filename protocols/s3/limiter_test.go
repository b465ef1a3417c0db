package s3

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// holdUpload starts an unsigned-payload PUT of size bytes on a raw
// connection and sends only its first byte: the request stays in flight
// until the connection is closed.
func (ts *testServer) holdUpload(key string, size int) net.Conn {
	ts.t.Helper()
	r, _ := http.NewRequest("PUT", ts.ts.URL+key, nil)
	r.ContentLength = int64(size)
	r.Header.Set("Content-Length", fmt.Sprint(size))
	sigv4.Sign(r, testCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
	conn, err := net.Dial("tcp", ts.ts.Listener.Addr().String())
	if err != nil {
		ts.t.Fatal(err)
	}
	var hdr bytes.Buffer
	fmt.Fprintf(&hdr, "PUT %s HTTP/1.1\r\nHost: %s\r\n", key, r.Host)
	r.Header.Write(&hdr)
	hdr.WriteString("\r\nx")
	if _, err := conn.Write(hdr.Bytes()); err != nil {
		ts.t.Fatal(err)
	}
	return conn
}

// waitInFlight waits until the server has admitted n requests.
func (ts *testServer) waitInFlight(n int64) {
	ts.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, _ := ts.s.InFlight(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			got, _ := ts.s.InFlight()
			ts.t.Fatalf("%d requests in flight, want %d", got, n)
		}
		time.Sleep(time.Millisecond) // poll interval of the condition above
	}
}

func TestMaxRequestsSlowDown(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxRequests = 2 })
	ts.mustPut("/bkt", nil)
	held := []net.Conn{ts.holdUpload("/bkt/a", 1<<20), ts.holdUpload("/bkt/b", 1<<20)}
	ts.waitInFlight(2)
	resp, body := ts.do("GET", "/bkt?list-type=2", nil, nil)
	ts.expect(resp, body, 503, "SlowDown")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 SlowDown without Retry-After")
	}
	// A large body is refused without being read: the client gets the
	// answer although the server never asks for the rest.
	resp, body = ts.do("PUT", "/bkt/c", bytes.Repeat([]byte("c"), 4<<20), nil)
	ts.expect(resp, body, 503, "SlowDown")
	for _, c := range held {
		c.Close()
	}
	ts.waitDrained()
	resp, body = ts.do("PUT", "/bkt/c", []byte("c"), nil)
	ts.expect(resp, body, 200, "")
	var unknown OpStats
	for _, o := range ts.s.Stats().Operations {
		if o.Name == "Unknown" {
			unknown = o
		}
	}
	if unknown.Errors["SlowDown"] != 2 {
		t.Errorf("SlowDown counted %v", unknown.Errors)
	}
}

// waitDrained waits until no request is in flight.
func (ts *testServer) waitDrained() {
	ts.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, b := ts.s.InFlight()
		if n == 0 && b == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("%d requests, %d body bytes still in flight", n, b)
		}
		time.Sleep(time.Millisecond) // poll interval of the condition above
	}
}

func TestMaxBodyBytesSlowDown(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxBodyBytes = 3 << 20 })
	ts.mustPut("/bkt", nil)
	held := ts.holdUpload("/bkt/a", 2<<20)
	ts.waitInFlight(1)
	if _, b := ts.s.InFlight(); b != 2<<20 {
		t.Fatalf("charged %d body bytes, want %d", b, 2<<20)
	}
	// 2 MiB more does not fit beside it; a GET (no body) does.
	resp, body := ts.do("PUT", "/bkt/b", bytes.Repeat([]byte("b"), 2<<20), nil)
	ts.expect(resp, body, 503, "SlowDown")
	resp, body = ts.do("GET", "/bkt?list-type=2", nil, nil)
	ts.expect(resp, body, 200, "")
	resp, body = ts.do("PUT", "/bkt/small", []byte("fits"), nil)
	ts.expect(resp, body, 200, "")
	held.Close()
	ts.waitDrained()
	// A body larger than the whole budget is admitted alone.
	big := bytes.Repeat([]byte("B"), 5<<20)
	resp, body = ts.do("PUT", "/bkt/big", big, nil)
	ts.expect(resp, body, 200, "")
	resp, got := ts.do("GET", "/bkt/big", nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, big) {
		t.Fatalf("GET big: %d, %d bytes", resp.StatusCode, len(got))
	}
	ts.waitDrained()
}
