package resp

import (
	"math"

	"github.com/gpucache/gpucache/engine"
)

func zsetCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "zadd", arity: -4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZAdd},
		{name: "zincrby", arity: 4, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZIncrBy},
		{name: "zrem", arity: -3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZRem},
		{name: "zscore", arity: 3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZScore},
		{name: "zmscore", arity: -3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZMScore},
		{name: "zcard", arity: 2, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZCard},
		{name: "zcount", arity: 4, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZCount},
		{name: "zlexcount", arity: 4, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZLexCount},
		{name: "zrank", arity: -3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZRank},
		{name: "zrevrank", arity: -3, flags: flagReadonly | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZRevRank},
		{name: "zrange", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: zrangeCmd(formZRange)},
		{name: "zrangestore", arity: -5, flags: flagWrite, first: 1, last: 2, step: 1, fn: (*conn).cmdZRangeStore},
		{name: "zrevrange", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: zrangeCmd(formZRevRange)},
		{name: "zrangebyscore", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: zrangeCmd(formZRangeByScore)},
		{name: "zrevrangebyscore", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: zrangeCmd(formZRevRangeByScore)},
		{name: "zrangebylex", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: zrangeCmd(formZRangeByLex)},
		{name: "zrevrangebylex", arity: -4, flags: flagReadonly, first: 1, last: 1, step: 1, fn: zrangeCmd(formZRevRangeByLex)},
		{name: "zremrangebyrank", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: zremRangeCmd(byRank)},
		{name: "zremrangebyscore", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: zremRangeCmd(byScore)},
		{name: "zremrangebylex", arity: 4, flags: flagWrite, first: 1, last: 1, step: 1, fn: zremRangeCmd(byLex)},
		{name: "zpopmin", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZPopMin},
		{name: "zpopmax", arity: -2, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdZPopMax},
		{name: "zmpop", arity: -4, flags: flagWrite, fn: (*conn).cmdZMPop},
		{name: "zrandmember", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdZRandMember},
		{name: "zunion", arity: -3, flags: flagReadonly, fn: zsetAlgebraCmd(opUnion, false)},
		{name: "zinter", arity: -3, flags: flagReadonly, fn: zsetAlgebraCmd(opInter, false)},
		{name: "zdiff", arity: -3, flags: flagReadonly, fn: zsetAlgebraCmd(opDiff, false)},
		{name: "zunionstore", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: zsetAlgebraCmd(opUnion, true)},
		{name: "zinterstore", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: zsetAlgebraCmd(opInter, true)},
		{name: "zdiffstore", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: zsetAlgebraCmd(opDiff, true)},
		{name: "zintercard", arity: -3, flags: flagReadonly, fn: (*conn).cmdZInterCard},
		{name: "zscan", arity: -3, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdZScan},
	}
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
func (c *conn) cmdZAdd(cmd *Command) {
	args := cmd.Args
	f, first, e := parseZAdd(args)
	if e != "" {
		c.err(e)
		return
	}
	var n int64
	var incrScore float64
	incrDone := false
	if !c.txn(args[1:2], true, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeZSet); err != nil {
			return err
		}
		for i := first; i < len(args); i += 2 {
			score, _ := parseScore(args[i])
			member := args[i+1]
			cur, exists, err := t.ZSetScore(0, member)
			if err != nil {
				return err
			}
			if (f.nx && exists) || (f.xx && !exists) {
				continue
			}
			if f.incr && exists {
				score += cur
				if math.IsNaN(score) {
					return replyError(errZNaN)
				}
			}
			if exists && ((f.gt && score <= cur) || (f.lt && score >= cur)) {
				continue
			}
			if _, _, err := t.ZSetAdd(0, member, score); err != nil {
				return err
			}
			incrScore, incrDone = score, true
			if !exists || (f.ch && score != cur) {
				n++
			}
		}
		return nil
	}) {
		return
	}
	c.s.blocked.signal(c.ns, args[1])
	switch {
	case f.incr && incrDone:
		c.score(incrScore)
	case f.incr:
		c.wr.Null()
	default:
		c.wr.Int(n)
	}
}

// ZINCRBY key increment member
func (c *conn) cmdZIncrBy(cmd *Command) {
	args := cmd.Args
	delta, ok := parseScore(args[2])
	if !ok {
		c.err(errNotFloat)
		return
	}
	var score float64
	if c.txn(args[1:2], true, func(t *engine.Txn) error {
		cur, _, err := t.ZSetScore(0, args[3])
		if err != nil {
			return err
		}
		score = cur + delta
		if math.IsNaN(score) {
			return replyError(errZNaN)
		}
		_, _, err = t.ZSetAdd(0, args[3], score)
		return err
	}) {
		c.score(score)
		c.s.blocked.signal(c.ns, args[1])
	}
}

func (c *conn) cmdZRem(cmd *Command) { c.countEach(cmd.Args, (*engine.Txn).ZSetRemove) }

func (c *conn) cmdZScore(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		s, ok, err := t.ZSetScore(0, cmd.Args[2])
		if err != nil {
			return err
		}
		if ok {
			c.score(s)
		} else {
			c.wr.Null()
		}
		return nil
	})
}

func (c *conn) cmdZMScore(cmd *Command) {
	args := cmd.Args
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		c.wr.Array(len(args) - 2)
		for _, m := range args[2:] {
			s, ok, err := t.ZSetScore(0, m)
			if err != nil {
				return err
			}
			if ok {
				c.score(s)
			} else {
				c.wr.Null()
			}
		}
		return nil
	})
}

func (c *conn) cmdZCard(cmd *Command) {
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		if _, err := t.Open(0, engine.TypeZSet); err != nil {
			return err
		}
		c.wr.Int(t.Size(0))
		return nil
	})
}

// zcount serves ZCOUNT and ZLEXCOUNT: the size of a score or lex range,
// counted by walking only that range.
func (c *conn) zcount(cmd *Command, form zrangeForm) {
	s, e := parseZRange(cmd.Args[:4], 2, form)
	if e != "" {
		c.err(e)
		return
	}
	var n int64
	if c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		return zrangeRun(t, 0, &s, func([]byte, float64) { n++ })
	}) {
		c.wr.Int(n)
	}
}

func (c *conn) cmdZCount(cmd *Command)    { c.zcount(cmd, formZRangeByScore) }
func (c *conn) cmdZLexCount(cmd *Command) { c.zcount(cmd, formZRangeByLex) }

// zrank serves ZRANK and ZREVRANK key member [WITHSCORE].
func (c *conn) zrank(cmd *Command, rev bool) {
	args := cmd.Args
	withScore := false
	if len(args) == 4 && eqFold(args[3], "withscore") {
		withScore = true
	} else if len(args) != 3 {
		c.syntaxErr()
		return
	}
	c.txn(args[1:2], false, func(t *engine.Txn) error {
		r, s, ok, err := t.ZSetRank(0, args[2], rev)
		switch {
		case err != nil:
			return err
		case !ok && withScore:
			c.wr.NullArray()
		case !ok:
			c.wr.Null()
		case withScore:
			c.wr.Array(2)
			c.wr.Int(r)
			c.score(s)
		default:
			c.wr.Int(r)
		}
		return nil
	})
}

func (c *conn) cmdZRank(cmd *Command)    { c.zrank(cmd, false) }
func (c *conn) cmdZRevRank(cmd *Command) { c.zrank(cmd, true) }

// zrangeRun calls emit for the members of sorted set key i that spec
// selects, in reply order. Only the selected range is read (a rank range
// steps over the ranks before it).
func zrangeRun(t *engine.Txn, i int, s *zrangeSpec, emit func(m []byte, score float64)) error {
	exists, err := t.Open(i, engine.TypeZSet)
	if err != nil || !exists {
		return err
	}
	if s.by == byRank {
		start, stop, ok := rankWindow(s.start, s.stop, t.Size(i))
		if !ok {
			return nil
		}
		left := stop - start + 1
		return t.ZSetByRank(i, start, s.rev, func(m []byte, sc float64) bool {
			emit(m, sc)
			left--
			return left > 0
		})
	}
	if s.offset < 0 || s.count == 0 {
		return nil
	}
	skip, left := s.offset, s.count
	take := func(m []byte, sc float64) bool {
		if skip > 0 {
			skip--
			return true
		}
		emit(m, sc)
		if left > 0 {
			left--
			return left != 0
		}
		return true
	}
	if s.by == byScore {
		return t.ZSetByScore(i, s.min.v, s.max.v, s.rev, func(m []byte, sc float64) bool {
			if !s.inScore(sc) {
				return true
			}
			return take(m, sc)
		})
	}
	if s.lmin.inf == 1 || s.lmax.inf == -1 {
		return nil
	}
	var lo, hi []byte
	if s.lmin.inf == 0 {
		lo = s.lmin.v
	}
	if s.lmax.inf == 0 {
		hi = append(append(make([]byte, 0, len(s.lmax.v)+1), s.lmax.v...), 0)
	}
	return t.ZSetByLex(i, lo, hi, s.rev, func(m []byte, sc float64) bool {
		if s.lmin.below(m) || s.lmax.above(m) {
			return true
		}
		return take(m, sc)
	})
}

// zentries collects range results: members packed in one buffer.
type zentries struct {
	buf  []byte
	ends []int
	sc   []float64
}

func (z *zentries) add(m []byte, s float64) {
	z.buf = append(z.buf, m...)
	z.ends = append(z.ends, len(z.buf))
	z.sc = append(z.sc, s)
}

func (z *zentries) len() int { return len(z.ends) }

func (z *zentries) member(i int) []byte {
	start := 0
	if i > 0 {
		start = z.ends[i-1]
	}
	return z.buf[start:z.ends[i]]
}

// zreply writes members, with scores as pairs under RESP3 and flat under
// RESP2.
func (c *conn) zreply(z *zentries, withScores bool) {
	switch {
	case !withScores:
		c.wr.Array(z.len())
		for i := 0; i < z.len(); i++ {
			c.wr.Bulk(z.member(i))
		}
	case c.proto == 3:
		c.wr.Array(z.len())
		for i := 0; i < z.len(); i++ {
			c.wr.Array(2)
			c.wr.Bulk(z.member(i))
			c.score(z.sc[i])
		}
	default:
		c.wr.Array(2 * z.len())
		for i := 0; i < z.len(); i++ {
			c.wr.Bulk(z.member(i))
			c.score(z.sc[i])
		}
	}
}

func zrangeCmd(form zrangeForm) func(c *conn, cmd *Command) {
	return func(c *conn, cmd *Command) {
		s, e := parseZRange(cmd.Args, 2, form)
		if e != "" {
			c.err(e)
			return
		}
		var z zentries
		if c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
			return zrangeRun(t, 0, &s, z.add)
		}) {
			c.zreply(&z, s.withScores)
		}
	}
}

// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
func (c *conn) cmdZRangeStore(cmd *Command) {
	s, e := parseZRange(cmd.Args, 3, formZRangeStore)
	if e != "" {
		c.err(e)
		return
	}
	var z zentries
	if c.txn(cmd.Args[1:3], true, func(t *engine.Txn) error {
		if err := zrangeRun(t, 1, &s, z.add); err != nil {
			return err
		}
		return zstore(t, 0, &z)
	}) {
		c.wr.Int(int64(z.len()))
		c.s.blocked.signal(c.ns, cmd.Args[1])
	}
}

// zstore replaces key i with the entries (deleting it when there are none).
func zstore(t *engine.Txn, i int, z *zentries) error {
	if err := t.Replace(i, engine.TypeZSet); err != nil {
		return err
	}
	for j := 0; j < z.len(); j++ {
		if _, _, err := t.ZSetAdd(i, z.member(j), z.sc[j]); err != nil {
			return err
		}
	}
	return nil
}

func zremRangeCmd(by rangeBy) func(c *conn, cmd *Command) {
	form := map[rangeBy]zrangeForm{byRank: formZRange, byScore: formZRangeByScore, byLex: formZRangeByLex}[by]
	return func(c *conn, cmd *Command) {
		s, e := parseZRange(cmd.Args, 2, form)
		if e != "" {
			c.err(e)
			return
		}
		var z zentries
		if c.txn(cmd.Args[1:2], true, func(t *engine.Txn) error {
			if err := zrangeRun(t, 0, &s, z.add); err != nil {
				return err
			}
			for j := 0; j < z.len(); j++ {
				t.ZSetRemoveScored(0, z.member(j), z.sc[j])
			}
			return nil
		}) {
			c.wr.Int(int64(z.len()))
		}
	}
}

// zpop removes up to count members from the low (max=false) or high end.
func zpop(t *engine.Txn, i int, count int64, max bool, z *zentries) error {
	s := zrangeSpec{by: byRank, start: 0, stop: count - 1, rev: max}
	if err := zrangeRun(t, i, &s, z.add); err != nil {
		return err
	}
	for j := 0; j < z.len(); j++ {
		t.ZSetRemoveScored(i, z.member(j), z.sc[j])
	}
	return nil
}

// ZPOPMIN|ZPOPMAX key [count]
func (c *conn) zpopCmd(cmd *Command, max bool) {
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
	if !c.txn(args[1:2], true, func(t *engine.Txn) error {
		if count == 0 {
			_, err := t.Open(0, engine.TypeZSet)
			return err
		}
		return zpop(t, 0, count, max, &z)
	}) {
		return
	}
	if withCount {
		c.zreply(&z, true)
		return
	}
	// Without a count the reply is one flat [member, score], or empty.
	c.wr.Array(2 * z.len())
	for i := 0; i < z.len(); i++ {
		c.wr.Bulk(z.member(i))
		c.score(z.sc[i])
	}
}

func (c *conn) cmdZPopMin(cmd *Command) { c.zpopCmd(cmd, false) }
func (c *conn) cmdZPopMax(cmd *Command) { c.zpopCmd(cmd, true) }

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
func (c *conn) cmdZMPop(cmd *Command) {
	args := cmd.Args
	nk, ok := parseArgInt(args[1])
	if !ok || nk <= 0 || nk > int64(len(args)-2) {
		if !ok {
			c.err(errNotInteger)
		} else if nk <= 0 {
			c.err("ERR numkeys should be greater than 0")
		} else {
			c.syntaxErr()
		}
		return
	}
	keys := args[2 : 2+nk]
	rest := args[2+nk:]
	if len(rest) == 0 || !(eqFold(rest[0], "min") || eqFold(rest[0], "max")) {
		c.syntaxErr()
		return
	}
	max := eqFold(rest[0], "max")
	count := int64(1)
	switch {
	case len(rest) == 1:
	case len(rest) == 3 && eqFold(rest[1], "count"):
		if count, ok = parseArgInt(rest[2]); !ok || count <= 0 {
			c.err("ERR count should be greater than 0")
			return
		}
	default:
		c.syntaxErr()
		return
	}
	var z zentries
	from := -1
	if !c.txn(keys, true, func(t *engine.Txn) error {
		for i := range keys {
			exists, err := t.Open(i, engine.TypeZSet)
			if err != nil {
				return err
			}
			if exists {
				from = i
				return zpop(t, i, count, max, &z)
			}
		}
		return nil
	}) {
		return
	}
	if from < 0 {
		c.wr.NullArray()
		return
	}
	c.wr.Array(2)
	c.wr.Bulk(keys[from])
	c.wr.Array(z.len())
	for i := 0; i < z.len(); i++ {
		c.wr.Array(2)
		c.wr.Bulk(z.member(i))
		c.score(z.sc[i])
	}
}

// ZRANDMEMBER key [count [WITHSCORES]]
func (c *conn) cmdZRandMember(cmd *Command) {
	args := cmd.Args
	count, withCount, withScores, ok := c.parseRandomArgs(args, "withscores")
	if !ok {
		return
	}
	var z zentries
	found := false
	if !c.txn(args[1:2], false, func(t *engine.Txn) error {
		exists, err := t.Open(0, engine.TypeZSet)
		if err != nil || !exists {
			return err
		}
		found = true
		var cur float64
		return randomMembers(t, 0, t.Size(0), count, func(start []byte, fn func(m, v []byte) bool) error {
			return t.ZSetByLex(0, start, nil, false, func(m []byte, s float64) bool {
				cur = s
				return fn(m, nil)
			})
		}, func(m, _ []byte) { z.add(m, cur) })
	}) {
		return
	}
	if !withCount {
		if !found {
			c.wr.Null()
		} else {
			c.wr.Bulk(z.member(0))
		}
		return
	}
	c.zreply(&z, withScores)
}

// zalgebra parses numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE
// SUM|MIN|MAX] [WITHSCORES] at args[i:].
type zalgebra struct {
	keys       [][]byte
	weights    []float64
	agg        string
	withScores bool
}

func (c *conn) parseZAlgebra(args [][]byte, i int, op setOp, store bool) (zalgebra, bool) {
	var a zalgebra
	nk, ok := parseArgInt(args[i])
	if !ok {
		c.err(errNotInteger)
		return a, false
	}
	if nk <= 0 {
		name := "zunion"
		switch op {
		case opInter:
			name = "zinter"
		case opDiff:
			name = "zdiff"
		}
		if store {
			name += "store"
		}
		c.err("ERR at least 1 input key is needed for '" + name + "' command")
		return a, false
	}
	if nk > int64(len(args)-i-1) {
		c.syntaxErr()
		return a, false
	}
	a.keys = args[i+1 : i+1+int(nk)]
	a.agg = "sum"
	for j := i + 1 + int(nk); j < len(args); j++ {
		switch {
		case eqFold(args[j], "weights") && op != opDiff && j+int(nk) < len(args):
			a.weights = make([]float64, nk)
			for w := range a.weights {
				f, ok := parseScore(args[j+1+w])
				if !ok {
					c.err("ERR weight value is not a float")
					return a, false
				}
				a.weights[w] = f
			}
			j += int(nk)
		case eqFold(args[j], "aggregate") && op != opDiff && j+1 < len(args):
			switch {
			case eqFold(args[j+1], "sum"):
				a.agg = "sum"
			case eqFold(args[j+1], "min"):
				a.agg = "min"
			case eqFold(args[j+1], "max"):
				a.agg = "max"
			default:
				c.syntaxErr()
				return a, false
			}
			j++
		case eqFold(args[j], "withscores") && !store:
			a.withScores = true
		default:
			c.syntaxErr()
			return a, false
		}
	}
	return a, true
}

// zsource opens key i as a sorted set or a set (whose members score 1),
// and walks it.
func zsourceRange(t *engine.Txn, i int, fn func(m []byte, s float64) bool) (bool, error) {
	m, exists, err := t.Meta(i)
	if err != nil || !exists {
		return false, err
	}
	switch m.Type {
	case engine.TypeZSet:
		return true, t.ZSetByLex(i, nil, nil, false, fn)
	case engine.TypeSet:
		return true, t.SetRange(i, nil, func(mb []byte) bool { return fn(mb, 1) })
	}
	return false, engine.ErrWrongType
}

func zsourceScore(t *engine.Txn, i int, member []byte) (float64, bool, error) {
	m, exists, err := t.Meta(i)
	if err != nil || !exists {
		return 0, false, err
	}
	if m.Type == engine.TypeSet {
		ok, err := t.SetContains(i, member)
		return 1, ok, err
	}
	return t.ZSetScore(i, member)
}

func aggregate(agg string, a, b float64) float64 {
	switch agg {
	case "min":
		return math.Min(a, b)
	case "max":
		return math.Max(a, b)
	}
	s := a + b
	if math.IsNaN(s) {
		return 0 // inf + -inf, as Redis
	}
	return s
}

// zcompute evaluates ZUNION/ZINTER/ZDIFF over keys [from, from+n) of t.
// Members come out in member order; ZINTER and ZDIFF walk one source and
// probe the rest.
func zcompute(t *engine.Txn, from int, a *zalgebra, op setOp, z *zentries) error {
	n := len(a.keys)
	weight := func(k int) float64 {
		if a.weights == nil {
			return 1
		}
		return a.weights[k]
	}
	mul := func(s, w float64) float64 {
		r := s * w
		if math.IsNaN(r) {
			return 0
		}
		return r
	}
	for k := 0; k < n; k++ {
		if m, exists, err := t.Meta(from + k); err != nil {
			return err
		} else if exists && m.Type != engine.TypeZSet && m.Type != engine.TypeSet {
			return engine.ErrWrongType
		}
	}
	if op == opUnion {
		acc := map[string]float64{}
		for k := 0; k < n; k++ {
			if _, err := zsourceRange(t, from+k, func(m []byte, s float64) bool {
				s = mul(s, weight(k))
				if old, ok := acc[string(m)]; ok {
					acc[string(m)] = aggregate(a.agg, old, s)
				} else {
					acc[string(m)] = s
				}
				return true
			}); err != nil {
				return err
			}
		}
		for _, m := range sortedFloatKeys(acc) {
			z.add([]byte(m), acc[m])
		}
		return nil
	}
	var perr error
	_, err := zsourceRange(t, from, func(m []byte, s float64) bool {
		s = mul(s, weight(0))
		for k := 1; k < n; k++ {
			o, ok, err := zsourceScore(t, from+k, m)
			if err != nil {
				perr = err
				return false
			}
			if op == opDiff {
				if ok {
					return true
				}
				continue
			}
			if !ok {
				return true
			}
			s = aggregate(a.agg, s, mul(o, weight(k)))
		}
		z.add(m, s)
		return true
	})
	if perr != nil {
		return perr
	}
	return err
}

// zsortByScore orders entries by score, then member, as Redis replies.
func zsortByScore(z *zentries) {
	idx := make([]int, z.len())
	for i := range idx {
		idx[i] = i
	}
	sortSlice(idx, func(a, b int) bool {
		if z.sc[a] != z.sc[b] {
			return z.sc[a] < z.sc[b]
		}
		return compareBytes(z.member(a), z.member(b)) < 0
	})
	var out zentries
	for _, i := range idx {
		out.add(z.member(i), z.sc[i])
	}
	*z = out
}

func zsetAlgebraCmd(op setOp, store bool) func(c *conn, cmd *Command) {
	return func(c *conn, cmd *Command) {
		args := cmd.Args
		at := 1
		if store {
			at = 2
		}
		a, ok := c.parseZAlgebra(args, at, op, store)
		if !ok {
			return
		}
		var keys [][]byte
		from := 0
		if store {
			keys = append([][]byte{args[1]}, a.keys...)
			from = 1
		} else {
			keys = a.keys
		}
		var z zentries
		if !c.txn(keys, store, func(t *engine.Txn) error {
			if err := zcompute(t, from, &a, op, &z); err != nil {
				return err
			}
			if store {
				return zstore(t, 0, &z)
			}
			return nil
		}) {
			return
		}
		if store {
			c.wr.Int(int64(z.len()))
			c.s.blocked.signal(c.ns, args[1])
			return
		}
		zsortByScore(&z)
		c.zreply(&z, a.withScores)
	}
}

// ZINTERCARD numkeys key [key ...] [LIMIT limit]
func (c *conn) cmdZInterCard(cmd *Command) {
	keys, limit, ok := c.parseNumKeys(cmd.Args, 1, "LIMIT")
	if !ok {
		return
	}
	a := zalgebra{keys: keys, agg: "sum"}
	var z zentries
	if c.txn(keys, false, func(t *engine.Txn) error { return zcompute(t, 0, &a, opInter, &z) }) {
		n := int64(z.len())
		if limit > 0 && n > limit {
			n = limit
		}
		c.wr.Int(n)
	}
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]
func (c *conn) cmdZScan(cmd *Command) {
	s, ok := c.parseSubScan(cmd.Args)
	if !ok {
		return
	}
	key := cmd.Args[1]
	c.txn(cmd.Args[1:2], false, func(t *engine.Txn) error {
		b := c.scratch[:0]
		n, seen := 0, 0
		var next []byte
		var tmp [32]byte
		err := t.ZSetByLex(0, s.start, nil, false, func(m []byte, sc float64) bool {
			if seen == s.count {
				next = append([]byte(nil), m...)
				return false
			}
			seen++
			if s.match == nil || engine.MatchGlob(s.match, m) {
				b = appendBulk(b, m)
				b = appendBulk(b, appendScore(tmp[:0], sc))
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
