package s3compat

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/s3/sigv4"
)

// signedStream is one aws-chunked upload: its signed headers and its body
// as separate chunks (each with its size line, signature and CRLF).
type signedStream struct {
	hdr    http.Header
	chunks [][]byte
}

// newSignedStream signs a streaming PUT of data to path at t and builds
// its 64 KiB chunks (the last one empty).
func newSignedStream(tg *target, path string, data []byte, t time.Time) signedStream {
	probe, _ := http.NewRequest("PUT", tg.URL()+path, nil)
	probe.Header.Set("Content-Encoding", "aws-chunked")
	probe.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
	seed := sigv4.Sign(probe, compatCred, "us-east-1", t, sigv4.StreamingPayload)
	w := sigv4.NewChunkWriter(seed, compatCred, "us-east-1", t, true)
	s := signedStream{hdr: probe.Header}
	for off := 0; off < len(data); off += 64 << 10 {
		s.chunks = append(s.chunks, w.Chunk(nil, data[off:min(off+64<<10, len(data))], false))
	}
	s.chunks = append(s.chunks, w.Chunk(nil, nil, false))
	return s
}

// send sends the stream's headers with the given chunks as the body.
func (s signedStream) send(c *rawClient, path string, chunks [][]byte) (*http.Response, []byte) {
	body := bytes.Join(chunks, nil)
	return c.send("PUT", path, bytes.NewReader(body), int64(len(body)), func(r *http.Request) {
		r.Header = s.hdr.Clone()
		r.Header.Set("Content-Length", fmt.Sprint(len(body)))
	})
}

// TestForgedRequestsRefused sends the real server requests whose
// authentication is forged, stale, premature, misdirected or replayed
// from another request, several times each: every one is refused with
// S3's error, and nothing is stored.
func TestForgedRequestsRefused(t *testing.T) {
	tg := startTarget(t, false)
	c := &rawClient{t: t, tg: tg, c: tg.httpClient()}
	if resp, body := c.send("PUT", "/forge", nil, 0, signWith(sigv4.EmptySHA256, time.Now())); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	data := pattern(17, 200<<10)
	presignPut := func(path string, signedAt time.Time, expires time.Duration, region string) string {
		u, _ := url.Parse(tg.URL() + path)
		return sigv4.Presign("PUT", u, compatCred, region, signedAt, expires).RequestURI()
	}
	put := func(target string, sign func(*http.Request)) (*http.Response, []byte) {
		return c.send("PUT", target, bytes.NewReader(data), int64(len(data)), sign)
	}
	cases := []struct {
		name   string
		send   func(key string) (*http.Response, []byte)
		status int
		code   string
	}{
		{"flipped signature", func(key string) (*http.Response, []byte) {
			return put("/forge/"+key, func(r *http.Request) {
				signWith(sha(data), time.Now())(r)
				a := r.Header.Get("Authorization")
				r.Header.Set("Authorization", a[:len(a)-1]+string("10"[a[len(a)-1]&1]))
			})
		}, 403, "SignatureDoesNotMatch"},
		{"wrong secret", func(key string) (*http.Response, []byte) {
			return put("/forge/"+key, func(r *http.Request) {
				sigv4.Sign(r, sigv4.Credential{AccessKey: accessKey, SecretKey: "guessed"}, "us-east-1", time.Now(), sha(data))
			})
		}, 403, "SignatureDoesNotMatch"},
		{"header changed after signing", func(key string) (*http.Response, []byte) {
			return put("/forge/"+key, func(r *http.Request) {
				signWith(sha(data), time.Now(), "X-Amz-Meta-Owner", "alice")(r)
				r.Header.Set("X-Amz-Meta-Owner", "mallory")
			})
		}, 403, "SignatureDoesNotMatch"},
		{"signed for another key", func(key string) (*http.Response, []byte) {
			return put("/forge/"+key, func(r *http.Request) {
				r.URL.Path = "/forge/other-" + key
				signWith(sha(data), time.Now())(r)
				r.URL.Path = "/forge/" + key
			})
		}, 403, "SignatureDoesNotMatch"},
		{"signed 20 minutes ago", func(key string) (*http.Response, []byte) {
			return put("/forge/"+key, signWith(sha(data), time.Now().Add(-20*time.Minute)))
		}, 403, "RequestTimeTooSkewed"},
		{"signed 20 minutes ahead", func(key string) (*http.Response, []byte) {
			return put("/forge/"+key, signWith(sha(data), time.Now().Add(20*time.Minute)))
		}, 403, "RequestTimeTooSkewed"},
		{"signed for another region", func(key string) (*http.Response, []byte) {
			return put("/forge/"+key, func(r *http.Request) {
				sigv4.Sign(r, compatCred, "eu-central-1", time.Now(), sha(data))
			})
		}, 400, "AuthorizationHeaderMalformed"},
		{"expired presigned URL", func(key string) (*http.Response, []byte) {
			return put(presignPut("/forge/"+key, time.Now().Add(-2*time.Hour), time.Hour, "us-east-1"), nil)
		}, 403, "AccessDenied"},
		{"future-dated presigned URL", func(key string) (*http.Response, []byte) {
			return put(presignPut("/forge/"+key, time.Now().Add(time.Hour), time.Hour, "us-east-1"), nil)
		}, 403, "RequestTimeTooSkewed"},
		{"presigned URL for another region", func(key string) (*http.Response, []byte) {
			return put(presignPut("/forge/"+key, time.Now(), time.Hour, "ap-northeast-1"), nil)
		}, 400, "AuthorizationQueryParametersError"},
		{"presigned URL valid beyond 7 days", func(key string) (*http.Response, []byte) {
			return put(presignPut("/forge/"+key, time.Now(), 8*24*time.Hour, "us-east-1"), nil)
		}, 400, "AuthorizationQueryParametersError"},
		{"presigned URL with a flipped signature", func(key string) (*http.Response, []byte) {
			u, _ := url.Parse(presignPut("/forge/"+key, time.Now(), time.Hour, "us-east-1"))
			q := u.Query()
			sig := q.Get("X-Amz-Signature")
			q.Set("X-Amz-Signature", sig[:len(sig)-1]+string("10"[sig[len(sig)-1]&1]))
			u.RawQuery = q.Encode()
			return put(u.RequestURI(), nil)
		}, 403, "SignatureDoesNotMatch"},
		{"presigned URL for another key", func(key string) (*http.Response, []byte) {
			u := presignPut("/forge/other-"+key, time.Now(), time.Hour, "us-east-1")
			return put(strings.Replace(u, "/forge/other-", "/forge/", 1), nil)
		}, 403, "SignatureDoesNotMatch"},
		{"chunk signature from another request", func(key string) (*http.Response, []byte) {
			a := newSignedStream(tg, "/forge/"+key, data, time.Now())
			b := newSignedStream(tg, "/forge/other-"+key, data, time.Now())
			chunks := append([][]byte(nil), a.chunks...)
			chunks[1] = b.chunks[1] // same data, signed in b's chain
			return a.send(c, "/forge/"+key, chunks)
		}, 403, "SignatureDoesNotMatch"},
		{"chunk signature from another position", func(key string) (*http.Response, []byte) {
			// Identical data in every chunk: only the chain position
			// tells the signatures apart.
			same := bytes.Repeat(data[:64<<10], 3)
			a := newSignedStream(tg, "/forge/"+key, same, time.Now())
			chunks := append([][]byte(nil), a.chunks...)
			chunks[1], chunks[2] = a.chunks[2], a.chunks[1]
			return a.send(c, "/forge/"+key, chunks)
		}, 403, "SignatureDoesNotMatch"},
		{"whole body from another request", func(key string) (*http.Response, []byte) {
			a := newSignedStream(tg, "/forge/"+key, data, time.Now())
			b := newSignedStream(tg, "/forge/other-"+key, data, time.Now().Add(-time.Second))
			return a.send(c, "/forge/"+key, b.chunks)
		}, 403, "SignatureDoesNotMatch"},
		{"final chunk from another request", func(key string) (*http.Response, []byte) {
			a := newSignedStream(tg, "/forge/"+key, data, time.Now())
			b := newSignedStream(tg, "/forge/other-"+key, data, time.Now())
			chunks := append([][]byte(nil), a.chunks...)
			chunks[len(chunks)-1] = b.chunks[len(b.chunks)-1]
			return a.send(c, "/forge/"+key, chunks)
		}, 403, "SignatureDoesNotMatch"},
		{"chunk dropped", func(key string) (*http.Response, []byte) {
			a := newSignedStream(tg, "/forge/"+key, data, time.Now())
			chunks := append(append([][]byte(nil), a.chunks[:1]...), a.chunks[2:]...)
			return a.send(c, "/forge/"+key, chunks)
		}, 0, ""}, // refused: 400 IncompleteBody or 403, depending on which check sees it first
	}
	const rounds = 3
	for _, tc := range cases {
		for i := range rounds {
			key := fmt.Sprintf("%s-%d", strings.ReplaceAll(tc.name, " ", "-"), i)
			resp, body := tc.send(key)
			switch {
			case tc.status == 0:
				if resp.StatusCode != 400 && resp.StatusCode != 403 {
					t.Errorf("%s (round %d): %d %s, want a refusal", tc.name, i, resp.StatusCode, body)
				}
			case resp.StatusCode != tc.status || !bytes.Contains(body, []byte("<Code>"+tc.code+"</Code>")):
				t.Errorf("%s (round %d): %d %s, want %d %s", tc.name, i, resp.StatusCode, body, tc.status, tc.code)
			}
		}
	}
	// Nothing was stored, under any of the names.
	resp, body := c.send("GET", "/forge?list-type=2", nil, 0, signWith(sigv4.EmptySHA256, time.Now()))
	if resp.StatusCode != 200 || bytes.Contains(body, []byte("<Key>")) {
		t.Fatalf("objects stored by refused requests: %d %s", resp.StatusCode, body)
	}
	// The same requests, untampered, are served: the refusals came from
	// the forgeries, not from the way the test builds requests.
	ok := newSignedStream(tg, "/forge/genuine-stream", data, time.Now())
	if resp, body := ok.send(c, "/forge/genuine-stream", ok.chunks); resp.StatusCode != 200 {
		t.Fatalf("genuine streaming upload: %d %s", resp.StatusCode, body)
	}
	if resp, body := put(presignPut("/forge/genuine-presigned", time.Now(), time.Hour, "us-east-1"), nil); resp.StatusCode != 200 {
		t.Fatalf("genuine presigned upload: %d %s", resp.StatusCode, body)
	}
	if resp, body := put("/forge/genuine-signed", signWith(sha(data), time.Now())); resp.StatusCode != 200 {
		t.Fatalf("genuine signed upload: %d %s", resp.StatusCode, body)
	}
}
