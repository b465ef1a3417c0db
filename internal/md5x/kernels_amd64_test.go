//go:build !purego

package md5x

import "golang.org/x/sys/cpu"

func addPlatformKernels(k map[string]kernelFunc) {
	if cpu.X86.HasAVX2 {
		k["avx2"] = block8AVX2
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL {
		k["avx512"] = block8AVX512
	}
}
