package client

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapMem maps n bytes of anonymous memory outside the Go heap: memory a
// fabric may keep registered (the Go heap moves nothing, but cgo forbids
// C keeping Go pointers).
func mapMem(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
}

func unmapMem(b []byte) error { return unix.Munmap(b) }

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
