package resp

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/fastpath"
)

const (
	readBufSize  = 64 << 10
	writeBufSize = 64 << 10
	// flushAt flushes queued replies early so that one connection holds
	// at most about this much reply memory (plus one reply) at a time.
	flushAt = 1 << 20
)

// conn is one client connection. Its fields are used by its own goroutine
// only, except those under mu and the atomics, which CLIENT LIST/KILL and
// INFO read from other connections.
type conn struct {
	s   *Server
	eng *engine.Engine
	nc  net.Conn
	raw syscall.RawConn // nc's descriptor, where values go by reference; nil: copied
	id  uint64
	rd  *Reader
	wr  *Writer

	addr    string
	created time.Time

	mu        sync.Mutex
	name      string
	libName   string
	libVer    string
	ns        string // keyspace; "" is the default namespace
	lastCmd   string
	authed    bool
	admin     bool
	transport string // "fabric:<provider>" after BLOB.HELLO; "": TCP only

	lastActive atomic.Int64 // unix nanoseconds
	cmds       atomic.Int64
	inBytes    atomic.Int64
	outBytes   atomic.Int64
	hits       atomic.Int64
	misses     atomic.Int64

	proto      int
	dirty      bool // a mutation awaits engine.Sync before its reply goes out
	closeAfter bool
	failed     bool // a write failed after its reply was queued: send nothing more
	run        setRun
	large      largeSets
	fast       *fastpath.Session // BLOB.HELLO's session (cmd_blob.go)

	scratch []byte   // reused by replies built in two passes
	keys    [][]byte // reused key lists
	vals    [][]byte // reused value lists
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	c := &conn{s: s, eng: s.eng, nc: nc, id: id, proto: 2, created: time.Now()}
	if a := nc.RemoteAddr(); a != nil {
		c.addr = a.String()
	}
	if sc, ok := nc.(syscall.Conn); ok && s.eng.SendsByReference() {
		c.raw, _ = sc.SyscallConn()
	}
	l := s.live.Load()
	c.rd = NewReader(connReader{c}, readBufSize, l.limits)
	c.rd.SetAllocator(c.allocate)
	c.rd.SetBeforeRead(c.flush)
	c.wr = NewWriter(connWriter{c}, writeBufSize)
	if l.requirePass == "" {
		// KVRocks: without requirepass every client is admin in the
		// default namespace.
		c.authed, c.admin = true, true
	}
	c.lastActive.Store(c.created.UnixNano())
	return c
}

// connReader reads from the socket, applying the idle timeout.
type connReader struct{ c *conn }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	if t := c.idleTimeout(); t > 0 {
		c.nc.SetReadDeadline(time.Now().Add(t))
	}
	n, err := c.nc.Read(p)
	if n > 0 {
		c.inBytes.Add(int64(n))
		c.lastActive.Store(time.Now().UnixNano())
	}
	return n, err
}

// connWriter writes to the socket, counting bytes and bounding stalls.
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	c := w.c
	if t := c.idleTimeout(); t > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(t))
	}
	n, err := c.nc.Write(p)
	c.outBytes.Add(int64(n))
	if n > 0 {
		c.lastActive.Store(time.Now().UnixNano())
	}
	return n, err
}

// ReadFrom hands r to the socket, which takes the pages of a resident
// value by reference (engine.SpliceTo) when r is one: how values go out
// by reference (Writer).
func (w connWriter) ReadFrom(r io.Reader) (int64, error) {
	c := w.c
	if t := c.idleTimeout(); t > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(t))
	}
	var n int64
	var err error
	handled := false
	if c.raw != nil {
		n, handled, err = engine.SpliceTo(c.raw, r)
	}
	switch rf, ok := c.nc.(io.ReaderFrom); {
	case handled:
	case ok:
		n, err = rf.ReadFrom(r)
	default:
		n, err = io.Copy(struct{ io.Writer }{c.nc}, r)
	}
	c.outBytes.Add(n)
	if n > 0 {
		c.lastActive.Store(time.Now().UnixNano())
	}
	return n, err
}

// serve runs the request loop until the client leaves, errs or is killed.
func (c *conn) serve() {
	defer c.nc.Close()
	defer c.stopLarge()
	defer c.closeFast()
	for {
		c.rd.SetUnauthenticated(c.mustAuth())
		cmd, err := c.rd.ReadCommand()
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				c.s.logf("resp: client id=%d addr=%s: %v", c.id, c.addr, err)
				c.wr.Error("ERR " + pe.Error())
				c.flush()
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.s.logf("resp: client id=%d addr=%s: %v", c.id, c.addr, err)
			}
			return
		}
		c.exec(cmd)
		cmd.Release()
		if c.failed {
			return
		}
		if c.closeAfter {
			c.flush()
			return
		}
		if p := c.wr.Pending(); p >= flushAt {
			if max := c.s.live.Load().maxOutputBuffer; max > 0 && p > max {
				c.s.logf("resp: client id=%d addr=%s: output buffer %d bytes over limit, closing", c.id, c.addr, p)
				return
			}
			if c.flush() != nil {
				return
			}
		}
	}
}

// flush makes the batch's mutations durable, then sends the replies. If
// the engine cannot sync, nothing is acknowledged: the connection closes.
func (c *conn) flush() error {
	if !c.commitRun() || !c.drainLarge() {
		return errRunFailed
	}
	if c.dirty {
		c.dirty = false
		if err := c.eng.Sync(); err != nil {
			c.s.logf("resp: client id=%d: engine sync failed, dropping unacknowledged replies: %v", c.id, err)
			c.nc.Close()
			return err
		}
	}
	if c.wr.Pending() == 0 {
		return nil
	}
	return c.wr.Flush()
}

// retire folds the connection's counters into the server's totals.
func (c *conn) retire() {
	st := &c.s.stats
	st.cmds.Add(c.cmds.Load())
	st.inBytes.Add(c.inBytes.Load())
	st.outBytes.Add(c.outBytes.Load())
	st.hits.Add(c.hits.Load())
	st.misses.Add(c.misses.Load())
	c.wr.drop()
}

// mustAuth reports whether the connection has yet to authenticate. Only
// the connection's own goroutine changes authed, so it reads it unlocked.
func (c *conn) mustAuth() bool {
	return !c.authed && c.s.live.Load().requirePass != ""
}

// allocate gives a large bulk its memory: engine arena pages when it is a
// value the command will store, the Go heap otherwise.
func (c *conn) allocate(name []byte, idx int, n int64) (LargeBulk, error) {
	if c.mustAuth() {
		// NB: the Reader's limits keep such bulks out already; an
		// unauthenticated request never takes engine memory whatever
		// the limits are.
		return nil, replyError(errNoAuth)
	}
	spec := c.s.commands.lookup(name)
	if spec == nil {
		// Unknown command: drop the bytes, answer the name.
		return nil, nil
	}
	if spec.valueArg != nil && spec.valueArg(idx) {
		buf, err := c.eng.NewBuffer(n)
		if err != nil {
			// NB: not a typed nil in the interface.
			return nil, err
		}
		return buf, nil
	}
	return newHeapBulk(n), nil
}

// keyspace is the connection's current namespace.
func (c *conn) keyspace() string { return c.ns }

func (c *conn) setNamespace(ns string, admin bool) {
	c.mu.Lock()
	c.ns, c.authed, c.admin = ns, true, admin
	c.mu.Unlock()
}

func (c *conn) setProto(p int) {
	c.proto = p
	c.wr.SetProto(p)
}

// reply helpers

func (c *conn) err(text string)    { c.wr.Error(text) }
func (c *conn) replyErr(err error) { c.wr.Error(errorText(err)) }
func (c *conn) syntaxErr()         { c.wr.Error(errSyntax) }
func (c *conn) wrongArgs()         { c.wr.Error(errWrongArgs) }
func (c *conn) replyValue(v *engine.Value) {
	c.wr.BulkPages(v.Buffers(), v.Len(), v)
}
