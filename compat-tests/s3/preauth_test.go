package s3compat

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// TestStreamingUploadRefusedBeforeBody sends the headers of 1 GiB
// streaming (aws-chunked) uploads that fail authentication, with
// "Expect: 100-continue", to the real server: each is answered with its
// error at once, without a 100 Continue and without the server waiting
// for a byte of the body; the key is not stored.
func TestStreamingUploadRefusedBeforeBody(t *testing.T) {
	tg := startTarget(t, false)
	c := &rawClient{t: t, tg: tg, c: tg.httpClient()}
	if resp, body := c.send("PUT", "/pre", nil, 0, signWith(sigv4.EmptySHA256, time.Now())); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	const size = 1 << 30
	for _, tc := range []struct {
		name   string
		cred   sigv4.Credential
		region string
		want   int
	}{
		{"bad signature", sigv4.Credential{AccessKey: accessKey, SecretKey: "not-the-secret"}, "us-east-1", 403},
		{"unknown account", sigv4.Credential{AccessKey: "nosuchaccount", SecretKey: "x"}, "us-east-1", 403},
		{"wrong region", compatCred, "ap-south-2", 400},
		{"anonymous", sigv4.Credential{}, "", 403},
	} {
		r, _ := http.NewRequest("PUT", tg.URL()+"/pre/big", nil)
		r.ContentLength = size + size/(64<<10)*90
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		r.Header.Set("Content-Encoding", "aws-chunked")
		r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(size))
		r.Header.Set("Expect", "100-continue")
		if tc.cred.AccessKey != "" {
			sigv4.Sign(r, tc.cred, tc.region, time.Now(), sigv4.StreamingPayload)
		} else {
			r.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload)
		}
		conn := c.rawConn(t)
		var hdr strings.Builder
		hdr.WriteString("PUT /pre/big HTTP/1.1\r\nHost: " + tg.Host + "\r\n")
		r.Header.Write(&hdr)
		hdr.WriteString("\r\n")
		if _, err := conn.Write([]byte(hdr.String())); err != nil {
			t.Fatal(err)
		}
		// No body is sent: a server that waited for it would hit the
		// deadline.
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if err != nil {
			t.Fatalf("%s: no answer before the body: %v", tc.name, err)
		}
		if !strings.HasPrefix(line, "HTTP/1.1 "+strconv.Itoa(tc.want)+" ") {
			t.Errorf("%s: first response line %q, want status %d (no 100 Continue)", tc.name, line, tc.want)
		}
	}
	if resp, body := c.send("HEAD", "/pre/big", nil, 0, signWith(sigv4.EmptySHA256, time.Now())); resp.StatusCode != 404 {
		t.Fatalf("a refused upload was stored: HEAD %d %s", resp.StatusCode, body)
	}
}
