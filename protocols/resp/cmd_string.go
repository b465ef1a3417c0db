package resp

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/gpucache/gpucache/engine"
)

func stringCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "get", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdGet},
		{name: "set", arity: -3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdSet, valueArg: isValueArg(2)},
		{name: "setex", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdSetEx, valueArg: isValueArg(3)},
		{name: "psetex", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdPSetEx, valueArg: isValueArg(3)},
		{name: "setnx", arity: 3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSetNX, valueArg: isValueArg(2)},
		{name: "getset", arity: 3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdGetSet, valueArg: isValueArg(2)},
		{name: "mget", arity: -2, flags: flagReadonly | flagFast, first: 1, last: -1, step: 1, fn: (*conn).cmdMGet},
		{name: "mset", arity: -3, flags: flagWrite, first: 1, last: -1, step: 2, fn: (*conn).cmdMSet, valueArg: evenValueArgs},
		{name: "msetnx", arity: -3, flags: flagWrite, first: 1, last: -1, step: 2, fn: (*conn).cmdMSetNX, valueArg: evenValueArgs},
		{name: "getdel", arity: 2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdGetDel},
		{name: "getex", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdGetEx},
		{name: "append", arity: 3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdAppend},
		{name: "strlen", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdStrlen},
		{name: "getrange", arity: 4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdGetRange},
		{name: "substr", arity: 4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdGetRange},
		{name: "setrange", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdSetRange},
		{name: "incr", arity: 2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdIncr},
		{name: "decr", arity: 2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdDecr},
		{name: "incrby", arity: 3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdIncrBy},
		{name: "decrby", arity: 3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdDecrBy},
		{name: "incrbyfloat", arity: 3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdIncrByFloat},
	}
}

// onlyStrings vetoes a write that would read an old value of another type
// (SET ... GET, GETSET).
func onlyStrings(cur engine.Meta, exists bool) error {
	if exists && cur.Type != engine.TypeString {
		return engine.ErrWrongType
	}
	return nil
}

// put stores argument vi under key: in place from engine memory when it
// was streamed there, copied otherwise.
func (c *conn) put(cmd *Command, key []byte, vi int, opts engine.PutOptions) (engine.PutResult, error) {
	if v := cmd.Args[vi]; v != nil {
		return c.eng.PutBytes(c.ns, key, v, opts)
	}
	switch lb := cmd.Take(vi).(type) {
	case *engine.Buffer:
		return c.eng.Put(c.ns, key, lb, opts)
	case nil:
		return c.eng.PutBytes(c.ns, key, nil, opts)
	default:
		defer lb.Release()
		return c.eng.PutBytes(c.ns, key, lb.Pages()[0], opts)
	}
}

// expireAt turns an EX/PX/EXAT/PXAT argument into absolute milliseconds.
func expireAt(unit []byte, arg []byte) (int64, string) {
	n, ok := parseArgInt(arg)
	if !ok {
		return 0, errNotInteger
	}
	if n <= 0 {
		return 0, errInvalidExpire
	}
	now := time.Now().UnixMilli()
	switch {
	case eqFold(unit, "ex"):
		if n > (math.MaxInt64-now)/1000 {
			return 0, errInvalidExpire
		}
		return now + n*1000, ""
	case eqFold(unit, "px"):
		if n > math.MaxInt64-now {
			return 0, errInvalidExpire
		}
		return now + n, ""
	case eqFold(unit, "exat"):
		if n > math.MaxInt64/1000 {
			return 0, errInvalidExpire
		}
		return n * 1000, ""
	default: // pxat
		return n, ""
	}
}

// flagFree reports whether option name may be taken when set (the one
// already taken from its group, "" for none) is what it is.
func flagFree(set, name string) bool { return set == "" || set == name }

// expireFlagFree reports whether b is an expiry unit that set allows.
func expireFlagFree(b []byte, set string) bool {
	u := expireUnitName(b)
	return u != "" && flagFree(set, u)
}

// expireUnitName is the lower-case name of expiry unit b, "" if it is none.
func expireUnitName(b []byte) string {
	switch {
	case eqFold(b, "ex"):
		return "ex"
	case eqFold(b, "px"):
		return "px"
	case eqFold(b, "exat"):
		return "exat"
	case eqFold(b, "pxat"):
		return "pxat"
	}
	return ""
}

func (c *conn) cmdGet(cmd *Command) {
	if c.eng.GetSmall(c.ns, cmd.Args[1], c) {
		c.hits.Add(1)
		return
	}
	v, err := c.eng.Get(c.ns, cmd.Args[1])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.misses.Add(1)
		c.wr.Null()
	case err != nil:
		c.replyErr(err)
	case v.Meta().Type == engine.TypeBitmap:
		v.Release()
		c.getBitmap(cmd.Args[1])
	case v.Meta().Type != engine.TypeString:
		v.Release()
		c.err(errWrongType)
	default:
		c.hits.Add(1)
		c.replyValue(v)
	}
}

// SmallValue is GET's reply of a value in the small-value tier
// (engine.GetSmall).
func (c *conn) SmallValue(val []byte) { c.wr.Bulk(val) }

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
//
// As in Redis and KVRocks, an option may repeat (the last time value
// wins) but not meet a conflicting one: NX with XX, or two different
// expiry options.
func (c *conn) cmdSet(cmd *Command) {
	args := cmd.Args
	var opts engine.PutOptions
	var get bool
	var cond, ttl string
	var expArg []byte
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "nx") && flagFree(cond, "nx"):
			opts.Cond, cond = engine.IfAbsent, "nx"
		case eqFold(a, "xx") && flagFree(cond, "xx"):
			opts.Cond, cond = engine.IfPresent, "xx"
		case eqFold(a, "get"):
			get = true
		case eqFold(a, "keepttl") && flagFree(ttl, "keepttl"):
			opts.KeepTTL, ttl = true, "keepttl"
		case i+1 < len(args) && expireFlagFree(a, ttl):
			ttl, expArg = expireUnitName(a), args[i+1]
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	// As Redis: the options first, then the (last) expiry's value.
	if expArg != nil {
		at, e := expireAt([]byte(ttl), expArg)
		if e != "" {
			c.err(e)
			return
		}
		opts.ExpireAt = at
	}
	if get {
		opts.ReturnOld = true
		opts.Check = onlyStrings
	}
	res, err := c.put(cmd, args[1], 2, opts)
	if err != nil {
		c.replyErr(err)
		return
	}
	if res.Written {
		c.dirty = true
	}
	switch {
	case get && res.Old != nil:
		c.replyValue(res.Old)
	case get:
		c.wr.Null()
	case res.Written:
		c.wr.OK()
	default:
		c.wr.Null()
	}
	if !get && res.Old != nil {
		res.Old.Release()
	}
}

func (c *conn) setWithTTL(cmd *Command, unit string) {
	n, ok := parseArgInt(cmd.Args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	if n <= 0 {
		c.err(errInvalidExpire)
		return
	}
	var u [2]byte
	at, e := expireAt(append(u[:0], unit...), cmd.Args[2])
	if e != "" {
		c.err(e)
		return
	}
	if _, err := c.put(cmd, cmd.Args[1], 3, engine.PutOptions{ExpireAt: at}); err != nil {
		c.replyErr(err)
		return
	}
	c.dirty = true
	c.wr.OK()
}

// SETEX key seconds value
func (c *conn) cmdSetEx(cmd *Command) { c.setWithTTL(cmd, "ex") }

// PSETEX key milliseconds value
func (c *conn) cmdPSetEx(cmd *Command) { c.setWithTTL(cmd, "px") }

func (c *conn) cmdSetNX(cmd *Command) {
	res, err := c.put(cmd, cmd.Args[1], 2, engine.PutOptions{Cond: engine.IfAbsent})
	if err != nil {
		c.replyErr(err)
		return
	}
	if res.Old != nil {
		res.Old.Release()
	}
	if res.Written {
		c.dirty = true
		c.wr.Int(1)
	} else {
		c.wr.Int(0)
	}
}

func (c *conn) cmdGetSet(cmd *Command) {
	res, err := c.put(cmd, cmd.Args[1], 2, engine.PutOptions{ReturnOld: true, Check: onlyStrings})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.dirty = true
	if res.Old != nil {
		c.replyValue(res.Old)
	} else {
		c.wr.Null()
	}
}

func (c *conn) cmdMGet(cmd *Command) {
	keys := cmd.Args[1:]
	c.wr.Array(len(keys))
	for _, k := range keys {
		v, err := c.eng.Get(c.ns, k)
		switch {
		case err != nil:
			c.misses.Add(1)
			c.wr.Null()
		case v.Meta().Type != engine.TypeString:
			v.Release()
			c.wr.Null()
		default:
			c.hits.Add(1)
			c.replyValue(v)
		}
	}
}

// MSET key value [key value ...]: small values are written as one atomic
// batch; a request with large values writes its pairs in turn.
func (c *conn) cmdMSet(cmd *Command) {
	if len(cmd.Args)%2 != 1 {
		c.wrongArgs()
		return
	}
	if small := c.smallPairs(cmd); small {
		if err := c.eng.PutMany(c.ns, c.keys, c.vals); err != nil {
			c.replyErr(err)
			return
		}
		c.dirty = true
		c.wr.OK()
		return
	}
	for i := 1; i < len(cmd.Args); i += 2 {
		if _, err := c.put(cmd, cmd.Args[i], i+1, engine.PutOptions{}); err != nil {
			c.replyErr(err)
			return
		}
		c.dirty = true
	}
	c.wr.OK()
}

// smallPairs splits an MSET's arguments into c.keys and c.vals and reports
// whether every value is small enough for one batch.
func (c *conn) smallPairs(cmd *Command) bool {
	c.keys, c.vals = c.keys[:0], c.vals[:0]
	for i := 1; i < len(cmd.Args); i += 2 {
		v := cmd.Args[i+1]
		if v == nil || len(v) > setRunValueMax {
			return false
		}
		c.keys = append(c.keys, cmd.Args[i])
		c.vals = append(c.vals, v)
	}
	return true
}

// MSETNX key value [key value ...]: sets all pairs if none of the keys
// exist, atomically (engine.PutManyIfAbsent): it answers 1 only when every
// pair was stored, and 0 with nothing stored otherwise.
func (c *conn) cmdMSetNX(cmd *Command) {
	if len(cmd.Args)%2 != 1 {
		c.wrongArgs()
		return
	}
	c.keys, c.vals = c.keys[:0], c.vals[:0]
	var bufs []*engine.Buffer
	for i := 1; i < len(cmd.Args); i += 2 {
		c.keys = append(c.keys, cmd.Args[i])
		v := cmd.Args[i+1]
		var b *engine.Buffer
		if v == nil {
			switch lb := cmd.Take(i + 1).(type) {
			case *engine.Buffer:
				b = lb
			case nil:
			default:
				v = lb.Pages()[0]
				defer lb.Release()
			}
		}
		if b != nil && bufs == nil {
			bufs = make([]*engine.Buffer, (len(cmd.Args)-1)/2)
		}
		if b != nil {
			bufs[len(c.keys)-1] = b
		}
		c.vals = append(c.vals, v)
	}
	stored, err := c.eng.PutManyIfAbsent(c.ns, c.keys, c.vals, bufs)
	switch {
	case err != nil:
		c.replyErr(err)
	case stored:
		c.dirty = true
		c.wr.Int(1)
	default:
		c.wr.Int(0)
	}
}

// bulkCopy writes v's bytes [off, off+n) as a bulk string, copying (for
// replies built while the value is only borrowed, under Update).
func (c *conn) bulkCopy(v *engine.Value, off, n int64) {
	c.wr.header('$', n)
	for _, p := range v.Buffers() {
		if n == 0 {
			break
		}
		if off >= int64(len(p)) {
			off -= int64(len(p))
			continue
		}
		p = p[off:]
		off = 0
		if int64(len(p)) > n {
			p = p[:n]
		}
		c.wr.buf = append(c.wr.buf, p...)
		n -= int64(len(p))
	}
	c.wr.crlf()
}

// readModify runs fn under the key's lock, replying from inside it; the
// reply is rolled back if the update then fails.
func (c *conn) readModify(key []byte, fn func(cur *engine.Value) (engine.Update, error)) {
	mark := c.wr.Mark()
	mutated := false
	err := c.eng.Update(c.ns, key, func(cur *engine.Value) (engine.Update, error) {
		if cur != nil && cur.Meta().Type != engine.TypeString {
			return engine.Update{}, engine.ErrWrongType
		}
		u, err := fn(cur)
		mutated = err == nil && (u.Action != engine.UpdateKeep || u.SetExpire)
		return u, err
	})
	if err != nil {
		c.wr.Reset(mark)
		c.replyErr(err)
		return
	}
	if mutated {
		c.dirty = true
	}
}

func (c *conn) cmdGetDel(cmd *Command) {
	c.readModify(cmd.Args[1], func(cur *engine.Value) (engine.Update, error) {
		if cur == nil {
			c.wr.Null()
			return engine.Update{Action: engine.UpdateKeep}, nil
		}
		c.bulkCopy(cur, 0, cur.Len())
		return engine.Update{Action: engine.UpdateDelete}, nil
	})
}

// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]: an option may
// repeat (the last wins), two different ones conflict.
func (c *conn) cmdGetEx(cmd *Command) {
	args := cmd.Args
	u := engine.Update{Action: engine.UpdateKeep}
	var ttl string
	var expArg []byte
	for i := 2; i < len(args); i++ {
		switch {
		case eqFold(args[i], "persist") && flagFree(ttl, "persist"):
			u.SetExpire, u.ExpireAt, ttl = true, 0, "persist"
		case i+1 < len(args) && expireFlagFree(args[i], ttl):
			u.SetExpire, ttl, expArg = true, expireUnitName(args[i]), args[i+1]
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	if expArg != nil {
		at, e := expireAt([]byte(ttl), expArg)
		if e != "" {
			c.err(e)
			return
		}
		u.ExpireAt = at
	}
	if !u.SetExpire {
		c.cmdGet(cmd)
		return
	}
	c.readModify(args[1], func(cur *engine.Value) (engine.Update, error) {
		if cur == nil {
			c.wr.Null()
			return engine.Update{Action: engine.UpdateKeep}, nil
		}
		c.bulkCopy(cur, 0, cur.Len())
		return u, nil
	})
}

// valueBytes returns a copy of cur's bytes with room for extra more.
func valueBytes(cur *engine.Value, extra int) []byte {
	if cur == nil {
		return make([]byte, 0, extra)
	}
	b := make([]byte, 0, int(cur.Len())+extra)
	b, _ = cur.AppendTo(b)
	return b
}

func (c *conn) cmdAppend(cmd *Command) {
	tail := cmd.Args[2]
	c.readModify(cmd.Args[1], func(cur *engine.Value) (engine.Update, error) {
		var n int64
		if cur != nil {
			n = cur.Len()
		}
		if n+int64(len(tail)) > c.s.live.Load().limits.MaxBulkLen {
			return engine.Update{}, replyError(errStringTooLong)
		}
		v := append(valueBytes(cur, len(tail)), tail...)
		c.wr.Int(int64(len(v)))
		return engine.Update{Action: engine.UpdateReplace, Value: v}, nil
	})
}

func (c *conn) cmdStrlen(cmd *Command) {
	m, err := c.eng.Stat(c.ns, cmd.Args[1])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.Int(0)
	case err != nil:
		c.replyErr(err)
	case m.Type != engine.TypeString:
		c.err(errWrongType)
	default:
		c.wr.Int(m.Size)
	}
}

// GETRANGE key start end (inclusive, negative from the end).
func (c *conn) cmdGetRange(cmd *Command) {
	start, ok1 := parseArgInt(cmd.Args[2])
	end, ok2 := parseArgInt(cmd.Args[3])
	if !ok1 || !ok2 {
		c.err(errNotInteger)
		return
	}
	v, err := c.eng.Get(c.ns, cmd.Args[1])
	switch {
	case errors.Is(err, engine.ErrNotFound):
		c.wr.BulkString("")
		return
	case err != nil:
		c.replyErr(err)
		return
	}
	defer v.Release()
	if v.Meta().Type != engine.TypeString {
		c.err(errWrongType)
		return
	}
	n := v.Len()
	if start < 0 && end < 0 && start > end {
		c.wr.BulkString("")
		return
	}
	if start < 0 {
		start = max(n+start, 0)
	}
	if end < 0 {
		end = max(n+end, 0)
	}
	end = min(end, n-1)
	if start > end || n == 0 {
		c.wr.BulkString("")
		return
	}
	c.bulkCopy(v, start, end-start+1)
}

// SETRANGE key offset value
func (c *conn) cmdSetRange(cmd *Command) {
	off, ok := parseArgInt(cmd.Args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	if off < 0 {
		c.err(errOffsetRange)
		return
	}
	val := cmd.Args[3]
	if off+int64(len(val)) > c.s.live.Load().limits.MaxBulkLen {
		c.err(errStringTooLong)
		return
	}
	c.readModify(cmd.Args[1], func(cur *engine.Value) (engine.Update, error) {
		var n int64
		if cur != nil {
			n = cur.Len()
		}
		if len(val) == 0 {
			c.wr.Int(n)
			return engine.Update{Action: engine.UpdateKeep}, nil
		}
		size := max(n, off+int64(len(val)))
		b := valueBytes(cur, int(size-n))
		b = b[:size]
		copy(b[off:], val)
		c.wr.Int(size)
		return engine.Update{Action: engine.UpdateReplace, Value: b}, nil
	})
}

func (c *conn) cmdIncr(cmd *Command) { c.incrBy(cmd.Args[1], 1) }
func (c *conn) cmdDecr(cmd *Command) { c.incrBy(cmd.Args[1], -1) }

func (c *conn) cmdIncrBy(cmd *Command) {
	n, ok := parseArgInt(cmd.Args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	c.incrBy(cmd.Args[1], n)
}

func (c *conn) cmdDecrBy(cmd *Command) {
	n, ok := parseArgInt(cmd.Args[2])
	if !ok || n == math.MinInt64 {
		c.err(errNotInteger)
		return
	}
	c.incrBy(cmd.Args[1], -n)
}

func (c *conn) incrBy(key []byte, delta int64) {
	c.readModify(key, func(cur *engine.Value) (engine.Update, error) {
		var n int64
		if cur != nil {
			var ok bool
			if n, ok = parseStoredInt(cur.Bytes()); !ok || cur.Len() > 20 {
				return engine.Update{}, engine.ErrNotInteger
			}
		}
		if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
			return engine.Update{}, replyError(errIncrOverflow)
		}
		n += delta
		c.wr.Int(n)
		return engine.Update{Action: engine.UpdateReplace, Value: strconv.AppendInt(nil, n, 10)}, nil
	})
}

func (c *conn) cmdIncrByFloat(cmd *Command) {
	delta, err := strconv.ParseFloat(string(cmd.Args[2]), 64)
	if err != nil || math.IsNaN(delta) || math.IsInf(delta, 0) {
		c.err(errNotFloat)
		return
	}
	c.readModify(cmd.Args[1], func(cur *engine.Value) (engine.Update, error) {
		var f float64
		if cur != nil {
			b := cur.Bytes()
			var err error
			if len(b) == 0 {
				return engine.Update{}, engine.ErrNotFloat
			}
			if f, err = strconv.ParseFloat(string(b), 64); err != nil || math.IsNaN(f) {
				return engine.Update{}, engine.ErrNotFloat
			}
		}
		f += delta
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return engine.Update{}, replyError(errIncrNaN)
		}
		v := appendFloat(nil, f)
		c.wr.Bulk(v)
		return engine.Update{Action: engine.UpdateReplace, Value: v}, nil
	})
}

// parseStoredInt parses a stored value as Redis's string2ll does: no sign
// but '-', no leading zeros, no spaces.
func parseStoredInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	d := b
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	return parseArgInt(b)
}
