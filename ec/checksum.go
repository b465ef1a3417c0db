package ec

import (
	"hash/crc32"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gpucache/gpucache/nvme"
)

// sums holds the CRC32C of every unit of one shard, mirrored in a checksum
// file next to the shard ("<shard>.crc", 4 bytes per unit, little endian).
// Entries are set as writes complete and written out by flush, which Sync
// calls, so a synced write has synced checksums.
//
// An entry of zero means "never written": such units are not verified. A
// unit whose CRC is zero is stored as one (see sumOf).
type sums struct {
	f   nvme.File
	buf []byte // aligned mirror of the whole checksum file

	mu               sync.Mutex
	dirtyLo, dirtyHi int // dirty byte range of buf, page aligned; lo == hi when clean
}

// sumOf returns the stored form of b's CRC32C: never zero.
func sumOf(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	if c == 0 {
		c = 1
	}
	return c
}

func sumsSize(units int64) int64 {
	return (units*4 + nvme.Align - 1) / nvme.Align * nvme.Align
}

func createSums(dev nvme.Device, name string, units int64) (*sums, error) {
	size := sumsSize(units)
	f, err := dev.Create(name, size)
	if err != nil {
		return nil, err
	}
	return &sums{f: f, buf: nvme.AlignedAlloc(int(size))}, nil
}

func openSums(dev nvme.Device, name string, units int64) (*sums, error) {
	f, err := dev.Open(name)
	if err != nil {
		return nil, err
	}
	size := sumsSize(units)
	s := &sums{f: f, buf: nvme.AlignedAlloc(int(size))}
	if _, err := f.ReadAt(s.buf, 0); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// grow makes room for units entries (a shard file that was cut short
// opened with a table sized by its own length). Not safe for concurrent
// use: call before the shard is shared.
func (s *sums) grow(units int64) {
	size := sumsSize(units)
	if int64(len(s.buf)) >= size {
		return
	}
	buf := nvme.AlignedAlloc(int(size))
	copy(buf, s.buf)
	nvme.AlignedFree(s.buf)
	s.buf = buf
}

// newMemSums returns checksums not yet backed by a file, for a shard being
// rebuilt: the file is created when the rebuild completes (its existence
// marks the shard trusted).
func newMemSums(units int64) *sums {
	return &sums{buf: nvme.AlignedAlloc(int(sumsSize(units)))}
}

// persist creates the checksum file and writes every entry.
func (s *sums) persist(dev nvme.Device, name string) error {
	f, err := dev.Create(name, int64(len(s.buf)))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.f = f
	s.mu.Unlock()
	return s.writeAll()
}

// get returns the stored sum of unit u, or 0 if never written.
func (s *sums) get(u int64) uint32 {
	return s.entry(u).Load()
}

// entry points at unit u's checksum. buf is page aligned, so every entry
// is 4-byte aligned.
func (s *sums) entry(u int64) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&s.buf[4*u]))
}

// set records the sums of units u0, u0+1, ...
func (s *sums) set(u0 int64, vals []uint32) {
	s.mu.Lock()
	for i, c := range vals {
		s.entry(u0 + int64(i)).Store(c)
	}
	lo := int(4*u0) / nvme.Align * nvme.Align
	hi := (int(4*(u0+int64(len(vals)))) + nvme.Align - 1) / nvme.Align * nvme.Align
	if s.dirtyLo == s.dirtyHi {
		s.dirtyLo, s.dirtyHi = lo, hi
	} else {
		s.dirtyLo, s.dirtyHi = min(s.dirtyLo, lo), max(s.dirtyHi, hi)
	}
	s.mu.Unlock()
}

// flush writes the dirty pages and syncs the checksum file.
func (s *sums) flush() error {
	s.mu.Lock()
	if s.f == nil {
		s.mu.Unlock()
		return nil // not persisted yet; persist writes everything
	}
	if s.dirtyLo != s.dirtyHi {
		var iov [1][]byte
		iov[0] = s.buf[s.dirtyLo:s.dirtyHi]
		if _, err := s.f.WritevAt(iov[:], int64(s.dirtyLo)); err != nil {
			s.mu.Unlock()
			return err
		}
		s.dirtyLo, s.dirtyHi = 0, 0
	}
	s.mu.Unlock()
	return s.f.Sync()
}

// writeAll rewrites the whole checksum file (after a rebuild).
func (s *sums) writeAll() error {
	s.mu.Lock()
	s.dirtyLo, s.dirtyHi = 0, len(s.buf)
	s.mu.Unlock()
	return s.flush()
}

func (s *sums) close() {
	if s.f != nil {
		s.f.Close()
	}
	nvme.AlignedFree(s.buf)
	s.buf = nil
}
