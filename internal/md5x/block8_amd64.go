//go:build !purego

package md5x

import "golang.org/x/sys/cpu"

//go:generate go run gen.go

//go:noescape
func block8AVX2(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

//go:noescape
func block8AVX512(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

//go:noescape
func block16AVX512(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

// vector8 and vector16 are this CPU's 8- and 16-lane kernels, nil when it
// has none.
var vector8, vector16 = func() (kernelFunc, kernelFunc) {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX2:
		return block8AVX512, block16AVX512
	case cpu.X86.HasAVX2:
		return block8AVX2, nil
	}
	return nil, nil
}()
