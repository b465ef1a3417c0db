package sigv4

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sign adds SigV4 headers (X-Amz-Date, X-Amz-Content-Sha256, Authorization)
// to r, signing host and every x-amz-* header present (plus content-length,
// content-md5 and content-type when set). It returns the signature, the
// seed of an aws-chunked body. Used by tests and tools; r.Host must be set.
func Sign(r *http.Request, cred Credential, region string, t time.Time, payloadHash string) string {
	r.Header.Set("X-Amz-Date", t.UTC().Format(TimeFormat))
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signed := []string{"host"}
	for name := range r.Header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-amz-") || l == "content-md5" || l == "content-type" || l == "content-encoding" {
			signed = append(signed, l)
		}
	}
	if r.ContentLength > 0 && r.Header.Get("Content-Length") != "" {
		signed = append(signed, "content-length")
	}
	sort.Strings(signed)
	date := t.UTC().Format(DateFormat)
	scope := Scope(date, region, "s3")
	key := SigningKey(cred.SecretKey, date, region, "s3")
	sig := signHex(key, stringToSign(t, scope, canonicalRequest(r, signed, payloadHash, "")))
	r.Header.Set("Authorization", Algorithm+" Credential="+cred.AccessKey+"/"+scope+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
	return sig
}

// Presign returns u with a presigned query valid for expires, for method.
// u.Host is the signed host.
func Presign(method string, u *url.URL, cred Credential, region string, t time.Time, expires time.Duration) *url.URL {
	out := *u
	date := t.UTC().Format(DateFormat)
	scope := Scope(date, region, "s3")
	q := out.Query()
	q.Set("X-Amz-Algorithm", Algorithm)
	q.Set("X-Amz-Credential", cred.AccessKey+"/"+scope)
	q.Set("X-Amz-Date", t.UTC().Format(TimeFormat))
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	q.Set("X-Amz-SignedHeaders", "host")
	out.RawQuery = q.Encode()
	r := &http.Request{Method: method, URL: &out, Host: u.Host, Header: http.Header{}}
	key := SigningKey(cred.SecretKey, date, region, "s3")
	sig := signHex(key, stringToSign(t, scope, canonicalRequest(r, []string{"host"}, UnsignedPayload, "")))
	q.Set("X-Amz-Signature", sig)
	out.RawQuery = q.Encode()
	return &out
}

// ChunkWriter builds aws-chunked bodies, for tests and tools.
type ChunkWriter struct {
	c      chain
	signed bool
}

// NewChunkWriter starts a chain from the seed signature returned by Sign.
// signed=false produces the unsigned (STREAMING-UNSIGNED-PAYLOAD-TRAILER) form.
func NewChunkWriter(seed string, cred Credential, region string, t time.Time, signed bool) *ChunkWriter {
	date := t.UTC().Format(DateFormat)
	return &ChunkWriter{signed: signed, c: newChain(SigningKey(cred.SecretKey, date, region, "s3"),
		t.UTC().Format(TimeFormat), Scope(date, region, "s3"), seed)}
}

// Chunk appends one chunk (data may be empty: the final chunk) to dst.
// The final chunk of a body with a trailer must be followed by Trailer
// and carries no CRLF of its own; pass last=true for it.
func (w *ChunkWriter) Chunk(dst, data []byte, last bool) []byte {
	dst = strconv.AppendInt(dst, int64(len(data)), 16)
	if w.signed {
		sc := getScratch()
		dst = append(dst, ";chunk-signature="...)
		dst = append(dst, w.c.next(sc, sc.sha256Hex(data))...)
		putScratch(sc)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, data...)
	if !last {
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// Trailer appends the trailer section: name:value lines, then (signed)
// x-amz-trailer-signature, then the closing empty line.
func (w *ChunkWriter) Trailer(dst []byte, kv ...string) []byte {
	var lines strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		lines.WriteString(kv[i] + ":" + kv[i+1] + "\n")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		dst = append(dst, kv[i]+":"+kv[i+1]+"\r\n"...)
	}
	if w.signed {
		sc := getScratch()
		dst = append(dst, "x-amz-trailer-signature:"...)
		dst = append(dst, w.c.trailer(sc, sc.sha256Hex([]byte(lines.String())))...)
		dst = append(dst, "\r\n"...)
		putScratch(sc)
	}
	return append(dst, "\r\n"...)
}

// chain is the rolling state of chunk signatures.
type chain struct {
	key         []byte
	date, scope string
	prev        []byte // signature of the previous chunk (the seed first)
}

func newChain(key []byte, date, scope, seed string) chain {
	return chain{key: key, date: date, scope: scope, prev: append(make([]byte, 0, 2*sha256.Size), seed...)}
}

// next returns the signature of a chunk whose data hashes to dataHash
// (hex) and advances the chain. The result is valid until the next call.
func (c *chain) next(sc *scratch, dataHash []byte) []byte {
	return c.advance(sc, chunkAlgorithm, EmptySHA256+"\n", dataHash)
}

// trailer returns the signature of a trailer whose canonical lines hash to
// trailerHash (hex). The result is valid until the next call.
func (c *chain) trailer(sc *scratch, trailerHash []byte) []byte {
	return c.advance(sc, trailerAlgorithm, "", trailerHash)
}

// advance signs "alg\ndate\nscope\nprev\n" + mid + hash and makes the
// signature the chain's new previous one.
func (c *chain) advance(sc *scratch, alg, mid string, hash []byte) []byte {
	b := append(sc.buf[:0], alg...)
	b = append(b, '\n')
	b = append(b, c.date...)
	b = append(b, '\n')
	b = append(b, c.scope...)
	b = append(b, '\n')
	b = append(b, c.prev...)
	b = append(b, '\n')
	b = append(b, mid...)
	b = append(b, hash...)
	sc.buf = b
	c.prev = append(c.prev[:0], sc.hmacHex(c.key, b)...)
	return c.prev
}
