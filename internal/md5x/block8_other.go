//go:build !amd64 || purego

package md5x

// Only amd64 has vector kernels.
var vector8, vector16 kernelFunc
