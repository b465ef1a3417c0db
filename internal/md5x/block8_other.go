//go:build (!amd64 && !arm64) || purego

package md5x

// Only amd64 and arm64 have vector kernels.
var vector8, vector16 kernelFunc
