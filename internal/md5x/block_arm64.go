//go:build !purego

package md5x

//go:generate go run gen.go

//go:noescape
func block8NEON(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

//go:noescape
func block16NEON(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

// Every arm64 CPU has Advanced SIMD (NEON).
var vector8, vector16 kernelFunc = block8NEON, block16NEON
