package resp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/gpucache/gpucache/engine"
)

// Helpers shared by the collection command families (hash, set, list,
// sorted set).

// txn runs fn as one engine transaction over keys and answers fn's error
// (or the engine's) itself; it reports whether fn's reply was written.
// fn writes its reply only once it cannot fail any more, or rolls back.
func (c *conn) txn(keys [][]byte, write bool, fn func(t *engine.Txn) error) bool {
	mark := c.wr.Mark()
	err := c.eng.Txn(c.ns, keys, fn)
	if err != nil {
		c.wr.Reset(mark)
		c.replyErr(err)
		return false
	}
	if write {
		c.dirty = true
	}
	return true
}

// parseScore parses a sorted-set score or a float argument as Redis's
// strtod-based parser does: inf, +inf and -inf spelled out, NaN refused.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 64 {
		return 0, false
	}
	switch {
	case eqFold(b, "inf") || eqFold(b, "+inf"):
		return math.Inf(1), true
	case eqFold(b, "-inf"):
		return math.Inf(-1), true
	}
	for _, ch := range b {
		// Go also accepts "Infinity", "NaN" and underscores; Redis does not.
		if !(ch >= '0' && ch <= '9' || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-' ||
			ch == 'x' || ch == 'X' || ch == 'p' || ch == 'P' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !isRangeErr(err) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// appendScore formats a double reply as KVRocks does (util::Float2String,
// printf's %.17g): 17 significant digits, exponent notation below 1e-4
// and from 1e17, inf and -inf spelled out. Scores (ZSCORE, ZRANGE ...
// WITHSCORES, ZINCRBY, ZMSCORE), INCRBYFLOAT, HINCRBYFLOAT and RESP3
// doubles all go through it. redis-server 7.0 prints scores the same way;
// it prints INCRBYFLOAT and HINCRBYFLOAT in its shortest long-double form
// (0.1 where this prints 0.10000000000000001): there KVRocks is followed.
func appendScore(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// score writes a score: a double under RESP3, a bulk string under RESP2.
func (c *conn) score(f float64) {
	var tmp [32]byte
	s := appendScore(tmp[:0], f)
	if c.proto == 3 {
		c.wr.buf = append(c.wr.buf, ',')
		c.wr.buf = append(c.wr.buf, s...)
		c.wr.crlf()
		return
	}
	c.wr.Bulk(s)
}

// subScan is the parsed tail of HSCAN, SSCAN and ZSCAN: key cursor
// [MATCH pattern] [COUNT count].
type subScan struct {
	start []byte // resume point; nil: from the first element
	match []byte
	count int
}

// parseSubScan parses args[2:] of a *SCAN command; false after replying
// an error.
func (c *conn) parseSubScan(args [][]byte) (subScan, bool) {
	s := subScan{count: 10}
	cursor, ok := parseArgInt(args[2])
	if !ok || cursor < 0 {
		c.err(errInvalidCursor)
		return s, false
	}
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.syntaxErr()
			return s, false
		}
		switch {
		case eqFold(args[i], "match"):
			s.match = args[i+1]
		case eqFold(args[i], "count"):
			n, ok := parseArgInt(args[i+1])
			if !ok {
				c.err(errNotInteger)
				return s, false
			}
			if n < 1 {
				c.syntaxErr()
				return s, false
			}
			s.count = int(min(n, 1<<20))
		default:
			c.syntaxErr()
			return s, false
		}
	}
	if cursor != 0 {
		s.start = c.s.cursors.get(uint64(cursor), c.subCursorNS(args[1]), nil)
	}
	return s, true
}

// subCursorNS scopes element cursors to their key, so a cursor of one
// hash never resumes another.
func (c *conn) subCursorNS(key []byte) string { return c.ns + "\x00" + string(key) }

// scanReply writes [cursor, elements]: next is where to resume (nil:
// done); elems is already encoded, n entries.
func (c *conn) scanReply(key, next []byte, elems []byte, n int) {
	c.wr.Array(2)
	if next == nil {
		c.wr.BulkString("0")
	} else {
		c.wr.BulkInt(int64(c.s.cursors.put(c.subCursorNS(key), next)))
	}
	c.wr.Array(n)
	c.wr.Raw(elems)
}

// randomPicks returns the sorted 0-based positions that RANDFIELD-style
// commands pick among size elements: count > 0 distinct positions (at most
// size), count < 0 -count positions that may repeat. The caller then reads
// the collection once, in order, picking those positions: memory is
// O(count), not O(size).
func randomPicks(size, count int64) []int64 {
	if size <= 0 || count == 0 {
		return nil
	}
	if count < 0 {
		picks := make([]int64, -count)
		for i := range picks {
			picks[i] = rand.Int64N(size)
		}
		slices.Sort(picks)
		return picks
	}
	if count >= size {
		picks := make([]int64, size)
		for i := range picks {
			picks[i] = int64(i)
		}
		return picks
	}
	// Floyd's algorithm: count distinct positions in O(count).
	seen := make(map[int64]struct{}, count)
	for j := size - count; j < size; j++ {
		t := rand.Int64N(j + 1)
		if _, dup := seen[t]; dup {
			t = j
		}
		seen[t] = struct{}{}
	}
	picks := make([]int64, 0, count)
	for p := range seen {
		picks = append(picks, p)
	}
	slices.Sort(picks)
	return picks
}

// maxRandomCount bounds the count of SRANDMEMBER/HRANDFIELD/ZRANDMEMBER
// with repetition, so one request cannot ask for an unbounded reply.
const maxRandomCount = 1 << 24

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func sortedFloatKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortSlice(idx []int, less func(a, b int) bool) {
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
}

// exactPickMax is the largest collection whose random picks are exactly
// uniform (one walk over it); larger ones are sampled from random points.
const exactPickMax = 1024

// randomPoint returns a random byte string between first and last (in
// byte order): the common prefix, then a byte drawn between theirs, then
// random bytes. Seeking there lands on members spread over the
// collection without walking it.
func randomPoint(first, last []byte) []byte {
	p := 0
	for p < len(first) && p < len(last) && first[p] == last[p] {
		p++
	}
	out := append([]byte(nil), first[:p]...)
	lo, hi := 0, 255
	if p < len(first) {
		lo = int(first[p])
	}
	if p < len(last) {
		hi = int(last[p])
	}
	if hi < lo {
		hi = lo
	}
	out = append(out, byte(lo+rand.IntN(hi-lo+1)))
	for i := 0; i < 4; i++ {
		out = append(out, byte(rand.Uint32()))
	}
	return out
}

// rangeFunc walks a collection from start (inclusive; nil: the first) in
// byte order until fn returns false.
type rangeFunc func(start []byte, fn func(m, v []byte) bool) error

// sampleRun calls emit for up to count consecutive members starting at a
// random point, wrapping around once: O(count) whatever the size.
func sampleRun(walk rangeFunc, first, last []byte, count int64, emit func(m, v []byte)) error {
	if first == nil || count <= 0 {
		return nil
	}
	start := randomPoint(first, last)
	n := int64(0)
	if err := walk(start, func(m, v []byte) bool {
		emit(m, v)
		n++
		return n < count
	}); err != nil || n >= count {
		return err
	}
	return walk(nil, func(m, v []byte) bool {
		if compareBytes(m, start) >= 0 {
			return false
		}
		emit(m, v)
		n++
		return n < count
	})
}

// samplePicks calls emit count times (repetitions allowed), each the
// member at or after an independent random point.
func samplePicks(walk rangeFunc, first, last []byte, count int64, emit func(m, v []byte)) error {
	if first == nil {
		return nil
	}
	for ; count > 0; count-- {
		got := false
		start := randomPoint(first, last)
		if err := walk(start, func(m, v []byte) bool { emit(m, v); got = true; return false }); err != nil {
			return err
		}
		if !got {
			if err := walk(nil, func(m, v []byte) bool { emit(m, v); return false }); err != nil {
				return err
			}
		}
	}
	return nil
}

// randomMembers picks count members as SRANDMEMBER, HRANDFIELD and
// ZRANDMEMBER do (count < 0: -count picks with repetition; > 0: distinct,
// at most size): uniformly by one walk for small collections, by sampling
// from random points for large ones.
func randomMembers(t *engine.Txn, i int, size, count int64, walk rangeFunc, emit func(m, v []byte)) error {
	if size <= exactPickMax {
		picks := randomPicks(size, count)
		if len(picks) == 0 {
			return nil
		}
		pos, j := int64(0), 0
		return walk(nil, func(m, v []byte) bool {
			for j < len(picks) && picks[j] == pos {
				emit(m, v)
				j++
			}
			pos++
			return j < len(picks)
		})
	}
	first, last, err := t.Edges(i)
	if err != nil {
		return err
	}
	if count < 0 {
		return samplePicks(walk, first, last, -count, emit)
	}
	return sampleRun(walk, first, last, min(count, size), emit)
}
