package engine

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkPut measures a durable Put (blob write + fdatasync + metadata
// commit + Sync) by value size.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{64, 4 << 10, 1 << 20, 32 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := openTest(b, b.TempDir(), func(o *Options) { o.DRAMCacheSize = 256 << 20; o.SegmentSize = 256 << 20 })
			defer e.Close()
			val := pattern(1, size)
			key := []byte("bench")
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if size > e.opts.InlineThreshold {
					var buf *Buffer
					if buf, err = e.NewBuffer(int64(size)); err == nil {
						copyIntoPages(buf, 0, val)
						_, err = e.Put("", key, buf, PutOptions{})
					}
				} else {
					_, err = e.PutBytes("", key, val, PutOptions{})
				}
				if err == nil {
					err = e.Sync()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGet measures Get by tier: a DRAM hit hands out a reference; an
// NVMe read goes through O_DIRECT into arena pages and verifies the CRC.
func BenchmarkGet(b *testing.B) {
	for _, tier := range []string{"dram", "nvme"} {
		for _, size := range []int{64, 1 << 20, 32 << 20} {
			b.Run(tier+"/"+sizeName(size), func(b *testing.B) {
				e := openTest(b, b.TempDir(), func(o *Options) { o.DRAMCacheSize = 128 << 20 })
				defer e.Close()
				key := []byte("bench")
				mustPut(b, e, "", "bench", pattern(1, size), PutOptions{})
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if tier == "nvme" {
						e.cache.drop(appendMetaKey(nil, "", key))
					}
					v, err := e.Get("", key)
					if err != nil {
						b.Fatal(err)
					}
					v.Release()
				}
			})
		}
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkPutStreamed is BenchmarkPut as the front ends drive it: the value
// is read into the buffer with ReadFrom, so whole chunks go to the NVMe tier
// while the rest is still arriving, and Put writes only the tail and syncs.
func BenchmarkPutStreamed(b *testing.B) {
	for _, size := range []int{8 << 20, 32 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := openTest(b, b.TempDir(), func(o *Options) { o.DRAMCacheSize = 256 << 20; o.SegmentSize = 256 << 20 })
			defer e.Close()
			val := pattern(1, size)
			key := []byte("bench")
			var r bytes.Reader
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf, err := e.NewBuffer(int64(size))
				if err != nil {
					b.Fatal(err)
				}
				r.Reset(val)
				if _, err := buf.ReadFrom(&r); err != nil {
					b.Fatal(err)
				}
				if _, err := e.Put("", key, buf, PutOptions{}); err != nil {
					b.Fatal(err)
				}
				if err := e.Sync(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
