package resp

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/cluster"
)

// Cluster mode (cluster-enabled yes), as KVRocks runs it: the topology is
// pushed by a controller (CLUSTERX SETNODEID, SETNODES, SETSLOT) and every
// keyed request is routed against it before it runs (clusterRoute, from
// exec). With cluster mode off, s.cluster is nil and exec pays one nil
// check.
//
// Slot migration plugs in from its own files of this package:
//   - registerClusterSubcommand (from init) adds CLUSTER/CLUSTERX
//     subcommands (MIGRATE, IMPORT, COUNTKEYSINSLOT, GETKEYSINSLOT); a
//     handler parses its arguments, then calls c.clusterAllowed.
//   - clusterSetups (appended from init) run once a cluster-mode server
//     exists: install s.cluster.SetHooks (CLUSTER INFO fields, CLUSTER
//     NODES note, dropping migrated slots, RESET refusal).
//   - s.cluster.SetSlotState marks slots migrating, write-forbidden
//     (TRYAGAIN), migrated (MOVED), importing, imported.
//   - c.cl.importing marks the importing link (served for an importing
//     slot); c.cl.onClose runs when that connection ends.

// Errors of cluster mode, KVRocks's texts.
const (
	errClusterDisabled    = "ERR Cluster mode is not enabled"
	errClusterUsage       = "ERR CLUSTER command, CLUSTER INFO|NODES|SLOTS|KEYSLOT|RESET|REPLICAS"
	errClusterXUsage      = "ERR CLUSTERX command, CLUSTERX VERSION|MYID|SETNODEID|SETNODES|SETSLOT|MIGRATE"
	errClusterNotInit     = "CLUSTERDOWN The cluster is not initialized"
	errClusterSlotDown    = "CLUSTERDOWN Hash slot not served"
	errCrossSlot          = "CROSSSLOT Attempted to access keys that don't hash to the same slot"
	errTryAgainForbidden  = "TRYAGAIN Can't write to slot being migrated which is in write forbidden phase"
	errScriptCrossSlot    = "ERR Script attempted to access keys that do not hash to the same slot"
	errScriptNonLocalKey  = "ERR Script attempted to access a non local key in a cluster node script"
	errSetNodesVersion    = "ERR Invalid version"
	errSetNodesOptions    = "ERR Invalid setnodes options"
	errSetSlotOptions     = "ERR Invalid setslot options"
	errSetSlotNodeID      = "ERR Invalid node id"
	errClusterInvalidInfo = "ERR Invalid cluster nodes info"
)

// ClusterHandler runs a CLUSTER or CLUSTERX subcommand registered by
// RegisterClusterSubcommand. It parses its own arguments, then calls
// c.clusterAllowed before acting (as KVRocks parses before it checks).
type clusterHandler func(c *conn, cmd *Command)

// clusterSubcommands are CLUSTER and CLUSTERX subcommands provided by
// other files of the package (slot migration: CLUSTERX MIGRATE, CLUSTER
// IMPORT, COUNTKEYSINSLOT, GETKEYSINSLOT), keyed "cluster <sub>" or
// "clusterx <sub>" in lower case. Filled by init functions only; read-only
// afterwards.
var clusterSubcommands = map[string]clusterHandler{}

// registerClusterSubcommand adds a subcommand of CLUSTER (command
// "cluster") or CLUSTERX ("clusterx"). Call it from an init function.
func registerClusterSubcommand(command, sub string, h clusterHandler) {
	clusterSubcommands[command+" "+strings.ToLower(sub)] = h
}

// clusterSetups run when a server starts in cluster mode, after its State
// exists (slot migration installs its cluster.Hooks here). Filled by init
// functions only.
var clusterSetups []func(s *Server)

// clusterConn is a connection's cluster-mode state.
type clusterConn struct {
	readonly  bool // READONLY (a replica would serve reads; see cluster.Route)
	asking    bool // ASKING: the next request may use an importing slot
	importing bool // the importing link of a migration (CLUSTER IMPORT)
	// onClose runs when the connection ends (slot migration stops an
	// import whose link broke, as KVRocks's close callback).
	onClose func()
	// scriptSlot is 1 + the slot the running script's keys hash to, 0
	// before it touched a key.
	scriptSlot int
	// epoch is the cluster state's epoch when the last request was
	// routed, routedAsking whether ASKING preceded it: a request that
	// runs at a later epoch is routed again (clusterReroute).
	epoch        uint64
	routedAsking bool
	// importPart holds the parts of a key image received so far
	// (CLUSTER IMPORTKEY ... MORE).
	importPart struct {
		key, buf []byte
	}
}

// initCluster prepares cluster mode; NewServer calls it.
func (s *Server) initCluster() {
	if !s.cfg.ClusterEnabled {
		return
	}
	binds := s.cfg.Bind
	if len(binds) == 0 {
		binds = []string{"127.0.0.1"}
	}
	s.cluster = cluster.NewState(s.cfg.Port, binds)
	for _, spec := range s.commands.list {
		spec.keys = keyKindOf(spec.name)
	}
	for _, f := range clusterSetups {
		f(s)
	}
}

// clusterClosed runs the connection's close callback, once.
func (c *conn) clusterClosed() {
	if f := c.cl.onClose; f != nil {
		c.cl.onClose = nil
		f()
	}
}

// ClusterState is the server's cluster state, nil when cluster mode is off.
func (s *Server) ClusterState() *cluster.State { return s.cluster }

func clusterCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "cluster", arity: -2, flags: flagLoading, fn: (*conn).cmdCluster},
		{name: "clusterx", arity: -2, flags: flagLoading, fn: (*conn).cmdClusterX},
		{name: "readonly", arity: 1, flags: flagFast | flagLoading, fn: (*conn).cmdReadOnly},
		{name: "readwrite", arity: 1, flags: flagFast | flagLoading, fn: (*conn).cmdReadWrite},
		{name: "asking", arity: 1, flags: flagFast, fn: (*conn).cmdAsking},
	}
}

// clusterAllowed answers KVRocks's errors of a CLUSTER/CLUSTERX
// subcommand run without cluster mode or without admin rights, and
// reports whether it may run.
func (c *conn) clusterAllowed() bool {
	switch {
	case c.s.cluster == nil:
		c.err(errClusterDisabled)
	case !c.admin:
		c.err(errAdminRequired)
	default:
		return true
	}
	return false
}

func (c *conn) cmdReadOnly(*Command)  { c.cl.readonly = true; c.wr.OK() }
func (c *conn) cmdReadWrite(*Command) { c.cl.readonly = false; c.wr.OK() }

// cmdAsking lets the next request use a slot this node is importing.
func (c *conn) cmdAsking(*Command) { c.cl.asking = true; c.wr.OK() }

// clusterRoute checks that this node serves the keys of cmd and answers
// the redirection when it does not (MOVED, CROSSSLOT, TRYAGAIN,
// CLUSTERDOWN). It reports whether the request may run. It allocates
// nothing.
func (c *conn) clusterRoute(cs *cluster.State, spec *cmdSpec, cmd *Command) bool {
	asking := c.cl.asking
	if spec.name != "asking" {
		// NB: ASKING holds for the one request after it, keyed or not.
		c.cl.asking = false
	}
	// NB: a script's slot comes from its declared keys; any other
	// request (EXEC of queued scripts included) starts afresh, and the
	// script's first keyed call sets it.
	c.cl.scriptSlot = 0
	verdict, slot, addr := c.clusterVerdict(cs, spec, cmd.Args, asking)
	if verdict == cluster.Serve && slot >= 0 && spec.keys == keysScript {
		c.cl.scriptSlot = slot + 1
	}
	return c.clusterAnswer(verdict, slot, addr)
}

// verdictCrossSlot is clusterVerdict's answer for keys in several slots.
const verdictCrossSlot cluster.Verdict = 255

// clusterVerdict routes a request with args (slot -1: it names no key).
func (c *conn) clusterVerdict(cs *cluster.State, spec *cmdSpec, args [][]byte, asking bool) (cluster.Verdict, int, string) {
	slot := -1
	if spec.keys == keysPlain && spec.first > 0 && spec.first == spec.last {
		// NB: the one-key commands (GET, SET, INCR...) skip the
		// range walk.
		if spec.first < len(args) {
			slot = cluster.KeySlot(args[spec.first])
		}
	} else {
		var ok bool
		if slot, ok = commandSlot(spec, args); !ok {
			return verdictCrossSlot, -1, ""
		}
	}
	if slot == -1 {
		return cluster.Serve, -1, ""
	}
	v := cs.View()
	if !v.Initialized() {
		return cluster.Down, slot, ""
	}
	verdict, addr := cs.Route(v, slot, cluster.Request{
		Write:     spec.flags&flagWrite != 0,
		ReadOnly:  c.cl.readonly,
		Asking:    asking,
		Importing: c.cl.importing,
	})
	return verdict, slot, addr
}

// clusterAnswer answers a verdict other than Serve and reports whether
// the request may run.
func (c *conn) clusterAnswer(verdict cluster.Verdict, slot int, addr string) bool {
	switch verdict {
	case cluster.Serve:
		return true
	case verdictCrossSlot:
		c.err(errCrossSlot)
	case cluster.Moved:
		c.moved(slot, addr)
	case cluster.TryAgain:
		c.err(errTryAgainForbidden)
	default:
		c.err(errClusterSlotDown)
	}
	return false
}

// clusterReroute routes a request again, under the work guard, when the
// cluster state changed since it was routed (it waited for the guard
// behind a migration's barrier): it answers the redirection and reports
// false when the node no longer serves it.
func (c *conn) clusterReroute(cs *cluster.State, spec *cmdSpec, cmd *Command) bool {
	c.cl.asking = c.cl.routedAsking
	c.cl.epoch = cs.Epoch()
	return c.clusterRoute(cs, spec, cmd)
}

// writeRoute routes again, without answering, a write of key that was
// routed at epoch (with ASKING, importing as the connection had then):
// Serve at once when the cluster state has not changed since. Callers
// hold the work guard: slot migration changes the state of a slot under
// the exclusive guard, so what this sees holds until the write commits.
func (s *Server) writeRoute(epoch uint64, key []byte, asking, importing bool) (cluster.Verdict, int, string) {
	cs := s.cluster
	if cs == nil || cs.Epoch() == epoch {
		return cluster.Serve, -1, ""
	}
	slot := cluster.KeySlot(key)
	verdict, addr := cs.Route(cs.View(), slot, cluster.Request{Write: true, Asking: asking, Importing: importing})
	return verdict, slot, addr
}

// writableAt reports whether writeRoute serves key.
func (s *Server) writableAt(epoch uint64, key []byte, asking, importing bool) bool {
	v, _, _ := s.writeRoute(epoch, key, asking, importing)
	return v == cluster.Serve
}

// clusterRecheckWrite is clusterReroute for a write of keys (one slot:
// routing checked it) by a command that gave the guard back and took it
// again (runAlone): it answers the redirection and reports false when
// the slot is no longer written here.
func (c *conn) clusterRecheckWrite(keys [][]byte) bool {
	if len(keys) == 0 {
		return true
	}
	return c.clusterAnswer(c.s.writeRoute(c.cl.epoch, keys[0], c.cl.routedAsking, c.cl.importing))
}

// errRouteChanged fails queued writes whose slot stopped being served
// here before they committed; their replies are dropped with the
// connection, as for a failed commit (the client retries and is
// redirected).
var errRouteChanged = errors.New("resp: the slot of a queued write moved before it committed")

// moved answers "-MOVED <slot> <host:port>".
func (c *conn) moved(slot int, addr string) {
	b := append(c.scratch[:0], "MOVED "...)
	b = strconv.AppendInt(b, int64(slot), 10)
	b = append(b, ' ')
	b = append(b, addr...)
	c.scratch = b
	c.wr.Error(string(b))
}

// clusterScriptCheck checks a command a script runs in cluster mode, as
// KVRocks does: the keys of one script hash to one slot (the first one
// seen, from KEYS or from the first keyed call) that this node serves.
// It returns the error to raise, "" when the call may run.
func (c *conn) clusterScriptCheck(spec *cmdSpec, args [][]byte) string {
	cs := c.s.cluster
	slot, ok := commandSlot(spec, args)
	if !ok {
		return errCrossSlot
	}
	if slot == -1 {
		return ""
	}
	v := cs.View()
	if !v.Initialized() || v.Topology.Owner(slot) == nil {
		return errClusterSlotDown
	}
	if cur := c.cl.scriptSlot - 1; cur != -1 && cur != slot {
		if v.Topology.Owner(cur) != v.Topology.Owner(slot) {
			return "MOVED " + strconv.Itoa(slot) + " " + v.Topology.Owner(slot).Addr()
		}
		return errScriptCrossSlot
	}
	c.cl.scriptSlot = slot + 1
	verdict, _ := cs.Route(v, slot, cluster.Request{
		Write: spec.flags&flagWrite != 0, ReadOnly: c.cl.readonly, Importing: c.cl.importing,
	})
	switch verdict {
	case cluster.Serve:
		return ""
	case cluster.TryAgain:
		return errTryAgainForbidden
	}
	return errScriptNonLocalKey
}

// commandSlot is the slot all keys of a request hash to (-1: it has no
// keys); ok is false when they hash to more than one.
func commandSlot(spec *cmdSpec, args [][]byte) (slot int, ok bool) {
	ranges, n := spec.keyRanges(args)
	slot = -1
	for _, r := range ranges[:n] {
		for i := r.first; i <= r.last && i < len(args); i += r.step {
			s := cluster.KeySlot(args[i])
			if slot == -1 {
				slot = s
			} else if s != slot {
				return -1, false
			}
		}
	}
	return slot, true
}

// keyKind says how to find a command's keys beyond first/last/step.
type keyKind uint8

const (
	keysPlain   keyKind = iota // first, last, step
	keysScript                 // EVAL & co.: numkeys at 2, keys from 3
	keysNum2                   // BLMPOP, BZMPOP: numkeys at 2, keys from 3
	keysNum1                   // LMPOP, ZMPOP, ZUNION, SINTERCARD...: numkeys at 1, keys from 2
	keysStore                  // ZUNIONSTORE & co.: destination, numkeys at 2, keys from 3
	keysStreams                // XREAD, XREADGROUP: the first half after STREAMS
	keysSecond                 // XINFO, XGROUP: the key after the subcommand
)

func keyKindOf(name string) keyKind {
	switch name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return keysScript
	case "blmpop", "bzmpop":
		return keysNum2
	case "lmpop", "zmpop", "zunion", "zinter", "zdiff", "zintercard", "sintercard":
		return keysNum1
	case "zunionstore", "zinterstore", "zdiffstore":
		return keysStore
	case "xread", "xreadgroup":
		return keysStreams
	case "xinfo", "xgroup":
		return keysSecond
	}
	return keysPlain
}

// keyRange is one run of key argument indexes, first to last by step.
type keyRange struct{ first, last, step int }

// keyRanges are the argument indexes holding keys: at most two runs, by
// value, so finding them allocates nothing. A malformed numkeys yields no
// keys (the command answers its own error).
func (s *cmdSpec) keyRanges(args [][]byte) (r [2]keyRange, n int) {
	argc := len(args)
	numkeys := func(i int) (int, bool) {
		if i >= argc {
			return 0, false
		}
		k, err := strconv.Atoi(string(args[i]))
		return k, err == nil && k >= 0 && k <= argc
	}
	switch s.keys {
	case keysPlain:
		if s.first <= 0 {
			return r, 0
		}
		last := s.last
		if last < 0 {
			last += argc
		}
		r[0] = keyRange{s.first, last, max(s.step, 1)}
		return r, 1
	case keysScript, keysNum2:
		if k, ok := numkeys(2); ok && k > 0 {
			r[0] = keyRange{3, 2 + k, 1}
			return r, 1
		}
	case keysNum1:
		if k, ok := numkeys(1); ok && k > 0 {
			r[0] = keyRange{2, 1 + k, 1}
			return r, 1
		}
	case keysStore:
		r[0] = keyRange{1, 1, 1}
		if k, ok := numkeys(2); ok && k > 0 {
			r[1] = keyRange{3, 2 + k, 1}
			return r, 2
		}
		return r, 1
	case keysStreams:
		for i := 1; i < argc; i++ {
			if len(args[i]) == 7 && eqFold(args[i], "streams") {
				rest := argc - i - 1
				if rest > 0 && rest%2 == 0 {
					r[0] = keyRange{i + 1, i + rest/2, 1}
					return r, 1
				}
				return r, 0
			}
		}
	case keysSecond:
		if argc >= 3 {
			r[0] = keyRange{2, 2, 1}
			return r, 1
		}
	}
	return r, 0
}

// cmdCluster is CLUSTER INFO|NODES|SLOTS|SHARDS|KEYSLOT|RESET|REPLICAS,
// plus the subcommands registered by slot migration.
func (c *conn) cmdCluster(cmd *Command) {
	args := cmd.Args
	sub := strings.ToLower(string(args[1]))
	if h := clusterSubcommands["cluster "+sub]; h != nil {
		h(c, cmd)
		return
	}
	switch {
	case len(args) == 2 && (sub == "info" || sub == "nodes" || sub == "slots" || sub == "shards" || sub == "reset"),
		len(args) == 3 && (sub == "keyslot" || sub == "replicas"),
		// NB: kvrocks-controller resets a node with CLUSTER RESET HARD;
		// both modes forget everything here, as KVRocks's.
		len(args) == 3 && sub == "reset" && (eqFold(args[2], "hard") || eqFold(args[2], "soft")):
	default:
		c.err(errClusterUsage)
		return
	}
	if !c.clusterAllowed() {
		return
	}
	cs := c.s.cluster
	v := cs.View()
	if sub == "keyslot" {
		c.wr.Int(int64(cluster.KeySlot(args[2])))
		return
	}
	if sub == "reset" {
		c.clusterReset()
		return
	}
	if !v.Initialized() {
		c.err(errClusterNotInit)
		return
	}
	switch sub {
	case "info":
		c.wr.Verbatim("txt", c.clusterInfo(v))
	case "nodes":
		c.wr.Verbatim("txt", c.clusterNodes(v))
	case "slots":
		c.clusterSlots(v)
	case "shards":
		c.clusterShards(v)
	case "replicas":
		c.clusterReplicas(v, string(args[2]))
	}
}

func (c *conn) clusterReset() {
	cs := c.s.cluster
	if h := cs.Hooks(); h.Busy != nil {
		if err := h.Busy(); err != nil {
			c.err("ERR " + err.Error())
			return
		}
	}
	for _, n := range c.eng.Stats().Keys {
		if n > 0 {
			c.err("ERR " + cluster.ErrResetNotEmpty.Error())
			return
		}
	}
	if err := cs.Reset(); err != nil {
		c.err("ERR " + err.Error())
		return
	}
	c.s.persistNodes()
	c.wr.OK()
}

// clusterInfo is CLUSTER INFO's text.
func (c *conn) clusterInfo(v *cluster.View) []byte {
	t := v.Topology
	assigned := int64(t.Assigned())
	b := c.scratch[:0]
	b = append(b, "cluster_state:ok\r\n"...)
	b = appendInfoInt(b, "cluster_slots_assigned", assigned)
	b = appendInfoInt(b, "cluster_slots_ok", assigned)
	b = append(b, "cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n"...)
	b = appendInfoInt(b, "cluster_known_nodes", int64(len(t.Nodes)))
	b = appendInfoInt(b, "cluster_size", int64(t.Size))
	b = appendInfoInt(b, "cluster_current_epoch", v.Version)
	b = appendInfoInt(b, "cluster_my_epoch", v.Version)
	if v.Myself != nil && v.Myself.Role == cluster.Master {
		if h := c.s.cluster.Hooks(); h.Info != nil {
			b = h.Info(b)
		}
	}
	c.scratch = b
	return b
}

func appendInfoInt(b []byte, key string, v int64) []byte {
	b = append(b, key...)
	b = append(b, ':')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '\r', '\n')
}

// clusterNodes is CLUSTER NODES's text: one line per node,
// "<id> <host>:<port>@<cport> [myself,]master|slave <master-id>|- <ping-sent>
// <pong-recv> <version> connected [<slots>...]".
func (c *conn) clusterNodes(v *cluster.View) []byte {
	now := time.Now().UnixMilli()
	b := c.scratch[:0]
	for _, n := range v.Topology.Nodes {
		b = append(b, n.ID...)
		b = append(b, ' ')
		b = append(b, n.Host...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(n.Port), 10)
		b = append(b, '@')
		b = strconv.AppendInt(b, int64(n.Port+10000), 10)
		b = append(b, ' ')
		if n.ID == v.MyID {
			b = append(b, "myself,"...)
		}
		if n.Role == cluster.Master {
			b = append(b, "master - "...)
		} else {
			b = append(b, "slave "...)
			b = append(b, n.MasterID...)
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, now-1, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, now, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, v.Version, 10)
		b = append(b, " connected"...)
		if n.Role == cluster.Master {
			for _, r := range n.Slots {
				b = append(b, ' ')
				b = r.AppendTo(b)
			}
		}
		if n.ID == v.MyID {
			if h := c.s.cluster.Hooks(); h.NodesNote != nil {
				b = h.NodesNote(b)
			}
		}
		b = append(b, '\n')
	}
	c.scratch = b
	return b
}

// clusterSlots is CLUSTER SLOTS: per run of slots of one master, the
// range, then the master and its replicas as [host, port, id].
func (c *conn) clusterSlots(v *cluster.View) {
	t := v.Topology
	ranges := t.OwnedRanges()
	c.wr.Array(len(ranges))
	for _, r := range ranges {
		m := t.Owner(r.Start)
		c.wr.Array(3 + len(m.Replicas))
		c.wr.Int(int64(r.Start))
		c.wr.Int(int64(r.End))
		c.clusterNodeTriple(m)
		for _, id := range m.Replicas {
			c.clusterNodeTriple(t.Node(id))
		}
	}
}

func (c *conn) clusterNodeTriple(n *cluster.Node) {
	c.wr.Array(3)
	c.wr.BulkString(n.Host)
	c.wr.Int(int64(n.Port))
	c.wr.BulkString(n.ID)
}

// clusterShards is CLUSTER SHARDS as Redis 7 answers it: per master with
// slots, its slot ranges and its nodes (master first, then replicas).
func (c *conn) clusterShards(v *cluster.View) {
	t := v.Topology
	n := 0
	for _, m := range t.Nodes {
		if m.Role == cluster.Master && len(m.Slots) > 0 {
			n++
		}
	}
	c.wr.Array(n)
	for _, m := range t.Nodes {
		if m.Role != cluster.Master || len(m.Slots) == 0 {
			continue
		}
		c.wr.Map(2)
		c.wr.BulkString("slots")
		c.wr.Array(2 * len(m.Slots))
		for _, r := range m.Slots {
			c.wr.Int(int64(r.Start))
			c.wr.Int(int64(r.End))
		}
		c.wr.BulkString("nodes")
		c.wr.Array(1 + len(m.Replicas))
		c.clusterShardNode(v, m)
		for _, id := range m.Replicas {
			c.clusterShardNode(v, t.Node(id))
		}
	}
}

func (c *conn) clusterShardNode(v *cluster.View, n *cluster.Node) {
	c.wr.Map(7)
	c.wr.BulkString("id")
	c.wr.BulkString(n.ID)
	c.wr.BulkString("port")
	c.wr.Int(int64(n.Port))
	c.wr.BulkString("ip")
	c.wr.BulkString(n.Host)
	c.wr.BulkString("endpoint")
	c.wr.BulkString(n.Host)
	c.wr.BulkString("role")
	if n.Role == cluster.Master {
		c.wr.BulkString("master")
	} else {
		c.wr.BulkString("replica")
	}
	c.wr.BulkString("replication-offset")
	c.wr.Int(0)
	c.wr.BulkString("health")
	c.wr.BulkString("online")
}

// clusterReplicas is CLUSTER REPLICAS <master-id>, in CLUSTER NODES's
// line format.
func (c *conn) clusterReplicas(v *cluster.View, id string) {
	m := v.Topology.Node(id)
	if m == nil {
		c.err("ERR " + cluster.ErrInvalidNodeID.Error())
		return
	}
	if m.Role != cluster.Master {
		c.err("ERR " + cluster.ErrNotMaster.Error())
		return
	}
	now := time.Now().UnixMilli()
	var b []byte
	for _, rid := range m.Replicas {
		r := v.Topology.Node(rid)
		b = append(b, r.ID...)
		b = append(b, ' ')
		b = append(b, r.Host...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(r.Port), 10)
		b = append(b, '@')
		b = strconv.AppendInt(b, int64(r.Port+10000), 10)
		b = append(b, " slave "...)
		b = append(b, id...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, now-1, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, now, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, v.Version, 10)
		b = append(b, " connected\n"...)
	}
	c.wr.Verbatim("txt", b)
}

// cmdClusterX is CLUSTERX VERSION|MYID|SETNODEID|SETNODES|SETSLOT, plus
// the subcommands registered by slot migration (MIGRATE).
func (c *conn) cmdClusterX(cmd *Command) {
	args := cmd.Args
	sub := strings.ToLower(string(args[1]))
	if h := clusterSubcommands["clusterx "+sub]; h != nil {
		h(c, cmd)
		return
	}
	var (
		version int64
		force   bool
		ranges  []cluster.SlotRange
	)
	switch {
	case len(args) == 2 && (sub == "version" || sub == "myid"):
	case sub == "setnodeid" && len(args) == 3 && len(args[2]) == cluster.NodeIDLen:
	case sub == "setnodes" && len(args) >= 4:
		v, err := strconv.ParseInt(string(args[3]), 10, 64)
		if err != nil {
			c.err(errSetNodesVersion)
			return
		}
		version = v
		switch {
		case len(args) == 4:
		case len(args) == 5 && eqFold(args[4], "force"):
			force = true
		default:
			c.err(errSetNodesOptions)
			return
		}
	case sub == "setslot" && len(args) == 6:
		rs, err := cluster.ParseSlotRanges(string(args[2]))
		if err != nil {
			c.err("ERR " + err.Error())
			return
		}
		ranges = rs
		if !eqFold(args[3], "node") {
			c.err(errSetSlotOptions)
			return
		}
		if len(args[4]) != cluster.NodeIDLen {
			c.err(errSetSlotNodeID)
			return
		}
		v, err := strconv.ParseInt(string(args[5]), 10, 64)
		if err != nil {
			c.err(errNotInteger)
			return
		}
		if v < 0 {
			c.err(errSetNodesVersion)
			return
		}
		version = v
	default:
		c.err(errClusterXUsage)
		return
	}
	if !c.clusterAllowed() {
		return
	}
	cs := c.s.cluster
	var err error
	switch sub {
	case "version":
		c.wr.BulkString(strconv.FormatInt(cs.Version(), 10))
		return
	case "myid":
		c.wr.BulkString(cs.MyID())
		return
	case "setnodeid":
		err = cs.SetNodeID(string(args[2]))
	case "setnodes":
		err = cs.SetNodes(string(args[2]), version, force)
		if me := cs.View().Myself; err == nil && me != nil && me.Role == cluster.Replica {
			c.s.logf("cluster: this node is listed as a replica of %s, but replication is not supported: it holds none of its master's data and redirects every keyed request", me.MasterID)
		}
	case "setslot":
		err = cs.SetSlot(ranges, string(args[4]), version)
	}
	if err != nil {
		c.err("ERR " + err.Error())
		return
	}
	c.s.persistNodes()
	c.wr.OK()
}

// persistNodes writes the topology to the nodes file (KVRocks's
// persist-cluster-nodes-enabled), so a restarted node keeps it.
func (s *Server) persistNodes() {
	if s.cfg.ClusterNodesFile == "" {
		return
	}
	if err := s.cluster.Save(s.cfg.ClusterNodesFile); err != nil {
		s.logf("cluster: cannot save %s: %v", s.cfg.ClusterNodesFile, err)
	}
}
