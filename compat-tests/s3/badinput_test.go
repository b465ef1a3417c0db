package s3compat

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

type rawClient struct {
	t  *testing.T
	tg *target
	c  *http.Client
}

// send signs (unless sign is nil) and sends a path-style request.
func (c *rawClient) send(method, path string, body io.Reader, size int64, sign func(*http.Request)) (*http.Response, []byte) {
	c.t.Helper()
	r, err := http.NewRequest(method, c.tg.URL()+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	r.ContentLength = size
	if sign != nil {
		sign(r)
	}
	resp, err := c.c.Do(r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func signWith(hash string, t time.Time, hdr ...string) func(*http.Request) {
	return func(r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		sigv4.Sign(r, compatCred, "us-east-1", t, hash)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func wantCode(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || !bytes.Contains(body, []byte("<Code>"+code+"</Code>")) {
		t.Fatalf("%s %s: got %d %s, want %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body, status, code)
	}
}

func (c *rawClient) absent(key string) {
	c.t.Helper()
	resp, body := c.send("HEAD", "/bad/"+key, nil, 0, signWith(sigv4.EmptySHA256, time.Now()))
	if resp.StatusCode != 404 {
		c.t.Fatalf("%s was stored: HEAD %d %s", key, resp.StatusCode, body)
	}
}

func TestBadInput(t *testing.T) {
	tg, finished := startCountedTarget(t, false)
	c := &rawClient{t: t, tg: tg, c: tg.httpClient()}
	now := time.Now()
	resp, body := c.send("PUT", "/bad", nil, 0, signWith(sigv4.EmptySHA256, now))
	want(t, resp, body, 200)
	data := pattern(9, 100000)

	t.Run("anonymous", func(t *testing.T) {
		resp, body := c.send("PUT", "/bad/anon", bytes.NewReader(data), int64(len(data)), nil)
		wantCode(t, resp, body, 403, "AccessDenied")
		c.absent("anon")
	})
	t.Run("bad-signature", func(t *testing.T) {
		resp, body := c.send("PUT", "/bad/badsig", bytes.NewReader(data), int64(len(data)), func(r *http.Request) {
			signWith(sha(data), now)(r)
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-4]+"0000")
		})
		wantCode(t, resp, body, 403, "SignatureDoesNotMatch")
		c.absent("badsig")
	})
	t.Run("wrong-secret", func(t *testing.T) {
		resp, body := c.send("PUT", "/bad/wrongsecret", bytes.NewReader(data), int64(len(data)), func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", sha(data))
			sigv4.Sign(r, sigv4.Credential{AccessKey: accessKey, SecretKey: "wrong"}, "us-east-1", now, sha(data))
		})
		wantCode(t, resp, body, 403, "SignatureDoesNotMatch")
	})
	t.Run("unknown-key", func(t *testing.T) {
		resp, body := c.send("GET", "/bad/x", nil, 0, func(r *http.Request) {
			sigv4.Sign(r, sigv4.Credential{AccessKey: "nobody", SecretKey: "x"}, "us-east-1", now, sigv4.EmptySHA256)
		})
		wantCode(t, resp, body, 403, "InvalidAccessKeyId")
	})
	t.Run("clock-skew", func(t *testing.T) {
		resp, body := c.send("GET", "/bad/x", nil, 0, signWith(sigv4.EmptySHA256, now.Add(-20*time.Minute)))
		wantCode(t, resp, body, 403, "RequestTimeTooSkewed")
	})
	t.Run("payload-sha256-mismatch", func(t *testing.T) {
		resp, body := c.send("PUT", "/bad/shamismatch", bytes.NewReader(data), int64(len(data)), signWith(sha(data[1:]), now))
		wantCode(t, resp, body, 400, "XAmzContentSHA256Mismatch")
		c.absent("shamismatch")
	})
	t.Run("content-md5-mismatch", func(t *testing.T) {
		sum := md5.Sum(data[1:])
		resp, body := c.send("PUT", "/bad/md5", bytes.NewReader(data), int64(len(data)),
			signWith(sigv4.UnsignedPayload, now, "Content-MD5", base64.StdEncoding.EncodeToString(sum[:])))
		wantCode(t, resp, body, 400, "BadDigest")
		c.absent("md5")
	})
	t.Run("checksum-mismatch", func(t *testing.T) {
		resp, body := c.send("PUT", "/bad/crc", bytes.NewReader(data), int64(len(data)),
			signWith(sigv4.UnsignedPayload, now, "x-amz-checksum-crc32", "AAAAAA=="))
		wantCode(t, resp, body, 400, "BadDigest")
		c.absent("crc")
	})
	t.Run("expired-presigned", func(t *testing.T) {
		u, _ := url.Parse(tg.URL() + "/bad/x")
		pu := sigv4.Presign("GET", u, compatCred, "us-east-1", now.Add(-2*time.Hour), time.Hour)
		resp, body := c.send("GET", pu.RequestURI(), nil, 0, nil)
		wantCode(t, resp, body, 403, "AccessDenied")
		if !bytes.Contains(body, []byte("expired")) {
			t.Fatalf("expired presigned: %s", body)
		}
	})
	streaming := func(key string, corrupt func([]byte) []byte, size int64) (*http.Response, []byte) {
		// Sign first to learn the seed, then build the body.
		probe, _ := http.NewRequest("PUT", tg.URL()+"/bad/"+key, nil)
		probe.Header.Set("Content-Encoding", "aws-chunked")
		probe.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
		seed := sigv4.Sign(probe, compatCred, "us-east-1", now, sigv4.StreamingPayload)
		w := sigv4.NewChunkWriter(seed, compatCred, "us-east-1", now, true)
		var b []byte
		for off := 0; off < len(data); off += 65536 {
			b = w.Chunk(b, data[off:min(off+65536, len(data))], false)
		}
		b = w.Chunk(b, nil, false)
		b = corrupt(b)
		if size < 0 {
			size = int64(len(b))
		}
		return c.send("PUT", "/bad/"+key, bytes.NewReader(b), size, func(r *http.Request) {
			r.Header = probe.Header.Clone()
			r.Header.Set("Content-Length", fmt.Sprint(size))
		})
	}
	t.Run("streaming-ok", func(t *testing.T) {
		resp, body := streaming("chunked-ok", func(b []byte) []byte { return b }, -1)
		want(t, resp, body, 200)
	})
	t.Run("wrong-chunk-signature", func(t *testing.T) {
		resp, body := streaming("chunked-bad", func(b []byte) []byte { b[70000] ^= 1; return b }, -1)
		wantCode(t, resp, body, 403, "SignatureDoesNotMatch")
		c.absent("chunked-bad")
	})
	t.Run("truncated-chunked-body", func(t *testing.T) {
		resp, body := streaming("chunked-short", func(b []byte) []byte { return b[:len(b)-200] }, -1)
		if resp.StatusCode != 400 {
			t.Fatalf("truncated: %d %s", resp.StatusCode, body)
		}
		c.absent("chunked-short")
	})
	t.Run("connection-dropped-mid-body", func(t *testing.T) {
		conn := c.rawConn(t)
		r, _ := http.NewRequest("PUT", tg.URL()+"/bad/dropped", nil)
		r.ContentLength = int64(len(data))
		r.Header.Set("Content-Length", fmt.Sprint(len(data)))
		sigv4.Sign(r, compatCred, "us-east-1", now, sigv4.UnsignedPayload)
		var hdr bytes.Buffer
		fmt.Fprintf(&hdr, "PUT /bad/dropped HTTP/1.1\r\nHost: %s\r\n", tg.Host)
		r.Header.Write(&hdr)
		hdr.WriteString("\r\n")
		before := finished.count("PutObject")
		conn.Write(hdr.Bytes())
		conn.Write(data[:len(data)/2])
		conn.Close()
		finished.waitFor("PutObject", before+1)
		c.absent("dropped")
	})
	t.Run("oversized-headers", func(t *testing.T) {
		resp, body := c.send("GET", "/bad/x", nil, 0, signWith(sigv4.EmptySHA256, now, "X-Amz-Meta-Big", strings.Repeat("a", 200<<10)))
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("oversized headers: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("slow-upload-does-not-block-others", func(t *testing.T) {
		conn := c.rawConn(t)
		r, _ := http.NewRequest("PUT", tg.URL()+"/bad/slow", nil)
		r.Header.Set("Content-Length", fmt.Sprint(len(data)))
		sigv4.Sign(r, compatCred, "us-east-1", now, sigv4.UnsignedPayload)
		var hdr bytes.Buffer
		fmt.Fprintf(&hdr, "PUT /bad/slow HTTP/1.1\r\nHost: %s\r\n", tg.Host)
		r.Header.Write(&hdr)
		hdr.WriteString("\r\n")
		before := finished.count("PutObject")
		conn.Write(hdr.Bytes())
		conn.Write(data[:1000])
		// Meanwhile others are served.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := fmt.Sprintf("/bad/while-slow-%d", i)
				resp, body := c.send("PUT", k, bytes.NewReader(data[:1000]), 1000, signWith(sha(data[:1000]), time.Now()))
				if resp.StatusCode != 200 {
					t.Errorf("PUT during a slow upload: %d %s", resp.StatusCode, body)
				}
			}()
		}
		wg.Wait()
		conn.Close()
		finished.waitFor("PutObject", before+9) // the 8 others and the slow one
		c.absent("slow")
	})
	// The server is unaffected: a normal round trip still works.
	resp, body = c.send("PUT", "/bad/after", bytes.NewReader(data), int64(len(data)), signWith(sha(data), time.Now()))
	want(t, resp, body, 200)
	resp, body = c.send("GET", "/bad/after", nil, 0, signWith(sigv4.EmptySHA256, time.Now()))
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("after bad input: %d", resp.StatusCode)
	}
}

func (c *rawClient) rawConn(t *testing.T) net.Conn {
	var conn net.Conn
	var err error
	if c.tg.TLS {
		conn, err = tls.Dial("tcp", c.tg.Host, &tls.Config{RootCAs: c.tg.CAPool})
	} else {
		conn, err = net.Dial("tcp", c.tg.Host)
	}
	if err != nil {
		t.Fatal(err)
	}
	return conn
}
