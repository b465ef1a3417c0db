package resp

import (
	"math"
	"strconv"

	"github.com/gpucache/gpucache/engine"
)

// Sorted-int commands (KVRocks only): sets of uint64 ids in numeric order.
func sintCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "siadd", arity: -3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdSIAdd},
		{name: "sirem", arity: -3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdSIRem},
		{name: "sicard", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdSICard},
		{name: "siexists", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdSIExists},
		{name: "sirange", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.siRange(cmd, false) }},
		{name: "sirevrange", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.siRange(cmd, true) }},
		{name: "sirangebyvalue", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.siRangeByValue(cmd, false) }},
		{name: "sirevrangebyvalue", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: func(c *conn, cmd *Command) { c.siRangeByValue(cmd, true) }},
	}
}

// parseUint64 parses a decimal uint64 (digits only).
func parseUint64(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

func parseIDs(args [][]byte) ([]uint64, bool) {
	ids := make([]uint64, len(args))
	for i, a := range args {
		var ok bool
		if ids[i], ok = parseUint64(a); !ok {
			return nil, false
		}
	}
	return ids, true
}

// siEach serves SIADD and SIREM: key id [id ...], answering how many
// changed.
func (c *conn) siEach(cmd *Command, op func(t *engine.Txn, i int, id uint64) (bool, error)) {
	ids, ok := parseIDs(cmd.Args[2:])
	if !ok {
		c.err(errNotInteger)
		return
	}
	var n int64
	if c.txn(cmd.Args[1:2], true, func(t *engine.Txn) error {
		n = 0
		for _, id := range ids {
			changed, err := op(t, 0, id)
			if err != nil {
				return err
			}
			n += b2i(changed)
		}
		return nil
	}) {
		c.wr.Int(n)
	}
}

func (c *conn) cmdSIAdd(cmd *Command) { c.siEach(cmd, (*engine.Txn).SIntAdd) }
func (c *conn) cmdSIRem(cmd *Command) { c.siEach(cmd, (*engine.Txn).SIntRemove) }

func (c *conn) cmdSICard(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeSortedInt); err != nil {
			return err
		}
		c.wr.Int(t.Size(0))
		return nil
	})
}

// SIEXISTS key id [id ...]
func (c *conn) cmdSIExists(cmd *Command) {
	ids, ok := parseIDs(cmd.Args[2:])
	if !ok {
		c.err(errNotInteger)
		return
	}
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		c.wr.Array(len(ids))
		for _, id := range ids {
			ok, err := t.SIntExists(0, id)
			if err != nil {
				return err
			}
			c.wr.Int(b2i(ok))
		}
		return nil
	})
}

func (c *conn) siReply(ids []uint64) {
	c.wr.Array(len(ids))
	var tmp [20]byte
	for _, id := range ids {
		c.wr.Bulk(strconv.AppendUint(tmp[:0], id, 10))
	}
}

// SIRANGE|SIREVRANGE key offset limit [CURSOR id]: limit ids after
// skipping offset, starting after the cursor id (0: from the first, or
// the last reversed). A limit of 0 means no limit, as in KVRocks.
func (c *conn) siRange(cmd *Command, reverse bool) {
	args := cmd.Args
	offset, ok1 := parseUint64(args[2])
	limit, ok2 := parseUint64(args[3])
	if !ok1 || !ok2 {
		c.err(errNotInteger)
		return
	}
	var cursor uint64
	if len(args) == 6 {
		if !eqFold(args[4], "cursor") {
			c.syntaxErr()
			return
		}
		var ok bool
		if cursor, ok = parseUint64(args[5]); !ok {
			c.err(errNotInteger)
			return
		}
	}
	from := cursor
	if reverse && cursor == 0 {
		from = math.MaxUint64
	}
	var ids []uint64
	if c.txn(args[1:2], false, func(t *engine.Txn) error {
		ids = ids[:0]
		pos := uint64(0)
		return t.SIntRange(0, from, reverse, func(id uint64) bool {
			if id == cursor {
				return true
			}
			if pos < offset {
				pos++
				return true
			}
			ids = append(ids, id)
			return limit == 0 || uint64(len(ids)) < limit
		})
	}) {
		c.siReply(ids)
	}
}

// siBound parses a SIRANGEBYVALUE bound: an id, "(id" (exclusive), or
// -inf/+inf.
func siBound(b []byte, inf string, infVal uint64) (uint64, bool, bool) {
	if string(b) == inf {
		return infVal, false, true
	}
	ex := len(b) > 0 && b[0] == '('
	if ex {
		b = b[1:]
	}
	v, ok := parseUint64(b)
	return v, ex, ok
}

// SIRANGEBYVALUE key min max [LIMIT offset count] (SIREVRANGEBYVALUE
// takes max then min).
func (c *conn) siRangeByValue(cmd *Command, reverse bool) {
	args := cmd.Args
	minArg, maxArg := args[2], args[3]
	if reverse {
		minArg, maxArg = maxArg, minArg
	}
	if string(minArg) == "+inf" || string(maxArg) == "-inf" {
		c.err("ERR min > max")
		return
	}
	lo, loEx, ok := siBound(minArg, "-inf", 0)
	if !ok {
		c.err("ERR the min isn't integer")
		return
	}
	hi, hiEx, ok := siBound(maxArg, "+inf", math.MaxUint64)
	if !ok {
		c.err("ERR the max isn't integer")
		return
	}
	offset, count := int64(-1), int64(-1)
	if len(args) == 7 {
		if !eqFold(args[4], "limit") {
			c.syntaxErr()
			return
		}
		o, ok1 := parseArgInt(args[5])
		n, ok2 := parseArgInt(args[6])
		if !ok1 || !ok2 || o != int64(int32(o)) || n != int64(int32(n)) {
			c.err(errNotInteger)
			return
		}
		offset, count = o, n
	}
	from := lo
	if reverse {
		from = hi
	}
	var ids []uint64
	if c.txn(args[1:2], false, func(t *engine.Txn) error {
		ids = ids[:0]
		pos := int64(0)
		return t.SIntRange(0, from, reverse, func(id uint64) bool {
			below := loEx && id == lo || id < lo
			above := hiEx && id == hi || id > hi
			if reverse && below || !reverse && above {
				return false
			}
			if below || above {
				return true
			}
			if offset >= 0 && pos < offset {
				pos++
				return true
			}
			ids = append(ids, id)
			return count <= 0 || int64(len(ids)) < count
		})
	}) {
		c.siReply(ids)
	}
}
