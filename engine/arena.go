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

// arena is the off-heap memory of the DRAM tier: one anonymous mapping cut
// into pages. Values in flight (being received) and values cached in DRAM
// both live here, so the arena's size bounds both and the Go heap never holds
// large values. Memory is committed lazily by the kernel as pages are touched.
type arena struct {
	mem   []byte
	pages int

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

func newArena(size int64) (*arena, error) {
	n := int((size + pageSize - 1) / pageSize)
	if n < 4 {
		n = 4
	}
	mem, err := unix.Mmap(-1, 0, n*pageSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("engine: cannot map %d MiB arena: %w", n*pageSize>>20, err)
	}
	a := &arena{mem: mem, pages: n, free: make([]int32, n), shares: make([]int32, n)}
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
	top := len(a.free) - n
	dst = append(dst, a.free[top:]...)
	a.free = a.free[:top]
	a.mu.Unlock()
	a.inUse.Add(int64(n))
	return dst, nil
}

func (a *arena) freePages(idx []int32) {
	freed := 0
	a.mu.Lock()
	for _, i := range idx {
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
