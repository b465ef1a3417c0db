package nvme

import (
	"io"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// iovMax is the kernel's limit on iovecs per preadv/pwritev (IOV_MAX).
const iovMax = 1024

// iovPool holds iovec arrays so vectored I/O allocates nothing; x/sys's
// Preadv/Pwritev allocate once more than eight buffers are passed.
var iovPool = sync.Pool{New: func() any { return new([iovMax]unix.Iovec) }}

// offs2lohi splits an offset into the two registers preadv/pwritev take.
func offs2lohi(off int64) (lo, hi uintptr) {
	const longBits = unsafe.Sizeof(uintptr(0)) * 8
	return uintptr(off), uintptr(uint64(off) >> (longBits - 1) >> 1)
}

// rawv issues one preadv or pwritev of at most iovMax buffers.
func rawv(trap uintptr, fd int, bufs [][]byte, off int64) (int, error) {
	iov := iovPool.Get().(*[iovMax]unix.Iovec)
	n := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		iov[n].Base = &b[0]
		iov[n].SetLen(len(b))
		n++
	}
	if n == 0 {
		iovPool.Put(iov)
		return 0, nil
	}
	lo, hi := offs2lohi(off)
	r, _, e := unix.Syscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n), lo, hi, 0)
	for i := 0; i < n; i++ {
		iov[i].Base = nil // do not keep caller memory reachable
	}
	iovPool.Put(iov)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// pwritevAll writes bufs back to back at off, splitting at IOV_MAX and
// looping on short writes and EINTR.
func pwritevAll(fd int, bufs [][]byte, off int64) (int64, error) {
	return vectored(unix.SYS_PWRITEV, fd, bufs, off)
}

// preadvAll fills bufs from off; it returns io.EOF if the file ends first.
func preadvAll(fd int, bufs [][]byte, off int64) (int64, error) {
	return vectored(unix.SYS_PREADV, fd, bufs, off)
}

func vectored(trap uintptr, fd int, bufs [][]byte, off int64) (int64, error) {
	var done int64
	for len(bufs) > 0 {
		batch := bufs
		if len(batch) > iovMax {
			batch = batch[:iovMax]
		}
		n, err := rawv(trap, fd, batch, off+done)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			if batchLen(batch) == 0 {
				bufs = bufs[len(batch):]
				continue
			}
			if trap == unix.SYS_PREADV {
				return done, io.EOF
			}
			return done, io.ErrShortWrite
		}
		done += int64(n)
		// Consume n bytes; a partly done buffer is finished on its own.
		for n > 0 {
			if n >= len(bufs[0]) {
				n -= len(bufs[0])
				bufs = bufs[1:]
				continue
			}
			rest := bufs[0][n:]
			n = 0
			bufs = bufs[1:]
			for len(rest) > 0 {
				var one [1][]byte
				one[0] = rest
				m, err := rawv(trap, fd, one[:], off+done)
				if err == unix.EINTR {
					continue
				}
				if err != nil {
					return done, err
				}
				if m == 0 {
					if trap == unix.SYS_PREADV {
						return done, io.EOF
					}
					return done, io.ErrShortWrite
				}
				done += int64(m)
				rest = rest[m:]
			}
		}
	}
	return done, nil
}

func batchLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}
