//go:build !purego

package md5x

import "golang.org/x/sys/cpu"

//go:generate go run gen.go

//go:noescape
func block8AVX2(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

//go:noescape
func block8AVX512(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

// vectorKernel is the fastest 8-lane kernel of this CPU, nil without AVX2.
var vectorKernel = func() kernelFunc {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL:
		return block8AVX512
	case cpu.X86.HasAVX2:
		return block8AVX2
	}
	return nil
}()
