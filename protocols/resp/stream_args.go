package resp

import "github.com/gpucache/gpucache/engine"

// streamTrim is a parsed MAXLEN/MINID trim.
type streamTrim struct {
	strategy byte // 0 none, 'l' MAXLEN, 'i' MINID
	approx   bool
	maxLen   int64
	minID    engine.StreamID
	limit    int64 // most entries removed; 0 no limit
}

// streamAddArgs is a parsed XADD (or XTRIM) argument list.
type streamAddArgs struct {
	trim       streamTrim
	noMkStream bool
	idGiven    bool
	id         streamIDSpec
	fieldPos   int // first field (XADD)
}

// parseStreamAddArgs parses XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~]
// threshold [LIMIT count]] *|id field value ... (xadd) or XTRIM key
// MAXLEN|MINID [=|~] threshold [LIMIT count], as Redis does: options in
// any order until the ID. It returns the reply error text, "" when fine.
func parseStreamAddArgs(args [][]byte, xadd bool) (streamAddArgs, string) {
	var a streamAddArgs
	limitGiven := false
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			a.fieldPos = i + 1
		case (eqFold(opt, "maxlen") || eqFold(opt, "minid")) && more > 0:
			if a.trim.strategy != 0 {
				return a, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
			}
			a.trim.approx = false
			if next := args[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.trim.approx = next[0] == '~'
				i++
			}
			if eqFold(opt, "maxlen") {
				n, ok := parseStrictInt(args[i+1])
				if !ok {
					return a, errNotInteger
				}
				if n < 0 {
					return a, "ERR The MAXLEN argument must be >= 0."
				}
				a.trim.strategy, a.trim.maxLen = 'l', n
			} else {
				s, ok := parseStreamID(args[i+1], 0, true, false)
				if !ok {
					return a, errStreamID
				}
				a.trim.strategy, a.trim.minID = 'i', s.id
			}
			i++
			continue
		case eqFold(opt, "limit") && more > 0:
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				return a, errNotInteger
			}
			if n < 0 {
				return a, "ERR The LIMIT argument must be >= 0."
			}
			a.trim.limit, limitGiven = n, true
			i++
			continue
		case xadd && eqFold(opt, "nomkstream"):
			a.noMkStream = true
			continue
		case xadd:
			s, ok := parseStreamID(opt, 0, true, true)
			if !ok {
				return a, errStreamID
			}
			a.id, a.idGiven, a.fieldPos = s, true, i+1
		default:
			return a, errSyntax
		}
		break
	}
	if a.trim.limit != 0 && a.trim.strategy == 0 {
		return a, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
	}
	if !xadd && a.trim.strategy == 0 {
		return a, "ERR syntax error, XTRIM must be called with a trimming strategy"
	}
	if limitGiven && !a.trim.approx {
		return a, "ERR syntax error, LIMIT cannot be used without the special ~ option"
	}
	if !limitGiven && a.trim.approx {
		a.trim.limit = 10000 // Redis's default: 100 x stream-node-max-entries
	}
	if xadd && a.fieldPos == 0 {
		a.fieldPos = len(args)
	}
	return a, ""
}
