package s3

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// TestIdleUploadTimesOut checks that an upload that stops sending is cut
// off after BodyIdleTimeout with RequestTimeout, and stores nothing.
func TestIdleUploadTimesOut(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BodyIdleTimeout = 300 * time.Millisecond })
	ts.mustPut("/bkt", nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, _ := http.NewRequest("PUT", ts.ts.URL+"/bkt/idle", nil)
	r.Header.Set("Content-Length", "100000")
	sigv4.Sign(r, testCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
	var req bytes.Buffer
	fmt.Fprintf(&req, "PUT /bkt/idle HTTP/1.1\r\nHost: %s\r\n", r.Host)
	r.Header.Write(&req)
	req.WriteString("\r\n")
	req.Write(make([]byte, 5000))
	conn.Write(req.Bytes())
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), r)
	if err != nil {
		t.Fatalf("no response to an idle upload: %v", err)
	}
	if resp.StatusCode != 400 || time.Since(start) > 5*time.Second {
		t.Fatalf("idle upload: %d after %v", resp.StatusCode, time.Since(start))
	}
	hr, body := ts.do("HEAD", "/bkt/idle", nil, nil)
	if hr.StatusCode != 404 {
		t.Fatalf("idle upload stored: %d %s", hr.StatusCode, body)
	}
}
