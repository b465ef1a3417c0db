package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Sending by reference. A resident value's pages can go to a TCP socket with
// sendfile(2) from the arena's memfd: the socket takes references on the
// pages instead of copying them into its buffers, which spares the server
// one copy of every byte it sends. The price is paid when a sent page is
// reused: the kernel may still hold it (on loopback, until the peer reads
// it), so it is punched out of the file first and replaced by a fresh
// zeroed page. The trade pays where values are read more than rewritten.

// sendMin is the smallest range SendRange sends by reference; shorter ones
// are copied, which is cheaper than the per-page bookkeeping.
const sendMin = 512 << 10

// sendHead is how much of a range SendRange copies before it starts sending
// by reference, so the response head and the first bytes leave together.
const sendHead = 64 << 10

// sendLimits are an arena's sendMin and sendHead (tests lower them).
type sendLimits struct{ min, head int64 }

// mapShared returns a memfd of size bytes mapped shared, or (-1, nil) when
// the kernel cannot give one that is safe to punch page by page.
func mapShared(size int) (int, []byte) {
	// Punching part of a huge shmem page zeroes it in place, under any
	// reference a socket holds. Huge pages are refused on the mapping
	// below, which every policy but "force" honours.
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/shmem_enabled"); err == nil && strings.Contains(string(b), "[force]") {
		return -1, nil
	}
	fd, err := unix.MemfdCreate("gpucache-arena", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, nil
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return -1, nil
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return -1, nil
	}
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		unix.Munmap(mem)
		unix.Close(fd)
		return -1, nil
	}
	return fd, mem
}

// expose records that the pages are about to be sent by reference.
func (a *arena) expose(idx []int32) {
	for _, i := range idx {
		if !a.exposed[i].Load() {
			a.exposed[i].Store(true)
		}
	}
}

// renew readies pages just allocated (idx) for writing. Exposed ones are
// punched out of the arena's file, so writing them cannot change bytes a
// socket still holds; a page that cannot be punched is never written (that
// would corrupt data in flight), so renew panics. Punched and never-used
// pages are then faulted in with one call per run, which costs less than
// one fault per 4 KiB as the writer touches them.
func (a *arena) renew(idx []int32) {
	needs := func(i int32) bool { return a.blank[i] || a.exposed[i].Load() }
	for k := 0; k < len(idx); {
		if !needs(idx[k]) {
			k++
			continue
		}
		j := k + 1
		for j < len(idx) && idx[j] == idx[j-1]+1 && needs(idx[j]) {
			j++
		}
		off, n := int64(idx[k])*pageSize, int64(j-k)*pageSize
		exposed := 0
		for _, i := range idx[k:j] {
			if a.exposed[i].Load() {
				exposed++
			}
		}
		// Punching a hole again is harmless, so the run goes in one call.
		for exposed > 0 {
			err := unix.Fallocate(a.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
			if err == nil {
				break
			}
			if err != unix.EINTR {
				panic(fmt.Sprintf("engine: cannot renew arena pages %d-%d: %v", idx[k], idx[j-1], err))
			}
		}
		// Kernels before 5.14 say EINVAL and leave it to the faults.
		unix.Madvise(a.mem[off:off+n], unix.MADV_POPULATE_WRITE)
		for _, i := range idx[k:j] {
			a.exposed[i].Store(false)
			a.blank[i] = false
		}
		a.renewed.Add(int64(exposed))
		k = j
	}
}

// fileCache keeps open file descriptions of the arena's memfd, one per
// concurrent sender: sendfile(2) as the net package calls it reads from
// the file position, which a shared description would race on.
type fileCache struct {
	src int
	mu  sync.Mutex
	fds []int
}

const fileCacheMax = 64

func (c *fileCache) get() (int, error) {
	c.mu.Lock()
	if n := len(c.fds); n > 0 {
		fd := c.fds[n-1]
		c.fds = c.fds[:n-1]
		c.mu.Unlock()
		return fd, nil
	}
	c.mu.Unlock()
	// Opening the descriptor's /proc link gives a new description.
	return unix.Open(fmt.Sprintf("/proc/self/fd/%d", c.src), unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

func (c *fileCache) put(fd int) {
	c.mu.Lock()
	if len(c.fds) < fileCacheMax {
		c.fds = append(c.fds, fd)
		fd = -1
	}
	c.mu.Unlock()
	if fd >= 0 {
		unix.Close(fd)
	}
}

func (c *fileCache) close() {
	c.mu.Lock()
	for _, fd := range c.fds {
		unix.Close(fd)
	}
	c.fds = nil
	c.mu.Unlock()
}

// SendWriter is a destination SendRange can hand pages to by reference:
// an http.ResponseWriter, a *net.TCPConn.
type SendWriter interface {
	io.Writer
	io.ReaderFrom
}

// SendRange writes bytes [off, off+n) of the value to w, like WriteRange,
// but lets w take a resident value's pages by reference: w's ReadFrom gets
// readers that the net package sends with sendfile(2) when w ends in a TCP
// socket (a *net.TCPConn, or an http.ResponseWriter over plain HTTP). Any
// other ReadFrom reads them, copying, so the result is the same.
func (v *Value) SendRange(w SendWriter, off, n int64) (int64, error) {
	a := v.e.arena
	if v.buf == nil || a.exposed == nil || n < a.limits.min {
		return v.WriteRange(w, off, n)
	}
	if off < 0 || n < 0 || off+n > v.meta.Size {
		return 0, io.ErrUnexpectedEOF
	}
	fd, err := a.files.get()
	if err != nil {
		return v.WriteRange(w, off, n) // out of descriptors: copy
	}
	defer a.files.put(fd)
	head := min(n, a.limits.head)
	total, err := v.WriteRange(w, off, head)
	if err != nil {
		return total, err
	}
	off += head
	s := senderPool.Get().(*sender)
	defer func() {
		*s = sender{}
		senderPool.Put(s)
	}()
	s.pr.fd = fd
	first := off / pageSize
	last := (off + n - total - 1) / pageSize
	a.expose(v.buf.idx[first : last+1])
	idx := v.buf.idx
	for p := first; total < n; {
		// One call per run of consecutive pages: they are consecutive in
		// the file and in the mapping.
		q := p + 1
		for q <= last && idx[q] == idx[q-1]+1 {
			q++
		}
		start := int64(idx[p])*pageSize + off - p*pageSize
		end := int64(idx[q-1])*pageSize + min(off+n-total, q*pageSize) - (q-1)*pageSize
		s.pr.mem = a.mem[start:end:end]
		s.pr.off = start
		s.lr = io.LimitedReader{R: &s.pr, N: end - start}
		s.pr.byFile = false
		m, err := w.ReadFrom(&s.lr)
		total += m
		off += m
		if s.pr.byFile {
			a.sent.Add(m)
		}
		if err != nil {
			return total, err
		}
		if m != end-start {
			return total, io.ErrShortWrite
		}
		p = q
	}
	return total, nil
}

type sender struct {
	pr pageReader
	lr io.LimitedReader
}

var senderPool = sync.Pool{New: func() any { return new(sender) }}

// pageReader reads a run of consecutive arena pages. Through SyscallConn
// it is a file for sendfile(2), positioned at the run; through Read, a copy.
type pageReader struct {
	fd     int    // private open description of the arena's memfd
	off    int64  // file offset of mem[0]
	mem    []byte // the bytes not yet read
	byFile bool   // handed to sendfile
}

func (r *pageReader) Read(p []byte) (int, error) {
	if len(r.mem) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.mem)
	r.mem = r.mem[n:]
	r.off += int64(n)
	return n, nil
}

// SyscallConn makes the reader look like a file to the net package, which
// then sends from the descriptor with sendfile(2).
func (r *pageReader) SyscallConn() (syscall.RawConn, error) { return (*pageFile)(r), nil }

type pageFile pageReader

var errNoWait = errors.New("engine: arena file cannot wait")

func (f *pageFile) Control(fn func(fd uintptr)) error {
	fn(uintptr(f.fd))
	return nil
}

// Read positions the descriptor at the unread bytes and calls fn once (the
// net package's sendfile loop does its own waiting on the socket).
func (f *pageFile) Read(fn func(fd uintptr) bool) error {
	if _, err := unix.Seek(f.fd, f.off, io.SeekStart); err != nil {
		return err
	}
	f.byFile = true
	if !fn(uintptr(f.fd)) {
		return errNoWait
	}
	return nil
}

func (f *pageFile) Write(fn func(fd uintptr) bool) error { return errNoWait }

// SendsByReference reports whether SendRange hands resident pages to
// sockets (Options.SendByReference, and the kernel gave a memfd).
func (e *Engine) SendsByReference() bool { return e.arena.exposed != nil }
