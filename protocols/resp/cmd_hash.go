package resp

import (
	"math"
	"strconv"

	"github.com/gpucache/gpucache/engine"
)

func hashCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "hset", arity: -4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHSet},
		{name: "hmset", arity: -4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHMSet},
		{name: "hsetnx", arity: -4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHSetNX},
		{name: "hget", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHGet},
		{name: "hmget", arity: -3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHMGet},
		{name: "hdel", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHDel},
		{name: "hlen", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHLen},
		{name: "hexists", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHExists},
		{name: "hstrlen", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHStrlen},
		{name: "hgetall", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdHGetAll},
		{name: "hkeys", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdHKeys},
		{name: "hvals", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdHVals},
		{name: "hincrby", arity: 4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHIncrBy},
		{name: "hincrbyfloat", arity: 4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHIncrByFloat},
		{name: "hrandfield", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdHRandField},
		{name: "hscan", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdHScan},
	}
}

const errHashNotInteger = "ERR hash value is not an integer"

// hashSet serves HSET, HMSET and HSETNX: key field value [field value ...].
func (c *conn) hashSet(cmd *Command, nx bool) (int64, bool) {
	args := cmd.Args
	if len(args)%2 != 0 {
		c.wrongArgs()
		return 0, false
	}
	var added int64
	ok := c.txn(args[1:2], true, func(t *engine.Txn) error {
		for i := 2; i < len(args); i += 2 {
			n, err := t.HashSet(0, args[i], args[i+1], nx)
			if err != nil {
				return err
			}
			if n {
				added++
			}
		}
		return nil
	})
	return added, ok
}

func (c *conn) cmdHSet(cmd *Command) {
	if n, ok := c.hashSet(cmd, false); ok {
		c.wr.Int(n)
	}
}

func (c *conn) cmdHMSet(cmd *Command) {
	if _, ok := c.hashSet(cmd, false); ok {
		c.wr.OK()
	}
}

// HSETNX key field value [field value ...] (KVRocks takes several pairs)
func (c *conn) cmdHSetNX(cmd *Command) {
	if n, ok := c.hashSet(cmd, true); ok {
		c.wr.Int(n)
	}
}

func (c *conn) cmdHGet(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		v, ok, err := t.HashGet(0, cmd.Args[2], c.scratch[:0])
		if err != nil {
			return err
		}
		c.scratch = v
		if ok {
			c.wr.Bulk(v)
		} else {
			c.wr.Null()
		}
		return nil
	})
}

func (c *conn) cmdHMGet(cmd *Command) {
	args := cmd.Args
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		c.wr.Array(len(args) - 2)
		for _, f := range args[2:] {
			v, ok, err := t.HashGet(0, f, c.scratch[:0])
			if err != nil {
				return err
			}
			c.scratch = v
			if ok {
				c.wr.Bulk(v)
			} else {
				c.wr.Null()
			}
		}
		return nil
	})
}

func (c *conn) cmdHDel(cmd *Command) { c.countEach(cmd.Args, (*engine.Txn).HashDelete) }

// countEach serves `CMD key item [item ...]` commands that answer how many
// items op changed (HDEL, SADD, SREM, ZREM), in one write transaction.
func (c *conn) countEach(args [][]byte, op func(t *engine.Txn, i int, item []byte) (bool, error)) {
	var n int64
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		for _, item := range args[2:] {
			changed, err := op(t, 0, item)
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

func (c *conn) cmdHLen(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeHash); err != nil {
			return err
		}
		c.wr.Int(t.Size(0))
		return nil
	})
}

func (c *conn) cmdHExists(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		ok, err := t.HashExists(0, cmd.Args[2])
		if err != nil {
			return err
		}
		c.wr.Int(b2i(ok))
		return nil
	})
}

func (c *conn) cmdHStrlen(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		v, _, err := t.HashGet(0, cmd.Args[2], c.scratch[:0])
		if err != nil {
			return err
		}
		c.scratch = v
		c.wr.Int(int64(len(v)))
		return nil
	})
}

// hashAll writes the whole hash: fields, values or both (as a map).
func (c *conn) hashAll(cmd *Command, fields, vals bool) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeHash); err != nil {
			return err
		}
		n := int(t.Size(0))
		switch {
		case fields && vals:
			c.wr.Map(n)
		default:
			c.wr.Array(n)
		}
		// NB: the header promises n entries; the Txn holds the key's
		// lock, so the element count cannot change under the walk.
		return t.HashRange(0, nil, func(f, v []byte) bool {
			if fields {
				c.wr.Bulk(f)
			}
			if vals {
				c.wr.Bulk(v)
			}
			return true
		})
	})
}

func (c *conn) cmdHGetAll(cmd *Command) { c.hashAll(cmd, true, true) }
func (c *conn) cmdHKeys(cmd *Command)   { c.hashAll(cmd, true, false) }
func (c *conn) cmdHVals(cmd *Command)   { c.hashAll(cmd, false, true) }

func (c *conn) cmdHIncrBy(cmd *Command) {
	args := cmd.Args
	delta, ok := parseArgInt(args[3])
	if !ok {
		c.err(errNotInteger)
		return
	}
	c.txn(args[1:2], true, func(t *engine.Txn) error {
		v, exists, err := t.HashGet(0, args[2], c.scratch[:0])
		if err != nil {
			return err
		}
		c.scratch = v
		var n int64
		if exists {
			if n, ok = parseStoredInt(v); !ok {
				return replyError(errHashNotInteger)
			}
		}
		if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
			return replyError(errIncrOverflow)
		}
		n += delta
		if _, err := t.HashUpdate(0, args[2], strconv.AppendInt(c.scratch[:0], n, 10)); err != nil {
			return err
		}
		c.wr.Int(n)
		return nil
	})
}

func (c *conn) cmdHIncrByFloat(cmd *Command) {
	args := cmd.Args
	delta, ok := parseScore(args[3])
	if !ok || math.IsInf(delta, 0) {
		c.err(errNotFloat)
		return
	}
	c.txn(args[1:2], true, func(t *engine.Txn) error {
		v, exists, err := t.HashGet(0, args[2], c.scratch[:0])
		if err != nil {
			return err
		}
		c.scratch = v
		var f float64
		if exists {
			if f, ok = parseScore(v); !ok || math.IsInf(f, 0) {
				return replyError("ERR hash value is not a float")
			}
		}
		f += delta
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return replyError(errIncrNaN)
		}
		out := appendScore(c.scratch[:0], f)
		if _, err := t.HashUpdate(0, args[2], out); err != nil {
			return err
		}
		c.wr.Bulk(out)
		return nil
	})
}

// HRANDFIELD key [count [WITHVALUES]]
func (c *conn) cmdHRandField(cmd *Command) {
	args := cmd.Args
	count, withCount, withVals, ok := c.parseRandomArgs(args, "withvalues")
	if !ok {
		return
	}
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeHash)
		if err != nil {
			return err
		}
		if !withCount {
			if !exists {
				c.wr.Null()
				return nil
			}
			count = 1
		}
		var fields, vals zentries
		err = randomMembers(t, 0, t.Size(0), count, func(start []byte, fn func(m, v []byte) bool) error {
			return t.HashRange(0, start, fn)
		}, func(f, v []byte) {
			fields.add(f, 0)
			vals.add(v, 0)
		})
		if err != nil {
			return err
		}
		if withCount && withVals {
			c.wr.Array(2 * fields.len())
		} else if withCount {
			c.wr.Array(fields.len())
		}
		for j := 0; j < fields.len(); j++ {
			c.wr.Bulk(fields.member(j))
			if withVals {
				c.wr.Bulk(vals.member(j))
			}
		}
		return nil
	})
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
func (c *conn) cmdHScan(cmd *Command) {
	s, ok := c.parseSubScan(cmd.Args)
	if !ok {
		return
	}
	key := cmd.Args[1]
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		b := c.scratch[:0]
		n, seen := 0, 0
		var next []byte
		err := t.HashRange(0, s.start, func(f, v []byte) bool {
			if seen == s.count {
				next = append([]byte(nil), f...)
				return false
			}
			seen++
			if s.match == nil || engine.MatchGlob(s.match, f) {
				b = appendBulk(b, f)
				b = appendBulk(b, v)
				n += 2
			}
			return true
		})
		c.scratch = b
		if err != nil {
			return err
		}
		c.scanReply(key, next, b, n)
		return nil
	})
}

// parseRandomArgs parses the `[count [flag]]` tail of HRANDFIELD and
// ZRANDMEMBER (flag: WITHVALUES, WITHSCORES). It answers the error itself
// and reports false on bad input.
func (c *conn) parseRandomArgs(args [][]byte, flag string) (count int64, withCount, withFlag, ok bool) {
	count, withCount = 1, len(args) > 2
	if !withCount {
		return count, false, false, true
	}
	if count, ok = parseArgInt(args[2]); !ok {
		c.err(errNotInteger)
		return 0, false, false, false
	}
	if len(args) > 4 || len(args) == 4 && !eqFold(args[3], flag) {
		c.syntaxErr()
		return 0, false, false, false
	}
	if count < -maxRandomCount || count > maxRandomCount {
		c.err("ERR value is out of range")
		return 0, false, false, false
	}
	return count, true, len(args) == 4, true
}
