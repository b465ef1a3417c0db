package resp

import (
	"math"

	"github.com/gpucache/gpucache/engine"
)

// Stream ID parsing, as Redis parses IDs: "ms-seq", or "ms" alone (the
// sequence then defaults to 0 for a range start and to the largest for
// an end), "-" and "+" for the smallest and largest ID where a range
// allows them, "(" before an ID for an exclusive range bound, and
// "ms-*" where XADD lets the server pick the sequence.

const (
	errStreamID         = "ERR Invalid stream ID specified as stream command argument"
	errStreamIDZero     = "ERR The ID specified in XADD must be greater than 0-0"
	errStreamIDTop      = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errStreamExhausted  = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errStreamTooLarge   = "ERR Elements are too large to be stored"
	errStreamStartRange = "ERR invalid start ID for the interval"
	errStreamEndRange   = "ERR invalid end ID for the interval"
)

// parseStreamUint parses an ID part as Redis's string2ull does: a plain
// decimal (no sign, no leading zeros) up to int64, else what strtoull
// accepts (leading blanks, a sign, leading zeros) as long as all of the
// text is used and it does not overflow.
func parseStreamUint(b []byte) (uint64, bool) {
	if n, ok := parseStrictInt(b); ok {
		if n < 0 {
			return 0, false
		}
		return uint64(n), true
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var n uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseStrictInt is Redis's string2ll: an optional '-', no leading zeros,
// no '+', no blanks, int64 range.
func parseStrictInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	i := 0
	if b[0] == '-' {
		i = 1
	}
	if i >= len(b) || b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	return parseArgInt(b)
}

// streamIDSpec is a parsed ID argument.
type streamIDSpec struct {
	id engine.StreamID
	// autoSeq: "ms-*" (XADD only).
	autoSeq bool
}

// parseStreamID parses an ID; missingSeq is the sequence of "ms" alone.
// strict refuses "-" and "+"; allowAutoSeq accepts "ms-*".
func parseStreamID(b []byte, missingSeq uint64, strict, allowAutoSeq bool) (streamIDSpec, bool) {
	var s streamIDSpec
	if len(b) == 0 || len(b) > 127 {
		return s, false
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return s, false
		}
		if b[0] == '+' {
			s.id = engine.MaxStreamID
		}
		return s, true
	}
	dash := -1
	for i, ch := range b {
		if ch == '-' {
			dash = i
			break
		}
	}
	if dash < 0 {
		ms, ok := parseStreamUint(b)
		s.id = engine.StreamID{Ms: ms, Seq: missingSeq}
		return s, ok
	}
	ms, ok := parseStreamUint(b[:dash])
	if !ok {
		return s, false
	}
	rest := b[dash+1:]
	if allowAutoSeq && len(rest) == 1 && rest[0] == '*' {
		s.id, s.autoSeq = engine.StreamID{Ms: ms}, true
		return s, true
	}
	seq, ok := parseStreamUint(rest)
	s.id = engine.StreamID{Ms: ms, Seq: seq}
	return s, ok
}

// parseRangeID parses a range bound: start (missing sequence 0, "(" moves
// it up) or end (missing sequence the largest, "(" moves it down). It
// returns the reply error text, "" when fine.
func parseRangeID(b []byte, end bool) (engine.StreamID, string) {
	excl := len(b) > 1 && b[0] == '('
	if excl {
		b = b[1:]
	}
	missing := uint64(0)
	if end {
		missing = math.MaxUint64
	}
	s, ok := parseStreamID(b, missing, excl, false)
	if !ok {
		return s.id, errStreamID
	}
	if !excl {
		return s.id, ""
	}
	if end {
		id, ok := s.id.Prev()
		if !ok {
			return id, errStreamEndRange
		}
		return id, ""
	}
	id, ok := s.id.Next()
	if !ok {
		return id, errStreamStartRange
	}
	return id, ""
}

// appendID formats id as Redis replies it.
func (c *conn) streamID(id engine.StreamID) {
	var tmp [48]byte
	c.wr.Bulk(id.AppendTo(tmp[:0]))
}
