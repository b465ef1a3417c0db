package s3compat

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// h2Conn is an HTTP/2 connection written frame by frame, to send what no
// well-behaved client library would: bodies that end before, or run past,
// their Content-Length, and streams reset mid-body.
type h2Conn struct {
	t    *testing.T
	conn *tls.Conn
	fr   *http2.Framer
	enc  *hpack.Encoder
	hbuf bytes.Buffer
	next uint32
}

func dialH2(t *testing.T, tg *target) *h2Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", tg.Host, &tls.Config{RootCAs: tg.CAPool, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	t.Cleanup(func() { conn.Close() })
	c := &h2Conn{t: t, conn: conn, fr: http2.NewFramer(conn, conn), next: 1}
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	conn.Write([]byte(http2.ClientPreface))
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return c
}

// put opens a stream with a signed PUT of key declaring size bytes, and
// returns its id.
func (c *h2Conn) put(tg *target, key string, size int) uint32 {
	c.t.Helper()
	r, _ := http.NewRequest("PUT", tg.URL()+"/bad/"+key, nil)
	r.Header.Set("Content-Length", fmt.Sprint(size))
	sigv4.Sign(r, compatCred, "us-east-1", time.Now(), sigv4.UnsignedPayload)
	c.hbuf.Reset()
	for _, f := range [][2]string{{":method", "PUT"}, {":scheme", "https"}, {":authority", tg.Host}, {":path", "/bad/" + key}} {
		c.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			c.enc.WriteField(hpack.HeaderField{Name: strings.ToLower(k), Value: v})
		}
	}
	id := c.next
	c.next += 2
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndHeaders: true}); err != nil {
		c.t.Fatal(err)
	}
	return id
}

// response reads frames until stream id's response is complete and
// returns its status and body. A reset stream returns status 0.
func (c *h2Conn) response(id uint32) (int, []byte) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status := 0
	var body []byte
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.t.Fatalf("stream %d: %v", id, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				fmt.Sscan(f.PseudoValue("status"), &status)
				if f.StreamEnded() {
					return status, body
				}
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				body = append(body, f.Data()...)
				if n := len(f.Data()); n > 0 {
					c.fr.WriteWindowUpdate(0, uint32(n))
				}
				if f.StreamEnded() {
					return status, body
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return 0, body
			}
		case *http2.GoAwayFrame:
			c.t.Fatalf("stream %d: GOAWAY %v", id, f.ErrCode)
		}
	}
}

// TestBadInputHTTP2 sends malformed request bodies over HTTP/2 (TLS, as
// LMCache's client prefers): each gets a clean 400 IncompleteBody, stores
// nothing, and leaves the connection and the server serving.
func TestBadInputHTTP2(t *testing.T) {
	tg, finished := startCountedTarget(t, true)
	c := &rawClient{t: t, tg: tg, c: tg.httpClient()}
	resp, body := c.send("PUT", "/bad", nil, 0, signWith(sigv4.EmptySHA256, time.Now()))
	want(t, resp, body, 200)
	data := pattern(21, 100000)
	h2 := dialH2(t, tg)

	t.Run("body-shorter-than-content-length", func(t *testing.T) {
		id := h2.put(tg, "h2-short", len(data))
		h2.fr.WriteData(id, true, data[:1000])
		status, body := h2.response(id)
		if status != 400 || !bytes.Contains(body, []byte("<Code>IncompleteBody</Code>")) {
			t.Fatalf("got %d %s, want 400 IncompleteBody", status, body)
		}
		c.absent("h2-short")
	})
	t.Run("body-longer-than-content-length", func(t *testing.T) {
		id := h2.put(tg, "h2-long", 1000)
		h2.fr.WriteData(id, true, data[:2000])
		// The server may answer 400 or reset the stream; either way
		// nothing is stored.
		if status, body := h2.response(id); status != 0 && status != 400 {
			t.Fatalf("got %d %s, want 400 or a reset stream", status, body)
		}
		c.absent("h2-long")
	})
	t.Run("stream-reset-mid-body", func(t *testing.T) {
		before := finished.count("PutObject")
		id := h2.put(tg, "h2-reset", len(data))
		h2.fr.WriteData(id, false, data[:1000])
		h2.fr.WriteRSTStream(id, http2.ErrCodeCancel)
		finished.waitFor("PutObject", before+1)
		c.absent("h2-reset")
	})
	t.Run("same-connection-still-serves", func(t *testing.T) {
		id := h2.put(tg, "h2-after", len(data))
		h2.fr.WriteData(id, true, data)
		if status, body := h2.response(id); status != 200 {
			t.Fatalf("PUT after bad bodies on the same connection: %d %s", status, body)
		}
		resp, got := c.send("GET", "/bad/h2-after", nil, 0, signWith(sigv4.EmptySHA256, time.Now()))
		if resp.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Fatalf("GET after bad bodies: %d, %d bytes", resp.StatusCode, len(got))
		}
	})
	if tg.process == nil {
		return
	}
	if log := tg.process.Log(); strings.Contains(log, "InternalError") || strings.Contains(log, "s3: PUT /bad/h2-") {
		t.Fatalf("the server logged malformed bodies as internal errors:\n%s", log)
	}
}
