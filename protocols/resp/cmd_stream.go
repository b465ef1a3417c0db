package resp

import (
	"math"
	"time"

	"github.com/gpucache/gpucache/engine"
)

// Streams: XADD, XDEL, XLEN, XRANGE, XREVRANGE, XREAD, XTRIM, XSETID,
// XINFO, consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
// XAUTOCLAIM). Replies follow Redis 7.0 byte for byte; trims with "~"
// remove exactly what they may (as KVRocks does: there are no radix-tree
// nodes to keep whole), up to LIMIT.
func streamCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "xadd", arity: -5, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdXAdd},
		{name: "xdel", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdXDel},
		{name: "xlen", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdXLen},
		{name: "xrange", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdXRange},
		{name: "xrevrange", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdXRevRange},
		{name: "xread", arity: -4, flags: flagReadonly, fn: (*conn).cmdXRead},
		{name: "xreadgroup", arity: -7, flags: flagWrite, fn: (*conn).cmdXReadGroup},
		{name: "xtrim", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdXTrim},
		{name: "xsetid", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdXSetID},
		{name: "xinfo", arity: -2, flags: flagReadonly, fn: (*conn).cmdXInfo},
		{name: "xgroup", arity: -2, flags: flagWrite, fn: (*conn).cmdXGroup},
		{name: "xack", arity: -4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdXAck},
		{name: "xpending", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdXPending},
		{name: "xclaim", arity: -6, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdXClaim},
		{name: "xautoclaim", arity: -6, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdXAutoClaim},
	}
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// nextStreamID picks XADD's ID after last: explicit, "ms-*" or "*".
func nextStreamID(last engine.StreamID, a *streamAddArgs, now int64) (engine.StreamID, error) {
	var id engine.StreamID
	switch {
	case !a.idGiven:
		if uint64(now) > last.Ms {
			return engine.StreamID{Ms: uint64(now)}, nil
		}
		id, _ = last.Next()
		return id, nil
	case a.id.autoSeq:
		if a.id.id.Ms == last.Ms {
			if last.Seq == math.MaxUint64 {
				return id, replyError(errStreamIDTop)
			}
			id = engine.StreamID{Ms: last.Ms, Seq: last.Seq + 1}
		} else {
			id = a.id.id
		}
	default:
		id = a.id.id
	}
	if !last.Less(id) {
		return id, replyError(errStreamIDTop)
	}
	return id, nil
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
func (c *conn) cmdXAdd(cmd *Command) {
	args := cmd.Args
	a, e := parseStreamAddArgs(args, true)
	if e != "" {
		c.err(e)
		return
	}
	if nf := len(args) - a.fieldPos; nf < 2 || nf%2 != 0 {
		c.wrongArgs()
		return
	}
	if a.idGiven && !a.id.autoSeq && a.id.id.IsZero() {
		c.err(errStreamIDZero)
		return
	}
	var id engine.StreamID
	missing := false
	ok := c.txn(args[1:2], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if err != nil {
			return err
		}
		if !exists {
			if a.noMkStream {
				missing = true
				return nil
			}
			if err := t.Create(0, engine.TypeStream); err != nil {
				return err
			}
		}
		info := t.StreamInfo(0)
		if info.LastID == engine.MaxStreamID {
			return replyError(errStreamExhausted)
		}
		if id, err = nextStreamID(info.LastID, &a, nowMillis()); err != nil {
			return err
		}
		t.StreamAdd(0, id, args[a.fieldPos:])
		_, err = trimStream(t, 0, &a.trim)
		return err
	})
	if !ok {
		return
	}
	if missing {
		c.wr.Null()
		return
	}
	c.streamID(id)
	c.s.blocked.signal(c.ns, args[1])
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
func (c *conn) cmdXTrim(cmd *Command) {
	a, e := parseStreamAddArgs(cmd.Args, false)
	if e != "" {
		c.err(e)
		return
	}
	var n int64
	if c.txn(cmd.Args[1:2], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if err != nil || !exists {
			return err
		}
		n, err = trimStream(t, 0, &a.trim)
		return err
	}) {
		c.wr.Int(n)
	}
}

// XDEL key id [id ...]
func (c *conn) cmdXDel(cmd *Command) {
	args := cmd.Args
	var n int64
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if err != nil || !exists {
			return err
		}
		ids := make([]engine.StreamID, 0, len(args)-2)
		for _, b := range args[2:] {
			s, ok := parseStreamID(b, 0, true, false)
			if !ok {
				return replyError(errStreamID)
			}
			ids = append(ids, s.id)
		}
		for _, id := range ids {
			ok, err := t.StreamDelete(0, id)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	}) {
		c.wr.Int(n)
	}
}

// XLEN key
func (c *conn) cmdXLen(cmd *Command) {
	var n int64
	if c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if exists {
			n = t.Size(0)
		}
		return err
	}) {
		c.wr.Int(n)
	}
}

func (c *conn) cmdXRange(cmd *Command)    { c.xrange(cmd, false) }
func (c *conn) cmdXRevRange(cmd *Command) { c.xrange(cmd, true) }

// XRANGE key start end [COUNT count], XREVRANGE key end start [COUNT count]
func (c *conn) xrange(cmd *Command, rev bool) {
	args := cmd.Args
	startArg, endArg := args[2], args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, e := parseRangeID(startArg, false)
	if e != "" {
		c.err(e)
		return
	}
	end, e := parseRangeID(endArg, true)
	if e != "" {
		c.err(e)
		return
	}
	count := int64(-1)
	for j := 4; j < len(args); j++ {
		if eqFold(args[j], "count") && j+1 < len(args) {
			n, ok := parseStrictInt(args[j+1])
			if !ok {
				c.err(errNotInteger)
				return
			}
			count = max(n, 0)
			j++
			continue
		}
		c.syntaxErr()
		return
	}
	out := getEntries()
	defer putEntries(out)
	exists := false
	if !c.txn(args[1:2], false, func(t *engine.Txn) error {
		var err error
		exists, err = t.Open(0, engine.TypeStream)
		if err != nil || !exists || count == 0 {
			return err
		}
		return t.StreamRange(0, start, end, rev, func(id engine.StreamID, fields [][]byte) bool {
			out.add(id, fields)
			return count < 0 || int64(out.len()) < count
		})
	}) {
		return
	}
	if exists && count == 0 {
		c.wr.NullArray()
		return
	}
	c.writeEntries(out)
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
func (c *conn) cmdXSetID(cmd *Command) {
	args := cmd.Args
	s, ok := parseStreamID(args[2], 0, true, false)
	if !ok {
		c.err(errStreamID)
		return
	}
	id := s.id
	entriesAdded := int64(-1)
	var maxDel engine.StreamID
	for i := 3; i < len(args); i += 2 {
		more := len(args) - 1 - i
		switch {
		case eqFold(args[i], "entriesadded") && more > 0:
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				c.err(errNotInteger)
				return
			}
			if n < 0 {
				c.err("ERR entries_added must be positive")
				return
			}
			entriesAdded = n
		case eqFold(args[i], "maxdeletedid") && more > 0:
			m, ok := parseStreamID(args[i+1], 0, true, false)
			if !ok {
				c.err(errStreamID)
				return
			}
			if id.Less(m.id) {
				c.err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
			maxDel = m.id
		default:
			c.syntaxErr()
			return
		}
	}
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if err != nil {
			return err
		}
		if !exists {
			return replyError(errNoSuchKey)
		}
		info := t.StreamInfo(0)
		if info.Length > 0 {
			if id.Less(info.LastEntry) {
				return replyError("ERR The ID specified in XSETID is smaller than the target stream top item")
			}
			if entriesAdded != -1 && info.Length > entriesAdded {
				return replyError("ERR The entries_added specified in XSETID is smaller than the target stream length")
			}
		}
		if id.Less(info.MaxDeleted) {
			return replyError("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
		}
		added := info.EntriesAdded
		if entriesAdded != -1 {
			added = uint64(entriesAdded)
		}
		md := info.MaxDeleted
		if !maxDel.IsZero() {
			md = maxDel
		}
		t.StreamSetInfo(0, id, added, md)
		return nil
	}) {
		c.wr.OK()
	}
}

// errNoGroup is the NOGROUP error of XPENDING, XCLAIM and XAUTOCLAIM.
func errNoGroup(key, group []byte) replyError {
	return replyError("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(group) + "'")
}

func errNoGroupFor(key, group []byte) replyError {
	return replyError("NOGROUP No such consumer group '" + string(group) + "' for key name '" + string(key) + "'")
}

// openGroup opens stream key i and reads group; errNoGroup when either is
// missing.
func openGroup(t *engine.Txn, key, group []byte) (engine.StreamGroup, error) {
	exists, err := t.Open(0, engine.TypeStream)
	if err != nil {
		return engine.StreamGroup{}, err
	}
	if !exists {
		return engine.StreamGroup{}, errNoGroup(key, group)
	}
	g, ok, err := t.StreamGetGroup(0, group)
	if err != nil {
		return g, err
	}
	if !ok {
		return g, errNoGroup(key, group)
	}
	return g, nil
}

// XACK key group id [id ...]
func (c *conn) cmdXAck(cmd *Command) {
	args := cmd.Args
	var n int64
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeStream)
		if err != nil || !exists {
			return err
		}
		g, ok, err := t.StreamGetGroup(0, args[2])
		if err != nil || !ok {
			return err
		}
		ids := make([]engine.StreamID, 0, len(args)-3)
		for _, b := range args[3:] {
			s, ok := parseStreamID(b, 0, true, false)
			if !ok {
				return replyError(errStreamID)
			}
			ids = append(ids, s.id)
		}
		for _, id := range ids {
			_, had, err := t.StreamGetPending(0, args[2], id)
			if err != nil {
				return err
			}
			if had {
				t.StreamDelPending(0, args[2], id)
				g.Pending--
				n++
			}
		}
		if n > 0 {
			t.StreamPutGroup(0, args[2], g, false)
		}
		return nil
	}) {
		c.wr.Int(n)
	}
}
