package nvme

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// MemDevice is an in-memory Device for tests and benchmarks. It enforces
// the same alignment rules as a DirDevice with O_DIRECT, so code that
// passes against it passes against a real drive. Contents do not survive
// the process; Sync is a no-op that still counts in Health.
type MemDevice struct {
	name     string
	capacity int64
	health   Health

	mu     sync.Mutex
	files  map[string]*memData
	used   int64
	closed atomic.Bool
}

var _ Device = (*MemDevice)(nil)

// memData is one file's bytes. Handles keep it alive after Remove, as an
// open descriptor keeps an unlinked inode.
type memData struct {
	mu   sync.RWMutex
	data []byte
	dev  *MemDevice
	live bool // still named on the device, so counted in used
}

// NewMem returns an empty in-memory device of the given capacity in bytes.
func NewMem(name string, capacity int64) *MemDevice {
	return &MemDevice{name: name, capacity: capacity, files: make(map[string]*memData)}
}

func (d *MemDevice) Name() string    { return d.name }
func (d *MemDevice) Health() *Health { return &d.health }
func (d *MemDevice) opErr(op, file string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Device: d.name, File: file, Err: err}
}

// checkLocked is check with d.mu held.
func (d *MemDevice) checkLocked() error {
	if d.closed.Load() {
		return ErrClosed
	}
	if d.health.Failed() {
		return ErrFailed
	}
	return nil
}

func (d *MemDevice) Create(name string, size int64) (File, error) {
	if !validName(name) {
		return nil, d.opErr("create", name, ErrBadName)
	}
	if size < 0 || size%Align != 0 {
		return nil, d.opErr("create", name, ErrUnaligned)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkLocked(); err != nil {
		return nil, d.opErr("create", name, err)
	}
	var old int64
	if md, ok := d.files[name]; ok {
		md.mu.RLock()
		old = int64(len(md.data))
		md.mu.RUnlock()
	}
	if d.used-old+size > d.capacity {
		return nil, d.opErr("create", name, ErrNoSpace)
	}
	if md, ok := d.files[name]; ok {
		md.mu.Lock()
		md.live = false
		md.mu.Unlock()
		d.used -= old
	}
	md := &memData{data: make([]byte, size), dev: d, live: true}
	d.files[name] = md
	d.used += size
	d.health.ObserveWrite(0, 0, nil)
	return &memFile{md: md, name: name}, nil
}

func (d *MemDevice) Open(name string) (File, error) {
	if !validName(name) {
		return nil, d.opErr("open", name, ErrBadName)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkLocked(); err != nil {
		return nil, d.opErr("open", name, err)
	}
	md, ok := d.files[name]
	if !ok {
		return nil, d.opErr("open", name, ErrNotExist)
	}
	return &memFile{md: md, name: name}, nil
}

func (d *MemDevice) Remove(name string) error {
	if !validName(name) {
		return d.opErr("remove", name, ErrBadName)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkLocked(); err != nil {
		return d.opErr("remove", name, err)
	}
	md, ok := d.files[name]
	if !ok {
		return nil
	}
	delete(d.files, name)
	md.mu.Lock()
	md.live = false
	d.used -= int64(len(md.data))
	md.mu.Unlock()
	return nil
}

func (d *MemDevice) List() ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkLocked(); err != nil {
		return nil, d.opErr("list", "", err)
	}
	names := make([]string, 0, len(d.files))
	for n := range d.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func (d *MemDevice) Usage() (used, free int64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkLocked(); err != nil {
		return 0, 0, d.opErr("usage", "", err)
	}
	return d.used, d.capacity - d.used, nil
}

func (d *MemDevice) Close() error {
	d.closed.Store(true)
	return nil
}

// grow extends md to n bytes if capacity allows. md.mu is held for writing.
func (d *MemDevice) grow(md *memData, n int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	extra := n - int64(len(md.data))
	if md.live {
		if d.used+extra > d.capacity {
			return ErrNoSpace
		}
		d.used += extra
	}
	if n <= int64(cap(md.data)) {
		md.data = md.data[:n]
		return nil
	}
	nd := make([]byte, n, n+n/4)
	copy(nd, md.data)
	md.data = nd
	return nil
}

// check is checkLocked without the lock, for the I/O path: both fields it
// reads are atomic.
func (d *MemDevice) check() error { return d.checkLocked() }

// memFile is a handle on a MemDevice file.
type memFile struct {
	md     *memData
	name   string
	closed atomic.Bool
}

func (f *memFile) check() error {
	if f.closed.Load() {
		return ErrClosed
	}
	return f.md.dev.check()
}

func (f *memFile) WritevAt(bufs [][]byte, off int64) (int64, error) {
	d := f.md.dev
	if err := f.check(); err != nil {
		return 0, d.opErr("write", f.name, err)
	}
	total, err := checkIO(bufs, off)
	if err != nil {
		return 0, d.opErr("write", f.name, err)
	}
	start := time.Now()
	// NB: writes take the file's lock exclusively. Callers write disjoint
	// ranges, but a repair may rewrite a unit a reader is reading; on a
	// drive the reader sees old, new or torn bytes (and checksums catch
	// it), in Go memory it would be a data race.
	f.md.mu.Lock()
	if off+total > int64(len(f.md.data)) {
		if err := d.grow(f.md, off+total); err != nil {
			f.md.mu.Unlock()
			return 0, d.opErr("write", f.name, err)
		}
	}
	p := off
	for _, b := range bufs {
		p += int64(copy(f.md.data[p:], b))
	}
	f.md.mu.Unlock()
	d.health.ObserveWrite(int(total), time.Since(start), nil)
	return total, nil
}

func (f *memFile) ReadvAt(bufs [][]byte, off int64) (int64, error) {
	d := f.md.dev
	if err := f.check(); err != nil {
		return 0, d.opErr("read", f.name, err)
	}
	if _, err := checkIO(bufs, off); err != nil {
		return 0, d.opErr("read", f.name, err)
	}
	start := time.Now()
	f.md.mu.RLock()
	var n int64
	var err error
	for _, b := range bufs {
		if off+n >= int64(len(f.md.data)) {
			if len(b) > 0 {
				err = errEOF
				break
			}
			continue
		}
		c := copy(b, f.md.data[off+n:])
		n += int64(c)
		if c < len(b) {
			err = errEOF
			break
		}
	}
	f.md.mu.RUnlock()
	d.health.ObserveRead(int(n), time.Since(start), nil)
	return n, err
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.WritevAt([][]byte{p}, off)
	return int(n), err
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.ReadvAt([][]byte{p}, off)
	return int(n), err
}

func (f *memFile) Sync() error {
	if err := f.check(); err != nil {
		return f.md.dev.opErr("sync", f.name, err)
	}
	f.md.dev.health.ObserveSync(0, nil)
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.check(); err != nil {
		return 0, f.md.dev.opErr("stat", f.name, err)
	}
	f.md.mu.RLock()
	defer f.md.mu.RUnlock()
	return int64(len(f.md.data)), nil
}

func (f *memFile) Close() error {
	f.closed.Store(true)
	return nil
}
