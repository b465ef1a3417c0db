package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// mirrorFS keeps the metadata store on several devices at once, so that it
// is protected to the same level as the erasure-coded blobs: with m parity
// devices it lives on m+1 of them and survives losing any m.
//
// Every mutation goes to every healthy mirror; reads come from the first
// healthy one and fall back to the others. A mirror that fails an operation
// is dropped for the rest of the run and the survivors' generation is bumped
// (generation file), so at the next open the stale mirror is recognised and
// re-copied from the newest one before the store opens (syncMirrors).
type mirrorFS struct {
	roots []string // mirror directories; pebble is opened on roots[0]
	logf  func(string, ...any)

	mu     sync.Mutex
	failed []bool
	gen    uint64
}

const mirrorGenFile = "MIRROR-GENERATION"

var errAllMirrorsFailed = errors.New("engine: every metadata mirror failed")

var _ vfs.FS = (*mirrorFS)(nil)

// readGeneration returns a mirror's generation, 0 when it has none.
func readGeneration(root string) uint64 {
	b, err := os.ReadFile(filepath.Join(root, mirrorGenFile))
	if err != nil {
		return 0
	}
	g, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return g
}

func writeGeneration(root string, gen uint64) error {
	tmp := filepath.Join(root, mirrorGenFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%d\n", gen)
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(root, mirrorGenFile)); err != nil {
		return err
	}
	d, err := os.Open(root)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// syncMirrors makes every mirror in roots a copy of the newest one among
// roots and candidates (other places an earlier run may have kept the
// store, e.g. devices listed in another order), bumps the generation and
// returns the mirror FS. It refuses to start empty when required is set
// (the blob volume holds data) and no mirror has the store.
func syncMirrors(roots, candidates []string, required bool, logf func(string, ...any)) (*mirrorFS, error) {
	src, best := "", uint64(0)
	for _, r := range append(append([]string(nil), roots...), candidates...) {
		if g := readGeneration(r); g > best {
			src, best = r, g
		}
	}
	if best == 0 && required {
		return nil, fmt.Errorf("engine: the metadata store is missing from every device (%s) but the devices hold data: "+
			"too many devices lost; refusing to start empty", strings.Join(roots, ", "))
	}
	for _, r := range roots {
		if err := os.MkdirAll(r, 0o755); err != nil {
			return nil, fmt.Errorf("engine: cannot create metadata mirror %s: %w", r, err)
		}
		if src == "" || r == src || readGeneration(r) == best {
			continue
		}
		logf("metadata mirror %s is stale (generation %d < %d): copying from %s", r, readGeneration(r), best, src)
		if err := copyDir(src, r); err != nil {
			return nil, fmt.Errorf("engine: cannot restore metadata mirror %s: %w", r, err)
		}
	}
	fs := &mirrorFS{roots: roots, logf: logf, failed: make([]bool, len(roots)), gen: best + 1}
	for _, r := range roots {
		if err := writeGeneration(r, fs.gen); err != nil {
			return nil, fmt.Errorf("engine: cannot write metadata mirror generation in %s: %w", r, err)
		}
	}
	return fs, nil
}

// copyDir replaces dst's contents with a copy of src's files.
func copyDir(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() || e.Name() == mirrorGenFile || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	d, err := os.Open(dst)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// mirrorPath maps a path under roots[0] to mirror i.
func (m *mirrorFS) mirrorPath(i int, name string) string {
	if i == 0 {
		return name
	}
	if rel, ok := strings.CutPrefix(name, m.roots[0]); ok {
		return m.roots[i] + rel
	}
	return name
}

func (m *mirrorFS) healthy() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int, 0, len(m.roots))
	for i, f := range m.failed {
		if !f {
			out = append(out, i)
		}
	}
	return out
}

// fail drops mirror i after err and records, in the survivors, that it is
// now stale.
func (m *mirrorFS) fail(i int, err error) {
	m.mu.Lock()
	if m.failed[i] {
		m.mu.Unlock()
		return
	}
	m.failed[i] = true
	m.gen++
	gen := m.gen
	var survivors []string
	for j, f := range m.failed {
		if !f {
			survivors = append(survivors, m.roots[j])
		}
	}
	m.mu.Unlock()
	m.logf("metadata mirror %s failed and is dropped until restart: %v", m.roots[i], err)
	for _, r := range survivors {
		if werr := writeGeneration(r, gen); werr != nil {
			m.logf("cannot record metadata mirror generation in %s: %v", r, werr)
		}
	}
}

// each runs op on every healthy mirror, dropping those that fail; it fails
// only if every mirror does.
func (m *mirrorFS) each(op func(i int, path string) error, name string) error {
	var last error
	ok := 0
	for _, i := range m.healthy() {
		if err := op(i, m.mirrorPath(i, name)); err != nil {
			if os.IsNotExist(err) || os.IsExist(err) {
				return err // a namespace answer, not a device failure
			}
			m.fail(i, err)
			last = err
			continue
		}
		ok++
	}
	return anySucceeded(ok, last)
}

// first runs a read op on healthy mirrors until one succeeds.
func (m *mirrorFS) first(op func(path string) error, name string) error {
	var err error
	for _, i := range m.healthy() {
		if err = op(m.mirrorPath(i, name)); err == nil || os.IsNotExist(err) {
			return err
		}
	}
	if err == nil {
		err = errAllMirrorsFailed
	}
	return err
}

// openAll opens name on every healthy mirror; open gets the mirror index
// and the mirror's path.
func (m *mirrorFS) openAll(name string, open func(i int, path string) (vfs.File, error)) (vfs.File, error) {
	mf := &mirrorFile{fs: m, files: make([]vfs.File, len(m.roots))}
	err := m.each(func(i int, p string) error {
		f, err := open(i, p)
		if err == nil {
			mf.files[i] = f
		}
		return err
	}, name)
	if err != nil {
		mf.Close()
		return nil, err
	}
	return mf, nil
}

func (m *mirrorFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return m.openAll(name, func(_ int, p string) (vfs.File, error) { return vfs.Default.Create(p, c) })
}

func (m *mirrorFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return m.openAll(name, func(_ int, p string) (vfs.File, error) { return vfs.Default.OpenReadWrite(p, c, opts...) })
}

func (m *mirrorFS) OpenDir(name string) (vfs.File, error) {
	return m.openAll(name, func(_ int, p string) (vfs.File, error) { return vfs.Default.OpenDir(p) })
}

func (m *mirrorFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return m.openAll(newname, func(i int, p string) (vfs.File, error) {
		return vfs.Default.ReuseForWrite(m.mirrorPath(i, oldname), p, c)
	})
}

// Open opens for reading on every healthy mirror, so a read can fall back.
func (m *mirrorFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return m.openAll(name, func(_ int, p string) (vfs.File, error) { return vfs.Default.Open(p, opts...) })
}

func (m *mirrorFS) Link(oldname, newname string) error {
	return m.each(func(i int, p string) error { return vfs.Default.Link(m.mirrorPath(i, oldname), p) }, newname)
}

func (m *mirrorFS) Remove(name string) error {
	return m.each(func(_ int, p string) error { return vfs.Default.Remove(p) }, name)
}

func (m *mirrorFS) RemoveAll(name string) error {
	return m.each(func(_ int, p string) error { return vfs.Default.RemoveAll(p) }, name)
}

func (m *mirrorFS) Rename(oldname, newname string) error {
	return m.each(func(i int, p string) error { return vfs.Default.Rename(m.mirrorPath(i, oldname), p) }, newname)
}

func (m *mirrorFS) MkdirAll(dir string, perm os.FileMode) error {
	return m.each(func(_ int, p string) error { return vfs.Default.MkdirAll(p, perm) }, dir)
}

func (m *mirrorFS) Lock(name string) (io.Closer, error) {
	var locks multiCloser
	err := m.each(func(_ int, p string) error {
		l, err := vfs.Default.Lock(p)
		if err == nil {
			locks = append(locks, l)
		}
		return err
	}, name)
	if err != nil {
		locks.Close()
		return nil, err
	}
	return locks, nil
}

func (m *mirrorFS) List(dir string) ([]string, error) {
	var out []string
	err := m.first(func(p string) error {
		l, err := vfs.Default.List(p)
		out = l
		return err
	}, dir)
	return out, err
}

func (m *mirrorFS) Stat(name string) (vfs.FileInfo, error) {
	var out vfs.FileInfo
	err := m.first(func(p string) error {
		fi, err := vfs.Default.Stat(p)
		out = fi
		return err
	}, name)
	return out, err
}

func (m *mirrorFS) PathBase(p string) string       { return vfs.Default.PathBase(p) }
func (m *mirrorFS) PathJoin(elem ...string) string { return vfs.Default.PathJoin(elem...) }
func (m *mirrorFS) PathDir(p string) string        { return vfs.Default.PathDir(p) }
func (m *mirrorFS) Unwrap() vfs.FS                 { return nil }
func (m *mirrorFS) GetDiskUsage(p string) (vfs.DiskUsage, error) {
	var out vfs.DiskUsage
	err := m.first(func(q string) error {
		du, err := vfs.Default.GetDiskUsage(q)
		out = du
		return err
	}, p)
	return out, err
}

// anySucceeded is the outcome of an operation fanned out to the mirrors:
// success if any mirror took it, else the last error.
func anySucceeded(ok int, last error) error {
	if ok > 0 {
		return nil
	}
	if last == nil {
		return errAllMirrorsFailed
	}
	return last
}

type multiCloser []io.Closer

func (c multiCloser) Close() error {
	var first error
	for _, x := range c {
		if err := x.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// mirrorFile is one file open on every healthy mirror.
type mirrorFile struct {
	fs    *mirrorFS
	files []vfs.File // by mirror index; nil where not open
	off   int64      // Read's position
}

var _ vfs.File = (*mirrorFile)(nil)

// write runs op on every open, healthy copy.
func (f *mirrorFile) write(op func(vfs.File) error) error {
	var last error
	ok := 0
	for i, x := range f.files {
		if x == nil {
			continue
		}
		if f.fs.isFailed(i) {
			x.Close()
			f.files[i] = nil
			continue
		}
		if err := op(x); err != nil {
			f.fs.fail(i, err)
			x.Close()
			f.files[i] = nil
			last = err
			continue
		}
		ok++
	}
	return anySucceeded(ok, last)
}

// read runs op on the first copy that succeeds.
func (f *mirrorFile) read(op func(vfs.File) error) error {
	err := errAllMirrorsFailed
	for i, x := range f.files {
		if x == nil || f.fs.isFailed(i) {
			continue
		}
		if err = op(x); err == nil || err == io.EOF {
			return err
		}
	}
	return err
}

func (m *mirrorFS) isFailed(i int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed[i]
}

func (f *mirrorFile) Close() error {
	var first error
	for i, x := range f.files {
		if x != nil {
			if err := x.Close(); err != nil && first == nil {
				first = err
			}
			f.files[i] = nil
		}
	}
	return first
}

// Read reads sequentially through ReadAt at the file's own offset, so any
// healthy copy can serve each call.
func (f *mirrorFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *mirrorFile) ReadAt(p []byte, off int64) (int, error) {
	var n int
	err := f.read(func(x vfs.File) error {
		var err error
		n, err = x.ReadAt(p, off)
		return err
	})
	return n, err
}

func (f *mirrorFile) Write(p []byte) (int, error) {
	err := f.write(func(x vfs.File) error { _, err := x.Write(p); return err })
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (f *mirrorFile) WriteAt(p []byte, off int64) (int, error) {
	err := f.write(func(x vfs.File) error { _, err := x.WriteAt(p, off); return err })
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (f *mirrorFile) Preallocate(off, n int64) error {
	return f.write(func(x vfs.File) error { return x.Preallocate(off, n) })
}

func (f *mirrorFile) Stat() (vfs.FileInfo, error) {
	var out vfs.FileInfo
	err := f.read(func(x vfs.File) error {
		fi, err := x.Stat()
		out = fi
		return err
	})
	return out, err
}

// Sync syncs the copies in parallel: the slowest device sets the latency,
// not the sum of them.
func (f *mirrorFile) Sync() error { return f.syncAll(func(x vfs.File) error { return x.Sync() }) }

func (f *mirrorFile) SyncData() error {
	return f.syncAll(func(x vfs.File) error { return x.SyncData() })
}

func (f *mirrorFile) SyncTo(length int64) (bool, error) {
	var partial atomic.Bool // NB: syncAll runs op on the copies in parallel
	err := f.syncAll(func(x vfs.File) error {
		fs, err := x.SyncTo(length)
		if !fs {
			partial.Store(true)
		}
		return err
	})
	return !partial.Load(), err
}

func (f *mirrorFile) syncAll(op func(vfs.File) error) error {
	var live []int
	for i, x := range f.files {
		if x != nil && !f.fs.isFailed(i) {
			live = append(live, i)
		}
	}
	if len(live) == 1 {
		return f.write(op)
	}
	errs := make([]error, len(f.files))
	var wg sync.WaitGroup
	for _, i := range live {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = op(f.files[i])
		}(i)
	}
	wg.Wait()
	return f.write(func(x vfs.File) error {
		for i, y := range f.files {
			if y == x {
				return errs[i]
			}
		}
		return nil
	})
}

func (f *mirrorFile) Prefetch(off, n int64) error {
	return f.read(func(x vfs.File) error { return x.Prefetch(off, n) })
}

func (f *mirrorFile) Fd() uintptr {
	for _, x := range f.files {
		if x != nil {
			return x.Fd()
		}
	}
	return vfs.InvalidFd
}
