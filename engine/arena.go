package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
// The mapping is anonymous, aligned to and advised for transparent huge
// pages, which cuts the page faults and TLB misses of values written and
// read at gigabytes a second. With sending by reference (Options.
// SendByReference), resident values go to sockets as pages (vmsplice and
// splice: see Value.SendRange) instead of being copied into socket
// buffers. The kernel keeps such pages referenced until the peer has
// consumed them, with no notice to us, so a page handed out that way is
// never written again in place: before its next use it is dropped from
// the mapping (see renew), which leaves any in-flight reference holding
// the old page and gives the arena a fresh one.
type arena struct {
	mem   []byte
	pages int

	exposed []atomic.Bool // per page: sent by reference since it was last renewed; nil: no sends by reference
	blank   []bool        // per page: never written (owned by whoever allocated it)
	pipes   pipePool      // for sends by reference
	limits  sendLimits
	sent    atomic.Int64 // bytes sent by reference
	renewed atomic.Int64 // pages renewed before reuse
	// Backpressure: allocations that had to wait for pages, the time they
	// waited, and those that gave up with ErrBusy.
	waits, waitNanos, busy atomic.Int64

	mu       sync.Mutex
	cond     *sync.Cond
	free     []int32 // stack of free page indexes, ready to write
	dirty    []int32 // stack of free pages sent by reference, awaiting renewal
	renewing int     // free pages the renewer holds between dirty and free
	shares   []int32 // per page: owners beyond the first (see share)
	waiters  int

	renewWake chan struct{} // the renewer has dirty pages to take
	renewDone chan struct{} // closed: the renewer exits
	renewWG   sync.WaitGroup
	batch     []int32 // the renewer's

	// reclaim asks the DRAM cache to drop entries until at least need pages
	// are free or nothing more can be dropped. Called without mu held.
	reclaim func(need int)

	inUse atomic.Int64 // pages handed out
}

// hugePage is the alignment of the arena's mapping: the size of a
// transparent huge page over 4 KiB base pages (amd64, and arm64 kernels
// built with 4 KiB pages; with larger base pages the advice is moot).
const hugePage = 2 << 20

// newArena maps size bytes (rounded up to whole pages). With byRef, the
// arena can send resident values by reference, if the kernel lets it
// (vmsplice); otherwise SendRange copies.
func newArena(size int64, byRef bool) (*arena, error) {
	n := int((size + pageSize - 1) / pageSize)
	if n < 4 {
		n = 4
	}
	a := &arena{pages: n, free: make([]int32, n), shares: make([]int32, n)}
	mem, err := mapAligned(n * pageSize)
	if err != nil {
		return nil, fmt.Errorf("engine: cannot map %d MiB arena: %w", n*pageSize>>20, err)
	}
	a.mem = mem
	if byRef && a.pipes.usable() {
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
	if a.exposed != nil {
		a.renewWake, a.renewDone = make(chan struct{}, 1), make(chan struct{})
		a.renewWG.Add(1)
		go a.renewer()
	}
	return a, nil
}

// mapAligned maps size bytes of anonymous memory at a huge-page boundary
// and asks for huge pages there (the kernel may decline: "never" in
// /sys/kernel/mm/transparent_hugepage/enabled, or no free huge page).
func mapAligned(size int) ([]byte, error) {
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size+hugePage), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	// Give back the slack on both sides: unmapping part of a mapping
	// leaves the rest mapped.
	start := uintptr(p)
	aligned := (start + hugePage - 1) &^ (hugePage - 1)
	if head := aligned - start; head > 0 {
		unix.MunmapPtr(p, head)
	}
	if tail := start + uintptr(size+hugePage) - (aligned + uintptr(size)); tail > 0 {
		unix.MunmapPtr(unsafe.Add(p, aligned-start+uintptr(size)), tail)
	}
	mem := unsafe.Slice((*byte)(unsafe.Add(p, aligned-start)), size)
	unix.Madvise(mem, unix.MADV_HUGEPAGE) // advice only: EINVAL without THP
	return mem, nil
}

func unmapAligned(mem []byte) error {
	return unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(mem)), uintptr(len(mem)))
}

func (a *arena) close() error {
	if a.mem == nil {
		return nil
	}
	if a.renewDone != nil {
		close(a.renewDone)
		a.renewWG.Wait()
	}
	a.pipes.close()
	err := unmapAligned(a.mem)
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
	if a.unused() < n && a.reclaim != nil {
		a.mu.Unlock()
		a.reclaim(n)
		a.mu.Lock()
	}
	if a.takeable() < n {
		// NB: pages held by readers of evicted entries come back through
		// freePages, and renewed ones from the renewer; both broadcast.
		// The timer bounds the wait.
		var timedOut bool
		waitStart := time.Now()
		t := time.AfterFunc(wait, func() {
			a.mu.Lock()
			timedOut = true
			a.cond.Broadcast()
			a.mu.Unlock()
		})
		a.waiters++
		for a.takeable() < n && !timedOut {
			a.cond.Wait()
			if a.unused() < n && a.reclaim != nil {
				a.mu.Unlock()
				a.reclaim(n)
				a.mu.Lock()
			}
		}
		a.waiters--
		t.Stop()
		a.waits.Add(1)
		a.waitNanos.Add(int64(time.Since(waitStart)))
		if a.takeable() < n {
			a.busy.Add(1)
			a.mu.Unlock()
			return dst, ErrBusy
		}
	}
	// Pop in stack order: pages freed together come back in their old
	// order (see freePages), so values tend to lie in runs of consecutive
	// pages, which go to a socket or a renewal with one call each. Ready
	// pages first; then dirty ones, renewed here.
	start := len(dst)
	dst, a.free = popPages(dst, a.free, n)
	dst, a.dirty = popPages(dst, a.dirty, n-(len(dst)-start))
	a.mu.Unlock()
	a.inUse.Add(int64(n))
	if a.exposed != nil {
		a.renew(dst[start:])
	}
	return dst, nil
}

// wakeWaiters lets allocations waiting for pages try to reclaim them
// again: the DRAM cache admitted an entry, which it can evict. Without it
// a waiter sleeps until pages are freed or its wait ends, although
// everything in the arena became reclaimable meanwhile.
func (a *arena) wakeWaiters() {
	a.mu.Lock()
	if a.waiters > 0 {
		a.cond.Broadcast()
	}
	a.mu.Unlock()
}

// unused counts the free pages, whatever their state; a.mu is held.
func (a *arena) unused() int { return len(a.free) + len(a.dirty) + a.renewing }

// takeable counts the free pages alloc can take now; a.mu is held.
func (a *arena) takeable() int { return len(a.free) + len(a.dirty) }

// popPages moves up to n pages from the top of stack to dst.
func popPages(dst, stack []int32, n int) ([]int32, []int32) {
	top := max(len(stack)-n, 0)
	for i := len(stack) - 1; i >= top; i-- {
		dst = append(dst, stack[i])
	}
	return dst, stack[:top]
}

func (a *arena) freePages(idx []int32) {
	freed, dirtied := 0, 0
	a.mu.Lock()
	for k := len(idx) - 1; k >= 0; k-- { // last first: alloc pops the first first
		i := idx[k]
		if a.shares[i] > 0 {
			a.shares[i]-- // another owner still holds it
			continue
		}
		if a.exposed != nil && a.exposed[i].Load() {
			a.dirty = append(a.dirty, i)
			dirtied++
		} else {
			a.free = append(a.free, i)
		}
		freed++
	}
	if a.waiters > 0 && freed > 0 {
		a.cond.Broadcast()
	}
	a.mu.Unlock()
	a.inUse.Add(-int64(freed))
	if dirtied > 0 {
		select {
		case a.renewWake <- struct{}{}:
		default:
		}
	}
}

// renewBatch is how many pages the renewer takes at a time (16 MiB): few
// enough that an alloc rarely waits for them.
const renewBatch = 64

// renewer renews dirty pages in the background, so that a write usually
// finds its pages ready instead of paying for fresh zeroed ones itself.
// Where the cores have idle time (a server waiting on its devices, or one
// whose clients are on other hosts) that cost leaves the request's path.
func (a *arena) renewer() {
	defer a.renewWG.Done()
	for {
		select {
		case <-a.renewWake:
		case <-a.renewDone:
			return
		}
		for {
			a.mu.Lock()
			if len(a.dirty) == 0 {
				a.mu.Unlock()
				break
			}
			a.batch, a.dirty = popPages(a.batch[:0], a.dirty, renewBatch)
			a.renewing = len(a.batch)
			a.mu.Unlock()
			a.renew(a.batch)
			a.mu.Lock()
			for k := len(a.batch) - 1; k >= 0; k-- {
				a.free = append(a.free, a.batch[k])
			}
			a.renewing = 0
			if a.waiters > 0 {
				a.cond.Broadcast()
			}
			a.mu.Unlock()
			select {
			case <-a.renewDone:
				return
			default:
			}
		}
	}
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
