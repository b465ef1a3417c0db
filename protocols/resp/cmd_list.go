package resp

import (
	"github.com/gpucache/gpucache/engine"
)

func listCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "lpush", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdLPush},
		{name: "rpush", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdRPush},
		{name: "lpushx", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdLPushX},
		{name: "rpushx", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdRPushX},
		{name: "lpop", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdLPop},
		{name: "rpop", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdRPop},
		{name: "llen", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdLLen},
		{name: "lrange", arity: 4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdLRange},
		{name: "lindex", arity: 3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdLIndex},
		{name: "lset", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdLSet},
		{name: "linsert", arity: 5, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdLInsert},
		{name: "lrem", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdLRem},
		{name: "ltrim", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdLTrim},
		{name: "lpos", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdLPos},
		{name: "lmove", arity: 5, flags: flagWrite, first: 1, last: 2, step: 1, fn: (*conn).cmdLMove},
		{name: "rpoplpush", arity: 3, flags: flagWrite, first: 1, last: 2, step: 1, fn: (*conn).cmdRPopLPush},
		{name: "lmpop", arity: -4, flags: flagWrite, fn: (*conn).cmdLMPop},
	}
}

const errIndexRange = "ERR index out of range"

// push serves LPUSH/RPUSH/LPUSHX/RPUSHX: the new length, 0 for X on a
// missing key. Clients blocked on the key are served after the commit.
func (c *conn) push(cmd *Command, left, onlyExisting bool) {
	args := cmd.Args
	var n int64
	if !c.txn(args[1:2], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeList)
		if err != nil || (!exists && onlyExisting) {
			return err
		}
		for _, v := range args[2:] {
			if err := t.ListPush(0, v, left); err != nil {
				return err
			}
		}
		n = t.Size(0)
		return nil
	}) {
		return
	}
	c.wr.Int(n)
	if n > 0 {
		c.s.blocked.signal(c.ns, args[1])
	}
}

func (c *conn) cmdLPush(cmd *Command)  { c.push(cmd, true, false) }
func (c *conn) cmdRPush(cmd *Command)  { c.push(cmd, false, false) }
func (c *conn) cmdLPushX(cmd *Command) { c.push(cmd, true, true) }
func (c *conn) cmdRPushX(cmd *Command) { c.push(cmd, false, true) }

// listPop pops up to count elements of list key i from one end into out.
func listPop(t *engine.Txn, i int, left bool, count int64, out *zentries) error {
	for ; count > 0; count-- {
		v, ok, err := t.ListPop(i, left, out.buf)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		out.buf = v
		out.ends = append(out.ends, len(v))
		out.sc = append(out.sc, 0)
	}
	return nil
}

// pop serves LPOP/RPOP key [count].
func (c *conn) pop(cmd *Command, left bool) {
	args := cmd.Args
	count, withCount := int64(1), len(args) == 3
	if len(args) > 3 {
		c.syntaxErr()
		return
	}
	if withCount {
		var ok bool
		if count, ok = parseArgInt(args[2]); !ok || count < 0 {
			c.err("ERR value is out of range, must be positive")
			return
		}
	}
	var z zentries
	exists := false
	if !c.txn(args[1:2], true, func(t *engine.Txn) error {
		var err error
		if exists, err = t.Open(0, engine.TypeList); err != nil || !exists {
			return err
		}
		return listPop(t, 0, left, count, &z)
	}) {
		return
	}
	switch {
	case !withCount && z.len() == 0:
		c.wr.Null()
	case !withCount:
		c.wr.Bulk(z.member(0))
	case !exists:
		c.wr.NullArray()
	default:
		c.zreply(&z, false)
	}
}

func (c *conn) cmdLPop(cmd *Command) { c.pop(cmd, true) }
func (c *conn) cmdRPop(cmd *Command) { c.pop(cmd, false) }

func (c *conn) cmdLLen(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		n, err := t.ListLen(0)
		if err != nil {
			return err
		}
		c.wr.Int(n)
		return nil
	})
}

// LRANGE key start stop: reads only the elements in the range.
func (c *conn) cmdLRange(cmd *Command) {
	args := cmd.Args
	start, ok1 := parseArgInt(args[2])
	stop, ok2 := parseArgInt(args[3])
	if !ok1 || !ok2 {
		c.err(errNotInteger)
		return
	}
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		n, err := t.ListLen(0)
		if err != nil {
			return err
		}
		a, b, ok := rankWindow(start, stop, n)
		if !ok {
			c.wr.Array(0)
			return nil
		}
		c.wr.Array(int(b - a + 1))
		return t.ListRange(0, a, b, false, func(_ int64, v []byte) bool {
			c.wr.Bulk(v)
			return true
		})
	})
}

func (c *conn) cmdLIndex(cmd *Command) {
	args := cmd.Args
	idx, ok := parseArgInt(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		n, err := t.ListLen(0)
		if err != nil {
			return err
		}
		if idx < 0 {
			idx += n
		}
		v, found, err := t.ListIndex(0, idx, c.scratch[:0])
		if err != nil {
			return err
		}
		c.scratch = v
		if found {
			c.wr.Bulk(v)
		} else {
			c.wr.Null()
		}
		return nil
	})
}

func (c *conn) cmdLSet(cmd *Command) {
	args := cmd.Args
	idx, ok := parseArgInt(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeList)
		if err != nil {
			return err
		}
		if !exists {
			return replyError(errNoSuchKey)
		}
		n := t.Size(0)
		if idx < 0 {
			idx += n
		}
		if idx < 0 || idx >= n {
			return replyError(errIndexRange)
		}
		t.ListSet(0, idx, args[3])
		return nil
	}) {
		c.wr.OK()
	}
}

// LINSERT key BEFORE|AFTER pivot element: the elements after the pivot are
// rewritten one place further.
func (c *conn) cmdLInsert(cmd *Command) {
	args := cmd.Args
	before := eqFold(args[2], "before")
	if !before && !eqFold(args[2], "after") {
		c.syntaxErr()
		return
	}
	var n int64
	if !c.txn(args[1:2], true, func(t *engine.Txn) error {
		size, err := t.ListLen(0)
		if err != nil || size == 0 {
			return err
		}
		at := int64(-1)
		var tail [][]byte
		err = t.ListRange(0, 0, size-1, false, func(pos int64, v []byte) bool {
			if at < 0 {
				if string(v) != string(args[3]) {
					return true
				}
				at = pos
				if before {
					tail = append(tail, args[4])
				}
				tail = append(tail, append([]byte(nil), v...))
				if !before {
					tail = append(tail, args[4])
				}
				return true
			}
			tail = append(tail, append([]byte(nil), v...))
			return true
		})
		if err != nil {
			return err
		}
		if at < 0 {
			n = -1
			return nil
		}
		t.ListRewrite(0, at, tail)
		n = size + 1
		return nil
	}) {
		return
	}
	c.wr.Int(n)
}

// LREM key count element
func (c *conn) cmdLRem(cmd *Command) {
	args := cmd.Args
	count, ok := parseArgInt(args[2])
	if !ok {
		c.err(errNotInteger)
		return
	}
	var removed int64
	if !c.txn(args[1:2], true, func(t *engine.Txn) error {
		size, err := t.ListLen(0)
		if err != nil || size == 0 {
			return err
		}
		// Collect the kept elements, newest order preserved; with a
		// negative count the removals come from the tail.
		limit := count
		if limit < 0 {
			limit = -limit
		}
		keep := make([][]byte, 0, size)
		first := int64(-1)
		err = t.ListRange(0, 0, size-1, count < 0, func(pos int64, v []byte) bool {
			if string(v) == string(args[3]) && (limit == 0 || removed < limit) {
				removed++
				if first < 0 || (count >= 0 && pos < first) || (count < 0 && pos < first) {
					first = pos
				}
				return true
			}
			keep = append(keep, append([]byte(nil), v...))
			return true
		})
		if err != nil || removed == 0 {
			return err
		}
		if count < 0 {
			for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
				keep[i], keep[j] = keep[j], keep[i]
			}
		}
		t.ListRewrite(0, 0, keep)
		return nil
	}) {
		return
	}
	c.wr.Int(removed)
}

func (c *conn) cmdLTrim(cmd *Command) {
	args := cmd.Args
	start, ok1 := parseArgInt(args[2])
	stop, ok2 := parseArgInt(args[3])
	if !ok1 || !ok2 {
		c.err(errNotInteger)
		return
	}
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		n, err := t.ListLen(0)
		if err != nil || n == 0 {
			return err
		}
		a, b, ok := rankWindow(start, stop, n)
		if !ok {
			a, b = 1, 0
		}
		t.ListTrim(0, a, b)
		return nil
	}) {
		c.wr.OK()
	}
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
func (c *conn) cmdLPos(cmd *Command) {
	args := cmd.Args
	rank, count, maxLen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.syntaxErr()
			return
		}
		n, ok := parseArgInt(args[i+1])
		if !ok {
			c.err(errNotInteger)
			return
		}
		switch {
		case eqFold(args[i], "rank"):
			if n == 0 || n == -1<<63 {
				c.err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			rank = n
		case eqFold(args[i], "count"):
			if n < 0 {
				c.err("ERR COUNT can't be negative")
				return
			}
			count = n
		case eqFold(args[i], "maxlen"):
			if n < 0 {
				c.err("ERR MAXLEN can't be negative")
				return
			}
			maxLen = n
		default:
			c.syntaxErr()
			return
		}
	}
	var found []int64
	if !c.txn(args[1:2], false, func(t *engine.Txn) error {
		size, err := t.ListLen(0)
		if err != nil || size == 0 {
			return err
		}
		skip := rank - 1
		if rank < 0 {
			skip = -rank - 1
		}
		scanned := int64(0)
		want := count
		if want < 0 {
			want = 1
		}
		return t.ListRange(0, 0, size-1, rank < 0, func(pos int64, v []byte) bool {
			if maxLen > 0 && scanned >= maxLen {
				return false
			}
			scanned++
			if string(v) != string(args[2]) {
				return true
			}
			if skip > 0 {
				skip--
				return true
			}
			found = append(found, pos)
			return want == 0 || int64(len(found)) < want
		})
	}) {
		return
	}
	if count < 0 {
		if len(found) == 0 {
			c.wr.Null()
		} else {
			c.wr.Int(found[0])
		}
		return
	}
	c.wr.Array(len(found))
	for _, p := range found {
		c.wr.Int(p)
	}
}

// lmove moves one element from src's end (fromLeft) to dst's end
// (toLeft) inside t (keys 0 and 1); false when src is empty. dst's type is
// checked before anything moves.
func lmove(t *engine.Txn, fromLeft, toLeft bool, out *zentries) (bool, error) {
	if _, err := t.Open(1, engine.TypeList); err != nil {
		return false, err
	}
	exists, err := t.Open(0, engine.TypeList)
	if err != nil || !exists {
		return false, err
	}
	if err := listPop(t, 0, fromLeft, 1, out); err != nil || out.len() == 0 {
		return false, err
	}
	return true, t.ListPush(1, out.member(0), toLeft)
}

func parseEnd(b []byte) (left, ok bool) {
	switch {
	case eqFold(b, "left"):
		return true, true
	case eqFold(b, "right"):
		return false, true
	}
	return false, false
}

func (c *conn) move(src, dst []byte, fromLeft, toLeft bool) {
	var z zentries
	moved := false
	if !c.txn([][]byte{src, dst}, true, func(t *engine.Txn) error {
		var err error
		moved, err = lmove(t, fromLeft, toLeft, &z)
		return err
	}) {
		return
	}
	if !moved {
		c.wr.Null()
		return
	}
	c.wr.Bulk(z.member(0))
	c.s.blocked.signal(c.ns, dst)
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
func (c *conn) cmdLMove(cmd *Command) {
	args := cmd.Args
	from, ok1 := parseEnd(args[3])
	to, ok2 := parseEnd(args[4])
	if !ok1 || !ok2 {
		c.syntaxErr()
		return
	}
	c.move(args[1], args[2], from, to)
}

func (c *conn) cmdRPopLPush(cmd *Command) { c.move(cmd.Args[1], cmd.Args[2], false, true) }

// parseMPop parses "numkeys key [key ...] LEFT|RIGHT|MIN|MAX [COUNT n]" at
// args[i:]; ends names the two end words.
func (c *conn) parseMPop(args [][]byte, i int, first, second string) ([][]byte, bool, int64, bool) {
	nk, ok := parseArgInt(args[i])
	if !ok {
		c.err(errNotInteger)
		return nil, false, 0, false
	}
	if nk <= 0 {
		c.err("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	if nk > int64(len(args)-i-1) {
		c.syntaxErr()
		return nil, false, 0, false
	}
	keys := args[i+1 : i+1+int(nk)]
	rest := args[i+1+int(nk):]
	if len(rest) == 0 || !(eqFold(rest[0], first) || eqFold(rest[0], second)) {
		c.syntaxErr()
		return nil, false, 0, false
	}
	isFirst := eqFold(rest[0], first)
	count := int64(1)
	switch {
	case len(rest) == 1:
	case len(rest) == 3 && eqFold(rest[1], "count"):
		if count, ok = parseArgInt(rest[2]); !ok || count <= 0 {
			c.err("ERR count should be greater than 0")
			return nil, false, 0, false
		}
	default:
		c.syntaxErr()
		return nil, false, 0, false
	}
	return keys, isFirst, count, true
}

// lmpop pops from the first non-empty list of keys; -1 when all are empty.
func lmpop(t *engine.Txn, n int, left bool, count int64, z *zentries) (int, error) {
	for i := 0; i < n; i++ {
		exists, err := t.Open(i, engine.TypeList)
		if err != nil {
			return -1, err
		}
		if exists {
			return i, listPop(t, i, left, count, z)
		}
	}
	return -1, nil
}

func (c *conn) replyMPop(key []byte, z *zentries, scores bool) {
	c.wr.Array(2)
	c.wr.Bulk(key)
	c.wr.Array(z.len())
	for i := 0; i < z.len(); i++ {
		if scores {
			c.wr.Array(2)
			c.wr.Bulk(z.member(i))
			c.score(z.sc[i])
		} else {
			c.wr.Bulk(z.member(i))
		}
	}
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
func (c *conn) cmdLMPop(cmd *Command) {
	keys, left, count, ok := c.parseMPop(cmd.Args, 1, "left", "right")
	if !ok {
		return
	}
	var z zentries
	from := -1
	if !c.txn(keys, true, func(t *engine.Txn) error {
		var err error
		from, err = lmpop(t, len(keys), left, count, &z)
		return err
	}) {
		return
	}
	if from < 0 {
		c.wr.NullArray()
		return
	}
	c.replyMPop(keys[from], &z, false)
}
