package resp

import (
	"slices"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

const errXGroupNoKey = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."

func subcommandErr(cmd string, sub []byte) string {
	return "ERR unknown subcommand '" + string(sub) + "'. Try " + cmd + " HELP."
}

func subcommandArity(cmd string, sub []byte) string {
	return "ERR wrong number of arguments for '" + cmd + "|" + strings.ToLower(string(sub)) + "' command"
}

// parseEntriesRead parses ENTRIESREAD's value.
func parseEntriesRead(b []byte) (int64, string) {
	n, ok := parseStrictInt(b)
	if !ok {
		return 0, errNotInteger
	}
	if n < 0 && n != -1 {
		return 0, "ERR value for ENTRIESREAD must be positive or -1"
	}
	return n, ""
}

// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
// XGROUP SETID key group id|$ [ENTRIESREAD n]
// XGROUP DESTROY key group
// XGROUP CREATECONSUMER key group consumer
// XGROUP DELCONSUMER key group consumer
func (c *conn) cmdXGroup(cmd *Command) {
	args := cmd.Args
	sub := args[1]
	var arityOK bool
	switch {
	case eqFold(sub, "create"):
		arityOK = len(args) >= 5
	case eqFold(sub, "setid"):
		arityOK = len(args) >= 5
	case eqFold(sub, "destroy"):
		arityOK = len(args) == 4
	case eqFold(sub, "createconsumer"), eqFold(sub, "delconsumer"):
		arityOK = len(args) == 5
	case eqFold(sub, "help"):
		c.streamHelp("XGROUP", xgroupHelp)
		return
	default:
		c.err(subcommandErr("XGROUP", sub))
		return
	}
	if !arityOK {
		c.err(subcommandArity("xgroup", sub))
		return
	}
	key, group := args[2], args[3]
	entriesRead := int64(-1)
	mkstream := false
	if eqFold(sub, "create") {
		for i := 5; i < len(args); i++ {
			switch {
			case eqFold(args[i], "mkstream"):
				mkstream = true
			case eqFold(args[i], "entriesread") && i+1 < len(args):
				n, e := parseEntriesRead(args[i+1])
				if e != "" {
					c.err(e)
					return
				}
				entriesRead = n
				i++
			default:
				c.err("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try XGROUP HELP.")
				return
			}
		}
	}
	if eqFold(sub, "setid") {
		switch {
		case len(args) == 7 && eqFold(args[5], "entriesread"):
			n, e := parseEntriesRead(args[6])
			if e != "" {
				c.err(e)
				return
			}
			entriesRead = n
		case len(args) != 5:
			c.err("ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try XGROUP HELP.")
			return
		}
	}
	var reply func()
	ok := c.txn(args[2:3], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if err != nil {
			return err
		}
		if !exists && !mkstream {
			return replyError(errXGroupNoKey)
		}
		var g engine.StreamGroup
		var found bool
		if exists {
			if g, found, err = t.StreamGetGroup(0, group); err != nil {
				return err
			}
		}
		if !found && !eqFold(sub, "create") && !eqFold(sub, "destroy") {
			return errNoGroupFor(key, group)
		}
		now := nowMillis()
		switch {
		case eqFold(sub, "create"):
			var id engine.StreamID
			if string(args[4]) == "$" {
				if exists {
					id = t.StreamInfo(0).LastID
				}
			} else {
				s, ok := parseStreamID(args[4], 0, true, false)
				if !ok {
					return replyError(errStreamID)
				}
				id = s.id
			}
			if found {
				return replyError("BUSYGROUP Consumer Group name already exists")
			}
			if !exists {
				if err := t.Create(0, engine.TypeStream); err != nil {
					return err
				}
			}
			t.StreamPutGroup(0, group, engine.StreamGroup{LastID: id, EntriesRead: entriesRead}, true)
			reply = c.wr.OK
		case eqFold(sub, "setid"):
			var id engine.StreamID
			if string(args[4]) == "$" {
				id = t.StreamInfo(0).LastID
			} else {
				s, ok := parseStreamID(args[4], 0, false, false)
				if !ok {
					return replyError(errStreamID)
				}
				id = s.id
			}
			g.LastID, g.EntriesRead = id, entriesRead
			t.StreamPutGroup(0, group, g, false)
			reply = c.wr.OK
		case eqFold(sub, "destroy"):
			ok, err := t.StreamDestroyGroup(0, group)
			if err != nil {
				return err
			}
			reply = func() { c.wr.Int(b2i(ok)) }
		case eqFold(sub, "createconsumer"):
			_, had, err := t.StreamGetConsumer(0, group, args[4])
			if err != nil {
				return err
			}
			if !had {
				g.Consumers++
				t.StreamPutConsumer(0, group, args[4], engine.StreamConsumer{SeenTime: now, ActiveTime: -1})
				t.StreamPutGroup(0, group, g, false)
			}
			reply = func() { c.wr.Int(b2i(!had)) }
		default: // delconsumer
			_, had, err := t.StreamGetConsumer(0, group, args[4])
			if err != nil {
				return err
			}
			var pending int64
			if had {
				var ids []engine.StreamID
				err := t.StreamPendingRange(0, group, engine.StreamID{}, engine.MaxStreamID, func(id engine.StreamID, p engine.StreamPending) bool {
					if string(p.Consumer) == string(args[4]) {
						ids = append(ids, id)
					}
					return true
				})
				if err != nil {
					return err
				}
				for _, id := range ids {
					t.StreamDelPending(0, group, id)
				}
				pending = int64(len(ids))
				g.Pending -= pending
				g.Consumers--
				t.StreamDelConsumer(0, group, args[4])
				t.StreamPutGroup(0, group, g, false)
			}
			reply = func() { c.wr.Int(pending) }
		}
		return nil
	})
	if !ok {
		return
	}
	reply()
	if eqFold(sub, "destroy") {
		// XREADGROUP clients blocked on the group end with NOGROUP.
		c.s.blocked.signal(c.ns, key)
	}
}

var xgroupHelp = []string{
	"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
	"HELP",
	"    Print this help.",
}

var xinfoHelp = []string{
	"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
	"HELP",
	"    Print this help.",
}

func (c *conn) streamHelp(cmd string, lines []string) {
	c.wr.Array(len(lines))
	for _, l := range lines {
		c.wr.Simple(l)
	}
}

// xreadArgs is a parsed XREAD/XREADGROUP.
type xreadArgs struct {
	count           int64 // 0: no limit
	block           bool
	timeout         int64 // ms
	group, consumer []byte
	noack           bool
	keys, ids       [][]byte
}

func parseXRead(args [][]byte, group bool) (xreadArgs, string) {
	var a xreadArgs
	streamsAt := 0
	for i := 1; i < len(args) && streamsAt == 0; i++ {
		more := len(args) - 1 - i
		o := args[i]
		switch {
		case eqFold(o, "block") && more > 0:
			i++
			n, ok := parseStrictInt(args[i])
			if !ok {
				return a, "ERR timeout is not an integer or out of range"
			}
			if n < 0 {
				return a, "ERR timeout is negative"
			}
			a.block, a.timeout = true, n
		case eqFold(o, "count") && more > 0:
			i++
			n, ok := parseStrictInt(args[i])
			if !ok {
				return a, errNotInteger
			}
			a.count = max(n, 0)
		case eqFold(o, "streams") && more > 0:
			streamsAt = i + 1
			if n := len(args) - streamsAt; n%2 != 0 {
				name, sym := "xread", "$"
				if group {
					name, sym = "xreadgroup", ">"
				}
				return a, "ERR Unbalanced '" + name + "' list of streams: for each stream key an ID or '" + sym + "' must be specified."
			}
		case eqFold(o, "group") && more >= 2:
			if !group {
				return a, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
			}
			a.group, a.consumer = args[i+1], args[i+2]
			i += 2
		case eqFold(o, "noack"):
			if !group {
				return a, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
			}
			a.noack = true
		default:
			return a, errSyntax
		}
	}
	if streamsAt == 0 {
		return a, errSyntax
	}
	if group && a.group == nil {
		return a, "ERR Missing GROUP option for XREADGROUP"
	}
	n := (len(args) - streamsAt) / 2
	a.keys, a.ids = args[streamsAt:streamsAt+n], args[streamsAt+n:]
	return a, ""
}

// xreadResult is what one XREAD/XREADGROUP round read, per stream.
type xreadResult struct {
	keys    []int // index of each stream served
	entries []streamEntries
	err     error
}

func (r *xreadResult) reset() {
	r.keys, r.entries, r.err = r.keys[:0], r.entries[:0], nil
}

func (c *conn) writeXRead(a *xreadArgs, r *xreadResult) {
	if len(r.keys) == 0 {
		c.wr.NullArray()
		return
	}
	if c.proto == 3 {
		c.wr.Map(len(r.keys))
	} else {
		c.wr.Array(len(r.keys))
	}
	for j, k := range r.keys {
		if c.proto != 3 {
			c.wr.Array(2)
		}
		c.wr.Bulk(a.keys[k])
		c.writeEntries(&r.entries[j])
	}
}

// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
func (c *conn) cmdXRead(cmd *Command) {
	a, e := parseXRead(cmd.Args, false)
	if e != "" {
		c.err(e)
		return
	}
	// Resolve "$" and "+" once: a blocked client waits for entries after
	// the stream's end as it was when it asked.
	after := make([]engine.StreamID, len(a.keys))
	lastOnly := make([]bool, len(a.keys))
	if !c.txn(a.keys, false, func(t *engine.Txn) error {
		for i := range a.keys {
			exists, err := t.Open(i, engine.TypeStream)
			if err != nil {
				return err
			}
			var info engine.StreamInfo
			if exists {
				info = t.StreamInfo(i)
			}
			switch b := a.ids[i]; {
			case len(b) == 1 && b[0] == '$':
				after[i] = info.LastID
			case len(b) == 1 && b[0] == '+':
				// Redis 7.4: the last entry, or what comes next when
				// there is none.
				after[i] = info.LastID
				if info.Length > 0 {
					after[i], _ = info.LastEntry.Prev()
					lastOnly[i] = true
				}
			case len(b) == 1 && b[0] == '>':
				return replyError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
			default:
				s, ok := parseStreamID(b, 0, true, false)
				if !ok {
					return replyError(errStreamID)
				}
				after[i] = s.id
			}
		}
		return nil
	}) {
		return
	}
	var res xreadResult
	read := func(t *engine.Txn) error {
		res.reset()
		for i := range a.keys {
			exists, err := t.Open(i, engine.TypeStream)
			if err != nil {
				return err
			}
			if !exists || t.Size(i) == 0 {
				continue
			}
			start, ok := after[i].Next()
			if !ok || t.StreamInfo(i).LastEntry.Less(start) {
				continue
			}
			count := a.count
			if lastOnly[i] {
				count = 1
			}
			var out streamEntries
			err = t.StreamRange(i, start, engine.MaxStreamID, false, func(id engine.StreamID, fields [][]byte) bool {
				out.add(id, fields)
				return count == 0 || int64(out.len()) < count
			})
			if err != nil {
				return err
			}
			if out.len() > 0 {
				res.keys = append(res.keys, i)
				res.entries = append(res.entries, out)
			}
		}
		return nil
	}
	c.xreadRun(&a, &res, false, read)
}

// xreadRun serves the first round at once and, with BLOCK and nothing
// read, waits for an XADD to one of the keys.
func (c *conn) xreadRun(a *xreadArgs, res *xreadResult, write bool, read func(t *engine.Txn) error) {
	mark := c.wr.Mark()
	err := c.eng.Txn(c.ns, a.keys, read)
	if err != nil {
		c.wr.Reset(mark)
		c.replyErr(err)
		return
	}
	if write {
		c.dirty = true
	}
	if len(res.keys) > 0 || !a.block {
		c.writeXRead(a, res)
		return
	}
	try := func() (bool, []byte) {
		err := c.eng.Txn(c.ns, a.keys, read)
		if err != nil {
			// A key that changed type keeps the client waiting (as for
			// the list pops); a group that went away ends the wait.
			if err == engine.ErrWrongType {
				return false, nil
			}
			res.err = err
			return true, nil
		}
		return len(res.keys) > 0, nil
	}
	switch c.blockOn(a.keys, msDuration(a.timeout), true, try) {
	case blockServed:
		if res.err != nil {
			c.replyErr(res.err)
			return
		}
		if write {
			c.dirty = true
		}
		c.writeXRead(a, res)
	case blockTimedOut:
		c.wr.NullArray()
	case blockUnblockedError:
		c.err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	case blockRedirected:
		c.err(c.blockRedirect)
	case blockGone:
		c.closeAfter = true
	}
}

// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
func (c *conn) cmdXReadGroup(cmd *Command) {
	a, e := parseXRead(cmd.Args, true)
	if e != "" {
		c.err(e)
		return
	}
	// ">" is the group's next entries; an ID reads the consumer's history.
	history := make([]bool, len(a.keys))
	after := make([]engine.StreamID, len(a.keys))
	var res xreadResult
	first := true
	read := func(t *engine.Txn) error {
		res.reset()
		now := nowMillis()
		for i := range a.keys {
			exists, err := t.Open(i, engine.TypeStream)
			if err != nil {
				return err
			}
			found := false
			if exists {
				if _, found, err = t.StreamGetGroup(i, a.group); err != nil {
					return err
				}
			}
			if !found {
				if !first {
					return replyError("NOGROUP the consumer group this client was blocked on no longer exists")
				}
				return replyError("NOGROUP No such key '" + string(a.keys[i]) + "' or consumer group '" + string(a.group) + "' in XREADGROUP with GROUP option")
			}
			if first {
				switch b := a.ids[i]; {
				case len(b) == 1 && b[0] == '$':
					return replyError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
				case len(b) == 1 && b[0] == '>':
				default:
					s, ok := parseStreamID(b, 0, true, false)
					if !ok {
						return replyError(errStreamID)
					}
					history[i], after[i] = true, s.id
				}
			}
		}
		first = false
		for i := range a.keys {
			var out streamEntries
			if history[i] {
				if err := deliverHistory(t, i, a.group, a.consumer, after[i], a.count, now, &out); err != nil {
					return err
				}
			} else {
				served, err := deliverNew(t, i, a.group, a.consumer, a.count, a.noack, now, &out)
				if err != nil {
					return err
				}
				if !served {
					continue
				}
			}
			res.keys = append(res.keys, i)
			res.entries = append(res.entries, out)
		}
		return nil
	}
	c.xreadRun(&a, &res, true, read)
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
func (c *conn) cmdXPending(cmd *Command) {
	args := cmd.Args
	key, group := args[1], args[2]
	summary := len(args) == 3
	if !summary && (len(args) < 6 || len(args) > 9) {
		c.syntaxErr()
		return
	}
	var minIdle, count int64
	var start, end engine.StreamID
	var consumer []byte
	if !summary {
		at := 3
		if eqFold(args[3], "idle") {
			n, ok := parseStrictInt(args[4])
			if !ok {
				c.err(errNotInteger)
				return
			}
			minIdle = n
			if len(args) < 8 {
				c.syntaxErr()
				return
			}
			at += 2
		}
		n, ok := parseStrictInt(args[at+2])
		if !ok {
			c.err(errNotInteger)
			return
		}
		count = max(n, 0)
		var e string
		if start, e = parseRangeID(args[at], false); e != "" {
			c.err(e)
			return
		}
		if end, e = parseRangeID(args[at+1], true); e != "" {
			c.err(e)
			return
		}
		if at+3 < len(args) {
			consumer = args[at+3]
			if at+4 < len(args) {
				c.syntaxErr()
				return
			}
		}
	}
	type row struct {
		id       engine.StreamID
		consumer string
		idle     int64
		count    int64
	}
	var rows []row
	var g engine.StreamGroup
	type ccount struct {
		name string
		n    int64
	}
	var consumers []ccount
	now := nowMillis()
	if !c.txn(args[1:2], false, func(t *engine.Txn) error {
		var err error
		if g, err = openGroup(t, key, group); err != nil {
			return err
		}
		if summary {
			if g.Pending == 0 {
				return nil
			}
			counts := map[string]int64{}
			err := t.StreamPendingRange(0, group, engine.StreamID{}, engine.MaxStreamID, func(id engine.StreamID, p engine.StreamPending) bool {
				if len(rows) == 0 {
					rows = append(rows, row{id: id})
				}
				if len(rows) == 1 {
					rows = append(rows, row{id: id})
				}
				rows[1].id = id
				counts[string(p.Consumer)]++
				return true
			})
			for name, n := range counts {
				consumers = append(consumers, ccount{name, n})
			}
			slices.SortFunc(consumers, func(a, b ccount) int { return strings.Compare(a.name, b.name) })
			return err
		}
		if consumer != nil {
			_, ok, err := t.StreamGetConsumer(0, group, consumer)
			if err != nil || !ok {
				return err
			}
		}
		if count == 0 {
			return nil
		}
		return t.StreamPendingRange(0, group, start, end, func(id engine.StreamID, p engine.StreamPending) bool {
			if consumer != nil && string(p.Consumer) != string(consumer) {
				return true
			}
			idle := max(now-p.DeliveryTime, 0)
			if minIdle != 0 && idle < minIdle {
				return true
			}
			rows = append(rows, row{id, string(p.Consumer), idle, p.DeliveryCount})
			return int64(len(rows)) < count
		})
	}) {
		return
	}
	if summary {
		c.wr.Array(4)
		c.wr.Int(g.Pending)
		if g.Pending == 0 || len(rows) < 2 {
			c.wr.Null()
			c.wr.Null()
			c.wr.NullArray()
			return
		}
		c.streamID(rows[0].id)
		c.streamID(rows[1].id)
		c.wr.Array(len(consumers))
		for _, cc := range consumers {
			c.wr.Array(2)
			c.wr.BulkString(cc.name)
			c.wr.BulkInt(cc.n)
		}
		return
	}
	c.wr.Array(len(rows))
	for _, r := range rows {
		c.wr.Array(4)
		c.streamID(r.id)
		c.wr.BulkString(r.consumer)
		c.wr.Int(r.idle)
		c.wr.Int(r.count)
	}
}

// claimOne moves pending entry id of group to consumer (XCLAIM and
// XAUTOCLAIM): delivery time at, count set to retry (>= 0) or bumped
// unless justID.
func claimOne(t *engine.Txn, group, consumer []byte, id engine.StreamID, p engine.StreamPending, at, retry int64, justID bool) {
	p.DeliveryTime = at
	switch {
	case retry >= 0:
		p.DeliveryCount = retry
	case !justID:
		p.DeliveryCount++
	}
	p.Consumer = consumer
	t.StreamPutPending(0, group, id, p)
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
func (c *conn) cmdXClaim(cmd *Command) {
	args := cmd.Args
	key, group, consumer := args[1], args[2], args[3]
	var out streamEntries
	var justIDs []engine.StreamID
	justID := false
	ok := c.txn(args[1:2], true, func(t *engine.Txn) error {
		g, err := openGroup(t, key, group)
		if err != nil {
			return err
		}
		minIdle, ok := parseStrictInt(args[4])
		if !ok {
			return replyError("ERR Invalid min-idle-time argument for XCLAIM")
		}
		minIdle = max(minIdle, 0)
		j := 5
		var ids []engine.StreamID
		for ; j < len(args); j++ {
			s, ok := parseStreamID(args[j], 0, true, false)
			if !ok {
				break
			}
			ids = append(ids, s.id)
		}
		now := nowMillis()
		retry, at := int64(-1), int64(-1)
		force := false
		var lastID engine.StreamID
		for ; j < len(args); j++ {
			more := len(args) - 1 - j
			o := args[j]
			switch {
			case eqFold(o, "force"):
				force = true
			case eqFold(o, "justid"):
				justID = true
			case eqFold(o, "idle") && more > 0:
				j++
				n, ok := parseStrictInt(args[j])
				if !ok {
					return replyError("ERR Invalid IDLE option argument for XCLAIM")
				}
				at = now - n
			case eqFold(o, "time") && more > 0:
				j++
				n, ok := parseStrictInt(args[j])
				if !ok {
					return replyError("ERR Invalid TIME option argument for XCLAIM")
				}
				at = n
			case eqFold(o, "retrycount") && more > 0:
				j++
				n, ok := parseStrictInt(args[j])
				if !ok {
					return replyError("ERR Invalid RETRYCOUNT option argument for XCLAIM")
				}
				retry = n
			case eqFold(o, "lastid") && more > 0:
				j++
				s, ok := parseStreamID(args[j], 0, true, false)
				if !ok {
					return replyError(errStreamID)
				}
				lastID = s.id
			default:
				return replyError("ERR Unrecognized XCLAIM option '" + string(o) + "'")
			}
		}
		dirtyGroup := false
		if g.LastID.Less(lastID) {
			g.LastID, dirtyGroup = lastID, true
		}
		if at < 0 || at > now {
			at = now
		}
		consTouched := false
		var cons engine.StreamConsumer
		var fields [][]byte
		for _, id := range ids {
			p, had, err := t.StreamGetPending(0, group, id)
			if err != nil {
				return err
			}
			fields, ok, err = t.StreamGet(0, id, fields[:0])
			if err != nil {
				return err
			}
			if !ok {
				if had {
					t.StreamDelPending(0, group, id)
					g.Pending--
					dirtyGroup = true
				}
				continue
			}
			if !had {
				if !force {
					continue
				}
				p = engine.StreamPending{DeliveryTime: now, DeliveryCount: 1}
				g.Pending++
				dirtyGroup = true
			} else if minIdle != 0 && now-p.DeliveryTime < minIdle {
				continue
			}
			if !consTouched {
				if cons, err = touchConsumer(t, 0, group, consumer, &g, now); err != nil {
					return err
				}
				cons.ActiveTime = now
				consTouched, dirtyGroup = true, true
			}
			claimOne(t, group, consumer, id, p, at, retry, justID)
			if justID {
				justIDs = append(justIDs, id)
			} else {
				out.add(id, fields)
			}
		}
		if consTouched {
			t.StreamPutConsumer(0, group, consumer, cons)
		}
		if dirtyGroup {
			t.StreamPutGroup(0, group, g, false)
		}
		return nil
	})
	if !ok {
		return
	}
	if justID {
		c.wr.Array(len(justIDs))
		for _, id := range justIDs {
			c.streamID(id)
		}
		return
	}
	c.writeEntries(&out)
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
func (c *conn) cmdXAutoClaim(cmd *Command) {
	args := cmd.Args
	key, group, consumer := args[1], args[2], args[3]
	minIdle, ok := parseStrictInt(args[4])
	if !ok {
		c.err("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	start, e := parseRangeID(args[5], false)
	if e != "" {
		c.err(e)
		return
	}
	count, justID := int64(100), false
	for j := 6; j < len(args); j++ {
		switch {
		case eqFold(args[j], "count") && j+1 < len(args):
			n, ok := parseStrictInt(args[j+1])
			if !ok || n < 1 || n > (1<<63-1)/16 {
				c.err("ERR COUNT must be > 0")
				return
			}
			count = n
			j++
		case eqFold(args[j], "justid"):
			justID = true
		default:
			c.syntaxErr()
			return
		}
	}
	var out streamEntries
	var justIDs, deleted []engine.StreamID
	var cursor engine.StreamID
	if !c.txn(args[1:2], true, func(t *engine.Txn) error {
		g, err := openGroup(t, key, group)
		if err != nil {
			return err
		}
		now := nowMillis()
		type pend struct {
			id engine.StreamID
			p  engine.StreamPending
		}
		// Examine at most count x 10 pending entries from start, and
		// read one more: it is the next call's cursor.
		attempts := count * 10
		var ps []pend
		err = t.StreamPendingRange(0, group, start, engine.MaxStreamID, func(id engine.StreamID, p engine.StreamPending) bool {
			p.Consumer = append([]byte(nil), p.Consumer...)
			ps = append(ps, pend{id, p})
			return int64(len(ps)) <= attempts
		})
		if err != nil {
			return err
		}
		left := count
		consTouched, dirtyGroup := false, false
		var cons engine.StreamConsumer
		var fields [][]byte
		for _, x := range ps {
			if attempts == 0 || left == 0 {
				cursor = x.id
				break
			}
			attempts--
			var ok bool
			fields, ok, err = t.StreamGet(0, x.id, fields[:0])
			if err != nil {
				return err
			}
			if !ok {
				t.StreamDelPending(0, group, x.id)
				g.Pending--
				dirtyGroup = true
				deleted = append(deleted, x.id)
				left--
				continue
			}
			if minIdle != 0 && now-x.p.DeliveryTime < minIdle {
				continue
			}
			if !consTouched {
				if cons, err = touchConsumer(t, 0, group, consumer, &g, now); err != nil {
					return err
				}
				cons.ActiveTime = now
				consTouched, dirtyGroup = true, true
			}
			claimOne(t, group, consumer, x.id, x.p, now, -1, justID)
			if justID {
				justIDs = append(justIDs, x.id)
			} else {
				out.add(x.id, fields)
			}
			left--
		}
		if consTouched {
			t.StreamPutConsumer(0, group, consumer, cons)
		}
		if dirtyGroup {
			t.StreamPutGroup(0, group, g, false)
		}
		return nil
	}) {
		return
	}
	c.wr.Array(3)
	c.streamID(cursor)
	if justID {
		c.wr.Array(len(justIDs))
		for _, id := range justIDs {
			c.streamID(id)
		}
	} else {
		c.writeEntries(&out)
	}
	c.wr.Array(len(deleted))
	for _, id := range deleted {
		c.streamID(id)
	}
}
