package resp

import (
	"errors"
	"math"
	"time"

	"github.com/gpucache/gpucache/engine"
)

func keyCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "del", arity: -2, flags: flagWrite, first: 1, last: -1, step: 1, fn: (*conn).cmdDel},
		{name: "unlink", arity: -2, flags: flagWrite | flagFast, first: 1, last: -1, step: 1, fn: (*conn).cmdDel},
		{name: "exists", arity: -2, flags: flagReadonly | flagFast, first: 1, last: -1, step: 1, fn: (*conn).cmdExists},
		{name: "expire", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdExpire},
		{name: "pexpire", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdPExpire},
		{name: "expireat", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdExpireAt},
		{name: "pexpireat", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdPExpireAt},
		{name: "expiretime", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdExpireTime},
		{name: "pexpiretime", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdPExpireTime},
		{name: "ttl", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdTTL},
		{name: "pttl", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdPTTL},
		{name: "persist", arity: 2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdPersist},
		{name: "type", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdType},
		{name: "keys", arity: 2, flags: flagReadonly, fn: (*conn).cmdKeys},
		{name: "scan", arity: -2, flags: flagReadonly, fn: (*conn).cmdScan},
		{name: "rename", arity: 3, flags: flagWrite, first: 1, last: 2, step: 1, fn: (*conn).cmdRename},
		{name: "renamenx", arity: 3, flags: flagWrite | flagFast, first: 1, last: 2, step: 1, fn: (*conn).cmdRenameNX},
		{name: "randomkey", arity: 1, flags: flagReadonly, fn: (*conn).cmdRandomKey},
	}
}

func (c *conn) cmdDel(cmd *Command) {
	n, err := c.eng.Delete(c.ns, cmd.Args[1:])
	if err != nil {
		c.replyErr(err)
		return
	}
	if n > 0 {
		c.dirty = true
	}
	c.wr.Int(int64(n))
}

func (c *conn) cmdExists(cmd *Command) {
	n, err := c.eng.Exists(c.ns, cmd.Args[1:])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.wr.Int(int64(n))
}

func (c *conn) cmdExpire(cmd *Command)    { c.expire(cmd, 1000, false) }
func (c *conn) cmdPExpire(cmd *Command)   { c.expire(cmd, 1, false) }
func (c *conn) cmdExpireAt(cmd *Command)  { c.expire(cmd, 1000, true) }
func (c *conn) cmdPExpireAt(cmd *Command) { c.expire(cmd, 1, true) }

// expire serves EXPIRE and its relatives: key time [NX|XX|GT|LT], time in
// units of unit milliseconds, relative unless abs.
func (c *conn) expire(cmd *Command, unit int64, abs bool) {
	args := cmd.Args
	n, ok := parseArgInt(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	cond := engine.ExpireAlways
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch {
		case eqFold(a, "nx"):
			nx, cond = true, engine.ExpireNX
		case eqFold(a, "xx"):
			xx, cond = true, engine.ExpireXX
		case eqFold(a, "gt"):
			gt, cond = true, engine.ExpireGT
		case eqFold(a, "lt"):
			lt, cond = true, engine.ExpireLT
		default:
			c.err("ERR Unsupported option " + string(a))
			return
		}
	}
	switch {
	case nx && (xx || gt || lt):
		c.err("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	case gt && lt:
		c.err("ERR GT and LT options at the same time are not compatible")
		return
	}
	if n > math.MaxInt64/unit || n < math.MinInt64/unit {
		c.err(errInvalidExpire)
		return
	}
	at := n * unit
	if !abs {
		now := time.Now().UnixMilli()
		if at > math.MaxInt64-now {
			c.err(errInvalidExpire)
			return
		}
		at += now
	}
	if at <= 0 {
		// NB: the engine reads 0 as "no expiry"; a time in the past
		// deletes the key all the same.
		at = 1
	}
	c.replyChanged(c.eng.Expire(c.ns, args[1], at, cond))
}

// ttl returns the key's remaining time in milliseconds, -1 without an
// expiry, -2 when the key does not exist (ok=false on other errors).
func (c *conn) ttl(key []byte) (int64, bool) {
	m, err := c.eng.Stat(c.ns, key)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return -2, true
	case err != nil:
		c.replyErr(err)
		return 0, false
	case m.ExpireAt == 0:
		return -1, true
	}
	return max(m.ExpireAt-time.Now().UnixMilli(), 0), true
}

func (c *conn) cmdTTL(cmd *Command) {
	if t, ok := c.ttl(cmd.Args[1]); ok {
		if t >= 0 {
			t = (t + 500) / 1000
		}
		c.wr.Int(t)
	}
}

func (c *conn) cmdPTTL(cmd *Command) {
	if t, ok := c.ttl(cmd.Args[1]); ok {
		c.wr.Int(t)
	}
}

func (c *conn) expireTime(key []byte, unit int64) {
	m, err := c.eng.Stat(c.ns, key)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Int(-2)
	case err != nil:
		c.replyErr(err)
	case m.ExpireAt == 0:
		c.wr.Int(-1)
	default:
		c.wr.Int(m.ExpireAt / unit)
	}
}

func (c *conn) cmdExpireTime(cmd *Command)  { c.expireTime(cmd.Args[1], 1000) }
func (c *conn) cmdPExpireTime(cmd *Command) { c.expireTime(cmd.Args[1], 1) }

func (c *conn) cmdPersist(cmd *Command) {
	c.replyChanged(c.eng.Persist(c.ns, cmd.Args[1]))
}

func (c *conn) cmdType(cmd *Command) {
	m, err := c.eng.Stat(c.ns, cmd.Args[1])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Simple("none")
	case err != nil:
		c.replyErr(err)
	default:
		c.wr.Simple(m.Type.String())
	}
}

// KEYS pattern
func (c *conn) cmdKeys(cmd *Command) {
	b := c.scratch[:0]
	n := 0
	_, err := c.eng.Scan(c.ns, engine.ScanOptions{Match: cmd.Args[1]}, func(key []byte, _ *engine.Meta) bool {
		b = appendBulk(b, key)
		n++
		return true
	})
	c.scratch = b
	if err != nil {
		c.replyErr(err)
		return
	}
	c.wr.Array(n)
	c.wr.Raw(b)
}

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = appendUint(b, uint64(len(s)))
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendUint(b []byte, n uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

var typeNames = []struct {
	name string
	t    engine.Type
}{
	{"string", engine.TypeString}, {"hash", engine.TypeHash}, {"list", engine.TypeList},
	{"set", engine.TypeSet}, {"zset", engine.TypeZSet}, {"stream", engine.TypeStream},
	{"bitmap", engine.TypeBitmap}, {"hyperloglog", engine.TypeHyperLogLog}, {"mbbloom--", engine.TypeBloom}, {"sortedint", engine.TypeSortedInt},
	{"rejson-rl", engine.TypeJSON}, // lower case: eqFold matches them
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. Cursors are
// numbers, as redis-cursor-compatible yes has them, so every Redis client
// can page; the server maps them to resume keys.
func (c *conn) cmdScan(cmd *Command) {
	args := cmd.Args
	cursor, ok := parseArgInt(args[1])
	if !ok || cursor < 0 {
		c.err(errInvalidCursor)
		return
	}
	opts := engine.ScanOptions{Limit: 10}
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.syntaxErr()
			return
		}
		v := args[i+1]
		switch {
		case eqFold(args[i], "match"):
			opts.Match = v
		case eqFold(args[i], "count"):
			n, ok := parseArgInt(v)
			if !ok {
				c.err(errNotInteger)
				return
			}
			if n < 1 {
				c.syntaxErr()
				return
			}
			opts.Limit = int(min(n, 1<<20))
		case eqFold(args[i], "type"):
			found := false
			for _, tn := range typeNames {
				if eqFold(v, tn.name) {
					opts.Type, found = tn.t, true
				}
			}
			if !found {
				c.err("ERR unknown type name '" + string(v) + "'")
				return
			}
		default:
			c.syntaxErr()
			return
		}
	}
	var start [256]byte
	if cursor != 0 {
		opts.Start = c.s.cursors.get(uint64(cursor), c.ns, start[:0])
	}
	b := c.scratch[:0]
	n := 0
	next, err := c.eng.Scan(c.ns, opts, func(key []byte, _ *engine.Meta) bool {
		b = appendBulk(b, key)
		n++
		return true
	})
	c.scratch = b
	if err != nil {
		c.replyErr(err)
		return
	}
	c.wr.Array(2)
	if next == nil {
		c.wr.BulkString("0")
	} else {
		c.wr.BulkInt(int64(c.s.cursors.put(c.ns, next)))
	}
	c.wr.Array(n)
	c.wr.Raw(b)
}

func (c *conn) rename(cmd *Command, nx bool) (bool, bool) {
	ok, err := c.eng.Rename(c.ns, cmd.Args[1], cmd.Args[2], nx)
	if err != nil {
		c.replyErr(err)
		return false, false
	}
	if ok {
		c.dirty = true
		c.s.blocked.signal(c.ns, cmd.Args[2])
	}
	return ok, true
}

func (c *conn) cmdRename(cmd *Command) {
	if _, ok := c.rename(cmd, false); ok {
		c.wr.OK()
	}
}

func (c *conn) cmdRenameNX(cmd *Command) {
	if done, ok := c.rename(cmd, true); ok {
		if done {
			c.wr.Int(1)
		} else {
			c.wr.Int(0)
		}
	}
}

func (c *conn) cmdRandomKey(cmd *Command) {
	key, err := c.eng.RandomKey(c.ns)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Null()
	case err != nil:
		c.replyErr(err)
	default:
		c.wr.Bulk(key)
	}
}

// replyChanged answers :1 when a mutation changed the key (and marks the
// batch dirty so it is synced before the reply goes out), :0 when it did
// not, or the error.
func (c *conn) replyChanged(changed bool, err error) {
	switch {
	case err != nil:
		c.replyErr(err)
	case changed:
		c.dirty = true
		c.wr.Int(1)
	default:
		c.wr.Int(0)
	}
}
