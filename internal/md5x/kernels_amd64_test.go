//go:build !purego

package md5x

import "golang.org/x/sys/cpu"

func addPlatformKernels(k map[string]namedKernel) {
	if cpu.X86.HasAVX2 {
		k["avx2"] = namedKernel{block8AVX2, 8}
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL {
		k["avx512"] = namedKernel{block8AVX512, 8}
		k["avx512x16"] = namedKernel{block16AVX512, 16}
	}
}
