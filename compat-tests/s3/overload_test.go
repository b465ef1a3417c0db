package s3compat

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/gpucache/gpucache/compat-tests/internal"
	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// TestOverloadSlowDown fills the binary's --s3-max-requests with uploads
// that hold their requests open, and checks that a further request is
// answered 503 SlowDown in S3's XML at once, that minio-go backs off and
// retries on it, and that its upload goes through once the slots free.
func TestOverloadSlowDown(t *testing.T) {
	admin := internal.FreePort(t)
	const slots = 3
	tg := startTarget(t, false, "--s3-max-requests", strconv.Itoa(slots), "--admin-port", strconv.Itoa(admin))
	c := &rawClient{t: t, tg: tg, c: tg.httpClient()}
	f := &finishedCounter{t: t, admin: admin}
	if resp, body := c.send("PUT", "/busy", nil, 0, signWith(sigv4.EmptySHA256, time.Now())); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	// Each held upload asks to continue and gets 100 Continue once the
	// server has admitted it and reads its body: the event the test
	// waits for (a request sent meanwhile could take a slot instead).
	var held []net.Conn
	for i := range slots {
		r, _ := http.NewRequest("PUT", tg.URL()+fmt.Sprintf("/busy/held-%d", i), nil)
		r.Header.Set("Content-Length", strconv.Itoa(1<<20))
		r.Header.Set("Expect", "100-continue")
		sigv4.Sign(r, compatCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
		conn := c.rawConn(t)
		var hdr bytes.Buffer
		fmt.Fprintf(&hdr, "PUT /busy/held-%d HTTP/1.1\r\nHost: %s\r\n", i, tg.Host)
		r.Header.Write(&hdr)
		hdr.WriteString("\r\n")
		conn.Write(hdr.Bytes())
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
			t.Fatalf("held upload %d: %q %v, want 100 Continue", i, line, err)
		}
		conn.Write([]byte("x"))
		held = append(held, conn)
	}
	resp, body := c.send("GET", "/busy?list-type=2", nil, 0, signWith(sigv4.EmptySHA256, time.Now()))
	wantCode(t, resp, body, 503, "SlowDown")
	deadline := time.Now().Add(time.Minute)
	slowDowns := func() int {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(admin) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var n int
		for _, line := range bytes.Split(text, []byte("\n")) {
			if bytes.HasPrefix(line, []byte(`gpucache_s3_requests_total{operation="Unknown",outcome="SlowDown"} `)) {
				n, _ = strconv.Atoi(string(line[bytes.LastIndexByte(line, ' ')+1:]))
			}
		}
		return n
	}
	before := slowDowns()
	mc := minioClient(t, tg, false)
	data := pattern(3, 256<<10)
	done := make(chan error, 1)
	go func() {
		_, err := mc.PutObject(context.Background(), "busy", "retried", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		done <- err
	}()
	// minio-go has been refused at least once: free the slots.
	for slowDowns() <= before {
		select {
		case err := <-done:
			t.Fatalf("PutObject finished while every slot was held: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("minio-go's request was not refused")
		}
		time.Sleep(10 * time.Millisecond) // poll interval of the condition above
	}
	putsBefore := f.count("PutObject")
	for _, conn := range held {
		conn.Close()
	}
	if err := <-done; err != nil {
		t.Fatalf("PutObject after the slots freed: %v", err)
	}
	f.waitFor("PutObject", putsBefore+slots+1)
	o, err := mc.GetObject(context.Background(), "busy", "retried", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
}
