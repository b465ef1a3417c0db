package resp

import (
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// Pub/sub as Redis 7 and KVRocks do it. Channels are server-wide, not per
// namespace: KVRocks keys its channel table by name alone, so clients of
// different namespaces that use one channel name hear each other (name
// channels per tenant where that matters). Shard channels (SSUBSCRIBE,
// SPUBLISH) are a separate table, as in Redis; without cluster slots they
// behave as plain channels.
//
// One mutex orders publishing and (un)subscribing: every subscriber sees
// the messages in one order, as a single-threaded Redis delivers them, and
// a subscribe's confirmation is queued before any message that follows it
// (and an unsubscribe's after the last it gets). Publishing holds it only to
// append a shared frame to each subscriber's queue (pubsub_queue.go).

func pubsubCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "subscribe", arity: -2, flags: flagLoading, fn: (*conn).cmdSubscribe},
		{name: "unsubscribe", arity: -1, flags: flagLoading, fn: (*conn).cmdUnsubscribe},
		{name: "psubscribe", arity: -2, flags: flagLoading, fn: (*conn).cmdPSubscribe},
		{name: "punsubscribe", arity: -1, flags: flagLoading, fn: (*conn).cmdPUnsubscribe},
		{name: "ssubscribe", arity: -2, flags: flagLoading, first: 1, last: -1, step: 1, fn: (*conn).cmdSSubscribe},
		{name: "sunsubscribe", arity: -1, flags: flagLoading, first: 1, last: -1, step: 1, fn: (*conn).cmdSUnsubscribe},
		{name: "publish", arity: 3, flags: flagLoading | flagFast, fn: (*conn).cmdPublish},
		{name: "spublish", arity: 3, flags: flagLoading | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSPublish},
		{name: "mpublish", arity: -3, flags: flagLoading | flagFast, fn: (*conn).cmdMPublish},
		{name: "pubsub", arity: -2, flags: flagLoading, fn: (*conn).cmdPubsub},
		{name: "monitor", arity: 1, flags: flagLoading, fn: (*conn).cmdMonitor},
	}
}

// Subscription kinds.
const (
	subChannel = iota
	subPattern
	subShard
	subKinds
)

// kindWords are the reply words of each kind: subscribe, unsubscribe,
// message.
var kindWords = [subKinds][3]string{
	{"subscribe", "unsubscribe", "message"},
	{"psubscribe", "punsubscribe", "pmessage"},
	{"ssubscribe", "sunsubscribe", "smessage"},
}

// subscribers of one channel or pattern: a slice to publish over, an index
// to remove from in O(1).
type subscribers struct {
	name []byte
	list []*pushQueue
	at   map[*pushQueue]int
}

func (s *subscribers) add(p *pushQueue) bool {
	if _, ok := s.at[p]; ok {
		return false
	}
	s.at[p] = len(s.list)
	s.list = append(s.list, p)
	return true
}

func (s *subscribers) remove(p *pushQueue) bool {
	i, ok := s.at[p]
	if !ok {
		return false
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.at[s.list[i]] = i
	s.list[last] = nil
	s.list = s.list[:last]
	delete(s.at, p)
	return true
}

// pubsubHub is the server's subscription table and monitor list.
type pubsubHub struct {
	mu       sync.Mutex
	tables   [subKinds]map[string]*subscribers
	patterns []*subscribers // tables[subPattern] as a list to match against
	counts   [subKinds]atomic.Int64

	monitoring atomic.Int32 // len(monitors): the one load the request path pays
	monMu      sync.Mutex
	monitors   []*pushQueue
}

func (h *pubsubHub) table(kind int) map[string]*subscribers {
	if h.tables[kind] == nil {
		h.tables[kind] = make(map[string]*subscribers)
	}
	return h.tables[kind]
}

// subscribe adds p to name's subscribers; h.mu is held.
func (h *pubsubHub) subscribe(kind int, name []byte, p *pushQueue) bool {
	t := h.table(kind)
	s := t[string(name)]
	if s == nil {
		s = &subscribers{name: append([]byte(nil), name...), at: make(map[*pushQueue]int)}
		t[string(s.name)] = s
		h.counts[kind].Add(1)
		if kind == subPattern {
			h.patterns = append(h.patterns, s)
		}
	}
	return s.add(p)
}

// unsubscribe removes p from name's subscribers; h.mu is held.
func (h *pubsubHub) unsubscribe(kind int, name string, p *pushQueue) bool {
	t := h.tables[kind]
	s := t[name]
	if s == nil || !s.remove(p) {
		return false
	}
	if len(s.list) == 0 {
		delete(t, name)
		h.counts[kind].Add(-1)
		if kind == subPattern {
			for i, e := range h.patterns {
				if e == s {
					last := len(h.patterns) - 1
					h.patterns[i] = h.patterns[last]
					h.patterns[last] = nil
					h.patterns = h.patterns[:last]
					break
				}
			}
		}
	}
	return true
}

// frames builds a message's frame once per protocol, on first need.
type frames struct {
	words   [3]string
	pattern []byte // pmessage's pattern; nil otherwise
	channel []byte
	msg     []byte
	f       [2][]byte // RESP2, RESP3
}

func (fr *frames) get(proto int32) []byte {
	i := 0
	if proto == 3 {
		i = 1
	}
	if fr.f[i] == nil {
		n := 3
		if fr.pattern != nil {
			n = 4
		}
		word := fr.words[2]
		b := make([]byte, 0, 48+len(word)+len(fr.pattern)+len(fr.channel)+len(fr.msg))
		if i == 1 {
			b = append(b, '>')
		} else {
			b = append(b, '*')
		}
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, '\r', '\n')
		b = appendBulk(b, []byte(word))
		if fr.pattern != nil {
			b = appendBulk(b, fr.pattern)
		}
		b = appendBulk(b, fr.channel)
		b = appendBulk(b, fr.msg)
		fr.f[i] = b
	}
	return fr.f[i]
}

// publish sends msg to channel's subscribers (and, for plain channels, to
// the matching patterns') and returns how many received it. The queues
// whose writers are to be woken are appended to *wakes.
func (h *pubsubHub) publish(shard bool, channel, msg []byte, wakes *[]*pushQueue) int {
	kind := subChannel
	if shard {
		kind = subShard
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	if s := h.tables[kind][string(channel)]; s != nil {
		fr := frames{words: kindWords[kind], channel: channel, msg: msg}
		for _, p := range s.list {
			if p.add(fr.get(p.proto.Load())) {
				*wakes = append(*wakes, p)
			}
		}
		n += len(s.list)
	}
	if shard {
		return n
	}
	for _, s := range h.patterns {
		if !engine.MatchGlob(s.name, channel) {
			continue
		}
		fr := frames{words: kindWords[subPattern], pattern: s.name, channel: channel, msg: msg}
		for _, p := range s.list {
			if p.add(fr.get(p.proto.Load())) {
				*wakes = append(*wakes, p)
			}
		}
		n += len(s.list)
	}
	return n
}

// pubsubState is a connection's subscriptions, used by its own goroutine;
// the hub holds the reverse index.
type pubsubState struct {
	q       *pushQueue
	sets    [subKinds]map[string]struct{}
	order   [subKinds][]string // subscription order, for unsubscribe-all replies
	monitor bool
}

// pushing gives the connection its push queue: from here on every byte it
// sends goes through it. Replies already queued are sent first.
func (c *conn) pushing() *pubsubState {
	if c.ps != nil {
		return c.ps
	}
	c.flush()
	c.ps = &pubsubState{q: newPushQueue(c)}
	c.pushQ.Store(c.ps.q)
	return c.ps
}

// subscribed is the connection's number of subscriptions of every kind.
func (ps *pubsubState) subscribed() int {
	if ps == nil {
		return 0
	}
	return len(ps.sets[subChannel]) + len(ps.sets[subPattern]) + len(ps.sets[subShard])
}

// count is the number a (un)subscribe reply carries: shard subscriptions
// count apart from the others, as in Redis.
func (ps *pubsubState) count(kind int) int64 {
	if kind == subShard {
		return int64(len(ps.sets[subShard]))
	}
	return int64(len(ps.sets[subChannel]) + len(ps.sets[subPattern]))
}

func (ps *pubsubState) publishCounts() {
	ps.q.nsub.Store(int32(len(ps.sets[subChannel])))
	ps.q.npsub.Store(int32(len(ps.sets[subPattern])))
	ps.q.nssub.Store(int32(len(ps.sets[subShard])))
}

func (c *conn) subReply(kind, verb int, name []byte, n int64) {
	c.wr.Push(3)
	c.wr.BulkString(kindWords[kind][verb])
	if name == nil {
		c.wr.Null()
	} else {
		c.wr.Bulk(name)
	}
	c.wr.Int(n)
}

func (c *conn) cmdSubscribe(cmd *Command)  { c.subscribe(subChannel, cmd.Args[1:]) }
func (c *conn) cmdPSubscribe(cmd *Command) { c.subscribe(subPattern, cmd.Args[1:]) }
func (c *conn) cmdSSubscribe(cmd *Command) { c.subscribe(subShard, cmd.Args[1:]) }

func (c *conn) cmdUnsubscribe(cmd *Command)  { c.unsubscribe(subChannel, cmd.Args[1:]) }
func (c *conn) cmdPUnsubscribe(cmd *Command) { c.unsubscribe(subPattern, cmd.Args[1:]) }
func (c *conn) cmdSUnsubscribe(cmd *Command) { c.unsubscribe(subShard, cmd.Args[1:]) }

func (c *conn) subscribe(kind int, names [][]byte) {
	ps := c.pushing()
	h := &c.s.pubsub
	h.mu.Lock()
	for _, name := range names {
		if ps.sets[kind] == nil {
			ps.sets[kind] = make(map[string]struct{})
		}
		if _, ok := ps.sets[kind][string(name)]; !ok {
			ps.sets[kind][string(name)] = struct{}{}
			ps.order[kind] = append(ps.order[kind], string(name))
			h.subscribe(kind, name, ps.q)
		}
		c.subReply(kind, 0, name, ps.count(kind))
	}
	// NB: the counts (CLIENT KILL TYPE pubsub, CLIENT LIST) change before
	// the reply goes out, so a client that saw it finds them changed.
	ps.publishCounts()
	// NB: queued before the lock is released, so ahead of any message
	// published to the new subscriptions.
	c.wr.Flush()
	h.mu.Unlock()
}

func (c *conn) unsubscribe(kind int, names [][]byte) {
	ps := c.ps
	if ps == nil {
		// Nothing to leave and no queue: the replies go out as any.
		if len(names) == 0 {
			c.subReply(kind, 1, nil, 0)
			return
		}
		for _, name := range names {
			c.subReply(kind, 1, name, 0)
		}
		return
	}
	c.flush()
	h := &c.s.pubsub
	h.mu.Lock()
	if len(names) == 0 {
		if len(ps.order[kind]) == 0 {
			c.subReply(kind, 1, nil, ps.count(kind))
		}
		// NB: leave shortens the list being walked: walk a copy.
		for _, name := range append([]string(nil), ps.order[kind]...) {
			ps.leave(h, kind, name)
			c.subReply(kind, 1, []byte(name), ps.count(kind))
		}
	} else {
		for _, name := range names {
			ps.leave(h, kind, string(name))
			c.subReply(kind, 1, name, ps.count(kind))
		}
	}
	ps.publishCounts() // before the reply, as in subscribe
	c.wr.Flush()
	h.mu.Unlock()
}

// leave drops one subscription; h.mu is held.
func (ps *pubsubState) leave(h *pubsubHub, kind int, name string) {
	if _, ok := ps.sets[kind][name]; !ok {
		return
	}
	delete(ps.sets[kind], name)
	h.unsubscribe(kind, name, ps.q)
	if len(ps.sets[kind]) == 0 {
		ps.order[kind] = nil
		return
	}
	o := ps.order[kind]
	for i, n := range o {
		if n == name {
			copy(o[i:], o[i+1:])
			o[len(o)-1] = ""
			ps.order[kind] = o[:len(o)-1]
			break
		}
	}
}

// leaveAll drops every subscription and the monitor (RESET, disconnect).
func (c *conn) leaveAll() {
	ps := c.ps
	if ps == nil {
		return
	}
	h := &c.s.pubsub
	h.mu.Lock()
	for kind := range ps.order {
		for _, name := range ps.order[kind] {
			delete(ps.sets[kind], name)
			h.unsubscribe(kind, name, ps.q)
		}
		ps.order[kind] = nil
	}
	if ps.monitor {
		h.removeMonitor(ps.q)
		ps.monitor = false
	}
	h.mu.Unlock()
	ps.publishCounts()
}

// endPush ends the push queue when the connection ends; with drain (QUIT)
// what is queued is written first.
func (c *conn) endPush(drain bool) {
	if c.ps == nil {
		return
	}
	c.leaveAll()
	c.ps.q.finish(drain, 10*time.Second)
}

func (c *conn) cmdPublish(cmd *Command) {
	c.wr.Int(int64(c.s.pubsub.publish(false, cmd.Args[1], cmd.Args[2], &c.wakes)))
}

func (c *conn) cmdSPublish(cmd *Command) {
	c.wr.Int(int64(c.s.pubsub.publish(true, cmd.Args[1], cmd.Args[2], &c.wakes)))
}

// wakeSubscribers wakes the writers of the subscribers this connection
// published to, once its batch of commands has run (flush).
func (c *conn) wakeSubscribers() {
	for i, p := range c.wakes {
		p.signal()
		c.wakes[i] = nil
	}
	c.wakes = c.wakes[:0]
}

// MPUBLISH channel message [message ...] (KVRocks): each message in turn;
// the reply adds up the receivers.
func (c *conn) cmdMPublish(cmd *Command) {
	var n int64
	for _, msg := range cmd.Args[2:] {
		n += int64(c.s.pubsub.publish(false, cmd.Args[1], msg, &c.wakes))
	}
	c.wr.Int(n)
}

var pubsubHelp = []string{
	"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
	"HELP",
	"    Prints this help.",
}

// PUBSUB CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP, with
// Redis 7's replies and error texts.
func (c *conn) cmdPubsub(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	h := &c.s.pubsub
	switch {
	case eqFold(sub, "help") && len(args) == 2:
		c.wr.Array(len(pubsubHelp))
		for _, l := range pubsubHelp {
			c.wr.Simple(l)
		}
	case (eqFold(sub, "channels") || eqFold(sub, "shardchannels")) && len(args) <= 3:
		kind := subChannel
		if eqFold(sub, "shardchannels") {
			kind = subShard
		}
		var pat []byte
		if len(args) == 3 {
			pat = args[2]
		}
		h.mu.Lock()
		names := make([]string, 0, len(h.tables[kind]))
		for name, s := range h.tables[kind] {
			if pat == nil || engine.MatchGlob(pat, s.name) {
				names = append(names, name)
			}
		}
		h.mu.Unlock()
		sort.Strings(names)
		c.wr.Array(len(names))
		for _, n := range names {
			c.wr.BulkString(n)
		}
	case eqFold(sub, "numsub") || eqFold(sub, "shardnumsub"):
		kind := subChannel
		if eqFold(sub, "shardnumsub") {
			kind = subShard
		}
		// NB: a flat array under RESP3 too, as Redis answers.
		c.wr.Array(2 * (len(args) - 2))
		h.mu.Lock()
		for _, name := range args[2:] {
			c.wr.Bulk(name)
			n := 0
			if s := h.tables[kind][string(name)]; s != nil {
				n = len(s.list)
			}
			c.wr.Int(int64(n))
		}
		h.mu.Unlock()
	case eqFold(sub, "numpat"):
		if len(args) != 2 {
			c.err("ERR wrong number of arguments for 'pubsub|numpat' command")
			return
		}
		c.wr.Int(h.counts[subPattern].Load())
	case eqFold(sub, "channels"), eqFold(sub, "shardchannels"), eqFold(sub, "help"):
		c.err("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try PUBSUB HELP.")
	default:
		c.err("ERR unknown subcommand '" + string(sub) + "'. Try PUBSUB HELP.")
	}
}

// errSubscribed refuses a command in RESP2 subscriber mode.
func errSubscribed(name string) string {
	return "ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// pushRefuses applies the rules of a connection that subscribes or
// monitors, before a command runs: under RESP2 a subscriber may only
// (un)subscribe, PING, QUIT and RESET; a monitor may not touch the
// keyspace. It reports whether the command was refused (and answered).
func (c *conn) pushRefuses(spec *cmdSpec) bool {
	ps := c.ps
	if ps.monitor && spec.flags&(flagWrite|flagReadonly) != 0 {
		c.err("ERR Replica can't interact with the keyspace")
		return true
	}
	if c.proto == 3 || ps.subscribed() == 0 {
		return false
	}
	switch spec.name {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		return false
	}
	c.err(errSubscribed(spec.name))
	return true
}

// subscriberPing is PING's reply in RESP2 subscriber mode: ["pong", arg].
// It reports whether it answered.
func (c *conn) subscriberPing(cmd *Command) bool {
	if c.ps.subscribed() == 0 || c.proto == 3 || len(cmd.Args) > 2 {
		return false
	}
	c.wr.Array(2)
	c.wr.BulkString("pong")
	if len(cmd.Args) == 2 {
		c.wr.Bulk(cmd.Args[1])
	} else {
		c.wr.BulkString("")
	}
	return true
}

// pubsubClientFields appends CLIENT LIST's sub, psub and ssub fields.
func (c *conn) pubsubClientFields(b []byte) []byte {
	var sub, psub, ssub int32
	if q := c.pushQ.Load(); q != nil {
		sub, psub, ssub = q.nsub.Load(), q.npsub.Load(), q.nssub.Load()
	}
	b = append(b, " sub="...)
	b = strconv.AppendInt(b, int64(sub), 10)
	b = append(b, " psub="...)
	b = strconv.AppendInt(b, int64(psub), 10)
	b = append(b, " ssub="...)
	b = strconv.AppendInt(b, int64(ssub), 10)
	return b
}

// appendFlags appends CLIENT LIST's flags: b blocked, P subscriber, O
// monitor (Redis's letters), N none.
func (c *conn) appendFlags(b []byte) []byte {
	n := len(b)
	if c.s.blocked.isBlocked(c.id) {
		b = append(b, 'b')
	}
	if c.queued() >= 0 {
		b = append(b, 'x') // in MULTI
	}
	if q := c.pushQ.Load(); q != nil {
		if q.monitor.Load() {
			b = append(b, 'O')
		}
		if q.nsub.Load()+q.npsub.Load()+q.nssub.Load() > 0 {
			b = append(b, 'P')
		}
	}
	if len(b) == n {
		b = append(b, 'N')
	}
	return b
}

// pushPending is the bytes a subscriber or monitor has yet to take.
func (c *conn) pushPending() int64 {
	if q := c.pushQ.Load(); q != nil {
		return q.pending()
	}
	return 0
}

// pushExempt reports whether the connection subscribes or monitors: such
// clients wait for pushes and are not closed for idling (timeout), as in
// Redis.
func (c *conn) pushExempt() bool {
	q := c.pushQ.Load()
	return q != nil && (q.monitor.Load() || q.nsub.Load()+q.npsub.Load()+q.nssub.Load() > 0)
}

// Client types of CLIENT KILL TYPE, as Redis classes clients: a
// subscriber is pubsub, a monitor normal.
const (
	clientTypeAny = iota
	clientTypeNormal
	clientTypePubSub
)

// clientType is the connection's CLIENT KILL TYPE class.
func (c *conn) clientType() int {
	if q := c.pushQ.Load(); q != nil && q.nsub.Load()+q.npsub.Load()+q.nssub.Load() > 0 {
		return clientTypePubSub
	}
	return clientTypeNormal
}

// closeOverSoftLimit closes the subscribers and monitors whose pushes have
// stayed over the pubsub soft limit for its seconds.
func (s *Server) closeOverSoftLimit(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if q := c.pushQ.Load(); q != nil {
			q.checkSoft(now)
		}
	}
}
