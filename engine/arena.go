package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// pageSize is the arena's allocation unit. A value occupies whole pages that
// need not be contiguous; they go out to sockets with writev and to devices
// with pwritev, so nothing ever needs a contiguous multi-megabyte copy.
// 256 KiB keeps a 80 MiB value at 320 iovecs while wasting at most one
// partial page per value.
const pageSize = 256 << 10

// arena is the off-heap memory of the DRAM tier: one mapping cut into pages.
// Values in flight (being received) and values cached in DRAM both live
// here, so the arena's size bounds both and the Go heap never holds large
// values. Memory is committed lazily by the kernel as pages are touched.
//
// The mapping is a shared memfd when the kernel offers one, so resident
// values can go to sockets by reference (sendfile: see Value.SendRange)
// instead of being copied into socket buffers. The kernel keeps such pages
// referenced until the peer has consumed them, with no notice to us, so a
// page handed out that way is never written again in place: before its
// next use it is punched out of the file (see alloc), which leaves any
// in-flight reference holding the old page and gives the arena a fresh one.
type arena struct {
	mem   []byte
	pages int

	fd      int           // memfd behind mem; -1: anonymous memory, no sends by reference
	exposed []atomic.Bool // per page: sent by reference since it was last punched
	blank   []bool        // per page: never written (owned by whoever allocated it)
	files   fileCache     // private open file descriptions of fd, for sendfile
	limits  sendLimits
	sent    atomic.Int64 // bytes sent by reference
	renewed atomic.Int64 // pages punched before reuse

	mu      sync.Mutex
	cond    *sync.Cond
	free    []int32 // stack of free page indexes
	shares  []int32 // per page: owners beyond the first (see share)
	waiters int

	// reclaim asks the DRAM cache to drop entries until at least need pages
	// are free or nothing more can be dropped. Called without mu held.
	reclaim func(need int)

	inUse atomic.Int64 // pages handed out
}

// newArena maps size bytes (rounded up to whole pages). With shared, the
// memory is a memfd that resident values can be sent from by reference;
// if the kernel cannot give one, the arena falls back to anonymous memory.
func newArena(size int64, shared bool) (*arena, error) {
	n := int((size + pageSize - 1) / pageSize)
	if n < 4 {
		n = 4
	}
	a := &arena{pages: n, fd: -1, free: make([]int32, n), shares: make([]int32, n)}
	if shared {
		a.fd, a.mem = mapShared(n * pageSize)
		if a.mem != nil {
			// Senders need descriptions of their own (/proc/self/fd), and
			// sent pages must be punched out before reuse: without either
			// the arena is of no use shared.
			a.files.src = a.fd
			fd, err := a.files.get()
			if err == nil {
				a.files.put(fd)
				err = unix.Fallocate(a.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, pageSize)
			}
			if err != nil {
				a.files.close()
				unix.Munmap(a.mem)
				unix.Close(a.fd)
				a.fd, a.mem = -1, nil
			}
		}
	}
	if a.mem == nil {
		mem, err := unix.Mmap(-1, 0, n*pageSize, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
		if err != nil {
			return nil, fmt.Errorf("engine: cannot map %d MiB arena: %w", n*pageSize>>20, err)
		}
		a.mem = mem
	} else {
		a.exposed = make([]atomic.Bool, n)
		a.blank = make([]bool, n)
		for i := range a.blank {
			a.blank[i] = true
		}
		a.limits = sendLimits{sendMin, sendHead}
	}
	for i := range a.free {
		a.free[i] = int32(n - 1 - i) // low pages first
	}
	a.cond = sync.NewCond(&a.mu)
	return a, nil
}

func (a *arena) close() error {
	if a.mem == nil {
		return nil
	}
	err := unix.Munmap(a.mem)
	a.mem = nil
	if a.fd >= 0 {
		a.files.close()
		unix.Close(a.fd)
		a.fd = -1
	}
	return err
}

func (a *arena) page(i int32) []byte {
	off := int(i) * pageSize
	return a.mem[off : off+pageSize : off+pageSize]
}

// capacity is the arena size in bytes.
func (a *arena) capacity() int64 { return int64(a.pages) * pageSize }

// alloc takes n pages, waiting up to wait for them to free up.
func (a *arena) alloc(dst []int32, n int, wait time.Duration) ([]int32, error) {
	if n > a.pages {
		return dst, ErrTooLarge
	}
	a.mu.Lock()
	if len(a.free) < n && a.reclaim != nil {
		a.mu.Unlock()
		a.reclaim(n)
		a.mu.Lock()
	}
	if len(a.free) < n {
		// NB: pages held by readers of evicted entries come back through
		// freePages, which broadcasts; the timer bounds the wait.
		var timedOut bool
		t := time.AfterFunc(wait, func() {
			a.mu.Lock()
			timedOut = true
			a.cond.Broadcast()
			a.mu.Unlock()
		})
		a.waiters++
		for len(a.free) < n && !timedOut {
			a.cond.Wait()
			if len(a.free) < n && a.reclaim != nil {
				a.mu.Unlock()
				a.reclaim(n)
				a.mu.Lock()
			}
		}
		a.waiters--
		t.Stop()
		if len(a.free) < n {
			a.mu.Unlock()
			return dst, ErrBusy
		}
	}
	// Pop in stack order: pages freed together come back in their old
	// order (see freePages), so values tend to lie in runs of consecutive
	// pages, which go to a socket or a punch with one call each.
	top := len(a.free) - n
	start := len(dst)
	for i := len(a.free) - 1; i >= top; i-- {
		dst = append(dst, a.free[i])
	}
	a.free = a.free[:top]
	a.mu.Unlock()
	a.inUse.Add(int64(n))
	if a.exposed != nil {
		a.renew(dst[start:])
	}
	return dst, nil
}

func (a *arena) freePages(idx []int32) {
	freed := 0
	a.mu.Lock()
	for k := len(idx) - 1; k >= 0; k-- { // last first: alloc pops the first first
		i := idx[k]
		if a.shares[i] > 0 {
			a.shares[i]-- // another owner still holds it
			continue
		}
		a.free = append(a.free, i)
		freed++
	}
	if a.waiters > 0 && freed > 0 {
		a.cond.Broadcast()
	}
	a.mu.Unlock()
	a.inUse.Add(-int64(freed))
}

// share adds an owner to each page of idx: a page returns to the free list
// only when every owner has freed it. The pages count once in inUse.
func (a *arena) share(idx []int32) {
	a.mu.Lock()
	for _, i := range idx {
		a.shares[i]++
	}
	a.mu.Unlock()
}
