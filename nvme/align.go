package nvme

import (
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

var errEOF = io.EOF

// IsAligned reports whether b starts at an Align boundary and its length
// is a multiple of Align. An empty slice is aligned.
func IsAligned(b []byte) bool {
	if len(b)%Align != 0 {
		return false
	}
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%Align == 0
}

// checkIO validates a vectored request and returns its total length.
func checkIO(bufs [][]byte, off int64) (int64, error) {
	if off < 0 || off%Align != 0 {
		return 0, ErrUnaligned
	}
	var total int64
	for _, b := range bufs {
		if !IsAligned(b) {
			return 0, ErrUnaligned
		}
		total += int64(len(b))
	}
	return total, nil
}

// AlignedAlloc returns n bytes of zeroed memory starting at a page boundary
// (so at an Align boundary), outside the Go heap. The capacity is n rounded
// up to the page size. The memory is not scanned or moved by the garbage
// collector and is not freed by it: release it with AlignedFree. It panics
// if the system refuses the mapping, as make does when out of memory.
func AlignedAlloc(n int) []byte {
	if n <= 0 {
		return nil
	}
	ps := os.Getpagesize()
	size := (n + ps - 1) / ps * ps
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		panic("nvme: cannot allocate aligned memory: " + err.Error())
	}
	return unsafe.Slice((*byte)(p), size)[:n]
}

// AlignedFree releases memory returned by AlignedAlloc. b may be resliced
// but must keep the original start; using b afterwards faults.
func AlignedFree(b []byte) {
	if cap(b) == 0 {
		return
	}
	b = b[:cap(b)]
	_ = unix.MunmapPtr(unsafe.Pointer(&b[0]), uintptr(len(b)))
}
