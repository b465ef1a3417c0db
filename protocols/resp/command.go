package resp

import (
	"sort"
	"time"
)

// cmdFlags are a command's properties, named as COMMAND INFO names them.
type cmdFlags uint16

const (
	flagWrite     cmdFlags = 1 << iota // mutates the keyspace
	flagReadonly                       // reads only
	flagAdmin                          // needs the admin password
	flagAuth                           // allowed before authentication
	flagFast                           // O(1)
	flagLoading                        // allowed while loading
	flagExclusive                      // runs alone (exclusive.go)
	flagTxControl                      // runs at once inside MULTI, not queued (multi.go)
)

var flagNames = []struct {
	f    cmdFlags
	name string
}{
	{flagWrite, "write"}, {flagReadonly, "readonly"}, {flagAdmin, "admin"},
	{flagAuth, "no_auth"}, {flagFast, "fast"}, {flagLoading, "loading"},
}

// cmdSpec describes one command: arity and key positions as Redis's
// COMMAND INFO reports them (arity < 0 means at least -arity arguments).
type cmdSpec struct {
	name              string
	arity             int
	flags             cmdFlags
	first, last, step int
	fn                func(c *conn, cmd *Command)
	// valueArg reports whether argument i is a value stored as is, which
	// may stay in engine memory when large instead of being copied.
	valueArg func(i int) bool
	// stat are the command's counters (commandstats.go).
	stat *cmdStat
	// keys says where keys are beyond first/last/step (cluster.go).
	keys keyKind
}

// commandTable maps lower-case names to specs.
type commandTable struct {
	m    map[string]*cmdSpec
	list []*cmdSpec // sorted by name
}

func newCommandTable() *commandTable {
	t := &commandTable{m: make(map[string]*cmdSpec)}
	for _, family := range [][]*cmdSpec{connectionCommands(), serverCommands(), stringCommands(), keyCommands(), hashCommands(), setCommands(), objectCommands(), zsetCommands(), listCommands(), blockingCommands(), blobCommands(), dumpCommands(), sortCommands(), kvrocksCommands(), bitmapCommands(), hllCommands(), geoCommands(), bloomCommands(), jsonCommands(), sintCommands(), streamCommands(), pubsubCommands(), scriptCommands(), multiCommands(), clusterCommands(), hashTTLCommands()} {
		for _, s := range family {
			t.m[s.name] = s
			t.list = append(t.list, s)
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].name < t.list[j].name })
	t.initStats()
	return t
}

// lookup finds a command by name, case-insensitively, without allocating.
func (t *commandTable) lookup(name []byte) *cmdSpec {
	if len(name) == 0 || len(name) > 32 {
		return nil
	}
	var lower [32]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return t.m[string(lower[:len(name)])]
}

func (s *cmdSpec) arityOK(n int) bool {
	if s.arity >= 0 {
		return n == s.arity
	}
	return n >= -s.arity
}

// keyIndexes appends the argument indexes holding keys.
func (s *cmdSpec) keyIndexes(dst []int, argc int) []int {
	if s.first <= 0 {
		return dst
	}
	last := s.last
	if last < 0 {
		last = argc + last
	}
	for i := s.first; i <= last && i < argc; i += s.step {
		dst = append(dst, i)
	}
	return dst
}

// exec runs one request: lookup, arity, authentication, then the handler.
// While a collection run is queued (coll_run.go) the run's replies come
// first: a request that cannot join it applies it before it runs, and one
// that looks as if it could but was answered without joining it (refused
// by a check) has its answer moved after them.
func (c *conn) exec(cmd *Command) {
	r := &c.crun
	if r.empty() {
		c.dispatch(cmd)
		return
	}
	if spec := c.s.commands.lookup(cmd.Args[0]); spec == nil || collOpOf(spec, cmd) == 0 || !r.joins(cmd.Args[1]) {
		if c.commitColl() {
			c.dispatch(cmd)
		}
		return
	}
	mark, n := c.wr.Mark(), len(r.reqs)
	c.dispatch(cmd)
	if len(r.reqs) != n || r.empty() || c.wr.Mark() == mark {
		return // joined, or applied, or answered nothing
	}
	c.collAnswer = append(c.collAnswer[:0], c.wr.buf[mark:]...)
	if c.wr.Reset(mark); c.wr.Mark() != mark {
		c.commitColl() // an answer that borrowed pages: left where it is
		return
	}
	if c.commitColl() {
		c.wr.Raw(c.collAnswer)
	}
}

// dispatch is exec once the collection run is out of the way.
func (c *conn) dispatch(cmd *Command) {
	c.cmds.Add(1)
	// NB: deferred, so every path out of dispatch is timed for the slow
	// log and the command statistics, while the arguments are still valid.
	// One clock read serves both and lastActive (clock reads cost hundreds
	// of nanoseconds on some virtual machines).
	start := time.Now()
	defer c.s.slowlog.observe(c, cmd, start)
	args := cmd.Args
	spec := c.s.commands.lookup(args[0])
	if spec == nil {
		c.unknownCommand(cmd)
		c.refuseInMulti()
		return
	}
	c.lastActive.Store(start.UnixNano())
	if !spec.arityOK(len(args)) {
		c.wrongArgs()
		c.refuseInMulti()
		return
	}
	if !c.authed && spec.flags&flagAuth == 0 {
		if c.s.live.Load().requirePass != "" {
			c.err(errNoAuth)
			c.refuseInMulti()
			return
		}
		// requirepass was cleared at run time.
		c.setNamespace("", true)
	}
	if spec.flags&flagAdmin != 0 && !c.admin {
		c.err(errAdminRequired)
		c.refuseInMulti()
		return
	}
	if cmd.Err != nil {
		c.replyErr(cmd.Err)
		c.refuseInMulti()
		return
	}
	if c.ps != nil && c.pushRefuses(spec) {
		return
	}
	if cs := c.s.cluster; cs != nil {
		// NB: the epoch is loaded before routing (see cluster.State.Epoch).
		epoch := cs.Epoch()
		asking := c.cl.asking
		if !c.clusterRoute(cs, spec, cmd) {
			c.refuseInMulti()
			return
		}
		c.cl.epoch, c.cl.routedAsking = epoch, asking
	}
	c.started(spec, cmd)
	// Arguments that went to the heap because they were large but are not
	// stored values are handed to the command as plain slices.
	for _, b := range cmd.big {
		if h, ok := b.lb.(*heapBulk); ok {
			args[b.idx] = h.p[0]
		}
	}
	monMark, monOwn := len(c.monLines), false
	if c.s.pubsub.monitoring.Load() != 0 && !c.queuing(spec) {
		// Formatted now, while large arguments are still the command's;
		// sent once it ran (serve), as Redis does. A command queued by
		// MULTI is shown when EXEC runs it.
		if line := c.monitorLine(spec, cmd); line != nil {
			c.monLines = append(c.monLines, monLine{line, c.ns})
			monOwn = true
		}
	}
	c.mu.Lock()
	c.lastCmd = spec.name
	c.mu.Unlock()
	if (spec.flags&flagExclusive != 0 || c.s.lua.running.Load() != nil) && c.scriptGate(spec, cmd) {
		return
	}
	if c.queuing(spec) {
		c.queueTx(spec, cmd)
		return
	}
	if spec.name == "set" && plainSet(cmd) {
		if !c.drainLarge() || !c.commitColl() {
			return
		}
		c.queueSet(args[1], args[2])
		return
	}
	if op := collOpOf(spec, cmd); op != 0 {
		if !c.drainLarge() || !c.commitRunSync(false) {
			return
		}
		c.queueColl(op, spec, cmd)
		return
	}
	// Anything else sees the queued SETs' effects first.
	if !c.drainLarge() || !c.commitRun() {
		return
	}
	if spec.name == "set" {
		if _, ok := streamingSet(cmd); ok {
			c.queueLargeSet(cmd)
			return
		}
	}
	if c.waitGuard(spec, cmd) {
		return
	}
	if cs := c.s.cluster; cs != nil && cs.Epoch() != c.cl.epoch && !c.clusterReroute(cs, spec, cmd) {
		c.leaveGuard()
		return
	}
	spec.fn(c, cmd)
	c.leaveGuard()
	if monOwn && spec.name == "exec" && len(c.monLines) > monMark+1 {
		c.monitorAfter(monMark)
	}
}

// waitGuard takes the guard the command runs under, and reports whether
// the command was answered instead. A script announces itself before it
// takes the guard (scriptGate), but a command that looked before the
// announcement may reach the guard after the script took it: waiting
// then would block it until the script ends, past -BUSY and out of reach
// of SCRIPT KILL (which may be what it is). So when the guard is taken
// and another connection's script is announced, the command goes through
// scriptGate as if it had arrived after the announcement. (Atomics are
// sequentially consistent, so a script's announcement is seen by anyone
// who saw its claim on the guard.)
func (c *conn) waitGuard(spec *cmdSpec, cmd *Command) bool {
	m := modeOf(spec)
	for !c.tryEnterGuard(m) {
		if run := c.s.lua.running.Load(); run != nil && run.c != c {
			if c.scriptGate(spec, cmd) {
				return true
			}
			continue
		}
		c.enterGuard(m)
		break
	}
	return false
}

// unknownCommand answers as KVRocks does, quoting the arguments (each cut
// to 128 bytes, and no more than 1 KiB in all).
func (c *conn) unknownCommand(cmd *Command) {
	b := c.scratch[:0]
	b = append(b, "ERR unknown command `"...)
	b = appendQuoted(b, cmd.Args[0], 128)
	b = append(b, "`, with args beginning with: "...)
	for i, a := range cmd.Args[1:] {
		if len(b) > 1024 {
			break
		}
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '`')
		b = appendQuoted(b, a, 128)
		b = append(b, '`')
	}
	c.scratch = b
	c.wr.Error(string(b))
}

func appendQuoted(b, arg []byte, max int) []byte {
	if len(arg) > max {
		arg = arg[:max]
	}
	return append(b, arg...)
}

// Helpers for building the tables.

func isValueArg(i int) func(int) bool { return func(j int) bool { return j == i } }

func evenValueArgs(j int) bool { return j >= 2 && j%2 == 0 }
