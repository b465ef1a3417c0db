package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var (
	exampleCred = Credential{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
)

func exampleVerifier() *Verifier {
	v := NewVerifier([]Credential{exampleCred})
	v.Now = func() time.Time { return exampleTime }
	return v
}

// TestDocumentedGetObject checks the GET example of the S3 SigV4 docs.
func TestDocumentedGetObject(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://examplebucket.s3.amazonaws.com/test.txt", nil)
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("X-Amz-Content-Sha256", EmptySHA256)
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	res, err := exampleVerifier().Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != PayloadSHA256 || res.PayloadHash != EmptySHA256 {
		t.Fatalf("mode %v hash %q", res.Mode, res.PayloadHash)
	}
	r.Header.Set("Range", "bytes=0-10")
	if _, err := exampleVerifier().Verify(r); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("tampered: %v", err)
	}
}

// TestDocumentedStreaming checks the aws-chunked example of the docs: a
// 66560-byte object of 'a' in 64 KiB chunks.
func TestDocumentedStreaming(t *testing.T) {
	r, _ := http.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
	res, err := exampleVerifier().Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	w := NewChunkWriter(res.Seed, exampleCred, "us-east-1", exampleTime, true)
	data := bytes.Repeat([]byte{'a'}, 66560)
	body := w.Chunk(nil, data[:65536], false)
	if !bytes.Contains(body, []byte("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648")) {
		t.Fatalf("first chunk signature differs from the documented one: %q", body[:90])
	}
	body = w.Chunk(body, data[65536:], false)
	body = w.Chunk(body, nil, false)
	if len(body) != 66824 {
		t.Fatalf("encoded length %d", len(body))
	}
	cr := NewChunkedReader(bytes.NewReader(body), res, 66560)
	got, err := io.ReadAll(cr)
	cr.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decode: %v (%d bytes)", err, len(got))
	}
	// Any flipped data byte breaks the chain.
	bad := bytes.Clone(body)
	bad[200] ^= 1
	cr = NewChunkedReader(bytes.NewReader(bad), res, 66560)
	if _, err := io.ReadAll(cr); !errors.Is(err, ErrChunkSignature) {
		t.Fatalf("corrupt chunk: %v", err)
	}
	// Truncation is an incomplete body.
	cr = NewChunkedReader(bytes.NewReader(body[:60000]), res, 66560)
	if _, err := io.ReadAll(cr); !errors.Is(err, ErrChunkFormat) {
		t.Fatalf("truncated: %v", err)
	}
}

func signedRequest(t *testing.T, mode string) (*http.Request, *Result) {
	t.Helper()
	r, _ := http.NewRequest("PUT", "http://127.0.0.1:9000/bkt/a%20b+c@d", nil)
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
	seed := Sign(r, exampleCred, "us-east-1", exampleTime, mode)
	res, err := exampleVerifier().Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Seed != seed {
		t.Fatal("seed mismatch")
	}
	return r, res
}

func TestTrailers(t *testing.T) {
	data := []byte(strings.Repeat("b", 1000))
	for _, tc := range []struct {
		mode   string
		signed bool
		lf     bool // minio-go's bare LF after the trailer line
	}{
		{StreamingPayloadTrailer, true, false},
		{StreamingPayloadTrailer, true, true},
		{StreamingUnsignedTrailer, false, false},
		{StreamingUnsignedTrailer, false, true},
	} {
		_, res := signedRequest(t, tc.mode)
		w := NewChunkWriter(res.Seed, exampleCred, "us-east-1", exampleTime, tc.signed)
		body := w.Chunk(nil, data, false)
		body = w.Chunk(body, nil, true)
		body = w.Trailer(body, "x-amz-checksum-crc32c", "DAP9Ww==")
		if tc.lf {
			body = bytes.Replace(body, []byte("DAP9Ww==\r\n"), []byte("DAP9Ww==\n\r\n"), 1)
		}
		cr := NewChunkedReader(bytes.NewReader(body), res, 1000)
		got, err := io.ReadAll(cr)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if v := cr.Trailer("x-amz-checksum-crc32c"); v != "DAP9Ww==" {
			t.Fatalf("%s: trailer %q", tc.mode, v)
		}
		if tc.signed {
			bad := bytes.Replace(body, []byte("DAP9Ww=="), []byte("DAP9Wx=="), 1)
			cr = NewChunkedReader(bytes.NewReader(bad), res, 1000)
			if _, err := io.ReadAll(cr); !errors.Is(err, ErrChunkSignature) {
				t.Fatalf("tampered trailer: %v", err)
			}
		}
	}
}

func TestPresigned(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:9000/bkt/some%20key")
	pu := Presign("GET", u, exampleCred, "us-east-1", exampleTime, time.Hour)
	r, _ := http.NewRequest("GET", pu.String(), nil)
	v := exampleVerifier()
	if _, err := v.Verify(r); err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return exampleTime.Add(2 * time.Hour) }
	if _, err := v.Verify(r); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	r2, _ := http.NewRequest("PUT", pu.String(), nil)
	if _, err := exampleVerifier().Verify(r2); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("method changed: %v", err)
	}
}

func TestRejections(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://127.0.0.1/bkt/k", nil)
	if _, err := exampleVerifier().Verify(r); !errors.Is(err, ErrMissingAuth) {
		t.Fatalf("anonymous: %v", err)
	}
	Sign(r, exampleCred, "us-east-1", exampleTime, UnsignedPayload)
	v := exampleVerifier()
	v.Now = func() time.Time { return exampleTime.Add(16 * time.Minute) }
	if _, err := v.Verify(r); !errors.Is(err, ErrSkewed) {
		t.Fatalf("skew: %v", err)
	}
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIAIOSFODNN7EXAMPLE", "NOPE", 1))
	if _, err := exampleVerifier().Verify(r); !errors.Is(err, ErrUnknownAccessKey) {
		t.Fatalf("unknown key: %v", err)
	}
	r.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:abc")
	if _, err := exampleVerifier().Verify(r); !errors.Is(err, ErrSigV2) {
		t.Fatalf("sigv2: %v", err)
	}
	// A credential scope of another day than X-Amz-Date, in S3's words.
	r, _ = http.NewRequest("GET", "http://127.0.0.1/bkt/k", nil)
	Sign(r, exampleCred, "us-east-1", exampleTime, UnsignedPayload)
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20130524/", "/20130523/", 1))
	const want = "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."
	if _, err := exampleVerifier().Verify(r); !errors.Is(err, ErrMalformedCredential) || err.Error() != want {
		t.Fatalf("credential date: %v", err)
	}
	// Accounts added at run time are found through Lookup.
	r, _ = http.NewRequest("GET", "http://127.0.0.1/bkt/k", nil)
	other := Credential{AccessKey: "RUNTIME", SecretKey: "runtimesecret"}
	Sign(r, other, "us-east-1", exampleTime, UnsignedPayload)
	if _, err := v.Verify(r); !errors.Is(err, ErrUnknownAccessKey) {
		t.Fatalf("run-time key without Lookup: %v", err)
	}
	v.Now = func() time.Time { return exampleTime }
	v.Lookup = func(k string) (string, bool) { return other.SecretKey, k == other.AccessKey }
	if res, err := v.Verify(r); err != nil || res.AccessKey != "RUNTIME" {
		t.Fatalf("run-time key through Lookup: %v", err)
	}
}

func FuzzAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f,SignedHeaders=,Signature=")
	f.Fuzz(func(t *testing.T, s string) {
		ParseAuthorization(s)
	})
}

func FuzzChunkedReader(f *testing.F) {
	f.Add([]byte("3e8\r\n"+strings.Repeat("b", 1000)+"\r\n0\r\nx-amz-checksum-crc32:mpAqLQ==\r\n\r\n"), int64(1000), false)
	f.Add([]byte("5;chunk-signature=00\r\nhello\r\n0;chunk-signature=11\r\n\r\n"), int64(-1), true)
	f.Fuzz(func(t *testing.T, body []byte, declared int64, signed bool) {
		res := &Result{Mode: PayloadUnsignedTrailer}
		if signed {
			res = &Result{Mode: PayloadStreamingTrailer, key: []byte("k"), Seed: "seed"}
		}
		cr := NewChunkedReader(bytes.NewReader(body), res, declared)
		defer cr.Close()
		n, _ := io.Copy(io.Discard, cr)
		if n > int64(len(body)) {
			t.Fatalf("decoded %d from %d bytes", n, len(body))
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=00", "", "20130524T000000Z")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aa", "")
	v := exampleVerifier()
	f.Fuzz(func(t *testing.T, auth, query, date string) {
		r, err := http.NewRequest("GET", "http://examplebucket.s3.amazonaws.com/k?"+query, nil)
		if err != nil {
			return
		}
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Amz-Content-Sha256", EmptySHA256)
		if res, err := v.Verify(r); err == nil && res == nil {
			t.Fatal("nil result without error")
		}
	})
}

// The signing key of a verified request is cached: later requests of the
// same scope still have their signatures checked, a failed one caches
// nothing, and a changed secret is not served from the cache.
func TestSigningKeyCache(t *testing.T) {
	v := exampleVerifier()
	sign := func(region, secret string) *http.Request {
		r, _ := http.NewRequest("GET", "http://127.0.0.1/bkt/k", nil)
		Sign(r, Credential{AccessKey: exampleCred.AccessKey, SecretKey: secret}, region, exampleTime, UnsignedPayload)
		return r
	}
	good := sign("us-east-1", exampleCred.SecretKey)
	for i := range 3 {
		if _, err := v.Verify(good); err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	if len(v.keys) != 1 {
		t.Fatalf("%d cached keys, want 1", len(v.keys))
	}
	for k, key := range v.keys {
		if want := SigningKey(k.secret, k.date, k.region, k.service); !bytes.Equal(key, want) {
			t.Fatalf("cached key %x, want %x", key, want)
		}
	}
	tampered := sign("us-east-1", exampleCred.SecretKey)
	tampered.URL.Path = "/bkt/other"
	if _, err := v.Verify(tampered); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("tampered request with a cached key: %v", err)
	}
	if _, err := v.Verify(sign("eu-west-1", "wrong secret")); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("wrong secret: %v", err)
	}
	if len(v.keys) != 1 {
		t.Fatalf("a failed request was cached: %d keys", len(v.keys))
	}
	v.Credentials[exampleCred.AccessKey] = "rotated"
	if _, err := v.Verify(good); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("old secret after rotation: %v", err)
	}
	if _, err := v.Verify(sign("us-east-1", "rotated")); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}

func BenchmarkVerifyHeader(b *testing.B) {
	v := exampleVerifier()
	r, _ := http.NewRequest("GET", "http://127.0.0.1/bkt/k", nil)
	Sign(r, exampleCred, "us-east-1", exampleTime, UnsignedPayload)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkedReader decodes a 4 MiB STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// body in 64 KiB chunks (minio-go's chunk size), checking every chunk
// signature.
func BenchmarkChunkedReader(b *testing.B) {
	const size, chunk = 4 << 20, 64 << 10
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	seed := strings.Repeat("ab", 32)
	w := NewChunkWriter(seed, exampleCred, "us-east-1", exampleTime, true)
	var body []byte
	for off := 0; off < size; off += chunk {
		body = w.Chunk(body, data[off:off+chunk], false)
	}
	body = w.Chunk(body, nil, false)
	date := exampleTime.UTC().Format(DateFormat)
	res := &Result{Mode: PayloadStreaming, Seed: seed, date: exampleTime,
		key: SigningKey(exampleCred.SecretKey, date, "us-east-1", "s3"), scope: Scope(date, "us-east-1", "s3")}
	buf := make([]byte, 256<<10)
	rd := bytes.NewReader(body)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		cr := NewChunkedReader(rd, res, size)
		for {
			_, err := cr.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		cr.Close()
	}
}

// TestHTTP2Authority checks a request as the AWS SDK for JavaScript v3
// (3.1168.0, NodeHttp2Handler) signs it over HTTP/2: the host is signed
// under the name :authority, which S3's SigV4 documents for HTTP/2.
// Headers and signature are the SDK's, byte for byte.
func TestHTTP2Authority(t *testing.T) {
	cred := Credential{AccessKey: "k1", SecretKey: "secret123456"}
	v := NewVerifier([]Credential{cred})
	v.Now = func() time.Time { return time.Date(2026, 11, 22, 8, 17, 24, 0, time.UTC) }
	req := func() *http.Request {
		r, _ := http.NewRequest("PUT", "https://sdk-h2.s3.test:19443/", nil)
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
		for k, val := range map[string]string{
			"Content-Type":          "application/xml",
			"X-Amz-User-Agent":      "aws-sdk-js/3.1168.0",
			"User-Agent":            "aws-sdk-js/3.1168.0 ua/2.1 os/linux#6.18.44-fc-v595 lang/js md/nodejs#20.20.2 api/s3#3.1168.0 m/N,E,e",
			"Amz-Sdk-Invocation-Id": "ace3cf0d-bd90-4f9e-8079-a589576abf07",
			"Amz-Sdk-Request":       "attempt=1; max=1",
			"X-Amz-Date":            "20261122T081724Z",
			"X-Amz-Content-Sha256":  EmptySHA256,
			"Authorization": "AWS4-HMAC-SHA256 Credential=k1/20261122/us-east-1/s3/aws4_request, " +
				"SignedHeaders=:authority;amz-sdk-invocation-id;amz-sdk-request;content-type;x-amz-content-sha256;x-amz-date;x-amz-user-agent, " +
				"Signature=38ad0bf42b7a2a4a077a5f2dc5b00ac4b486709f7db91d2906423a8eff3922e0",
		} {
			r.Header.Set(k, val)
		}
		return r
	}
	if _, err := v.Verify(req()); err != nil {
		t.Fatal(err)
	}
	r := req()
	r.Host = "other.s3.test:19443"
	if _, err := v.Verify(r); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("another :authority: %v, want a signature mismatch", err)
	}
}
