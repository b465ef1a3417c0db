package resp

import (
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/engine"
)

// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP) wait in a registry of clients blocked on keys. Serving
// follows Redis: the writer that makes a key non-empty (a push, ZADD, a
// STORE, RENAME, COPY) runs, after its own commit, the pops of the clients
// waiting on that key in the order they blocked, each as its own engine
// transaction, until the key runs dry. So the longest-waiting client gets
// the first element (FIFO), and no element is lost to a client that left:
// a client is removed from the registry, under its lock, before it answers
// a timeout, a CLIENT UNBLOCK or a hang-up.
type blockRegistry struct {
	mu      sync.Mutex
	waiting atomic.Int64 // fast path: writers skip the registry when 0
	queues  map[string][]*waiter
	byID    map[uint64]*waiter
}

// waiter is one blocked client.
type waiter struct {
	id   uint64
	ns   string
	keys [][]byte
	// try runs the command's pop; it reports whether the client is
	// served (with a result or a final error) and which key it pushed to
	// (BLMOVE), whose own waiters are served next.
	try func() (served bool, pushed []byte)
	// passive waiters (XREAD, XREADGROUP) take nothing others could
	// have: every one of them is tried, not only the longest waiting.
	passive bool
	done    bool
	// unblock is CLIENT UNBLOCK's request: 1 TIMEOUT, 2 ERROR.
	unblock int
	wake    chan struct{}
}

func queueKey(ns string, key []byte) string { return ns + "\x00" + string(key) }

// signal serves the clients blocked on ns/key, in FIFO order.
func (r *blockRegistry) signal(ns string, key []byte) {
	if r.waiting.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serveLocked(queueKey(ns, key))
}

func (r *blockRegistry) serveLocked(qk string) {
	r.servePassiveLocked(qk)
	for depth := 0; depth < 64; depth++ {
		var w *waiter
		for _, o := range r.queues[qk] {
			if !o.passive {
				w = o
				break
			}
		}
		if w == nil {
			return
		}
		served, pushed := w.try()
		if !served {
			return
		}
		r.removeLocked(w)
		w.done = true
		w.wake <- struct{}{}
		if pushed != nil {
			r.serveLocked(queueKey(w.ns, pushed))
		}
	}
}

// servePassiveLocked tries every passive waiter on qk once, in the order
// they blocked.
func (r *blockRegistry) servePassiveLocked(qk string) {
	q := r.queues[qk]
	n := 0
	for _, w := range q {
		if w.passive {
			n++
		}
	}
	if n == 0 {
		return
	}
	ws := make([]*waiter, 0, n)
	for _, w := range q {
		if w.passive {
			ws = append(ws, w)
		}
	}
	for _, w := range ws {
		if served, _ := w.try(); served {
			r.removeLocked(w)
			w.done = true
			w.wake <- struct{}{}
		}
	}
}

func (r *blockRegistry) addLocked(w *waiter) {
	if r.queues == nil {
		r.queues = make(map[string][]*waiter)
		r.byID = make(map[uint64]*waiter)
	}
	for _, k := range w.keys {
		qk := queueKey(w.ns, k)
		r.queues[qk] = append(r.queues[qk], w)
	}
	r.byID[w.id] = w
	r.waiting.Add(1)
}

func (r *blockRegistry) removeLocked(w *waiter) {
	if r.byID[w.id] != w {
		return
	}
	delete(r.byID, w.id)
	r.waiting.Add(-1)
	for _, k := range w.keys {
		qk := queueKey(w.ns, k)
		q := r.queues[qk]
		for i, o := range q {
			if o == w {
				q = append(q[:i:i], q[i+1:]...)
				break
			}
		}
		if len(q) == 0 {
			delete(r.queues, qk)
		} else {
			r.queues[qk] = q
		}
	}
}

// unblockClient is CLIENT UNBLOCK: false when id is not blocked.
func (r *blockRegistry) unblockClient(id uint64, mode int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.byID[id]
	if w == nil || w.done {
		return false
	}
	w.unblock = mode
	r.removeLocked(w)
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// blockOutcome is how a blocking wait ended.
type blockOutcome uint8

const (
	blockServed blockOutcome = iota
	blockTimedOut
	blockUnblockedError
	blockGone // the client hung up
	// blockRedirected: the keys' slot is no longer served here (a
	// migration finished, a new topology); the redirection is in
	// conn.blockRedirect.
	blockRedirected
)

// block runs try at once and, if it does not serve the client, waits for
// a writer to serve it, for the timeout (0: forever), for CLIENT UNBLOCK
// or for the client to hang up.
func (c *conn) block(keys [][]byte, timeout time.Duration, try func() (bool, []byte)) blockOutcome {
	return c.blockOn(keys, timeout, false, try)
}

// blockOn is block for passive (true) or consuming waiters.
func (c *conn) blockOn(keys [][]byte, timeout time.Duration, passive bool, try func() (bool, []byte)) blockOutcome {
	r := &c.s.blocked
	w := &waiter{id: c.id, ns: c.ns, keys: keys, try: try, passive: passive, wake: make(chan struct{}, 1)}
	r.mu.Lock()
	if served, pushed := try(); served {
		if pushed != nil {
			r.serveLocked(queueKey(c.ns, pushed))
		}
		r.mu.Unlock()
		return blockServed
	}
	if c.guard == guardExclusive {
		// Inside EXEC or a script nothing else can run to serve it: a
		// blocking command answers as if its timeout passed at once.
		r.mu.Unlock()
		return blockTimedOut
	}
	r.addLocked(w)
	r.mu.Unlock()
	// The guard goes back while the client waits: the writer that serves
	// it needs the guard, and an exclusive command must not wait on it.
	held := c.leaveGuard()
	defer c.enterGuard(held)
	// Replies to the requests before this one go out before it waits.
	if c.flush() != nil {
		r.mu.Lock()
		r.removeLocked(w)
		done := w.done
		r.mu.Unlock()
		if done {
			return blockServed
		}
		return blockGone
	}
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	gone, stopWatch := c.watchHangup()
	defer stopWatch()
	// In cluster mode the wait ends, as in Redis, when the keys' slot
	// stops being served here: the client is redirected.
	var changed <-chan struct{}
	if cs := c.s.cluster; cs != nil {
		changed = cs.Changed()
	}
	outcome := blockServed
wait:
	for {
		select {
		case <-w.wake:
		case <-timer:
			outcome = blockTimedOut
		case <-gone:
			outcome = blockGone
		case <-changed:
			changed = c.s.cluster.Changed()
			if c.blockRedirect = c.blockedRoute(keys); c.blockRedirect == "" {
				continue wait
			}
			outcome = blockRedirected
		}
		break
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case w.done:
		// Served, even if the timer fired at the same moment.
		return blockServed
	case w.unblock == 2:
		return blockUnblockedError
	case w.unblock == 1:
		return blockTimedOut
	}
	r.removeLocked(w)
	return outcome
}

// blockedRoute returns the redirection for a client blocked on keys (one
// slot) when this node no longer serves their slot, "" while it does. As
// in Redis, a slot being imported here still counts as served, and so
// does one in its write-forbidden phase (the migration may still fail).
func (c *conn) blockedRoute(keys [][]byte) string {
	cs := c.s.cluster
	if cs == nil || len(keys) == 0 {
		return ""
	}
	slot := cluster.KeySlot(keys[0])
	v := cs.View()
	if !v.Initialized() {
		return errClusterSlotDown
	}
	switch verdict, addr := cs.Route(v, slot, cluster.Request{Write: true, Asking: true, Importing: c.cl.importing}); verdict {
	case cluster.Moved:
		return "MOVED " + strconv.Itoa(slot) + " " + addr
	case cluster.Down:
		return errClusterSlotDown
	}
	return ""
}

// watchHangup reports the client closing its end while it is blocked (a
// peek at the socket that consumes nothing). stop ends the watch and
// restores the socket's read deadline. On connections without a file
// descriptor (TLS) nothing is watched: the client is found gone when its
// wait ends.
func (c *conn) watchHangup() (<-chan struct{}, func()) {
	gone := make(chan struct{})
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return gone, func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return gone, func() {}
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var buf [1]byte
		hung := false
		err := rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				return false
			}
			hung = err != nil || n == 0
			return true
		})
		if hung || (err != nil && !isTimeout(err)) {
			close(gone)
		}
	}()
	return gone, func() {
		c.nc.SetReadDeadline(time.Now())
		<-finished
		c.nc.SetReadDeadline(time.Time{})
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// parseTimeout parses a blocking command's timeout in seconds.
func parseTimeout(b []byte) (time.Duration, string) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > float64(math.MaxInt64/int64(time.Second)) {
		return 0, "ERR timeout is not a float or out of range"
	}
	if f < 0 {
		return 0, "ERR timeout is negative"
	}
	return time.Duration(f * float64(time.Second)), ""
}

// msDuration converts a BLOCK argument in milliseconds.
func msDuration(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// blockResult is what a served blocking pop hands back to its client.
type blockResult struct {
	from int // index of the key popped from
	z    zentries
	err  error
}

// runBlocking runs one blocking command: pop is its transaction (it sets
// res.from >= 0 when it took something). reply writes the served result.
func (c *conn) runBlocking(keys [][]byte, timeout time.Duration, txnKeys [][]byte, pop func(t *engine.Txn, res *blockResult) error, pushedKey func(res *blockResult) []byte, reply func(res *blockResult), nilArray bool) {
	var res blockResult
	try := func() (bool, []byte) {
		res = blockResult{from: -1}
		err := c.eng.Txn(c.ns, txnKeys, func(t *engine.Txn) error { return pop(t, &res) })
		if err == engine.ErrWrongType {
			// Redis answers WRONGTYPE at once, but keeps waiting when the
			// key changes type while the client is blocked: only the first
			// attempt reports it (below).
			res.err = err
			return false, nil
		}
		if err != nil {
			res.err = err
			return true, nil
		}
		if res.from < 0 {
			return false, nil
		}
		var pushed []byte
		if pushedKey != nil {
			pushed = pushedKey(&res)
		}
		return true, pushed
	}
	// First attempt alone, so a WRONGTYPE is answered without blocking.
	if served, pushed := try(); served || res.err != nil {
		if pushed != nil {
			c.s.blocked.signal(c.ns, pushed)
		}
		c.finishBlocking(&res, reply)
		return
	}
	switch c.block(keys, timeout, try) {
	case blockServed:
		c.finishBlocking(&res, reply)
	case blockTimedOut:
		if nilArray {
			c.wr.NullArray()
		} else {
			c.wr.Null()
		}
	case blockUnblockedError:
		c.err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	case blockRedirected:
		c.err(c.blockRedirect)
	case blockGone:
		c.closeAfter = true
	}
}

func (c *conn) finishBlocking(res *blockResult, reply func(res *blockResult)) {
	if res.err != nil {
		c.replyErr(res.err)
		return
	}
	c.dirty = true
	reply(res)
}

func blockingCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "blpop", arity: -3, flags: flagWrite, first: 1, last: -2, step: 1, fn: (*conn).cmdBLPop},
		{name: "brpop", arity: -3, flags: flagWrite, first: 1, last: -2, step: 1, fn: (*conn).cmdBRPop},
		{name: "blmove", arity: 6, flags: flagWrite, first: 1, last: 2, step: 1, fn: (*conn).cmdBLMove},
		{name: "brpoplpush", arity: 4, flags: flagWrite, first: 1, last: 2, step: 1, fn: (*conn).cmdBRPopLPush},
		{name: "blmpop", arity: -5, flags: flagWrite, fn: (*conn).cmdBLMPop},
		{name: "bzpopmin", arity: -3, flags: flagWrite | flagFast, first: 1, last: -2, step: 1, fn: (*conn).cmdBZPopMin},
		{name: "bzpopmax", arity: -3, flags: flagWrite | flagFast, first: 1, last: -2, step: 1, fn: (*conn).cmdBZPopMax},
		{name: "bzmpop", arity: -5, flags: flagWrite, fn: (*conn).cmdBZMPop},
	}
}

// bpop serves BLPOP/BRPOP key [key ...] timeout.
func (c *conn) bpop(cmd *Command, left bool) {
	args := cmd.Args
	timeout, e := parseTimeout(args[len(args)-1])
	if e != "" {
		c.err(e)
		return
	}
	keys := args[1 : len(args)-1]
	c.runBlocking(keys, timeout, keys, func(t *engine.Txn, res *blockResult) error {
		var err error
		res.from, err = lmpop(t, len(keys), left, 1, &res.z)
		return err
	}, nil, func(res *blockResult) {
		c.wr.Array(2)
		c.wr.Bulk(keys[res.from])
		c.wr.Bulk(res.z.member(0))
	}, true)
}

func (c *conn) cmdBLPop(cmd *Command) { c.bpop(cmd, true) }
func (c *conn) cmdBRPop(cmd *Command) { c.bpop(cmd, false) }

func (c *conn) bmove(src, dst []byte, fromLeft, toLeft bool, timeoutArg []byte) {
	timeout, e := parseTimeout(timeoutArg)
	if e != "" {
		c.err(e)
		return
	}
	c.runBlocking([][]byte{src}, timeout, [][]byte{src, dst}, func(t *engine.Txn, res *blockResult) error {
		moved, err := lmove(t, fromLeft, toLeft, &res.z)
		if moved {
			res.from = 0
		}
		return err
	}, func(*blockResult) []byte { return dst }, func(res *blockResult) {
		c.wr.Bulk(res.z.member(0))
	}, false)
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
func (c *conn) cmdBLMove(cmd *Command) {
	args := cmd.Args
	from, ok1 := parseEnd(args[3])
	to, ok2 := parseEnd(args[4])
	if !ok1 || !ok2 {
		c.syntaxErr()
		return
	}
	c.bmove(args[1], args[2], from, to, args[5])
}

// BRPOPLPUSH source destination timeout
func (c *conn) cmdBRPopLPush(cmd *Command) {
	c.bmove(cmd.Args[1], cmd.Args[2], false, true, cmd.Args[3])
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
func (c *conn) cmdBLMPop(cmd *Command) {
	args := cmd.Args
	timeout, e := parseTimeout(args[1])
	if e != "" {
		c.err(e)
		return
	}
	keys, left, count, ok := c.parseMPop(args, 2, "left", "right")
	if !ok {
		return
	}
	c.runBlocking(keys, timeout, keys, func(t *engine.Txn, res *blockResult) error {
		var err error
		res.from, err = lmpop(t, len(keys), left, count, &res.z)
		return err
	}, nil, func(res *blockResult) { c.replyMPop(keys[res.from], &res.z, false) }, true)
}

// zmpopTxn pops up to count members from the first non-empty sorted set.
func zmpopTxn(t *engine.Txn, n int, max bool, count int64, res *blockResult) error {
	for i := 0; i < n; i++ {
		exists, err := t.Open(i, engine.TypeZSet)
		if err != nil {
			return err
		}
		if exists {
			res.from = i
			return zpop(t, i, count, max, &res.z)
		}
	}
	return nil
}

// bzpop serves BZPOPMIN/BZPOPMAX key [key ...] timeout.
func (c *conn) bzpop(cmd *Command, max bool) {
	args := cmd.Args
	timeout, e := parseTimeout(args[len(args)-1])
	if e != "" {
		c.err(e)
		return
	}
	keys := args[1 : len(args)-1]
	c.runBlocking(keys, timeout, keys, func(t *engine.Txn, res *blockResult) error {
		return zmpopTxn(t, len(keys), max, 1, res)
	}, nil, func(res *blockResult) {
		c.wr.Array(3)
		c.wr.Bulk(keys[res.from])
		c.wr.Bulk(res.z.member(0))
		c.score(res.z.sc[0])
	}, true)
}

func (c *conn) cmdBZPopMin(cmd *Command) { c.bzpop(cmd, false) }
func (c *conn) cmdBZPopMax(cmd *Command) { c.bzpop(cmd, true) }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
func (c *conn) cmdBZMPop(cmd *Command) {
	args := cmd.Args
	timeout, e := parseTimeout(args[1])
	if e != "" {
		c.err(e)
		return
	}
	keys, min, count, ok := c.parseMPop(args, 2, "min", "max")
	if !ok {
		return
	}
	c.runBlocking(keys, timeout, keys, func(t *engine.Txn, res *blockResult) error {
		return zmpopTxn(t, len(keys), !min, count, res)
	}, nil, func(res *blockResult) { c.replyMPop(keys[res.from], &res.z, true) }, true)
}

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
func (c *conn) clientUnblock(args [][]byte) {
	id, ok := parseArgInt(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	mode := 1
	if len(args) == 4 {
		switch {
		case eqFold(args[3], "timeout"):
		case eqFold(args[3], "error"):
			mode = 2
		default:
			c.err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	c.wr.Int(b2i(id > 0 && c.s.blocked.unblockClient(uint64(id), mode)))
}

// isBlocked reports whether client id waits in a blocking command
// (CLIENT LIST flags=b).
func (r *blockRegistry) isBlocked(id uint64) bool {
	if r.waiting.Load() == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id] != nil
}
