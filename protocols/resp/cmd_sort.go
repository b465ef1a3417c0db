package resp

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gpucache/gpucache/engine"
)

// SORT and SORT_RO, as Redis 7 and KVRocks run them: lists, sets and
// sorted sets, BY (a pattern without '*' means no sorting; key->field
// reads a hash field), LIMIT, GET (# is the element itself), ASC/DESC,
// ALPHA (byte order) and STORE (a list, or no key when empty).

func sortCommands() []*cmdSpec {
	return []*cmdSpec{
		{name: "sort", arity: -2, flags: flagWrite, first: 1, last: 1, step: 1, fn: (*conn).cmdSort},
		{name: "sort_ro", arity: -2, flags: flagReadonly, first: 1, last: 1, step: 1, fn: (*conn).cmdSortRO},
	}
}

const errSortScores = "ERR One or more scores can't be converted into double"

type sortArgs struct {
	by         []byte // nil: the elements themselves
	dontSort   bool
	offset     int64
	count      int64
	gets       [][]byte
	desc       bool
	alpha      bool
	store      []byte
	storeGiven bool
	// setOrder: no sorting asked of a set, whose members come in byte
	// order (Redis sorts them too when storing, for a stable result).
	setOrder bool
}

// parseSortArgs parses SORT's options (args from the key on); errText is
// the reply when they are wrong. In cluster mode, as in Redis 7.0, BY and
// GET patterns naming other keys are refused: those keys may be on
// another node.
func parseSortArgs(args [][]byte, readOnly, cluster bool) (a sortArgs, errText string) {
	a.count = -1
	for j := 1; j < len(args); j++ {
		left := len(args) - j - 1
		switch o := args[j]; {
		case eqFold(o, "asc"):
			a.desc = false
		case eqFold(o, "desc"):
			a.desc = true
		case eqFold(o, "alpha"):
			a.alpha = true
		case eqFold(o, "limit") && left >= 2:
			off, ok1 := parseArgInt(args[j+1])
			cnt, ok2 := parseArgInt(args[j+2])
			if !ok1 || !ok2 {
				return a, errNotInteger
			}
			a.offset, a.count = off, cnt
			j += 2
		case eqFold(o, "store") && left >= 1 && !readOnly:
			a.store, a.storeGiven = args[j+1], true
			j++
		case eqFold(o, "by") && left >= 1:
			a.by = args[j+1]
			a.dontSort = bytes.IndexByte(a.by, '*') < 0
			if !a.dontSort && cluster {
				return a, "ERR BY option of SORT denied in Cluster mode."
			}
			j++
		case eqFold(o, "get") && left >= 1:
			if cluster {
				return a, "ERR GET option of SORT denied in Cluster mode."
			}
			a.gets = append(a.gets, args[j+1])
			j++
		default:
			return a, errSyntax
		}
	}
	return a, ""
}

func (c *conn) cmdSort(cmd *Command)   { c.sort(cmd, false) }
func (c *conn) cmdSortRO(cmd *Command) { c.sort(cmd, true) }

type sortItem struct {
	obj   []byte
	score float64
	cmp   []byte // ALPHA BY value; nil when its key is missing
}

func (c *conn) sort(cmd *Command, readOnly bool) {
	a, e := parseSortArgs(cmd.Args[1:], readOnly, c.s.cfg.ClusterEnabled)
	if e != "" {
		c.err(e)
		return
	}
	items, err := c.sortLoad(cmd.Args[1], &a)
	if err != nil {
		c.replyErr(err)
		return
	}
	if a.dontSort && a.setOrder {
		items = sortWindow(items, a.offset, a.count)
	} else if !a.dontSort {
		convErr := false
		for i := range items {
			it := &items[i]
			by := it.obj
			if a.by != nil {
				v, ok, err := c.sortLookup(a.by, it.obj)
				if err != nil {
					c.replyErr(err)
					return
				}
				if !ok {
					continue
				}
				by = v
			}
			if a.alpha {
				if a.by != nil {
					it.cmp = by
				}
			} else if f, ok := sortScore(by); ok {
				it.score = f
			} else {
				convErr = true
			}
		}
		if convErr {
			c.err(errSortScores)
			return
		}
		slices.SortStableFunc(items, func(x, y sortItem) int { return sortCompare(&x, &y, &a) })
		items = sortWindow(items, a.offset, a.count)
	}
	if a.storeGiven {
		c.sortStore(a.store, items, a.gets)
		return
	}
	n := len(items)
	if len(a.gets) > 0 {
		n *= len(a.gets)
	}
	c.wr.Array(n)
	for _, it := range items {
		if len(a.gets) == 0 {
			c.wr.Bulk(it.obj)
		}
		for _, g := range a.gets {
			v, ok, err := c.sortLookup(g, it.obj)
			switch {
			case err != nil:
				// The reply is under way: a missing value is all that can
				// be said of a key that cannot be read.
				c.wr.Null()
			case ok:
				c.wr.Bulk(v)
			default:
				c.wr.Null()
			}
		}
	}
}

// sortWindow applies LIMIT as Redis does to the sorted items.
func sortWindow(items []sortItem, offset, count int64) []sortItem {
	start, end := sortRange(int64(len(items)), offset, count)
	if start > end {
		return items[:0]
	}
	return items[start : end+1]
}

// sortRange turns LIMIT into the inclusive range [start, end] of n items
// (start > end: none).
func sortRange(n, offset, count int64) (start, end int64) {
	start = max(offset, 0)
	if start >= n {
		return n - 1, n - 2
	}
	if count < 0 {
		return start, n - 1
	}
	return start, min(start+min(count, n)-1, n-1)
}

func sortCompare(x, y *sortItem, a *sortArgs) int {
	var cmp int
	switch {
	case !a.alpha:
		switch {
		case x.score > y.score:
			cmp = 1
		case x.score < y.score:
			cmp = -1
		default:
			cmp = bytes.Compare(x.obj, y.obj)
		}
	case a.by != nil:
		switch {
		case x.cmp == nil && y.cmp == nil:
			cmp = 0
		case x.cmp == nil:
			cmp = -1
		case y.cmp == nil:
			cmp = 1
		default:
			cmp = bytes.Compare(x.cmp, y.cmp)
		}
	default:
		cmp = bytes.Compare(x.obj, y.obj)
	}
	if a.desc {
		return -cmp
	}
	return cmp
}

// sortScore parses a value to sort by as Redis's strtod check does: the
// empty string is 0; leading white space, hex floats and inf are taken;
// anything else not wholly a number, NaN, and overflow or underflow
// (ERANGE, subnormals included) are errors.
func sortScore(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	s := string(b[i:])
	if s == "" || len(s) > 5000 || strings.IndexByte(s, '_') >= 0 {
		return 0, false
	}
	digits := strings.TrimLeft(s, "+-")
	hex := len(digits) > 1 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')
	mant := digits
	if hex {
		mant = digits[2:]
		if k := strings.IndexAny(mant, "pP"); k >= 0 {
			mant = mant[:k]
		} else {
			s += "p0" // strtod takes a hex float without an exponent
		}
	} else if k := strings.IndexAny(mant, "eE"); k >= 0 {
		mant = mant[:k]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	if f != 0 && math.Abs(f) < 0x1p-1022 {
		return 0, false // subnormal: ERANGE
	}
	if f == 0 && strings.ContainsFunc(mant, func(r rune) bool {
		return r >= '1' && r <= '9' || hex && (r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F')
	}) {
		return 0, false // underflow to zero: ERANGE
	}
	return f, true
}

// sortLoad reads the elements to sort (for no sorting, only LIMIT's
// window, in the collection's order).
func (c *conn) sortLoad(key []byte, a *sortArgs) ([]sortItem, error) {
	var items []sortItem
	add := func(v []byte) { items = append(items, sortItem{obj: append([]byte(nil), v...)}) }
	err := c.eng.Txn(c.ns, [][]byte{key}, func(t *engine.Txn) error {
		m, ok, err := t.Meta(0)
		if err != nil || !ok {
			return err
		}
		n := m.Size
		switch m.Type {
		case engine.TypeList:
			if a.dontSort {
				start, end := sortRange(n, a.offset, a.count)
				if start > end {
					return nil
				}
				lo, hi := start, end
				if a.desc {
					lo, hi = n-1-end, n-1-start
				}
				return t.ListRange(0, lo, hi, a.desc, func(_ int64, v []byte) bool { add(v); return true })
			}
			return t.ListRange(0, 0, n-1, false, func(_ int64, v []byte) bool { add(v); return true })
		case engine.TypeSet:
			if a.dontSort {
				a.setOrder = true
				if a.storeGiven {
					a.dontSort, a.alpha, a.by = false, true, nil
				}
			}
			return t.SetRange(0, nil, func(v []byte) bool { add(v); return true })
		case engine.TypeZSet:
			if a.dontSort {
				start, end := sortRange(n, a.offset, a.count)
				if start > end {
					return nil
				}
				left := end - start + 1
				return t.ZSetByRank(0, start, a.desc, func(v []byte, _ float64) bool {
					add(v)
					left--
					return left > 0
				})
			}
			return t.ZSetByRank(0, 0, false, func(v []byte, _ float64) bool { add(v); return true })
		}
		return engine.ErrWrongType
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// sortLookup reads the value pattern names for element subst: "#" is
// the element, otherwise the first '*' is replaced by it and the key read
// as a string, or, with "->field" after the '*', as a hash field.
func (c *conn) sortLookup(pattern, subst []byte) ([]byte, bool, error) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return subst, true, nil
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false, nil
	}
	var field []byte
	keyEnd := len(pattern)
	if f := bytes.Index(pattern[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(pattern) {
		keyEnd = star + 1 + f
		field = pattern[keyEnd+2:]
	}
	key := make([]byte, 0, keyEnd-1+len(subst))
	key = append(key, pattern[:star]...)
	key = append(key, subst...)
	key = append(key, pattern[star+1:keyEnd]...)
	if field == nil {
		v, err := c.eng.Get(c.ns, key)
		if errors.Is(err, engine.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		defer v.Release()
		if v.Meta().Type != engine.TypeString {
			return nil, false, nil
		}
		b, err := v.AppendTo(nil)
		return b, err == nil, err
	}
	var val []byte
	found := false
	err := c.eng.Txn(c.ns, [][]byte{key}, func(t *engine.Txn) error {
		m, ok, err := t.Meta(0)
		if err != nil || !ok || m.Type != engine.TypeHash {
			return err
		}
		val, found, err = t.HashGet(0, field, nil)
		return err
	})
	return val, found, err
}

// sortStore replaces dst with the result as a list, or deletes it when
// the result is empty, and answers the result's length.
func (c *conn) sortStore(dst []byte, items []sortItem, gets [][]byte) {
	vals := make([][]byte, 0, len(items)*max(len(gets), 1))
	for _, it := range items {
		if len(gets) == 0 {
			vals = append(vals, it.obj)
		}
		for _, g := range gets {
			v, ok, err := c.sortLookup(g, it.obj)
			if err != nil {
				c.replyErr(err)
				return
			}
			if !ok {
				v = []byte{}
			}
			vals = append(vals, v)
		}
	}
	err := c.eng.Txn(c.ns, [][]byte{dst}, func(t *engine.Txn) error {
		if len(vals) == 0 {
			return t.Delete(0)
		}
		if err := t.Replace(0, engine.TypeList); err != nil {
			return err
		}
		for _, v := range vals {
			if err := t.ListPush(0, v, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.dirty = true
	c.wr.Int(int64(len(vals)))
	if len(vals) > 0 {
		c.s.blocked.signal(c.ns, dst)
	}
}
