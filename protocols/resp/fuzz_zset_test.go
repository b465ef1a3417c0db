package resp

import (
	"bytes"
	"math"
	"testing"
)

// splitArgs splits fuzz input into arguments at spaces (at most 16).
func splitArgs(data []byte) [][]byte {
	args := bytes.Fields(data)
	if len(args) > 16 {
		args = args[:16]
	}
	return args
}

// FuzzZAddArgs: parseZAdd never panics, and what it accepts is consistent:
// pairs after the flags, valid scores, no incompatible flags.
func FuzzZAddArgs(f *testing.F) {
	for _, s := range []string{"zadd k 1 a", "zadd k nx ch 1 a 2 b", "zadd k xx gt incr 1 a", "zadd k nx xx 1 a",
		"zadd k gt lt 1 a", "zadd k incr 1 a 2 b", "zadd k 1", "zadd k -inf a +inf b", "zadd k nan a", "zadd k 0x1p3 a", "zadd k (1 a"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := splitArgs(data)
		if len(args) < 2 {
			return
		}
		fl, first, e := parseZAdd(args)
		if e != "" {
			return
		}
		if first < 2 || (len(args)-first)%2 != 0 || first >= len(args) {
			t.Fatalf("accepted %q with pairs at %d", data, first)
		}
		if fl.nx && (fl.xx || fl.gt || fl.lt) || fl.gt && fl.lt || fl.incr && len(args)-first != 2 {
			t.Fatalf("accepted incompatible flags %+v in %q", fl, data)
		}
		for i := first; i < len(args); i += 2 {
			if s, ok := parseScore(args[i]); !ok || math.IsNaN(s) {
				t.Fatalf("accepted score %q", args[i])
			}
		}
	})
}

// FuzzZRangeArgs: every ZRANGE form parses without panicking, and an
// accepted spec respects the forms' rules.
func FuzzZRangeArgs(f *testing.F) {
	for _, s := range []string{"zrange k 0 -1", "zrange k (1 +inf byscore rev limit 0 10 withscores", "zrange k [a (z bylex",
		"zrange k - + bylex withscores", "zrange k 0 1 limit 0 1", "zrangebyscore k -inf (5 withscores limit 1 2",
		"zrevrangebylex k + [a limit 0 -1", "zrange k 1 2 byscore bylex", "zrange k ( ( byscore", "zrange k [ [ bylex"} {
		for form := formZRange; form <= formZRevRangeByLex; form++ {
			f.Add([]byte(s), uint8(form))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, form uint8) {
		fm := zrangeForm(form % uint8(formZRevRangeByLex+1))
		args := splitArgs(data)
		ai := 2
		if fm == formZRangeStore {
			ai = 3
		}
		if len(args) < ai+2 {
			return
		}
		s, e := parseZRange(args, ai, fm)
		if e != "" {
			return
		}
		if s.by == byLex && s.withScores {
			t.Fatalf("%q: WITHSCORES accepted with BYLEX", data)
		}
		if s.by == byRank && (s.offset != 0 || s.count != -1) {
			t.Fatalf("%q: LIMIT accepted by rank", data)
		}
		if s.by == byScore && (math.IsNaN(s.min.v) || math.IsNaN(s.max.v)) {
			t.Fatalf("%q: NaN bound", data)
		}
		if s.by == byScore {
			_ = s.inScore(0)
		}
		if s.by == byLex {
			s.lmin.below([]byte("m"))
			s.lmax.above([]byte("m"))
		}
		if s.by == byRank {
			if a, b, ok := rankWindow(s.start, s.stop, 10); ok && (a < 0 || b >= 10 || a > b) {
				t.Fatalf("%q: window %d..%d of 10", data, a, b)
			}
		}
	})
}

// FuzzScoreBounds: bounds and scores parse without panicking, never NaN,
// and a score's formatting reads back as the same score.
func FuzzScoreBounds(f *testing.F) {
	for _, s := range []string{"1", "(1.5", "-inf", "+inf", "inf", "nan", "(", "[a", "(a", "-", "+", "1e400", "-0", "0x10", "1_0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if sb, ok := parseScoreBound(b); ok && math.IsNaN(sb.v) {
			t.Fatalf("NaN bound from %q", b)
		}
		parseLexBound(b)
		if v, ok := parseScore(b); ok {
			back, ok := parseScore(appendScore(nil, v))
			if !ok || back != v {
				t.Fatalf("%q -> %v -> %q -> %v", b, v, appendScore(nil, v), back)
			}
		}
	})
}
