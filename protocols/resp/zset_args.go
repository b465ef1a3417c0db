package resp

// Parsers of sorted-set arguments: ZADD's flags, score and lex range
// bounds, and every form of ZRANGE. They allocate nothing and are fuzzed
// (fuzz_zset_test.go).

const (
	errMinMaxFloat   = "ERR min or max is not a float"
	errMinMaxLex     = "ERR min or max not valid string range item"
	errZAddXXNX      = "ERR XX and NX options at the same time are not compatible"
	errZAddGTLTNX    = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZAddIncrPairs = "ERR INCR option supports a single increment-element pair"
	errZLimitForm    = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZLexScores    = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errZNaN          = "ERR resulting score is not a number (NaN)"
)

// zaddFlags are ZADD's options.
type zaddFlags struct {
	nx, xx, gt, lt, ch, incr bool
}

// parseZAdd parses ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...
// from args[2:]; it returns the index of the first score, or an error text.
func parseZAdd(args [][]byte) (zaddFlags, int, string) {
	var f zaddFlags
	i := 2
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "nx"):
			f.nx = true
		case eqFold(a, "xx"):
			f.xx = true
		case eqFold(a, "gt"):
			f.gt = true
		case eqFold(a, "lt"):
			f.lt = true
		case eqFold(a, "ch"):
			f.ch = true
		case eqFold(a, "incr"):
			f.incr = true
		default:
			goto pairs
		}
	}
pairs:
	n := len(args) - i
	if n == 0 || n%2 != 0 {
		return f, 0, errSyntax
	}
	if f.nx && f.xx {
		return f, 0, errZAddXXNX
	}
	if (f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt) {
		return f, 0, errZAddGTLTNX
	}
	if f.incr && n > 2 {
		return f, 0, errZAddIncrPairs
	}
	for j := i; j < len(args); j += 2 {
		if _, ok := parseScore(args[j]); !ok {
			return f, 0, errNotFloat
		}
	}
	return f, i, ""
}

// scoreBound is one end of a score range: "1.5", "(1.5", "-inf", "+inf".
type scoreBound struct {
	v  float64
	ex bool
}

func parseScoreBound(b []byte) (scoreBound, bool) {
	var s scoreBound
	if len(b) > 0 && b[0] == '(' {
		s.ex, b = true, b[1:]
	}
	v, ok := parseScore(b)
	if !ok {
		return s, false
	}
	s.v = v
	return s, true
}

// lexBound is one end of a lex range: "[a", "(a", "-" or "+".
type lexBound struct {
	v   []byte
	ex  bool
	inf int // -1: "-", +1: "+", 0: a member
}

func parseLexBound(b []byte) (lexBound, bool) {
	switch {
	case len(b) == 1 && b[0] == '-':
		return lexBound{inf: -1}, true
	case len(b) == 1 && b[0] == '+':
		return lexBound{inf: 1}, true
	case len(b) > 0 && b[0] == '(':
		return lexBound{v: b[1:], ex: true}, true
	case len(b) > 0 && b[0] == '[':
		return lexBound{v: b[1:]}, true
	}
	return lexBound{}, false
}

// below reports whether member m is below the bound taken as a minimum.
func (l lexBound) below(m []byte) bool {
	switch l.inf {
	case -1:
		return false
	case 1:
		return true
	}
	c := compareBytes(m, l.v)
	return c < 0 || (c == 0 && l.ex)
}

// above reports whether member m is above the bound taken as a maximum.
func (l lexBound) above(m []byte) bool {
	switch l.inf {
	case -1:
		return true
	case 1:
		return false
	}
	c := compareBytes(m, l.v)
	return c > 0 || (c == 0 && l.ex)
}

func compareBytes(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

type rangeBy uint8

const (
	byRank rangeBy = iota
	byScore
	byLex
)

// zrangeSpec is a parsed range of any ZRANGE form.
type zrangeSpec struct {
	by         rangeBy
	rev        bool
	start      int64 // by rank
	stop       int64
	min, max   scoreBound // by score
	lmin, lmax lexBound   // by lex
	offset     int64
	count      int64 // -1: no limit
	withScores bool
}

// zrangeForm says which command's argument layout is being parsed.
type zrangeForm uint8

const (
	formZRange           zrangeForm = iota // ZRANGE key a b [BYSCORE|BYLEX] [REV] [LIMIT o c] [WITHSCORES]
	formZRangeStore                        // ZRANGESTORE dst key a b [BYSCORE|BYLEX] [REV] [LIMIT o c]
	formZRevRange                          // ZREVRANGE key start stop [WITHSCORES]
	formZRangeByScore                      // ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT o c]
	formZRevRangeByScore                   // ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT o c]
	formZRangeByLex                        // ZRANGEBYLEX key min max [LIMIT o c]
	formZRevRangeByLex                     // ZREVRANGEBYLEX key max min [LIMIT o c]
)

// parseZRange parses the range arguments a, b and the options that follow
// them in args (a at index ai). It returns the spec or an error text.
func parseZRange(args [][]byte, ai int, form zrangeForm) (zrangeSpec, string) {
	s := zrangeSpec{count: -1}
	switch form {
	case formZRevRange:
		s.rev = true
	case formZRangeByScore:
		s.by = byScore
	case formZRevRangeByScore:
		s.by, s.rev = byScore, true
	case formZRangeByLex:
		s.by = byLex
	case formZRevRangeByLex:
		s.by, s.rev = byLex, true
	}
	limit := false
	for i := ai + 2; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "withscores") && form != formZRangeStore && form != formZRangeByLex && form != formZRevRangeByLex:
			s.withScores = true
		case eqFold(a, "limit") && form != formZRevRange && i+2 < len(args):
			o, ok1 := parseArgInt(args[i+1])
			c, ok2 := parseArgInt(args[i+2])
			if !ok1 || !ok2 {
				return s, errNotInteger
			}
			s.offset, s.count, limit = o, c, true
			i += 2
		case (form == formZRange || form == formZRangeStore) && eqFold(a, "byscore"):
			if s.by == byLex {
				return s, errSyntax
			}
			s.by = byScore
		case (form == formZRange || form == formZRangeStore) && eqFold(a, "bylex"):
			if s.by == byScore {
				return s, errSyntax
			}
			s.by = byLex
		case (form == formZRange || form == formZRangeStore) && eqFold(a, "rev"):
			s.rev = true
		default:
			return s, errSyntax
		}
	}
	if limit && s.by == byRank {
		return s, errZLimitForm
	}
	if s.withScores && s.by == byLex {
		return s, errZLexScores
	}
	lo, hi := args[ai], args[ai+1]
	if s.rev && s.by != byRank {
		// The reverse forms name the range from its top.
		lo, hi = hi, lo
	}
	switch s.by {
	case byRank:
		var ok1, ok2 bool
		s.start, ok1 = parseArgInt(lo)
		s.stop, ok2 = parseArgInt(hi)
		if !ok1 || !ok2 {
			return s, errNotInteger
		}
	case byScore:
		var ok1, ok2 bool
		s.min, ok1 = parseScoreBound(lo)
		s.max, ok2 = parseScoreBound(hi)
		if !ok1 || !ok2 {
			return s, errMinMaxFloat
		}
	case byLex:
		var ok1, ok2 bool
		s.lmin, ok1 = parseLexBound(lo)
		s.lmax, ok2 = parseLexBound(hi)
		if !ok1 || !ok2 {
			return s, errMinMaxLex
		}
	}
	return s, ""
}

// inScore reports whether score f lies in [min, max] with exclusive ends.
func (s *zrangeSpec) inScore(f float64) bool {
	if f < s.min.v || (s.min.ex && f == s.min.v) {
		return false
	}
	if f > s.max.v || (s.max.ex && f == s.max.v) {
		return false
	}
	return true
}

// rankWindow clamps a rank range to a collection of n elements, as Redis
// does; ok=false when it is empty.
func rankWindow(start, stop, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}
