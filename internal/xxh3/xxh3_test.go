package xxh3

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// Vectors: S3's published checksums of small bodies (base64 of the
// canonical sum), and values of the xxHash reference implementation.
func TestVectors(t *testing.T) {
	for _, tc := range []struct{ in, x3, x128 string }{
		{"test data", "jw+pSh/pbMQ=", "8BLDqqIWji+ITOsp/JjN/Q=="},
	} {
		d3, d128 := New64(), New128()
		d3.Write([]byte(tc.in))
		d128.Write([]byte(tc.in))
		if got := base64.StdEncoding.EncodeToString(d3.Sum(nil)); got != tc.x3 {
			t.Errorf("XXH3(%q) = %s, want %s", tc.in, got, tc.x3)
		}
		if got := base64.StdEncoding.EncodeToString(d128.Sum(nil)); got != tc.x128 {
			t.Errorf("XXH128(%q) = %s, want %s", tc.in, got, tc.x128)
		}
	}
	if got := Sum64(nil); got != 0x2d06800538d394c2 {
		t.Errorf("XXH3(empty) = %x", got)
	}
	if hi, lo := Sum128(nil); hi != 0x99aa06d3014798d8 || lo != 0x6001c324468d497f {
		t.Errorf("XXH128(empty) = %x %x", hi, lo)
	}
}

// TestStreaming checks that any split of the input gives the one-shot
// sum, across every length class and block boundary.
func TestStreaming(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 5000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= len(buf); n += 1 + n/64 {
		b := buf[:n]
		want64 := Sum64(b)
		wantHi, wantLo := Sum128(b)
		var d64 Digest64
		var d128 Digest128
		for p := b; len(p) > 0; {
			k := min(len(p), 1+r.IntN(200))
			d64.Write(p[:k])
			d128.Write(p[:k])
			p = p[k:]
		}
		if d64.Sum64() != want64 {
			t.Fatalf("n=%d: streamed XXH3 differs", n)
		}
		if hi, lo := d128.Sum128(); hi != wantHi || lo != wantLo {
			t.Fatalf("n=%d: streamed XXH128 differs", n)
		}
	}
}

func FuzzStreaming(f *testing.F) {
	f.Add(bytes.Repeat([]byte("abc"), 400), uint8(7))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		d := New128()
		k := int(step) + 1
		for p := b; len(p) > 0; p = p[min(k, len(p)):] {
			d.Write(p[:min(k, len(p))])
		}
		hi, lo := Sum128(b)
		if h, l := d.Sum128(); h != hi || l != lo {
			t.Fatal("streamed sum differs")
		}
	})
}

func BenchmarkXXH3(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	d := New64()
	for b.Loop() {
		d.Reset()
		d.Write(buf)
		d.Sum64()
	}
}
