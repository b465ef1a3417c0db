package client

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapMem maps n bytes of anonymous memory outside the Go heap: memory a
// fabric may keep registered (the Go heap moves nothing, but cgo forbids
// C keeping Go pointers).
//
// The memory asks for transparent huge pages, as the server's arena does:
// a server reading or writing it through the kernel (shm's cross-memory
// attach) pins the pages of every transfer, one walk per page, and a
// registering NIC maps them; with 2 MiB pages both do 1/512 of the work.
func mapMem(n int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only: EINVAL without THP
	return mem, nil
}

func unmapMem(b []byte) error { return unix.Munmap(b) }

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
