package nvme

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// probeName is the file OpenDir writes to learn whether the file system
// accepts O_DIRECT. Dot files are not listed.
const probeName = ".gpucache-direct-probe"

// DirDevice is a Device backed by a directory, normally the mount point of
// one NVMe namespace. Files are opened with O_DIRECT unless the file system
// refuses it. At most the configured queue depth of operations run at once.
type DirDevice struct {
	path   string
	opts   options
	direct bool
	health Health
	queue  chan struct{}
	closed atomic.Bool
	root   *os.File // the directory at open, held so its inode stays its own (Check)
}

var _ Device = (*DirDevice)(nil)

// OpenDir opens (creating it if missing) the directory at path as a device.
// It probes O_DIRECT with a real aligned write and read and falls back to
// buffered I/O if the file system refuses it.
func OpenDir(path string, opts ...Option) (*DirDevice, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, &OpError{Op: "open", Device: path, Err: err}
	}
	root, err := os.Open(path)
	if err != nil {
		return nil, &OpError{Op: "open", Device: path, Err: err}
	}
	d := &DirDevice{path: path, opts: o, queue: make(chan struct{}, o.queueDepth), root: root}
	d.health.SetFailAfter(o.failAfter)
	if o.direct {
		d.direct = probeDirect(path)
	}
	return d, nil
}

// probeDirect reports whether an O_DIRECT file in dir accepts an aligned
// write and read. Some file systems accept the open flag and refuse the I/O.
func probeDirect(dir string) bool {
	p := filepath.Join(dir, probeName)
	defer os.Remove(p)
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_DIRECT, 0o644)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	buf := AlignedAlloc(Align)
	defer AlignedFree(buf)
	if _, err := pwritevAll(fd, [][]byte{buf}, 0); err != nil {
		return false
	}
	_, err = preadvAll(fd, [][]byte{buf}, 0)
	return err == nil
}

// Name returns the directory path.
func (d *DirDevice) Name() string { return d.path }

// Direct reports whether files are opened with O_DIRECT.
func (d *DirDevice) Direct() bool { return d.direct }

// Health returns the device's error and latency record.
func (d *DirDevice) Health() *Health { return &d.health }

// QueueDepth returns the bound on concurrent operations.
func (d *DirDevice) QueueDepth() int { return cap(d.queue) }

func (d *DirDevice) check() error {
	if d.closed.Load() {
		return ErrClosed
	}
	if d.health.Failed() {
		return ErrFailed
	}
	return nil
}

// Check looks at the device itself rather than at its I/O: a directory
// that vanished or was replaced under the running process (a drive pulled,
// a file system unmounted) marks the device failed, even if files opened
// before keep working. It returns the failure, or nil.
func (d *DirDevice) Check() error {
	if err := d.check(); err != nil {
		return err
	}
	fi, err := os.Stat(d.path)
	if err == nil {
		var orig os.FileInfo
		if orig, err = d.root.Stat(); err == nil && !os.SameFile(fi, orig) {
			err = errors.New("directory was replaced")
		}
	}
	if err != nil {
		d.health.MarkFailed()
		return d.opErr("check", "", fmt.Errorf("%w: %v", ErrFailed, err))
	}
	return nil
}

func (d *DirDevice) acquire() { d.queue <- struct{}{} }
func (d *DirDevice) release() { <-d.queue }

func (d *DirDevice) opErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.ENOENT) {
		err = ErrNotExist
	} else if errors.Is(err, unix.ENOSPC) {
		err = fmt.Errorf("%w (%v)", ErrNoSpace, err)
	}
	return &OpError{Op: op, Device: d.path, File: name, Err: err}
}

// observeMeta records a metadata operation's outcome in Health.
func (d *DirDevice) observeMeta(start time.Time, err error) {
	if !deviceError(err) {
		err = nil
	}
	d.health.ObserveWrite(0, time.Since(start), err)
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsRune(name, '/')
}

func (d *DirDevice) openFile(op, name string, flags int) (*dirFile, error) {
	if err := d.check(); err != nil {
		return nil, d.opErr(op, name, err)
	}
	if !validName(name) {
		return nil, d.opErr(op, name, ErrBadName)
	}
	if d.direct {
		flags |= unix.O_DIRECT
	}
	d.acquire()
	start := time.Now()
	fd, err := unix.Open(filepath.Join(d.path, name), flags|unix.O_RDWR|unix.O_CLOEXEC, 0o644)
	d.release()
	err = d.opErr(op, name, err)
	d.observeMeta(start, err)
	if err != nil {
		return nil, err
	}
	return &dirFile{d: d, name: name, fd: fd}, nil
}

// Create creates or truncates the named file and reserves size bytes with
// fallocate (ftruncate where the file system cannot preallocate). The
// directory is synced so the name survives a crash.
func (d *DirDevice) Create(name string, size int64) (File, error) {
	if size < 0 || size%Align != 0 {
		return nil, d.opErr("create", name, ErrUnaligned)
	}
	f, err := d.openFile("create", name, unix.O_CREAT|unix.O_TRUNC)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if size > 0 {
		err = unix.Fallocate(f.fd, 0, 0, size)
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
			err = unix.Ftruncate(f.fd, size)
		}
	}
	if err == nil {
		err = d.syncDir()
	}
	err = d.opErr("create", name, err)
	d.observeMeta(start, err)
	if err != nil {
		f.Close()
		_ = os.Remove(filepath.Join(d.path, name))
		return nil, err
	}
	return f, nil
}

// Open opens an existing file.
func (d *DirDevice) Open(name string) (File, error) {
	return d.openFile("open", name, 0)
}

// Remove deletes the named file and syncs the directory. A missing file is
// not an error.
func (d *DirDevice) Remove(name string) error {
	if err := d.check(); err != nil {
		return d.opErr("remove", name, err)
	}
	if !validName(name) {
		return d.opErr("remove", name, ErrBadName)
	}
	start := time.Now()
	err := unix.Unlink(filepath.Join(d.path, name))
	if errors.Is(err, unix.ENOENT) {
		err = nil
	} else if err == nil {
		err = d.syncDir()
	}
	err = d.opErr("remove", name, err)
	d.observeMeta(start, err)
	return err
}

func (d *DirDevice) syncDir() error {
	fd, err := unix.Open(d.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fsync(fd)
}

// List returns the regular files in the directory, sorted. Dot files are
// left out.
func (d *DirDevice) List() ([]string, error) {
	if err := d.check(); err != nil {
		return nil, d.opErr("list", "", err)
	}
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return nil, d.opErr("list", "", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Usage reports the bytes allocated to files and the bytes free for an
// unprivileged writer on the file system.
func (d *DirDevice) Usage() (used, free int64, err error) {
	if err := d.check(); err != nil {
		return 0, 0, d.opErr("usage", "", err)
	}
	err = filepath.WalkDir(d.path, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err == nil {
			used += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		return 0, 0, d.opErr("usage", "", err)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(d.path, &sfs); err != nil {
		return 0, 0, d.opErr("usage", "", err)
	}
	return used, int64(sfs.Bavail) * int64(sfs.Bsize), nil
}

// Close marks the device closed. Files must be closed first.
func (d *DirDevice) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	return d.root.Close()
}

// dirFile is a file on a DirDevice.
type dirFile struct {
	d      *DirDevice
	name   string
	fd     int
	closed atomic.Bool
}

func (f *dirFile) check() error {
	if f.closed.Load() {
		return ErrClosed
	}
	return f.d.check()
}

func (f *dirFile) WritevAt(bufs [][]byte, off int64) (int64, error) {
	if err := f.check(); err != nil {
		return 0, f.d.opErr("write", f.name, err)
	}
	if _, err := checkIO(bufs, off); err != nil {
		return 0, f.d.opErr("write", f.name, err)
	}
	f.d.acquire()
	start := time.Now()
	n, err := pwritevAll(f.fd, bufs, off)
	f.d.release()
	err = f.d.opErr("write", f.name, err)
	f.d.health.ObserveWrite(int(n), time.Since(start), healthErr(err))
	return n, err
}

func (f *dirFile) ReadvAt(bufs [][]byte, off int64) (int64, error) {
	if err := f.check(); err != nil {
		return 0, f.d.opErr("read", f.name, err)
	}
	if _, err := checkIO(bufs, off); err != nil {
		return 0, f.d.opErr("read", f.name, err)
	}
	f.d.acquire()
	start := time.Now()
	n, err := preadvAll(f.fd, bufs, off)
	f.d.release()
	f.d.health.ObserveRead(int(n), time.Since(start), healthErr(err))
	if err != nil && err != errEOF {
		err = f.d.opErr("read", f.name, err)
	}
	return n, err
}

func (f *dirFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.WritevAt([][]byte{p}, off)
	return int(n), err
}

func (f *dirFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.ReadvAt([][]byte{p}, off)
	return int(n), err
}

func (f *dirFile) Sync() error {
	if err := f.check(); err != nil {
		return f.d.opErr("sync", f.name, err)
	}
	f.d.acquire()
	start := time.Now()
	err := unix.Fdatasync(f.fd)
	f.d.release()
	err = f.d.opErr("sync", f.name, err)
	f.d.health.ObserveSync(time.Since(start), healthErr(err))
	return err
}

func (f *dirFile) Size() (int64, error) {
	if err := f.check(); err != nil {
		return 0, f.d.opErr("stat", f.name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return 0, f.d.opErr("stat", f.name, err)
	}
	return st.Size, nil
}

func (f *dirFile) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	return f.d.opErr("close", f.name, unix.Close(f.fd))
}

// healthErr filters out errors that say nothing about the device.
func healthErr(err error) error {
	if deviceError(err) {
		return err
	}
	return nil
}
