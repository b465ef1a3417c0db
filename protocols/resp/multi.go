package resp

import (
	"github.com/gpucache/gpucache/cluster"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// MULTI/EXEC/DISCARD, as Redis 7 and KVRocks do them:
//
//   - after MULTI every command but EXEC, DISCARD, MULTI, WATCH, QUIT and
//     RESET is checked (name, arity, authentication) and queued, answering
//     +QUEUED; a command refused while queuing makes EXEC answer EXECABORT.
//   - EXEC runs alone (flagExclusive: the server-wide work guard) and runs
//     the queued commands' handlers in order, each answering inside EXEC's
//     array (a runtime error is one element, as in Redis). Their writes go
//     into one engine group (engine.Group): one metadata batch, committed
//     once, so a crash never leaves half of a transaction. If the commit
//     fails, nothing of the EXEC is acknowledged: the connection closes, as
//     when a pipelined write fails.
//   - WATCH keys before MULTI: EXEC answers a nil array and runs nothing
//     when one of them changed since (watch.go).
//
// A queued command owns its arguments: the small ones are copied (the
// Reader reuses its buffer), the large ones streamed out of the request
// (LargeBulk) are moved, not copied, so a queued 32 MiB SET stores the
// bytes it received. The copies count against the client-buffer budget
// (maxmemory-clients) until EXEC or DISCARD.

const (
	errMultiNested    = "ERR MULTI calls can not be nested"
	errExecNoMulti    = "ERR EXEC without MULTI"
	errDiscardNoMulti = "ERR DISCARD without MULTI"
	errExecAbort      = "EXECABORT Transaction discarded because of previous errors."
	errWatchInMulti   = "ERR WATCH inside MULTI is not allowed"
	errNotInMulti     = "ERR Command not allowed inside a transaction"
)

// txState is a connection's transaction: the queue while in MULTI, and
// the keys it watches.
type txState struct {
	multi   bool
	aborted bool // a command was refused while queuing
	queue   []*Command
	charged int64 // bytes of copies charged to the client budget
	watch   *engine.Watch
	// Cluster mode: the epoch at MULTI, and whether ASKING preceded each
	// queued command (see cmdExec).
	epoch  uint64
	asking []bool
}

func multiCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "multi", arity: 1, flags: flagFast | flagLoading | flagTxControl, fn: (*conn).cmdMulti},
		{name: "exec", arity: 1, flags: flagLoading | flagExclusive | flagTxControl, fn: (*conn).cmdExec},
		{name: "discard", arity: 1, flags: flagFast | flagLoading | flagTxControl, fn: (*conn).cmdDiscard},
		{name: "watch", arity: -2, flags: flagFast | flagLoading | flagTxControl, first: 1, last: -1, step: 1, fn: (*conn).cmdWatch},
		{name: "unwatch", arity: 1, flags: flagFast | flagLoading, fn: (*conn).cmdUnwatch},
	}
}

// inMulti reports whether requests are being queued.
func (c *conn) inMulti() bool { return c.tx != nil && c.tx.multi }

// refuseInMulti marks the transaction being queued as failed: a request
// was refused (unknown, wrong arity, not authenticated, ...).
func (c *conn) refuseInMulti() {
	if c.tx != nil && c.tx.multi {
		c.tx.aborted = true
	}
}

// notInMulti lists the commands Redis flags no-multi.
func notInMulti(name string) bool {
	switch name {
	case "save", "shutdown", "sync", "psync":
		return true
	}
	return false
}

// queuing reports whether a request for spec is to be queued: inside
// MULTI, all but the commands that control the transaction.
func (c *conn) queuing(spec *cmdSpec) bool {
	return c.tx != nil && c.tx.multi && spec.flags&flagTxControl == 0 && spec.name != "quit" && spec.name != "reset"
}

// queueTx queues a checked request for EXEC and answers +QUEUED. As in
// Redis, a queued command is counted (INFO commandstats, MONITOR) when EXEC
// runs it, not now; one refused here counts as rejected.
func (c *conn) queueTx(spec *cmdSpec, cmd *Command) {
	tx := c.tx
	cmd.ran = nil
	if notInMulti(spec.name) {
		tx.aborted = true
		c.err(errNotInMulti)
		return
	}
	n := 0
	for i, a := range cmd.Args {
		if !isBig(cmd, i) {
			n += len(a)
		}
	}
	cost := int64(n) + int64(len(cmd.Args))*24 + 64
	if !c.s.budget.TryReserve(cost) {
		tx.aborted = true
		c.err(errClientMemory)
		return
	}
	tx.charged += cost
	q := &Command{Args: make([][]byte, len(cmd.Args))}
	buf := make([]byte, n)
	off := 0
	for i, a := range cmd.Args {
		if isBig(cmd, i) {
			// Streamed: its LargeBulk moves to the queued request (a
			// heap bulk's bytes are what Args[i] already points at).
			q.Args[i] = a
			continue
		}
		q.Args[i] = buf[off : off+len(a) : off+len(a)]
		copy(q.Args[i], a)
		off += len(a)
	}
	for j := range cmd.big {
		if lb := cmd.big[j].lb; lb != nil {
			q.big = append(q.big, bigArg{idx: cmd.big[j].idx, lb: lb})
			cmd.big[j].lb = nil
		}
	}
	tx.queue = append(tx.queue, q)
	tx.asking = append(tx.asking, c.cl.routedAsking)
	c.multiN.Add(1)
	c.wr.Simple("QUEUED")
}

func isBig(cmd *Command, i int) bool {
	for _, b := range cmd.big {
		if b.idx == i {
			return true
		}
	}
	return false
}

// endTx drops the queue and every watch: after EXEC and DISCARD.
func (c *conn) endTx() {
	tx := c.tx
	if tx == nil {
		return
	}
	for _, q := range tx.queue {
		q.Release()
	}
	c.s.budget.add(-tx.charged)
	tx.queue, tx.charged, tx.multi, tx.aborted, tx.asking = nil, 0, false, false, tx.asking[:0]
	c.multiN.Store(0)
	if tx.watch != nil {
		tx.watch.Close()
	}
}

// closeTx ends the transaction of a connection that goes away.
func (c *conn) closeTx() {
	if c.tx != nil {
		c.endTx()
		c.tx = nil
	}
}

func (c *conn) cmdMulti(cmd *Command) {
	if c.inMulti() {
		// NB: Redis does not fail the transaction for it.
		c.err(errMultiNested)
		return
	}
	if c.tx == nil {
		c.tx = &txState{}
	}
	c.tx.multi = true
	c.tx.epoch = c.cl.epoch // routed at or after it (cluster mode)
	c.multiN.Store(1)
	c.wr.OK()
}

func (c *conn) cmdDiscard(cmd *Command) {
	if !c.inMulti() {
		c.err(errDiscardNoMulti)
		return
	}
	c.endTx()
	c.wr.OK()
}

// cmdExec runs the queue under the exclusive guard, its writes in one
// engine group.
func (c *conn) cmdExec(cmd *Command) {
	if !c.inMulti() {
		c.err(errExecNoMulti)
		return
	}
	tx := c.tx
	if tx.aborted {
		c.endTx()
		c.err(errExecAbort)
		return
	}
	if tx.watch != nil && tx.watch.Changed() {
		c.endTx()
		c.wr.NullArray()
		return
	}
	if cs := c.s.cluster; cs != nil && cs.Epoch() != tx.epoch {
		// The queue was routed before the cluster state changed (a slot
		// began to refuse writes or moved): route it again under the
		// guard; a command no longer served here fails the EXEC with its
		// redirection, and nothing runs.
		for i, q := range tx.queue {
			spec := c.s.commands.lookup(q.Args[0])
			if verdict, slot, addr := c.clusterVerdict(cs, spec, q.Args, tx.asking[i]); verdict != cluster.Serve {
				c.endTx()
				c.clusterAnswer(verdict, slot, addr)
				return
			}
		}
	}
	c.wr.Array(len(tx.queue))
	base := c.eng
	err := base.Group(func(g *engine.Engine) error {
		c.eng = g
		for _, q := range tx.queue {
			// NB: checked when queued; the table does not change.
			spec := c.s.commands.lookup(q.Args[0])
			c.mu.Lock()
			c.lastCmd = spec.name
			c.mu.Unlock()
			c.runCounted(spec, q, c.addr)
		}
		return nil
	})
	// EXEC fails for its own errors, not for those of the commands it ran
	// (counted each as theirs), as in Redis.
	cmd.errMark = c.wr.errs
	c.eng = base
	c.mu.Lock()
	c.lastCmd = "exec"
	c.mu.Unlock()
	c.endTx()
	if err != nil {
		// The replies are queued but nothing was written: none go out.
		c.s.logf("resp: client id=%d addr=%s: EXEC failed to commit, dropping its replies: %v", c.id, c.addr, err)
		c.failed = true
		c.nc.Close()
	}
}

// queued is what CLIENT LIST shows as multi=: the number of queued
// commands, -1 outside MULTI (safe from any goroutine).
func (c *conn) queued() int64 { return c.multiN.Load() - 1 }

// runCounted runs a command on behalf of EXEC or a script (from, the
// address MONITOR shows: the client's, or "lua") as Redis 7.0's call()
// does: MONITOR shows it (after the EVAL that ran it, before the EXEC,
// which Redis shows once it ran) and INFO commandstats counts it as a call
// of its own.
func (c *conn) runCounted(spec *cmdSpec, cmd *Command, from string) {
	if c.s.pubsub.monitoring.Load() != 0 {
		// NB: formatted before the handler, which may take large
		// arguments away.
		if line := c.monitorLineFrom(spec, cmd, from); line != nil {
			c.monLines = append(c.monLines, monLine{line, c.ns})
		}
	}
	w := c.wr
	mark := w.errs
	start := time.Now()
	spec.fn(c, cmd)
	countCall(spec, time.Since(start), w.errs != mark)
}

// countCall adds one call of spec that took d (and failed) to its
// statistics.
func countCall(spec *cmdSpec, d time.Duration, failed bool) {
	st := spec.stat
	if st == nil {
		return
	}
	ns := uint64(max(d, 0))
	st.lat[latBucket(ns)].Add(1)
	st.nanos.Add(ns)
	if failed {
		st.failed.Add(1)
	}
}
