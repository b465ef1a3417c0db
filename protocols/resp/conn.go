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
	// A connection starts with small buffers, so that many idle clients
	// cost little; the read buffer grows for a pipelining client up to
	// readKeep, the reply buffer as replies need.
	readBufSize  = 4 << 10
	writeBufSize = 4 << 10
	// writeKeep is the reply buffer kept between batches while client
	// memory is short; otherwise up to 2*flushAt is kept.
	writeKeep = 64 << 10
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
	// guard is the work guard the connection's goroutine holds now.
	guard guardMode

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
	outPending atomic.Int64 // bytes of replies being flushed (INFO client_recent_max_output_buffer, CLIENT LIST obuf)
	inPending  atomic.Int64 // bytes read and not yet parsed (CLIENT LIST qbuf)
	cmds       atomic.Int64
	inBytes    atomic.Int64
	outBytes   atomic.Int64
	hits       atomic.Int64
	misses     atomic.Int64

	lv         *live       // the live configuration last applied
	output     OutputLimit // lv.output
	softUntil  time.Time   // replies being flushed must be taken by then (soft output limit)
	deadlined  bool        // a write deadline is set on nc
	wrCharged  int64       // reply buffer bytes charged to the client budget
	proto      int
	dirty      bool // a mutation awaits engine.Sync before its reply goes out
	closeAfter bool
	failed     bool // a write failed after its reply was queued: send nothing more
	run        setRun
	crun       collRun
	collAnswer []byte // scratch of exec: an answer moved after a run's
	large      largeSets
	fast       *fastpath.Session         // BLOB.HELLO's session (cmd_blob.go)
	ps         *pubsubState              // subscriptions and MONITOR; nil: none ever (pubsub.go)
	pushQ      atomic.Pointer[pushQueue] // ps.q, for CLIENT LIST
	wakes      []*pushQueue              // subscribers published to in this batch (pubsub.go)
	monLines   []monLine                 // MONITOR lines of the command just run (monitor.go)
	tx         *txState                  // MULTI and WATCH (multi.go); nil until used
	multiN     atomic.Int64              // 0 outside MULTI, else 1 + commands queued (CLIENT LIST)
	cl         clusterConn               // READONLY, ASKING, importing link (cluster.go)
	// blockRedirect is the redirection of a blocked command whose slot
	// moved while it waited (blocking.go).
	blockRedirect string

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
	c.rd.SetBudget(&s.budget)
	c.wr = NewWriter(connWriter{c}, writeBufSize)
	c.applyLive(l)
	s.budget.add(readBufSize)
	c.chargeWriter()
	if l.requirePass == "" {
		// KVRocks: without requirepass every client is admin in the
		// default namespace.
		c.authed, c.admin = true, true
	}
	c.lastActive.Store(c.created.UnixNano())
	return c
}

// applyLive takes the connection's limits from the live configuration
// (CONFIG SET changes them for connected clients too).
func (c *conn) applyLive(l *live) {
	c.lv = l
	c.output = l.output
	c.rd.SetLimits(l.limits)
}

// chargeWriter brings the client budget in line with the reply buffer,
// dropping the buffer first if it outgrew what is kept between batches.
func (c *conn) chargeWriter() {
	keep := 2 * flushAt
	if c.s.budget.over() {
		keep = writeKeep
	}
	if n := int64(c.wr.Shrink(keep, writeBufSize)); n != c.wrCharged {
		c.s.budget.add(n - c.wrCharged)
		c.wrCharged = n
	}
}

// setWriteDeadline bounds the next write by the idle timeout and by the
// soft output limit's deadline, whichever comes first.
func (c *conn) setWriteDeadline() {
	var d time.Time
	if t := c.idleTimeout(); t > 0 {
		d = time.Now().Add(t)
	}
	if !c.softUntil.IsZero() && (d.IsZero() || c.softUntil.Before(d)) {
		d = c.softUntil
	}
	if !d.IsZero() || c.deadlined {
		c.nc.SetWriteDeadline(d)
		c.deadlined = !d.IsZero()
	}
}

// connReader reads from the socket, applying the idle timeout.
type connReader struct{ c *conn }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	if t := c.idleTimeout(); t > 0 {
		c.nc.SetReadDeadline(time.Now().Add(t))
	} else if c.ps != nil {
		// A subscriber or monitor waits without a timeout (pushExempt).
		c.nc.SetReadDeadline(time.Time{})
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
	if c.ps != nil {
		// Subscribers and monitors send everything through their push
		// queue, which orders replies and pushes.
		return c.ps.q.Write(p)
	}
	c.setWriteDeadline()
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
	if c.ps != nil {
		return io.Copy(struct{ io.Writer }{c.ps.q}, r)
	}
	c.setWriteDeadline()
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
	defer func() {
		c.wakeSubscribers()
		c.endPush(c.closeAfter && !c.failed)
	}()
	defer c.closeImport()
	defer c.stopLarge()
	defer c.closeFast()
	defer c.closeTx()
	defer c.clusterClosed()
	for {
		if l := c.s.live.Load(); l != c.lv {
			c.applyLive(l)
		}
		c.rd.SetUnauthenticated(c.mustAuth())
		cmd, err := c.rd.ReadCommand()
		if err != nil {
			var pe *ProtocolError
			var re replyError
			if errors.As(err, &pe) {
				c.s.logf("resp: client id=%d addr=%s: %v", c.id, c.addr, err)
				c.wr.Error("ERR " + pe.Error())
				c.flush()
			} else if errors.As(err, &re) {
				// Refused memory mid-request: answer, and close (the
				// rest of the request was not read).
				c.s.logf("resp: client id=%d addr=%s: %v, closing", c.id, c.addr, err)
				c.wr.Error(string(re))
				c.flush()
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.s.logf("resp: client id=%d addr=%s: %v", c.id, c.addr, err)
			}
			return
		}
		c.inPending.Store(int64(c.rd.Buffered()))
		if l := c.s.live.Load(); l != c.lv {
			// CONFIG SET while this connection waited for the request.
			c.applyLive(l)
		}
		c.exec(cmd)
		if len(c.monLines) > 0 {
			c.feedMonitors()
		}
		cmd.Release()
		if c.failed {
			return
		}
		if c.closeAfter {
			c.flush()
			return
		}
		p := c.wr.Pending()
		if hard := c.output.Hard; hard > 0 && p > hard {
			c.s.logf("resp: client id=%d addr=%s: %d bytes of replies over the output buffer hard limit %d, closing", c.id, c.addr, p, hard)
			return
		}
		if p >= flushAt || (p > 0 && c.s.budget.over()) {
			// NB: while client memory is short every batch is sent
			// before the next request is read.
			if c.flush() != nil {
				return
			}
		}
		if int64(cap(c.wr.buf)) != c.wrCharged {
			c.chargeWriter()
		}
	}
}

// flush makes the batch's mutations durable, then sends the replies. If
// the engine cannot sync, nothing is acknowledged: the connection closes.
func (c *conn) flush() error {
	if len(c.wakes) > 0 {
		c.wakeSubscribers()
	}
	if !c.crun.empty() && !c.commitColl() {
		return errRunFailed
	}
	if !c.run.empty() {
		// NB: a run is the batch's last work (any other command commits
		// it first, and a plain SET drains large SETs before joining
		// it), so its synced commit acknowledges the whole batch.
		if !c.commitRunSync(true) {
			return errRunFailed
		}
		c.dirty = false
	}
	if !c.drainLarge() {
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
	p := c.wr.Pending()
	if p == 0 {
		return nil
	}
	if o := c.output; o.Soft > 0 && o.SoftFor > 0 && p > o.Soft {
		c.softUntil = time.Now().Add(o.SoftFor)
	}
	c.outPending.Store(p)
	err := c.wr.Flush()
	c.outPending.Store(0)
	if !c.softUntil.IsZero() {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(c.softUntil) {
			c.s.logf("resp: client id=%d addr=%s: did not take %d bytes of replies (over the output buffer soft limit %d) within %v, closing",
				c.id, c.addr, p, c.output.Soft, c.output.SoftFor)
		}
		c.softUntil = time.Time{}
	}
	c.chargeWriter()
	return err
}

// retire folds the connection's counters into the server's totals.
func (c *conn) retire() {
	st := &c.s.stats
	st.cmds.Add(c.cmds.Load())
	st.inBytes.Add(c.inBytes.Load())
	st.outBytes.Add(c.outBytes.Load())
	st.hits.Add(c.hits.Load())
	st.misses.Add(c.misses.Load())
	c.s.xfer.retire(c)
	c.wr.drop()
	c.rd.Close()
	c.s.budget.add(-readBufSize - c.wrCharged)
	c.wrCharged = 0
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
	// An argument on the heap is client memory: it counts against the
	// client's query buffer limit and the budget of all clients.
	if c.rd.QueryBytes()+n > int64(c.lv.limits.MaxQueryBuf) {
		return nil, replyError(errQueryBufLimit)
	}
	if !c.s.budget.TryReserve(n) {
		// Send what is queued before waiting for memory.
		c.flush()
		if err := c.s.budget.Reserve(n); err != nil {
			return nil, err
		}
	}
	return NewHeapBulk(n, &c.s.budget), nil
}

// keyspace is the connection's current namespace.
func (c *conn) keyspace() string { return c.ns }

func (c *conn) setNamespace(ns string, admin bool) {
	c.mu.Lock()
	c.ns, c.authed, c.admin = ns, true, admin
	c.mu.Unlock()
}

func (c *conn) setProto(p int) {
	// NB: under mu for CLIENT LIST; the connection's own goroutine, the
	// only writer, reads it without.
	c.mu.Lock()
	c.proto = p
	c.mu.Unlock()
	c.wr.SetProto(p)
	if c.ps != nil {
		c.ps.q.proto.Store(int32(p))
	}
}

// reply helpers

func (c *conn) err(text string)    { c.wr.Error(text) }
func (c *conn) replyErr(err error) { c.wr.Error(errorText(err)) }
func (c *conn) syntaxErr()         { c.wr.Error(errSyntax) }
func (c *conn) wrongArgs()         { c.wr.Error(errWrongArgs) }
func (c *conn) replyValue(v *engine.Value) {
	c.wr.BulkPages(v.Buffers(), v.Len(), v)
}
