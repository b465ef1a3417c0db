package md5x

import (
	"crypto/md5"
	"testing"
)

// BenchmarkKernel measures one kernel call over 16 KiB in each lane;
// bytes are counted over the kernel's lanes.
func BenchmarkKernel(b *testing.B) {
	const n = 256 // blocks per lane
	buf := make([]byte, lanes*64*n)
	for name, kern := range kernels() {
		b.Run(name, func(b *testing.B) {
			var state [4][lanes]uint32
			var ptrs [lanes]*byte
			for l := range ptrs {
				ptrs[l] = &buf[l*64*n]
			}
			var scratch [16][lanes]uint32
			b.SetBytes(int64(kern.width * 64 * n))
			for b.Loop() {
				kern.fn(&state, &ptrs, n, &scratch)
			}
		})
	}
}

// BenchmarkCryptoMD5 is the single-stream baseline.
func BenchmarkCryptoMD5(b *testing.B) {
	buf := make([]byte, 1<<20)
	h := md5.New()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h.Write(buf)
	}
}
