package engine

import (
	"bytes"
	"fmt"
	"syscall"
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

// BenchmarkPutMany measures a pipelined run of 16 small SETs (1000-byte
// values) stored with one PutMany, as the
// RESP front end does (the Sync that follows is not counted: with sync no
// it is one log write per batch, shared by connections): keys never seen
// before (new), and overwrites of 100k keys already stored (overwrite).
// Reported per SET.
func BenchmarkPutMany(b *testing.B) {
	const batch, size, space = 16, 1000, 100_000
	for _, mode := range []string{"new", "overwrite"} {
		b.Run(mode, func(b *testing.B) {
			e := openTest(b, b.TempDir(), func(o *Options) { o.SyncWrites = false })
			defer e.Close()
			keys, vals := make([][]byte, batch), make([][]byte, batch)
			for i := range keys {
				keys[i] = make([]byte, 0, 32)
				vals[i] = pattern(uint64(i), size)
			}
			n := 0
			fill := func() {
				for i := range keys {
					k := n
					if mode == "overwrite" {
						k = int(uint64(n) * 0x9E3779B97F4A7C15 >> 11 % space)
					}
					keys[i] = appendBenchKey(keys[i][:0], k)
					n++
				}
			}
			if mode == "overwrite" {
				for n < space {
					fill()
					if err := e.PutMany("", keys, vals); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.SetBytes(int64(batch * size))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i += batch {
				fill()
				if err := e.PutMany("", keys, vals); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// appendBenchKey appends "key:" and k in 12 digits, without allocating.
func appendBenchKey(dst []byte, k int) []byte {
	dst = append(dst, "key:000000000000"...)
	for i := len(dst) - 1; k > 0; i-- {
		dst[i] = byte('0' + k%10)
		k /= 10
	}
	return dst
}

// processCPU is the process's user and system CPU time in nanoseconds:
// on a shared host it says what an operation costs better than wall time,
// which includes waiting for a core (background work such as memtable
// flushes is counted too).
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
