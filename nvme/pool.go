package nvme

import (
	"math/bits"
	"sync"
)

// Pool is a size-classed pool of aligned buffers (AlignedAlloc memory) for
// callers that need scratch space for O_DIRECT I/O: erasure-coding parity,
// read-modify-write of checksum pages, degraded reads.
//
// Classes are powers of two from Align up to the pool's maximum size. Each
// class keeps at most a fixed number of free buffers; a buffer returned
// beyond that, or larger than the maximum class, is unmapped at once, so
// an occasional huge request does not pin memory forever (the same rule as
// VictoriaMetrics' bytesutil pools).
//
// A Pool is safe for concurrent use. A buffer must not be used after Put.
type Pool struct {
	classes []poolClass
	maxFree int
}

type poolClass struct {
	size int
	mu   sync.Mutex
	free [][]byte
}

// NewPool returns a pool whose largest class holds maxSize bytes (rounded
// up to a power of two, at least Align) and which keeps at most maxFree idle
// buffers per class.
func NewPool(maxSize, maxFree int) *Pool {
	if maxSize < Align {
		maxSize = Align
	}
	p := &Pool{maxFree: maxFree}
	for size := Align; ; size *= 2 {
		p.classes = append(p.classes, poolClass{size: size})
		if size >= maxSize {
			break
		}
	}
	return p
}

// classOf returns the index of the smallest class holding n bytes, or -1.
func (p *Pool) classOf(n int) int {
	if n <= Align {
		return 0
	}
	c := bits.Len(uint(n-1)) - bits.Len(uint(Align-1))
	if c >= len(p.classes) {
		return -1
	}
	return c
}

// Get returns an aligned buffer of length n. Its contents are undefined.
func (p *Pool) Get(n int) []byte {
	c := p.classOf(n)
	if c < 0 {
		return AlignedAlloc(n)
	}
	pc := &p.classes[c]
	pc.mu.Lock()
	if k := len(pc.free); k > 0 {
		b := pc.free[k-1]
		pc.free[k-1] = nil
		pc.free = pc.free[:k-1]
		pc.mu.Unlock()
		return b[:n]
	}
	pc.mu.Unlock()
	// NB: capped at the class size so Put recognises it even where the
	// page size (64 KiB on some arm64 kernels) exceeds the class.
	return AlignedAlloc(pc.size)[:n:pc.size]
}

// Put returns a buffer obtained from Get. The caller must not use b again.
func (p *Pool) Put(b []byte) {
	if cap(b) == 0 {
		return
	}
	c := p.classOf(cap(b))
	if c < 0 || p.classes[c].size != cap(b) {
		AlignedFree(b)
		return
	}
	pc := &p.classes[c]
	pc.mu.Lock()
	if len(pc.free) < p.maxFree {
		pc.free = append(pc.free, b[:cap(b)])
		pc.mu.Unlock()
		return
	}
	pc.mu.Unlock()
	AlignedFree(b)
}

// Close unmaps every idle buffer. Buffers still out are freed when Put.
func (p *Pool) Close() {
	for i := range p.classes {
		pc := &p.classes[i]
		pc.mu.Lock()
		for _, b := range pc.free {
			AlignedFree(b)
		}
		pc.free = nil
		pc.mu.Unlock()
	}
}
