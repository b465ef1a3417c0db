package resp

import "github.com/gpucache/gpucache/engine"

// Hash field expiry (Redis 7.4 and 8 commands; engine/hash_ttl.go) and
// KVRocks's HRANGEBYLEX. Replies and error texts are Redis's.
func hashTTLCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "hexpire", arity: -6, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHExpire},
		{name: "hpexpire", arity: -6, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHPExpire},
		{name: "hexpireat", arity: -6, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHExpireAt},
		{name: "hpexpireat", arity: -6, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHPExpireAt},
		{name: "httl", arity: -5, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHTTL},
		{name: "hpttl", arity: -5, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHPTTL},
		{name: "hexpiretime", arity: -5, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHExpireTime},
		{name: "hpexpiretime", arity: -5, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHPExpireTime},
		{name: "hpersist", arity: -5, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHPersist},
		{name: "hgetdel", arity: -5, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHGetDel},
		{name: "hgetex", arity: -5, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHGetEx},
		{name: "hsetex", arity: -6, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdHSetEx},
		{name: "hrangebylex", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdHRangeByLex},
		{name: "hsetexpire", arity: -5, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdHSetExpire},
	}
}

const (
	errFieldsMissing   = "ERR Mandatory argument FIELDS is missing or not at the right position"
	errNumFieldsMatch  = "ERR The `numfields` parameter must match the number of arguments"
	errNumFieldsPos    = "ERR Number of fields must be a positive integer"
	errNumFieldsExpire = "ERR Parameter `numFields` should be greater than 0"
	errExpireNegative  = "ERR invalid expire time, must be >= 0"
)

// maxFieldExpireMs is the latest field expiry Redis accepts (2^48 - 1
// ms, its EB_EXPIRE_TIME_MAX).
const maxFieldExpireMs = 1<<48 - 1

// expireUnit says how an expiry argument reads: seconds or milliseconds,
// relative to now or absolute.
type expireUnit struct {
	ms, abs bool
}

// parseFieldExpire reads an expiry argument as Redis's parseExpireTime
// does and returns it as absolute Unix ms. It answers the error itself.
func (c *conn) parseFieldExpire(arg []byte, u expireUnit, now int64, cmd string) (int64, bool) {
	v, ok := parseArgInt(arg)
	if !ok {
		c.err(errNotInteger)
		return 0, false
	}
	if v < 0 {
		c.err(errExpireNegative)
		return 0, false
	}
	tooLate := "ERR invalid expire time in '" + cmd + "' command"
	if !u.ms {
		if v > maxFieldExpireMs/1000 {
			c.err(tooLate)
			return 0, false
		}
		v *= 1000
	}
	base := int64(0)
	if !u.abs {
		base = now
	}
	if v > maxFieldExpireMs-base {
		c.err(tooLate)
		return 0, false
	}
	return v + base, true
}

// parseFieldList reads `FIELDS numfields field ...` starting at args[at]
// (the FIELDS token), which must run to the end. It answers the error
// itself.
func (c *conn) parseFieldList(args [][]byte, at int, numErr string) ([][]byte, bool) {
	if at >= len(args) || !eqFold(args[at], "fields") {
		c.err(errFieldsMissing)
		return nil, false
	}
	if at+1 >= len(args) {
		c.wrongArgs()
		return nil, false
	}
	n, ok := parseArgInt(args[at+1])
	if !ok || n < 1 {
		c.err(numErr)
		return nil, false
	}
	if n != int64(len(args)-at-2) {
		c.err(errNumFieldsMatch)
		return nil, false
	}
	return args[at+2:], true
}

func (c *conn) cmdHExpire(cmd *Command)   { c.hexpire(cmd, "hexpire", expireUnit{}) }
func (c *conn) cmdHPExpire(cmd *Command)  { c.hexpire(cmd, "hpexpire", expireUnit{ms: true}) }
func (c *conn) cmdHExpireAt(cmd *Command) { c.hexpire(cmd, "hexpireat", expireUnit{abs: true}) }
func (c *conn) cmdHPExpireAt(cmd *Command) {
	c.hexpire(cmd, "hpexpireat", expireUnit{ms: true, abs: true})
}

// HEXPIRE key seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
// (and its ms / absolute forms): per field -2 no such field, 0 condition
// not met, 1 set, 2 deleted (the time is not in the future).
func (c *conn) hexpire(cmd *Command, name string, u expireUnit) {
	args := cmd.Args
	var fields [][]byte
	var at int64
	cond := engine.ExpireAlways
	c.txn(args[1:2], true, func(t *engine.Txn) error {
		// As Redis: the type is checked first, then the arguments.
		if _, err := t.Open(0, engine.TypeHash); err != nil {
			return err
		}
		var ok bool
		if at, ok = c.parseFieldExpire(args[2], u, t.Now(), name); !ok {
			return nil
		}
		pos := 3
		switch {
		case eqFold(args[3], "nx"):
			cond, pos = engine.ExpireNX, 4
		case eqFold(args[3], "xx"):
			cond, pos = engine.ExpireXX, 4
		case eqFold(args[3], "gt"):
			cond, pos = engine.ExpireGT, 4
		case eqFold(args[3], "lt"):
			cond, pos = engine.ExpireLT, 4
		}
		if fields, ok = c.parseFieldList(args, pos, errNumFieldsExpire); !ok {
			return nil
		}
		c.wr.Array(len(fields))
		for _, f := range fields {
			r, err := t.HashExpireField(0, f, at, cond)
			if err != nil {
				return err
			}
			c.wr.Int(int64(r))
		}
		return nil
	})
}

// ttlForm says what HTTL and its siblings answer for a field's expiry.
type ttlForm uint8

const (
	ttlSeconds   ttlForm = iota // HTTL: seconds left, rounded up
	ttlMillis                   // HPTTL
	ttlAtSeconds                // HEXPIRETIME
	ttlAtMillis                 // HPEXPIRETIME
)

func (c *conn) cmdHTTL(cmd *Command)         { c.httl(cmd, ttlSeconds) }
func (c *conn) cmdHPTTL(cmd *Command)        { c.httl(cmd, ttlMillis) }
func (c *conn) cmdHExpireTime(cmd *Command)  { c.httl(cmd, ttlAtSeconds) }
func (c *conn) cmdHPExpireTime(cmd *Command) { c.httl(cmd, ttlAtMillis) }

// hashFieldsTxn runs fn on the hash of a `key FIELDS numfields field ...`
// command (HTTL & co., HPERSIST, HGETDEL) in a transaction, once the key
// is known to be a hash (or absent) and the field list parsed; a bad list
// is answered here and fn does not run.
func (c *conn) hashFieldsTxn(cmd *Command, write bool, fn func(t *engine.Txn, fields [][]byte) error) {
	c.txn(cmd.Args[1:2], write, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeHash); err != nil {
			return err
		}
		fields, ok := c.parseFieldList(cmd.Args, 2, errNumFieldsPos)
		if !ok {
			return nil
		}
		return fn(t, fields)
	})
}

// HTTL key FIELDS numfields field [field ...]: per field -2 no such
// field, -1 no TTL, else the TTL or the expiry time.
func (c *conn) httl(cmd *Command, form ttlForm) {
	c.hashFieldsTxn(cmd, false, func(t *engine.Txn, fields [][]byte) error {
		now := t.Now()
		c.wr.Array(len(fields))
		for _, f := range fields {
			at, err := t.HashFieldExpireAt(0, f)
			if err != nil {
				return err
			}
			if at < 0 {
				c.wr.Int(at)
				continue
			}
			switch form {
			case ttlSeconds:
				c.wr.Int((at - now + 999) / 1000)
			case ttlMillis:
				c.wr.Int(at - now)
			case ttlAtSeconds:
				c.wr.Int((at + 999) / 1000)
			default:
				c.wr.Int(at)
			}
		}
		return nil
	})
}

// HPERSIST key FIELDS numfields field [field ...]: per field -2 no such
// field, -1 no TTL, 1 TTL removed.
func (c *conn) cmdHPersist(cmd *Command) {
	c.hashFieldsTxn(cmd, true, func(t *engine.Txn, fields [][]byte) error {
		c.wr.Array(len(fields))
		for _, f := range fields {
			r, err := t.HashPersistField(0, f)
			if err != nil {
				return err
			}
			c.wr.Int(int64(r))
		}
		return nil
	})
}

// HGETDEL key FIELDS numfields field [field ...]: the values (nil for
// absent fields), each field deleted; the key goes with its last field.
func (c *conn) cmdHGetDel(cmd *Command) {
	c.hashFieldsTxn(cmd, true, func(t *engine.Txn, fields [][]byte) error {
		c.wr.Array(len(fields))
		for _, f := range fields {
			v, found, err := t.HashGet(0, f, c.scratch[:0])
			if err != nil {
				return err
			}
			c.scratch = v
			if !found {
				c.wr.Null()
				continue
			}
			c.wr.Bulk(v)
			if _, err := t.HashDelete(0, f); err != nil {
				return err
			}
		}
		return nil
	})
}

// HGETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
// PXAT unix-time-milliseconds | PERSIST] FIELDS numfields field [field ...]
func (c *conn) cmdHGetEx(cmd *Command) {
	args := cmd.Args
	c.txn(args[1:2], true, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeHash); err != nil {
			return err
		}
		pos := 2
		var at int64
		setTTL, persist := false, false
		var u expireUnit
		switch {
		case eqFold(args[2], "ex"):
			setTTL = true
		case eqFold(args[2], "px"):
			setTTL, u = true, expireUnit{ms: true}
		case eqFold(args[2], "exat"):
			setTTL, u = true, expireUnit{abs: true}
		case eqFold(args[2], "pxat"):
			setTTL, u = true, expireUnit{ms: true, abs: true}
		case eqFold(args[2], "persist"):
			persist, pos = true, 3
		}
		if setTTL {
			var ok bool
			if at, ok = c.parseFieldExpire(args[3], u, t.Now(), "hgetex"); !ok {
				return nil
			}
			pos = 4
		}
		fields, ok := c.parseFieldList(args, pos, errNumFieldsPos)
		if !ok {
			return nil
		}
		c.wr.Array(len(fields))
		for _, f := range fields {
			v, found, err := t.HashGet(0, f, c.scratch[:0])
			if err != nil {
				return err
			}
			c.scratch = v
			if !found {
				c.wr.Null()
				continue
			}
			c.wr.Bulk(v)
			switch {
			case setTTL:
				_, err = t.HashExpireField(0, f, at, engine.ExpireAlways)
			case persist:
				_, err = t.HashPersistField(0, f)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// HSETEX key [FNX | FXX] [EX seconds | PX milliseconds |
// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
// FIELDS numfields field value [field value ...]: 1 when every field was
// set, 0 when FNX or FXX refused (and nothing was set).
func (c *conn) cmdHSetEx(cmd *Command) {
	args := cmd.Args
	const (
		optFNX = 1 << iota
		optFXX
		optTTL
		optKeepTTL
	)
	c.txn(args[1:2], true, func(t *engine.Txn) error {
		// As Redis: the arguments are checked first, then the type.
		opts := 0
		var at int64
		first := -1
		for i := 2; i < len(args) && first < 0; i++ {
			a := args[i]
			switch {
			case eqFold(a, "fields"):
				if i >= len(args)-3 {
					c.wrongArgs()
					return nil
				}
				n, ok := parseArgInt(args[i+1])
				if !ok || n < 1 || n > 1<<31-1 {
					c.err("ERR invalid number of fields")
					return nil
				}
				if rest := len(args) - i - 2; rest%2 != 0 || n != int64(rest/2) {
					c.wrongArgs()
					return nil
				}
				first = i + 2
			case eqFold(a, "fnx"), eqFold(a, "fxx"):
				if opts&(optFNX|optFXX) != 0 {
					c.err("ERR Only one of FXX or FNX arguments can be specified")
					return nil
				}
				if eqFold(a, "fnx") {
					opts |= optFNX
				} else {
					opts |= optFXX
				}
			case eqFold(a, "keepttl"):
				if opts&(optTTL|optKeepTTL) != 0 {
					c.err("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified")
					return nil
				}
				opts |= optKeepTTL
			case eqFold(a, "ex"), eqFold(a, "px"), eqFold(a, "exat"), eqFold(a, "pxat"):
				if opts&(optTTL|optKeepTTL) != 0 {
					c.err("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified")
					return nil
				}
				if i >= len(args)-1 {
					c.err("ERR missing expire time")
					return nil
				}
				u := expireUnit{ms: eqFold(a, "px") || eqFold(a, "pxat"), abs: eqFold(a, "exat") || eqFold(a, "pxat")}
				var ok bool
				if at, ok = c.parseFieldExpire(args[i+1], u, t.Now(), "hsetex"); !ok {
					return nil
				}
				opts |= optTTL
				i++
			default:
				c.err("ERR unknown argument: " + string(a))
				return nil
			}
		}
		if first < 0 {
			c.wrongArgs()
			return nil
		}
		if _, err := t.Open(0, engine.TypeHash); err != nil {
			return err
		}
		if opts&(optFNX|optFXX) != 0 {
			for i := first; i < len(args); i += 2 {
				ok, err := t.HashExists(0, args[i])
				if err != nil {
					return err
				}
				if ok == (opts&optFNX != 0) {
					c.wr.Int(0)
					return nil
				}
			}
		}
		for i := first; i < len(args); i += 2 {
			var err error
			switch {
			case opts&optKeepTTL != 0:
				_, err = t.HashUpdate(0, args[i], args[i+1])
			case opts&optTTL != 0:
				if _, err = t.HashUpdate(0, args[i], args[i+1]); err == nil {
					_, err = t.HashExpireField(0, args[i], at, engine.ExpireAlways)
				}
			default:
				_, err = t.HashSet(0, args[i], args[i+1], false)
			}
			if err != nil {
				return err
			}
		}
		c.wr.Int(1)
		return nil
	})
}

// HSETEXPIRE key seconds field value [field value ...] (KVRocks): HSET
// the fields and give the key (not the fields) the TTL; +OK.
func (c *conn) cmdHSetExpire(cmd *Command) {
	args := cmd.Args
	secs, ok := parseArgInt(args[2])
	if !ok || secs < 0 || secs > maxFieldExpireMs/1000 {
		c.err(errNotInteger)
		return
	}
	if len(args)%2 != 1 {
		c.err("ERR Invalid number of arguments: field-value pairs must be complete")
		return
	}
	c.txn(args[1:2], true, func(t *engine.Txn) error {
		for i := 3; i < len(args); i += 2 {
			if _, err := t.HashSet(0, args[i], args[i+1], false); err != nil {
				return err
			}
		}
		if secs == 0 {
			// The expiry is now: the key is gone, as it is once KVRocks
			// reads it.
			if err := t.Delete(0); err != nil {
				return err
			}
		} else {
			t.SetExpire(0, t.Now()+secs*1000)
		}
		c.wr.OK()
		return nil
	})
}

// HRANGEBYLEX key min max [REV] [LIMIT offset count] (KVRocks): the
// fields in [min, max] in byte order (REV: max first, from max down) with
// their values, as a flat array. min and max are "[field", "(field", "-"
// or "+"; errors are KVRocks's.
func (c *conn) cmdHRangeByLex(cmd *Command) {
	args := cmd.Args
	rev := false
	offset, count := int64(-1), int64(-1)
	for i := 4; i < len(args); i++ {
		switch {
		case eqFold(args[i], "rev"):
			rev = true
		case eqFold(args[i], "limit"):
			if i+2 >= len(args) {
				c.err(errNotInteger)
				return
			}
			var ok1, ok2 bool
			offset, ok1 = parseArgInt(args[i+1])
			count, ok2 = parseArgInt(args[i+2])
			if !ok1 || !ok2 {
				c.err(errNotInteger)
				return
			}
			i += 2
		default:
			c.syntaxErr()
			return
		}
	}
	minArg, maxArg := args[2], args[3]
	if rev {
		minArg, maxArg = args[3], args[2]
	}
	lo, hi, msg := parseHashLexRange(minArg, maxArg)
	if msg != "" {
		c.err(msg)
		return
	}
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeHash); err != nil {
			return err
		}
		b := c.scratch[:0]
		n := 0
		var pos int64
		emit := func(f, v []byte) bool {
			if count == 0 {
				return false
			}
			if offset >= 0 && pos < offset {
				pos++
				return true
			}
			pos++
			b = appendBulk(b, f)
			b = appendBulk(b, v)
			n++
			return count < 0 || int64(n) < count
		}
		var err error
		if !rev {
			err = t.HashRange(0, lo.v, func(f, v []byte) bool {
				if lo.ex && string(f) == string(lo.v) {
					return true
				}
				if !hi.inf && (string(f) > string(hi.v) || hi.ex && string(f) == string(hi.v)) {
					return false
				}
				return emit(f, v)
			})
		} else {
			var before []byte
			if !hi.inf {
				before = append(append([]byte(nil), hi.v...), 0) // the smallest field above hi.v
			}
			err = t.HashRangeReverse(0, before, func(f, v []byte) bool {
				if hi.ex && string(f) == string(hi.v) {
					return true
				}
				if string(f) < string(lo.v) || lo.ex && string(f) == string(lo.v) {
					return false
				}
				return emit(f, v)
			})
		}
		c.scratch = b
		if err != nil {
			return err
		}
		c.wr.Array(2 * n)
		c.wr.buf = append(c.wr.buf, b...)
		return nil
	})
}

// hashLexBound is an end of an HRANGEBYLEX range.
type hashLexBound struct {
	v   []byte
	ex  bool // exclusive
	inf bool // "+" (max only; "-" is the empty inclusive min)
}

// parseHashLexRange parses HRANGEBYLEX's min and max as KVRocks's
// ParseRangeLexSpec does; msg is the error, if any.
func parseHashLexRange(min, max []byte) (lo, hi hashLexBound, msg string) {
	if string(min) == "+" || string(max) == "-" {
		return lo, hi, "ERR min > max"
	}
	switch {
	case string(min) == "-":
	case len(min) > 0 && (min[0] == '(' || min[0] == '['):
		lo = hashLexBound{v: min[1:], ex: min[0] == '('}
	default:
		return lo, hi, "ERR the min is illegal"
	}
	switch {
	case string(max) == "+":
		hi.inf = true
	case len(max) > 0 && (max[0] == '(' || max[0] == '['):
		hi = hashLexBound{v: max[1:], ex: max[0] == '('}
	default:
		return lo, hi, "ERR the max is illegal"
	}
	return lo, hi, ""
}
