package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Sending by reference. A resident value's pages can go to a socket as
// pages: vmsplice(2) puts references to them in a pipe and splice(2) moves
// those references into the socket's buffers, which spares the server one
// copy of every byte it sends. The price is paid when a sent page is
// reused: the kernel may still hold it (on loopback, until the peer reads
// it), so it is dropped from the arena's mapping first and replaced by a
// fresh zeroed page (renew). With the arena in transparent huge pages a
// renewal costs one fault per 2 MiB, so the trade pays wherever a value is
// read at least about as often as it is written.

// sendMin is the smallest range SendRange sends by reference; shorter ones
// are copied, which is cheaper than the per-page bookkeeping.
const sendMin = 512 << 10

// sendHead is how much of a range SendRange copies before it starts sending
// by reference, so the response head and the first bytes leave together.
const sendHead = 64 << 10

// sendLimits are an arena's sendMin and sendHead (tests lower them).
type sendLimits struct{ min, head int64 }

// expose records that the pages are about to be sent by reference.
func (a *arena) expose(idx []int32) {
	for _, i := range idx {
		if !a.exposed[i].Load() {
			a.exposed[i].Store(true)
		}
	}
}

// renew readies pages just allocated (idx) for writing. Exposed ones are
// dropped from the mapping (MADV_DONTNEED), so writing them faults in new
// pages and cannot change bytes a socket still holds; a page that cannot
// be dropped is never written (that would corrupt data in flight), so
// renew panics. Dropped and never-used pages are then faulted in with one
// call per run, which costs less than one fault per 4 KiB as the writer
// touches them.
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
		// Dropping a never-written page is harmless, so the run goes in
		// one call.
		for exposed > 0 {
			err := unix.Madvise(a.mem[off:off+n], unix.MADV_DONTNEED)
			if err == nil {
				break
			}
			if err != unix.EINTR && err != unix.EAGAIN {
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

// pipe is a pipe that carries page references from vmsplice to splice.
type pipe struct {
	r, w int
	size int  // capacity in bytes
	big  bool // enlarged to pipeSize
}

// pipeSize is the capacity asked of the first bigPipes pipes: one vmsplice
// and one splice per MiB. Others keep the default (64 KiB). An unprivileged
// user's pipes share fs.pipe-user-pages-soft (64 MiB by default), past
// which new pipes get two pages; bigPipes stays well inside it.
const (
	pipeSize = 1 << 20
	bigPipes = 32
)

// pipePool keeps empty pipes, one per concurrent sender.
type pipePool struct {
	mu     sync.Mutex
	free   []pipe
	big    int // open pipes enlarged to pipeSize
	closed bool
}

const pipeCacheMax = 64

// usable reports whether the kernel takes page references through a pipe
// (vmsplice), trying it once.
func (pp *pipePool) usable() bool {
	mem := make([]byte, 1)
	p, err := pp.get()
	if err != nil {
		return false
	}
	defer pp.discard(p)
	var iov unix.Iovec
	iov.Base = &mem[0]
	iov.SetLen(1)
	n, err := unix.Vmsplice(p.w, []unix.Iovec{iov}, unix.SPLICE_F_NONBLOCK)
	return err == nil && n == 1
}

func (pp *pipePool) get() (pipe, error) {
	pp.mu.Lock()
	if n := len(pp.free); n > 0 {
		p := pp.free[n-1]
		pp.free = pp.free[:n-1]
		pp.mu.Unlock()
		return p, nil
	}
	pp.mu.Unlock()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return pipe{}, err
	}
	p := pipe{r: fds[0], w: fds[1]}
	pp.mu.Lock()
	p.big = pp.big < bigPipes
	if p.big {
		pp.big++
	}
	pp.mu.Unlock()
	size, err := 0, error(nil)
	if p.big {
		size, err = unix.FcntlInt(uintptr(p.w), unix.F_SETPIPE_SZ, pipeSize)
	}
	if !p.big || err != nil {
		size, err = unix.FcntlInt(uintptr(p.w), unix.F_GETPIPE_SZ, 0)
	}
	if err != nil || size < 4096 {
		size = 4096
	}
	p.size = size
	return p, nil
}

// put returns an empty pipe.
func (pp *pipePool) put(p pipe) {
	pp.mu.Lock()
	if !pp.closed && len(pp.free) < pipeCacheMax {
		pp.free = append(pp.free, p)
		pp.mu.Unlock()
		return
	}
	pp.mu.Unlock()
	pp.discard(p)
}

// discard closes a pipe, with whatever references it still holds.
func (pp *pipePool) discard(p pipe) {
	unix.Close(p.r)
	unix.Close(p.w)
	if p.big {
		pp.mu.Lock()
		pp.big--
		pp.mu.Unlock()
	}
}

func (pp *pipePool) close() {
	pp.mu.Lock()
	free := pp.free
	pp.free, pp.closed = nil, true
	pp.mu.Unlock()
	for _, p := range free {
		pp.discard(p)
	}
}

// SendWriter is a destination SendRange can hand pages to by reference:
// a *net.TCPConn, or a writer whose ReadFrom passes the reader to SpliceTo
// (an http.ResponseWriter over a connection from SpliceListener).
type SendWriter interface {
	io.Writer
	io.ReaderFrom
}

// SendRange writes bytes [off, off+n) of the value to w, like WriteRange,
// but lets w take a resident value's pages by reference. A w that is a
// socket (syscall.Conn) gets them spliced; any other w's ReadFrom gets
// readers of runs of pages, which SpliceTo sends by reference and which
// otherwise read as a copy, so the result is the same.
func (v *Value) SendRange(w SendWriter, off, n int64) (int64, error) {
	a := v.e.arena
	if v.buf == nil || a.exposed == nil || n < a.limits.min {
		return v.WriteRange(w, off, n)
	}
	if off < 0 || n < 0 || off+n > v.meta.Size {
		return 0, io.ErrUnexpectedEOF
	}
	head := min(n, a.limits.head)
	total, err := v.WriteRange(w, off, head)
	if err != nil {
		return total, err
	}
	off += head
	s := senderPool.Get().(*sender)
	defer s.release()
	s.a = a
	var rc syscall.RawConn
	if sc, ok := w.(syscall.Conn); ok {
		rc, _ = sc.SyscallConn()
	}
	first := off / pageSize
	last := (off + n - total - 1) / pageSize
	a.expose(v.buf.idx[first : last+1])
	idx := v.buf.idx
	for p := first; total < n; {
		// One run of consecutive pages at a time: they are consecutive
		// in the mapping.
		q := p + 1
		for q <= last && idx[q] == idx[q-1]+1 {
			q++
		}
		start := int64(idx[p])*pageSize + off - p*pageSize
		end := int64(idx[q-1])*pageSize + min(off+n-total, q*pageSize) - (q-1)*pageSize
		s.pr.mem = a.mem[start:end:end]
		var m int64
		handled := false
		if rc != nil {
			m, handled, err = SpliceTo(rc, &s.pr)
		}
		if !handled {
			m, err = w.ReadFrom(&s.pr)
		}
		total += m
		off += m
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

// sender is SendRange's state for one call: the reader of the current
// run, and what SpliceTo needs to move it, allocated once per pooled
// sender so that a send allocates nothing.
type sender struct {
	a  *arena
	pr pageReader

	p     pipe  // SpliceTo's pipe, while it runs
	left  int   // bytes in the pipe
	more  bool  // more bytes follow the pipe's
	err   error // of the last splice
	drain func(fd uintptr) bool
}

var senderPool = sync.Pool{New: func() any {
	s := new(sender)
	s.pr.s = s
	s.drain = s.drainTo
	return s
}}

func (s *sender) release() {
	s.a, s.pr.mem, s.p, s.err = nil, nil, pipe{}, nil
	senderPool.Put(s)
}

// pageReader reads a run of consecutive arena pages: by reference through
// SpliceTo, as a copy through Read.
type pageReader struct {
	s   *sender
	mem []byte // the bytes not yet read
}

func (r *pageReader) Read(p []byte) (int, error) {
	if len(r.mem) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.mem)
	r.mem = r.mem[n:]
	return n, nil
}

// WriteTo lets a copying ReadFrom (io.Copy) write the run in one call.
func (r *pageReader) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r.mem)
	r.mem = r.mem[n:]
	return int64(n), err
}

// advance records n bytes of the run as sent by reference.
func (s *sender) advance(n int) {
	s.pr.mem = s.pr.mem[n:]
	s.a.sent.Add(int64(n))
}

// SpliceTo sends r to the socket behind rc by reference when r is a run of
// resident pages that SendRange handed to a ReadFrom: vmsplice puts the
// pages in a pipe, splice moves them to the socket, waiting for room
// through rc (so the socket's write deadline holds). For any other r, or a
// socket that cannot take pages, it sends nothing and reports handled
// false; the caller then copies.
func SpliceTo(rc syscall.RawConn, r io.Reader) (n int64, handled bool, err error) {
	pr, ok := r.(*pageReader)
	if !ok || pr.s == nil || &pr.s.pr != pr || pr.s.a == nil {
		return 0, false, nil
	}
	s := pr.s
	a := s.a
	p, err := a.pipes.get()
	if err != nil {
		return 0, false, nil // out of descriptors: copy
	}
	s.p = p
	for len(s.pr.mem) > 0 {
		chunk := s.pr.mem[:min(len(s.pr.mem), p.size)]
		var iov unix.Iovec
		iov.Base = &chunk[0]
		iov.SetLen(len(chunk))
		k, verr := unix.Vmsplice(p.w, []unix.Iovec{iov}, unix.SPLICE_F_NONBLOCK)
		if verr == unix.EINTR {
			continue
		}
		if verr == nil && k <= 0 {
			verr = io.ErrShortWrite
		}
		if verr != nil {
			// The pipe is as it was: empty.
			a.pipes.put(p)
			if n == 0 {
				return 0, false, nil
			}
			return n, true, fmt.Errorf("engine: vmsplice: %w", verr)
		}
		s.left, s.more, s.err = k, k < len(s.pr.mem), nil
		werr := rc.Write(s.drain)
		n += int64(k - s.left)
		if werr == nil {
			werr = s.err
		}
		if werr != nil {
			a.pipes.discard(p) // it may still hold pages
			if n == 0 && unspliceable(werr) {
				return 0, false, nil
			}
			return n, true, werr
		}
	}
	a.pipes.put(p)
	return n, true, nil
}

// drainTo splices the pipe's bytes to the socket fd; false asks the
// caller (RawConn.Write) to wait until the socket has room.
func (s *sender) drainTo(fd uintptr) bool {
	flags := unix.SPLICE_F_NONBLOCK
	if s.more {
		flags |= unix.SPLICE_F_MORE
	}
	for s.left > 0 {
		m, err := unix.Splice(s.p.r, nil, int(fd), nil, s.left, flags)
		if m > 0 {
			s.left -= int(m)
			s.advance(int(m))
		}
		switch {
		case err == unix.EAGAIN:
			return false
		case err == unix.EINTR:
		case err != nil:
			s.err = err
			return true
		case m == 0:
			s.err = io.ErrUnexpectedEOF
			return true
		}
	}
	return true
}

// unspliceable reports whether err says the destination cannot take
// spliced pages at all (as opposed to a failed connection).
func unspliceable(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS)
}

// SpliceListener wraps the TCP connections ln accepts so that their
// ReadFrom sends SendRange's pages by reference (SpliceTo). It is for
// servers whose writers end in the connection's ReadFrom, as net/http's
// response writer does for a body with a known length.
func SpliceListener(ln net.Listener) net.Listener { return spliceListener{ln} }

type spliceListener struct{ net.Listener }

func (l spliceListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		if rc, err := tc.SyscallConn(); err == nil {
			return &spliceConn{TCPConn: tc, rc: rc}, nil
		}
	}
	return c, err
}

// spliceConn is a TCP connection whose ReadFrom takes pages by reference.
type spliceConn struct {
	*net.TCPConn
	rc syscall.RawConn
}

// SyscallConn returns the connection's RawConn, made once.
func (c *spliceConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

func (c *spliceConn) ReadFrom(r io.Reader) (int64, error) {
	if n, ok, err := SpliceTo(c.rc, r); ok {
		return n, err
	}
	return c.TCPConn.ReadFrom(r)
}

// SendsByReference reports whether SendRange hands resident pages to
// sockets (Options.SendByReference, and the kernel takes page references
// through pipes).
func (e *Engine) SendsByReference() bool { return e.arena.exposed != nil }
