package resp

import (
	"bytes"
	"errors"
	"math"

	"github.com/gpucache/gpucache/engine"
)

// KVRocks's own key and string commands (CAS, CAD, MOVE, MOVEX) and LCS,
// answered as KVRocks answers them.

func kvrocksCommands() []*cmdSpec {
	return append([]*cmdSpec{
		{name: "cas", arity: -4, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdCAS},
		{name: "cad", arity: 3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdCAD},
		{name: "move", arity: 3, flags: flagWrite | flagFast, first: 1, last: 1, step: 1, fn: (*conn).cmdMove},
		{name: "movex", arity: 3, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdMoveX},
		{name: "lcs", arity: -3, flags: flagReadonly, first: 1, last: 2, step: 1, fn: (*conn).cmdLCS},
	}, append(kvrocksStringCommands(), kvrocksServerCommands()...)...)
}

// CAS key old new [EX s|PX ms|EXAT ts|PXAT ms-ts]: sets key to new if it
// holds old. 1 when swapped, 0 when the value differs, -1 when the key
// does not exist. The new value has the given expiry or none.
func (c *conn) cmdCAS(cmd *Command) {
	args := cmd.Args
	var at int64
	var ttl string
	for i := 4; i < len(args); i++ {
		if i+1 >= len(args) || !expireFlagFree(args[i], ttl) {
			c.syntaxErr()
			return
		}
		var e string
		if at, e = expireAt(args[i], args[i+1]); e != "" {
			c.err(e)
			return
		}
		ttl = expireUnitName(args[i])
		i++
	}
	old, val := args[2], args[3]
	res := int64(0)
	c.readModify(args[1], func(cur *engine.Value) (engine.Update, error) {
		switch {
		case cur == nil:
			res = -1
		case valueEquals(cur, old):
			res = 1
			c.wr.Int(1)
			return engine.Update{Action: engine.UpdateReplace, Value: append([]byte(nil), val...), SetExpire: true, ExpireAt: at}, nil
		}
		c.wr.Int(res)
		return engine.Update{Action: engine.UpdateKeep}, nil
	})
}

// CAD key value: deletes key if it holds value. 1 when deleted, 0 when
// the value differs, -1 when the key does not exist.
func (c *conn) cmdCAD(cmd *Command) {
	want := cmd.Args[2]
	c.readModify(cmd.Args[1], func(cur *engine.Value) (engine.Update, error) {
		switch {
		case cur == nil:
			c.wr.Int(-1)
		case valueEquals(cur, want):
			c.wr.Int(1)
			return engine.Update{Action: engine.UpdateDelete}, nil
		default:
			c.wr.Int(0)
		}
		return engine.Update{Action: engine.UpdateKeep}, nil
	})
}

// valueEquals compares a borrowed value with b without copying it.
func valueEquals(v *engine.Value, b []byte) bool {
	if v.Len() != int64(len(b)) {
		return false
	}
	for _, p := range v.Buffers() {
		if !bytes.Equal(p, b[:len(p)]) {
			return false
		}
		b = b[len(p):]
	}
	return true
}

// MOVE key db: KVRocks has one database per namespace and moves nothing;
// it checks db is an integer and answers whether key exists.
func (c *conn) cmdMove(cmd *Command) {
	if _, ok := parseArgInt(cmd.Args[2]); !ok {
		c.err(errNotInteger)
		return
	}
	n, err := c.eng.Exists(c.ns, cmd.Args[1:2])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.wr.Int(int64(n))
}

// MOVEX key token: moves key to the namespace token authenticates to (the
// default namespace for the admin password), if no key of that name is
// there: 1 when moved, 0 otherwise.
func (c *conn) cmdMoveX(cmd *Command) {
	l := c.s.live.Load()
	if l.requirePass == "" {
		c.err("ERR Forbidden to move key when requirepass is empty")
		return
	}
	token := string(cmd.Args[2])
	var ns string
	if token != l.requirePass {
		var ok bool
		if ns, ok = l.tokens[token]; !ok {
			c.err(errInvalidPassword)
			return
		}
	}
	moved, err := c.eng.Move(c.ns, ns, cmd.Args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.wr.Int(b2i(moved))
	if moved {
		c.dirty = true
		c.s.blocked.signal(ns, cmd.Args[1])
	}
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
func (c *conn) cmdLCS(cmd *Command) {
	args := cmd.Args
	var o lcsOpts
	for i := 3; i < len(args); i++ {
		switch a := args[i]; {
		case eqFold(a, "idx"):
			o.idx = true
		case eqFold(a, "len"):
			o.len = true
		case eqFold(a, "withmatchlen"):
			o.withLen = true
		case eqFold(a, "minmatchlen") && i+1 < len(args):
			n, ok := parseArgInt(args[i+1])
			if !ok {
				c.err(errNotInteger)
				return
			}
			o.minLen = max(n, 0)
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	if o.idx && o.len {
		c.err("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	// The sizes first, so that values too large to compare are not read.
	var la, lb int64
	for i, key := range args[1:3] {
		m, err := c.eng.Stat(c.ns, key)
		switch {
		case errors.Is(err, engine.ErrNotFound):
		case err != nil:
			c.replyErr(err)
			return
		case m.Type != engine.TypeString:
			c.err(errWrongType)
			return
		case i == 0:
			la = m.Size
		default:
			lb = m.Size
		}
	}
	if c.lcsTooLarge(la, lb) {
		return
	}
	a, err := c.lcsValue(args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	b, err := c.lcsValue(args[2])
	if err != nil {
		c.replyErr(err)
		return
	}
	if c.lcsTooLarge(int64(len(a)), int64(len(b))) {
		return
	}
	c.lcsReply(lcs(a, b, &o), &o)
}

// lcsTooLarge answers the error when the table for strings of la and lb
// bytes would exceed proto-max-bulk-len, as KVRocks and Redis bound it.
func (c *conn) lcsTooLarge(la, lb int64) bool {
	if la >= math.MaxUint32-1 || lb >= math.MaxUint32-1 {
		c.err("ERR String too long for LCS")
		return true
	}
	if (la+1)*(lb+1)*4 > c.s.live.Load().limits.MaxBulkLen {
		c.err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return true
	}
	return false
}

// lcsValue reads a string for LCS: "" when missing.
func (c *conn) lcsValue(key []byte) ([]byte, error) {
	v, err := c.eng.Get(c.ns, key)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer v.Release()
	if v.Meta().Type != engine.TypeString {
		return nil, engine.ErrWrongType
	}
	return v.AppendTo(nil)
}

type lcsOpts struct {
	idx, len, withLen bool
	minLen            int64
}

type lcsMatch struct{ a0, a1, b0, b1 int64 }

type lcsResult struct {
	length  int64
	str     []byte
	matches []lcsMatch
}

// lcs computes the longest common subsequence of a and b by the dynamic
// programming table, and walks it back as Redis does, collecting the
// matching ranges from the end.
func lcs(a, b []byte, o *lcsOpts) lcsResult {
	alen, blen := len(a), len(b)
	w := blen + 1
	dp := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				dp[i*w+j] = dp[(i-1)*w+j-1] + 1
			} else {
				dp[i*w+j] = max(dp[(i-1)*w+j], dp[i*w+j-1])
			}
		}
	}
	r := lcsResult{length: int64(dp[alen*w+blen])}
	if o.len && !o.idx {
		return r
	}
	idx := r.length
	r.str = make([]byte, idx)
	i, j := alen, blen
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			r.str[idx-1] = a[i-1]
			switch {
			case aStart == alen:
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			case aStart == i && bStart == j:
				aStart--
				bStart--
			default:
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if dp[(i-1)*w+j] > dp[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			if n := int64(aEnd - aStart + 1); o.idx && (o.minLen == 0 || n >= o.minLen) {
				r.matches = append(r.matches, lcsMatch{int64(aStart), int64(aEnd), int64(bStart), int64(bEnd)})
			}
			aStart = alen
		}
	}
	return r
}

func (c *conn) lcsReply(r lcsResult, o *lcsOpts) {
	switch {
	case o.idx:
		c.wr.Map(2)
		c.wr.BulkString("matches")
		c.wr.Array(len(r.matches))
		for _, m := range r.matches {
			if o.withLen {
				c.wr.Array(3)
			} else {
				c.wr.Array(2)
			}
			c.wr.Array(2)
			c.wr.Int(m.a0)
			c.wr.Int(m.a1)
			c.wr.Array(2)
			c.wr.Int(m.b0)
			c.wr.Int(m.b1)
			if o.withLen {
				c.wr.Int(m.a1 - m.a0 + 1)
			}
		}
		c.wr.BulkString("len")
		c.wr.Int(r.length)
	case o.len:
		c.wr.Int(r.length)
	default:
		c.wr.Bulk(r.str)
	}
}
