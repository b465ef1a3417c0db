package resp

import (
	"slices"

	"github.com/gpucache/gpucache/engine"
)

func setCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "sadd", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSAdd},
		{name: "srem", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSRem},
		{name: "smembers", arity: 2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdSMembers},
		{name: "sismember", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSIsMember},
		{name: "smismember", arity: -3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSMIsMember},
		{name: "scard", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSCard},
		{name: "spop", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdSPop},
		{name: "srandmember", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdSRandMember},
		{name: "smove", arity: 4, flags: flagWrite | flagFast, first: 1, last: 2, step: 1, fn: (*conn).cmdSMove},
		{name: "sinter", arity: -2, flags: flagReadonly, first: 1, last: -1, step: 1, fn: (*conn).cmdSInter},
		{name: "sunion", arity: -2, flags: flagReadonly, first: 1, last: -1, step: 1, fn: (*conn).cmdSUnion},
		{name: "sdiff", arity: -2, flags: flagReadonly, first: 1, last: -1, step: 1, fn: (*conn).cmdSDiff},
		{name: "sinterstore", arity: -3, flags: flagWrite, first: 1, last: -1, step: 1, fn: (*conn).cmdSInterStore},
		{name: "sunionstore", arity: -3, flags: flagWrite, first: 1, last: -1, step: 1, fn: (*conn).cmdSUnionStore},
		{name: "sdiffstore", arity: -3, flags: flagWrite, first: 1, last: -1, step: 1, fn: (*conn).cmdSDiffStore},
		{name: "sintercard", arity: -3, flags: flagReadonly, fn: (*conn).cmdSInterCard},
		{name: "sscan", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdSScan},
	}
}

func (c *conn) cmdSAdd(cmd *Command) { c.countEach(cmd.Args, (*engine.Txn).SetAdd) }

func (c *conn) cmdSRem(cmd *Command) { c.countEach(cmd.Args, (*engine.Txn).SetRemove) }

func (c *conn) cmdSMembers(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeSet); err != nil {
			return err
		}
		c.wr.Set(int(t.Size(0)))
		return t.SetRange(0, nil, func(m []byte) bool {
			c.wr.Bulk(m)
			return true
		})
	})
}

func (c *conn) cmdSIsMember(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		ok, err := t.SetContains(0, cmd.Args[2])
		if err != nil {
			return err
		}
		c.wr.Int(b2i(ok))
		return nil
	})
}

func (c *conn) cmdSMIsMember(cmd *Command) {
	args := cmd.Args
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		c.wr.Array(len(args) - 2)
		for _, m := range args[2:] {
			ok, err := t.SetContains(0, m)
			if err != nil {
				return err
			}
			c.wr.Int(b2i(ok))
		}
		return nil
	})
}

func (c *conn) cmdSCard(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeSet); err != nil {
			return err
		}
		c.wr.Int(t.Size(0))
		return nil
	})
}

// parseCount parses the optional count of SPOP/SRANDMEMBER/HRANDFIELD.
func (c *conn) parseCount(args [][]byte, i int, allowNeg bool) (int64, bool, bool) {
	if len(args) <= i {
		return 1, false, true
	}
	if len(args) > i+1 {
		c.syntaxErr()
		return 0, false, false
	}
	n, ok := parseArgInt(args[i])
	if !ok || (!allowNeg && n < 0) {
		c.err("ERR value is out of range, must be positive")
		return 0, false, false
	}
	if n < -maxRandomCount || n > maxRandomCount {
		c.err("ERR value is out of range")
		return 0, false, false
	}
	return n, true, true
}

// SPOP key [count]
func (c *conn) cmdSPop(cmd *Command) {
	args := cmd.Args
	count, withCount, ok := c.parseCount(args, 2, false)
	if !ok {
		return
	}
	var z zentries
	c.txn(args[1:2], true, func(t *engine.Txn) error {
		z.buf, z.ends, z.sc = z.buf[:0], z.ends[:0], z.sc[:0]
		exists, err := setPop(t, 0, count, &z)
		if err != nil {
			return err
		}
		switch {
		case !exists && withCount:
			c.wr.Set(0)
		case !exists:
			c.wr.Null()
		case !withCount:
			c.wr.Bulk(z.member(0))
		default:
			c.wr.Set(z.len())
			for j := 0; j < z.len(); j++ {
				c.wr.Bulk(z.member(j))
			}
		}
		return nil
	})
}

// setPop removes up to count members of set key i and adds them to z; it
// reports whether the key exists. A small set gives up random members; a
// large one its first members, as KVRocks's SPOP does: the walk starts
// past the ones popped before (the engine's low hint), so a draining set
// stays O(count) a pop.
func setPop(t *engine.Txn, i int, count int64, z *zentries) (bool, error) {
	exists, err := t.Open(i, engine.TypeSet)
	if err != nil || !exists {
		return false, err
	}
	first := z.len()
	keep := func(m, _ []byte) { z.add(m, 0) }
	if size := t.Size(i); size <= exactPickMax {
		err = randomMembers(t, i, size, count, setWalk(t), keep)
	} else {
		err = t.SetRange(i, nil, func(m []byte) bool {
			keep(m, nil)
			return int64(z.len()-first) < count
		})
	}
	if err != nil {
		return true, err
	}
	for j := first; j < z.len(); j++ {
		if _, err := t.SetRemove(i, z.member(j)); err != nil {
			return true, err
		}
	}
	return true, nil
}

// SRANDMEMBER key [count]
func (c *conn) cmdSRandMember(cmd *Command) {
	args := cmd.Args
	count, withCount, ok := c.parseCount(args, 2, true)
	if !ok {
		return
	}
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeSet)
		if err != nil {
			return err
		}
		if !exists && !withCount {
			c.wr.Null()
			return nil
		}
		var z zentries
		if err := randomMembers(t, 0, t.Size(0), count, setWalk(t), func(m, _ []byte) { z.add(m, 0) }); err != nil {
			return err
		}
		if withCount {
			c.wr.Array(z.len())
		}
		for j := 0; j < z.len(); j++ {
			c.wr.Bulk(z.member(j))
		}
		return nil
	})
}

func setWalk(t *engine.Txn) rangeFunc {
	return func(start []byte, fn func(m, v []byte) bool) error {
		return t.SetRange(0, start, func(m []byte) bool { return fn(m, nil) })
	}
}

// SMOVE source destination member
func (c *conn) cmdSMove(cmd *Command) {
	args := cmd.Args
	var moved bool
	if c.txn(args[1:3], true, func(t *engine.Txn) error {
		if _, err := t.Open(1, engine.TypeSet); err != nil {
			return err
		}
		ok, err := t.SetRemove(0, args[3])
		if err != nil || !ok {
			return err
		}
		moved = true
		_, err = t.SetAdd(1, args[3])
		return err
	}) {
		c.wr.Int(b2i(moved))
	}
}

type setOp uint8

const (
	opInter setOp = iota
	opUnion
	opDiff
)

// setAlgebra computes SINTER/SUNION/SDIFF of keys [from, to) of t,
// calling emit for each member of the result in byte order; limit > 0
// stops after that many. SINTER walks the smallest set and probes the
// others, SDIFF walks the first and probes the rest: neither loads a set.
// SUNION collects the distinct members (its reply holds them anyway).
func setAlgebra(t *engine.Txn, from, to int, op setOp, limit int, emit func(m []byte)) error {
	for i := from; i < to; i++ {
		if _, err := t.Open(i, engine.TypeSet); err != nil {
			return err
		}
	}
	if op == opUnion {
		seen := make(map[string]struct{})
		for i := from; i < to; i++ {
			if err := t.SetRange(i, nil, func(m []byte) bool {
				seen[string(m)] = struct{}{}
				return true
			}); err != nil {
				return err
			}
		}
		for _, m := range sortedKeys(seen) {
			emit([]byte(m))
		}
		return nil
	}
	walk := from
	if op == opInter {
		for i := from + 1; i < to; i++ {
			if t.Size(i) < t.Size(walk) {
				walk = i
			}
		}
	}
	count := 0
	var perr error
	err := t.SetRange(walk, nil, func(m []byte) bool {
		for i := from; i < to; i++ {
			if i == walk {
				continue
			}
			ok, err := t.SetContains(i, m)
			if err != nil {
				perr = err
				return false
			}
			if ok != (op == opInter) {
				return true
			}
		}
		emit(m)
		count++
		return limit == 0 || count < limit
	})
	if perr != nil {
		return perr
	}
	return err
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (c *conn) setRead(cmd *Command, op setOp) {
	keys := cmd.Args[1:]
	c.txn(keys, false, func(t *engine.Txn) error {
		var out [][]byte
		if err := setAlgebra(t, 0, len(keys), op, 0, func(m []byte) {
			out = append(out, append([]byte(nil), m...))
		}); err != nil {
			return err
		}
		c.wr.Set(len(out))
		for _, m := range out {
			c.wr.Bulk(m)
		}
		return nil
	})
}

func (c *conn) cmdSInter(cmd *Command) { c.setRead(cmd, opInter) }
func (c *conn) cmdSUnion(cmd *Command) { c.setRead(cmd, opUnion) }
func (c *conn) cmdSDiff(cmd *Command)  { c.setRead(cmd, opDiff) }

// setStore serves S*STORE destination key [key ...]: the result replaces
// the destination (deleting it when empty).
func (c *conn) setStore(cmd *Command, op setOp) {
	keys := cmd.Args[1:] // destination first, then the sources
	var n int64
	if c.txn(keys, true, func(t *engine.Txn) error {
		var out [][]byte
		if err := setAlgebra(t, 1, len(keys), op, 0, func(m []byte) {
			out = append(out, append([]byte(nil), m...))
		}); err != nil {
			return err
		}
		if err := t.Replace(0, engine.TypeSet); err != nil {
			return err
		}
		for _, m := range out {
			if _, err := t.SetAdd(0, m); err != nil {
				return err
			}
		}
		n = int64(len(out))
		return nil
	}) {
		c.wr.Int(n)
	}
}

func (c *conn) cmdSInterStore(cmd *Command) { c.setStore(cmd, opInter) }
func (c *conn) cmdSUnionStore(cmd *Command) { c.setStore(cmd, opUnion) }
func (c *conn) cmdSDiffStore(cmd *Command)  { c.setStore(cmd, opDiff) }

// SINTERCARD numkeys key [key ...] [LIMIT limit]
func (c *conn) cmdSInterCard(cmd *Command) {
	args := cmd.Args
	keys, limit, ok := c.parseNumKeys(args, 1, "LIMIT")
	if !ok {
		return
	}
	var n int64
	if c.txn(keys, false, func(t *engine.Txn) error {
		return setAlgebra(t, 0, len(keys), opInter, int(limit), func([]byte) { n++ })
	}) {
		c.wr.Int(n)
	}
}

// parseNumKeys parses "numkeys key [key ...] [LIMIT n]" at args[i:].
func (c *conn) parseNumKeys(args [][]byte, i int, limitWord string) ([][]byte, int64, bool) {
	nk, ok := parseArgInt(args[i])
	if !ok {
		c.err(errNotInteger)
		return nil, 0, false
	}
	if nk <= 0 {
		c.err("ERR numkeys should be greater than 0")
		return nil, 0, false
	}
	if nk > int64(len(args)-i-1) {
		c.err("ERR Number of keys can't be greater than number of args")
		return nil, 0, false
	}
	keys := args[i+1 : i+1+int(nk)]
	rest := args[i+1+int(nk):]
	var limit int64
	for j := 0; j < len(rest); j++ {
		if eqFold(rest[j], "limit") && j+1 < len(rest) {
			l, ok := parseArgInt(rest[j+1])
			if !ok {
				c.err(errNotInteger)
				return nil, 0, false
			}
			if l < 0 {
				c.err("ERR LIMIT can't be negative")
				return nil, 0, false
			}
			limit = l
			j++
			continue
		}
		c.syntaxErr()
		return nil, 0, false
	}
	return keys, limit, true
}

// SSCAN key cursor [MATCH pattern] [COUNT count]
func (c *conn) cmdSScan(cmd *Command) {
	s, ok := c.parseSubScan(cmd.Args)
	if !ok {
		return
	}
	key := cmd.Args[1]
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		b := c.scratch[:0]
		n, seen := 0, 0
		var next []byte
		err := t.SetRange(0, s.start, func(m []byte) bool {
			if seen == s.count {
				next = append([]byte(nil), m...)
				return false
			}
			seen++
			if s.match == nil || engine.MatchGlob(s.match, m) {
				b = appendBulk(b, m)
				n++
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
