package resp

import (
	"bytes"
	"errors"
	"io"
)

// Default limits, as Redis and KVRocks set them.
const (
	DefaultMaxBulkLen  = 512 << 20 // proto-max-bulk-len
	DefaultMaxArgs     = 1 << 20   // arguments in one multibulk request
	DefaultMaxInline   = 64 << 10  // an inline request or a header line
	DefaultMaxQueryBuf = 1 << 30   // client-query-buffer-limit
	DefaultSmallBulk   = 64 << 10  // bulks up to this size are parsed in place
	// readKeep is the largest read buffer kept between requests; the
	// buffer grows to it for pipelining clients, and shrinks back from
	// beyond it once an outsized request is consumed.
	readKeep = 64 << 10
)

// What a client that has not authenticated may send, as Redis limits it:
// enough for AUTH and HELLO, never a value. Requests over these limits are
// a protocol error, so such a client never makes the server hold more than
// a few KiB per argument, and its bulks never reach the Allocator (they are
// all below SmallBulk).
const (
	UnauthMaxArgs    = 10
	UnauthMaxBulkLen = 16 << 10
)

// Limits bound what one connection may send. Zero fields take the defaults.
type Limits struct {
	// MaxBulkLen is the largest bulk string accepted (proto-max-bulk-len).
	MaxBulkLen int64
	// MaxArgs is the largest argument count of one request.
	MaxArgs int
	// MaxInline bounds an inline request line and every header line.
	MaxInline int
	// MaxQueryBuf bounds the bytes of one request held in the read buffer:
	// every argument except the large bulks streamed out of it.
	MaxQueryBuf int
	// SmallBulk is the largest bulk parsed in place from the read buffer.
	// Larger bulks go to a LargeBulk from the Allocator.
	SmallBulk int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = DefaultMaxArgs
	}
	if l.MaxInline <= 0 {
		l.MaxInline = DefaultMaxInline
	}
	if l.MaxQueryBuf <= 0 {
		l.MaxQueryBuf = DefaultMaxQueryBuf
	}
	if l.SmallBulk <= 0 {
		l.SmallBulk = DefaultSmallBulk
	}
	return l
}

// ProtocolError is malformed input. The connection answers it with
// "-ERR Protocol error: <Msg>" and closes; nothing else is affected.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// The protocol errors, worded as Redis and KVRocks word them.
var (
	errMultibulkLen = &ProtocolError{"invalid multibulk length"}
	errBulkLen      = &ProtocolError{"invalid bulk length"}
	errExpectDollar = &ProtocolError{"expected '$'"}
	errBigInline    = &ProtocolError{"too big inline request"}
	errBulkCRLF     = &ProtocolError{"expected CRLF after bulk data"}
	errQueryBuf     = &ProtocolError{"query buffer limit exceeded"}
	errUnauthMulti  = &ProtocolError{"unauthenticated multibulk length"}
	errNoBudget     = errors.New("resp: client buffers are full")
	errUnauthBulk   = &ProtocolError{"unauthenticated bulk length"}
)

// LargeBulk is memory for one large bulk argument, filled by the Reader
// straight from the connection. *engine.Buffer is one.
type LargeBulk interface {
	// Pages covers exactly the bulk's length.
	Pages() [][]byte
	Release()
}

// Allocator provides memory for a bulk longer than Limits.SmallBulk. name is
// the request's first argument when it is already parsed (nil otherwise),
// idx the bulk's argument index, n its length. An error does not break the
// connection: the Reader discards the bulk, and the request comes back with
// Command.Err set.
type Allocator func(name []byte, idx int, n int64) (LargeBulk, error)

// Budget accounts the memory held in client buffers across connections
// (maxmemory-clients). Implementations are safe for concurrent use.
type Budget interface {
	// Reserve takes n bytes, waiting a bounded time for them; an error
	// refuses them (it is the reply the client gets).
	Reserve(n int64) error
	// TryReserve takes n bytes if they are free now.
	TryReserve(n int64) bool
	// Release gives n bytes back.
	Release(n int64)
}

// heapBulk is a LargeBulk on the Go heap, for arguments that are not values
// headed for the engine (and for readers without an Allocator). Its bytes
// are charged to budget (if any) until Release.
type heapBulk struct {
	p      [1][]byte
	budget Budget
}

func newHeapBulk(n int64) *heapBulk {
	h := &heapBulk{}
	h.p[0] = make([]byte, n)
	return h
}

// NewHeapBulk returns a LargeBulk of n bytes on the Go heap, charged to
// budget (already reserved by the caller) until it is released.
func NewHeapBulk(n int64, budget Budget) LargeBulk {
	h := newHeapBulk(n)
	h.budget = budget
	return h
}

func (h *heapBulk) Pages() [][]byte { return h.p[:] }
func (h *heapBulk) Release() {
	if h.budget != nil {
		h.budget.Release(int64(len(h.p[0])))
		h.budget = nil
	}
}

// Command is one parsed request. Args alias the Reader's buffer and stay
// valid until the next ReadCommand. A bulk that was streamed into a
// LargeBulk has a nil entry in Args and is reached through Large/Take.
type Command struct {
	Args [][]byte
	// Err is set when a large bulk could not be received (its memory could
	// not be had); the request was consumed and must be answered with it.
	Err error
	big []bigArg
	// The dispatcher's notes for the command statistics (commandstats.go).
	ran     *cmdSpec
	errMark uint64
}

type bigArg struct {
	idx int
	lb  LargeBulk
}

// Large returns the streamed bulk of argument i, or nil if it is small.
func (c *Command) Large(i int) LargeBulk {
	for _, b := range c.big {
		if b.idx == i {
			return b.lb
		}
	}
	return nil
}

// Take is Large, moving ownership to the caller, who must Release it.
func (c *Command) Take(i int) LargeBulk {
	for j := range c.big {
		if c.big[j].idx == i && c.big[j].lb != nil {
			lb := c.big[j].lb
			c.big[j].lb = nil
			return lb
		}
	}
	return nil
}

// HasLarge reports whether any argument was streamed.
func (c *Command) HasLarge() bool { return len(c.big) > 0 }

// Release returns every streamed bulk not taken.
func (c *Command) Release() {
	for j := range c.big {
		if c.big[j].lb != nil {
			c.big[j].lb.Release()
			c.big[j].lb = nil
		}
	}
	c.big = c.big[:0]
}

// span locates an argument relative to the request's start in the buffer;
// big >= 0 names a streamed bulk instead, discarded one that was dropped.
type span struct {
	off, n int
	big    int
}

const (
	small     = -1
	discarded = -2
)

// Reader reads requests from a connection: arrays of bulk strings and
// inline commands, within Limits. It reuses one buffer, so parsing a small
// request allocates nothing. Not safe for concurrent use.
type Reader struct {
	rd    io.Reader
	lim   Limits
	alloc Allocator
	// beforeRead runs before every read from rd: the caller flushes
	// pending replies there, so it never sits on them while waiting.
	beforeRead func() error
	// unauth applies the limits of a client that has not authenticated.
	unauth bool
	// budget is charged for the buffer's growth past its initial size.
	budget Budget

	buf     []byte
	initial int
	heap    int64 // bytes of the current request's arguments on the heap
	r, w    int   // buf[r:w] holds unconsumed bytes; r is the request start
	pos     int   // parse position within the current request
	argc    int   // bulks expected in the current array; -1 between requests
	bulk    int   // length of the bulk being read; -1 while reading its header
	spans   []span
	cmd     Command
}

// NewReader returns a Reader of rd with a buffer of size bytes (the
// buffer grows for a single request up to lim.MaxQueryBuf).
func NewReader(rd io.Reader, size int, lim Limits) *Reader {
	if size < 512 {
		size = 512
	}
	return &Reader{rd: rd, lim: lim.withDefaults(), buf: make([]byte, size), initial: size, argc: -1, bulk: -1}
}

// SetBudget sets the budget charged for the buffer's growth past its
// initial size (the caller accounts for the initial buffer). A growth the
// budget refuses ends ReadCommand with the budget's error.
func (r *Reader) SetBudget(b Budget) { r.budget = b }

// SetLimits replaces the limits from the next request on (CONFIG SET).
func (r *Reader) SetLimits(lim Limits) { r.lim = lim.withDefaults() }

// QueryBytes is the memory the current request holds: the read buffer and
// the arguments that went to the heap. Streamed values are not counted:
// they are engine memory.
func (r *Reader) QueryBytes() int64 { return int64(len(r.buf)) + r.heap }

// Close gives the buffer's growth back to the budget; the Reader is not
// used after.
func (r *Reader) Close() {
	if r.budget != nil && len(r.buf) > r.initial {
		r.budget.Release(int64(len(r.buf) - r.initial))
	}
	r.buf = nil
}

// shrink replaces an outsized buffer by one of size bytes, giving the
// difference back to the budget.
func (r *Reader) shrink(size int) {
	if len(r.buf) <= size {
		return
	}
	if r.budget != nil {
		r.budget.Release(int64(len(r.buf) - max(size, r.initial)))
	}
	r.buf = make([]byte, size)
}

// grow replaces the buffer by one of size bytes, keeping its contents,
// once the budget (if any) grants the difference.
func (r *Reader) grow(size int, wait bool) error {
	if r.budget != nil {
		n := int64(size - len(r.buf))
		if !wait {
			if !r.budget.TryReserve(n) {
				return errNoBudget
			}
		} else if err := r.budget.Reserve(n); err != nil {
			return err
		}
	}
	nb := make([]byte, size)
	copy(nb, r.buf[:r.w])
	r.buf = nb
	return nil
}

// SetAllocator sets where large bulks go; nil means the Go heap.
func (r *Reader) SetAllocator(a Allocator) { r.alloc = a }

// SetBeforeRead sets a function run before each read from the connection.
func (r *Reader) SetBeforeRead(f func() error) { r.beforeRead = f }

// SetUnauthenticated applies (or lifts) the limits of a client that has
// not authenticated (UnauthMaxArgs, UnauthMaxBulkLen) from the next
// request on. The caller sets it before each ReadCommand: a request is
// parsed only after the one before it ran, so an AUTH lifts the limits for
// the very next request of the same pipeline.
func (r *Reader) SetUnauthenticated(on bool) { r.unauth = on }

// Buffered is the number of bytes read from the connection but not yet
// consumed by a request.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand returns the next request. The previous Command's Args become
// invalid; its streamed bulks must have been released or taken. Errors
// are a *ProtocolError (answer and close) or the connection's read error.
func (r *Reader) ReadCommand() (*Command, error) {
	c := &r.cmd
	c.Args = c.Args[:0]
	c.Err = nil
	c.big = c.big[:0]
	r.spans = r.spans[:0]
	r.argc, r.bulk = -1, -1
	r.heap = 0
	if r.r == r.w {
		r.r, r.w = 0, 0
		if len(r.buf) > max(4*r.initial, readKeep) {
			// NB: one outsized request grew the buffer; do not keep it.
			r.shrink(r.initial)
		}
	}
	r.pos = r.r
	for {
		done, err := r.parse()
		if err != nil {
			c.Release()
			return nil, err
		}
		if done {
			break
		}
		if err := r.fill(); err != nil {
			c.Release()
			return nil, err
		}
	}
	for _, s := range r.spans {
		if s.big != small {
			c.Args = append(c.Args, nil)
			continue
		}
		start := r.r + s.off
		c.Args = append(c.Args, r.buf[start:start+s.n:start+s.n])
	}
	r.r = r.pos
	return c, nil
}

// parse advances through buffered bytes; done reports a whole request.
func (r *Reader) parse() (done bool, err error) {
	for {
		if r.argc < 0 {
			// Between requests: skip empty lines, then read the
			// array header or an inline request.
			if r.pos == r.w {
				return false, nil
			}
			if r.buf[r.pos] != '*' {
				done, empty, err := r.parseInline()
				if !empty {
					return done, err
				}
				// An empty line was consumed: look for the next request.
				continue
			}
			line, ok, err := r.line(r.pos + 1)
			if !ok || err != nil {
				return false, err
			}
			n, ok := parseInt(line)
			if !ok || n > int64(r.lim.MaxArgs) || r.buf[r.pos+1+len(line)] != '\r' {
				return false, errMultibulkLen
			}
			if r.unauth && n > UnauthMaxArgs {
				return false, errUnauthMulti
			}
			r.pos += 1 + len(line) + 2
			if n <= 0 {
				// An empty array is no request.
				r.r = r.pos
				continue
			}
			r.argc = int(n)
		}
		for len(r.spans) < r.argc {
			if r.bulk < 0 {
				if r.pos == r.w {
					return false, nil
				}
				if r.buf[r.pos] != '$' {
					return false, errExpectDollar
				}
				line, ok, err := r.line(r.pos + 1)
				if !ok || err != nil {
					return false, err
				}
				n, ok := parseInt(line)
				if !ok || n < 0 || n > r.lim.MaxBulkLen || r.buf[r.pos+1+len(line)] != '\r' {
					return false, errBulkLen
				}
				if r.unauth && n > UnauthMaxBulkLen {
					return false, errUnauthBulk
				}
				r.pos += 1 + len(line) + 2
				if n > int64(r.lim.SmallBulk) {
					if err := r.readLarge(n); err != nil {
						return false, err
					}
					continue
				}
				r.bulk = int(n)
			}
			if r.w-r.pos < r.bulk+2 {
				return false, nil
			}
			if r.buf[r.pos+r.bulk] != '\r' || r.buf[r.pos+r.bulk+1] != '\n' {
				return false, errBulkCRLF
			}
			r.spans = append(r.spans, span{off: r.pos - r.r, n: r.bulk, big: small})
			r.pos += r.bulk + 2
			r.bulk = -1
		}
		return true, nil
	}
}

// line returns the bytes from start up to a "\n" (excluding it and a
// preceding "\r"; the caller checks the "\r" where it is required).
func (r *Reader) line(start int) ([]byte, bool, error) {
	// Header lines are short: a plain loop beats IndexByte's call.
	i := -1
	end := min(r.w, start+24)
	for j := start; j < end; j++ {
		if r.buf[j] == '\n' {
			i = j - start
			break
		}
	}
	if i < 0 && end < r.w {
		if k := bytes.IndexByte(r.buf[end:r.w], '\n'); k >= 0 {
			i = end - start + k
		}
	}
	if i < 0 {
		if r.w-start > r.lim.MaxInline {
			return nil, false, errBigInline
		}
		return nil, false, nil
	}
	if i == 0 || r.buf[start+i-1] != '\r' {
		// A header line must end in CRLF; report it through the
		// caller's check on the byte before "\n".
		return r.buf[start : start+i : start+i], true, nil
	}
	return r.buf[start : start+i-1], true, nil
}

// parseInline splits a line on spaces and tabs, as KVRocks does; empty
// reports a blank line, consumed.
func (r *Reader) parseInline() (done, empty bool, err error) {
	i := bytes.IndexByte(r.buf[r.pos:r.w], '\n')
	if i < 0 {
		if r.w-r.pos > r.lim.MaxInline {
			return false, false, errBigInline
		}
		return false, false, nil
	}
	if i > r.lim.MaxInline {
		return false, false, errBigInline
	}
	end := r.pos + i
	lineEnd := end
	if lineEnd > r.pos && r.buf[lineEnd-1] == '\r' {
		lineEnd--
	}
	for j := r.pos; j < lineEnd; {
		for j < lineEnd && (r.buf[j] == ' ' || r.buf[j] == '\t') {
			j++
		}
		k := j
		for k < lineEnd && r.buf[k] != ' ' && r.buf[k] != '\t' {
			k++
		}
		if k > j {
			if len(r.spans) >= r.lim.MaxArgs {
				return false, false, errMultibulkLen
			}
			r.spans = append(r.spans, span{off: j - r.r, n: k - j, big: small})
		}
		j = k
	}
	r.pos = end + 1
	if len(r.spans) == 0 {
		// An empty line is no request: consume it.
		r.r = r.pos
		return false, true, nil
	}
	return true, false, nil
}

// readLarge receives a bulk of n bytes (its header consumed) into memory
// from the Allocator: buffered bytes are copied once, the rest is read
// from the connection straight into the pages.
func (r *Reader) readLarge(n int64) error {
	var name []byte
	if len(r.spans) > 0 && r.spans[0].big < 0 {
		s := r.spans[0]
		name = r.buf[r.r+s.off : r.r+s.off+s.n]
	}
	var lb LargeBulk
	var err error
	if r.cmd.Err == nil {
		if r.alloc != nil {
			lb, err = r.alloc(name, len(r.spans), n)
		} else {
			lb = newHeapBulk(n)
		}
	}
	if h, ok := lb.(*heapBulk); ok {
		r.heap += int64(len(h.p[0]))
	}
	if lb == nil {
		if err != nil {
			r.cmd.Err = err
		}
		if err := r.discard(n); err != nil {
			return err
		}
	} else {
		r.cmd.big = append(r.cmd.big, bigArg{idx: len(r.spans), lb: lb})
		mark := r.pos
		if err := r.fillPages(lb); err != nil {
			return err
		}
		// The bulk's bytes that were buffered are copied out: reclaim
		// their room so the buffer does not grow for them.
		n := copy(r.buf[mark:], r.buf[r.pos:r.w])
		r.pos, r.w = mark, mark+n
	}
	if lb == nil {
		r.spans = append(r.spans, span{big: discarded})
	} else {
		r.spans = append(r.spans, span{big: len(r.cmd.big) - 1})
	}
	// The CRLF after the data goes through the buffer like any header.
	for r.w-r.pos < 2 {
		if err := r.fill(); err != nil {
			return err
		}
	}
	if r.buf[r.pos] != '\r' || r.buf[r.pos+1] != '\n' {
		return errBulkCRLF
	}
	r.pos += 2
	return nil
}

// pageFiller is a LargeBulk that wants to hear as its pages fill
// (*engine.Buffer starts writing them to the NVMe tier at once).
type pageFiller interface{ Filled(n int) }

func (r *Reader) fillPages(lb LargeBulk) error {
	pf, _ := lb.(pageFiller)
	for i, p := range lb.Pages() {
		k := copy(p, r.buf[r.pos:r.w])
		r.pos += k
		if k == len(p) {
			if pf != nil {
				pf.Filled(i + 1)
			}
			continue
		}
		if r.beforeRead != nil {
			if err := r.beforeRead(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(r.rd, p[k:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if pf != nil {
			pf.Filled(i + 1)
		}
	}
	return nil
}

// discard drops n bytes of input. The request's earlier arguments stay in
// the buffer; only the region after them is reused for the dropped bytes.
func (r *Reader) discard(n int64) error {
	mark := r.pos
	for n > 0 {
		if r.pos == r.w {
			r.pos, r.w = mark, mark
			if err := r.fill(); err != nil {
				return err
			}
			mark = r.pos // fill may have moved the request
		}
		k := int64(r.w - r.pos)
		if k > n {
			k = n
		}
		r.pos += int(k)
		n -= k
	}
	return nil
}

// fill reads more input, making room first: the current request moves to
// the front of the buffer, or the buffer grows (up to MaxQueryBuf).
func (r *Reader) fill() error {
	if r.w == len(r.buf) {
		if r.r > 0 {
			copy(r.buf, r.buf[r.r:r.w])
			r.pos -= r.r
			r.w -= r.r
			r.r = 0
		} else {
			if int64(len(r.buf))+r.heap >= int64(r.lim.MaxQueryBuf) {
				return errQueryBuf
			}
			size := min(2*len(r.buf), r.lim.MaxQueryBuf-int(min(r.heap, int64(r.lim.MaxQueryBuf))))
			if r.beforeRead != nil {
				// Send what is queued before maybe waiting for memory.
				if err := r.beforeRead(); err != nil {
					return err
				}
			}
			if err := r.grow(size, true); err != nil {
				return err
			}
		}
	}
	if r.beforeRead != nil {
		if err := r.beforeRead(); err != nil {
			return err
		}
	}
	free := len(r.buf) - r.w
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	if n > 0 {
		if size := min(2*len(r.buf), readKeep, r.lim.MaxQueryBuf); n == free && size > len(r.buf) {
			// A client that fills the buffer in one read pipelines:
			// give it room for more per read, up to readKeep, if
			// memory allows (kept from then on: no steady-state
			// allocation).
			r.grow(size, false)
		}
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	if errors.Is(err, io.EOF) && (r.w > r.r || r.argc >= 0) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// parseInt parses a decimal integer without allocating: an optional '-'
// and 1 to 18 digits (no '+', no spaces), as request headers use.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
