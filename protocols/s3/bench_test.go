package s3

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

const benchSize = 32 << 20

func benchRequest(b *testing.B, c *http.Client, method, url string, body []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, _ := http.NewRequest(method, url, rd)
	sigv4.Sign(r, testCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
	resp, err := c.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || method == "GET" && n != benchSize {
		b.Fatalf("%s: %d, %d bytes", method, resp.StatusCode, n)
	}
}

// BenchmarkPut32MiB and BenchmarkGet32MiB measure one client over
// loopback HTTP against an in-process server; compare with
// BenchmarkLoopbackRaw32MiB, the same bytes over a bare TCP socket.
func BenchmarkPut32MiB(b *testing.B) {
	for _, fast := range []bool{false, true} {
		name := "md5"
		if fast {
			name = "fast-etag"
		}
		b.Run(name, func(b *testing.B) { benchPut(b, fast) })
	}
}

func benchPut(b *testing.B, fast bool) {
	ts := newTestServer(b, func(c *Config) { c.Logf = func(string, ...any) {}; c.FastETag = fast })
	c := ts.ts.Client()
	benchRequest(b, c, "PUT", ts.ts.URL+"/bench", nil)
	data := randBytes(1, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		benchRequest(b, c, "PUT", ts.ts.URL+"/bench/obj", data)
	}
}

func BenchmarkGet32MiB(b *testing.B) {
	ts := newTestServer(b, func(c *Config) { c.Logf = func(string, ...any) {} })
	c := ts.ts.Client()
	benchRequest(b, c, "PUT", ts.ts.URL+"/bench", nil)
	benchRequest(b, c, "PUT", ts.ts.URL+"/bench/obj", randBytes(1, benchSize))
	b.SetBytes(benchSize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		benchRequest(b, c, "GET", ts.ts.URL+"/bench/obj", nil)
	}
}

func BenchmarkLoopbackRaw32MiB(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 256<<10)
				for {
					if _, err := io.ReadFull(c, buf[:1]); err != nil {
						c.Close()
						return
					}
					io.CopyBuffer(io.Discard, io.LimitReader(c, benchSize-1), buf)
					c.Write([]byte{1})
				}
			}()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	data := randBytes(1, benchSize)
	var ack [1]byte
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		c.Write(data)
		io.ReadFull(c, ack[:])
	}
}
