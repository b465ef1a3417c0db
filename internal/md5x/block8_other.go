//go:build !amd64 || purego

package md5x

// vectorKernel is nil: only amd64 has a vector kernel.
var vectorKernel kernelFunc
