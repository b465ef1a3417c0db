//go:build !purego

package md5x

func addPlatformKernels(k map[string]namedKernel) {
	k["neon8"] = namedKernel{block8NEON, 8}
	k["neon16"] = namedKernel{block16NEON, 16}
}
