package lua

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// Conversions between RESP replies and Lua values, as Redis 7 documents
// them (https://redis.io/docs/interact/programmability/lua-api/).

// ErrBadReply is a malformed or truncated RESP reply.
var ErrBadReply = errors.New("lua: malformed reply")

const maxReplyDepth = 1000

// ReplyToLua converts the RESP2 or RESP3 reply at the start of p to a Lua
// value and returns the bytes after it. Errors become {err=...}, status
// replies {ok=...}; a RESP2 null is false, a RESP3 null nil; RESP3 maps,
// sets, doubles, big numbers and verbatim strings become tables with a
// map, set, double, big_number or verbatim_string field.
func ReplyToLua(L *glua.LState, p []byte) (glua.LValue, []byte, error) {
	return replyToLua(L, p, 0)
}

func replyLine(p []byte) ([]byte, []byte, error) {
	i := bytes.Index(p, []byte("\r\n"))
	if i < 1 {
		return nil, nil, ErrBadReply
	}
	return p[1:i], p[i+2:], nil
}

func replyToLua(L *glua.LState, p []byte, depth int) (glua.LValue, []byte, error) {
	if depth > maxReplyDepth {
		return nil, nil, ErrBadReply
	}
	line, rest, err := replyLine(p)
	if err != nil {
		return nil, nil, err
	}
	switch p[0] {
	case ':':
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return nil, nil, ErrBadReply
		}
		return glua.LNumber(n), rest, nil
	case '$', '=':
		n, err := strconv.Atoi(string(line))
		if err != nil || n < -1 {
			return nil, nil, ErrBadReply
		}
		if n == -1 {
			return glua.LFalse, rest, nil
		}
		if len(rest) < n+2 || rest[n] != '\r' || rest[n+1] != '\n' {
			return nil, nil, ErrBadReply
		}
		s := string(rest[:n])
		if p[0] == '$' {
			return glua.LString(s), rest[n+2:], nil
		}
		format, text, ok := strings.Cut(s, ":")
		if !ok || len(format) != 3 {
			return nil, nil, ErrBadReply
		}
		inner := L.NewTable()
		inner.RawSetString("format", glua.LString(format))
		inner.RawSetString("string", glua.LString(text))
		return field(L, "verbatim_string", inner), rest[n+2:], nil
	case '+':
		return field(L, "ok", glua.LString(line)), rest, nil
	case '-':
		return field(L, "err", glua.LString(line)), rest, nil
	case '_':
		if len(line) != 0 {
			return nil, nil, ErrBadReply
		}
		return glua.LNil, rest, nil
	case '#':
		switch string(line) {
		case "t":
			return glua.LTrue, rest, nil
		case "f":
			return glua.LFalse, rest, nil
		}
		return nil, nil, ErrBadReply
	case ',':
		f, err := parseDouble(string(line))
		if err != nil {
			return nil, nil, ErrBadReply
		}
		return field(L, "double", glua.LNumber(f)), rest, nil
	case '(':
		return field(L, "big_number", glua.LString(line)), rest, nil
	case '*', '~', '%', '>':
		n, err := strconv.Atoi(string(line))
		if err != nil || n < -1 {
			return nil, nil, ErrBadReply
		}
		if n == -1 {
			return glua.LFalse, rest, nil
		}
		if n > len(rest) {
			return nil, nil, ErrBadReply
		}
		t := L.CreateTable(0, 0)
		for i := 1; i <= n; i++ {
			var v glua.LValue
			if v, rest, err = replyToLua(L, rest, depth+1); err != nil {
				return nil, nil, err
			}
			switch p[0] {
			case '~':
				if v != glua.LNil {
					setSparse(t, v, glua.LTrue)
				}
			case '%':
				var val glua.LValue
				if val, rest, err = replyToLua(L, rest, depth+1); err != nil {
					return nil, nil, err
				}
				if f, ok := v.(glua.LNumber); v != glua.LNil && !(ok && math.IsNaN(float64(f))) {
					setSparse(t, v, val)
				}
			default:
				t.RawSetInt(i, v)
			}
		}
		switch p[0] {
		case '~':
			return field(L, "set", t), rest, nil
		case '%':
			return field(L, "map", t), rest, nil
		}
		return t, rest, nil
	}
	return nil, nil, ErrBadReply
}

func parseDouble(s string) (float64, error) {
	switch s {
	case "inf", "+inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	case "nan":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

func field(L *glua.LState, name string, v glua.LValue) *glua.LTable {
	t := L.CreateTable(0, 1)
	t.RawSetString(name, v)
	return t
}

// ErrorField returns the err field of a table reply, if it has one.
func ErrorField(v glua.LValue) (string, bool) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return "", false
	}
	s, ok := t.RawGetString("err").(glua.LString)
	return string(s), ok
}

// AppendReply appends the RESP reply for a script's result v, in RESP3
// when resp3 is set (the client's protocol): strings are bulk strings,
// numbers integers (the fraction dropped), booleans RESP3 booleans when the
// script chose RESP3 (scriptResp3, redis.setresp(3)) and true 1, false null
// otherwise, tables with err or
// ok errors and status replies, tables with double, map, set, big_number
// or verbatim_string the RESP3 types (their RESP2 forms otherwise), other
// tables arrays up to their first nil, and nil a null.
func AppendReply(b []byte, v glua.LValue, resp3, scriptResp3 bool) []byte {
	r := replier{resp3: resp3, scriptResp3: scriptResp3}
	return r.append(b, v, 0)
}

func appendNull(b []byte, resp3 bool) []byte {
	if resp3 {
		return append(b, "_\r\n"...)
	}
	return append(b, "$-1\r\n"...)
}

func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendHeader(b []byte, c byte, n int) []byte {
	b = append(b, c)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// AppendDouble formats f as Redis 7.0's addReplyDouble does (%.17g).
func AppendDouble(b []byte, f float64, resp3 bool) []byte {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	case math.IsNaN(f):
		s = "nan"
	default:
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	if resp3 {
		b = append(b, ',')
		b = append(b, s...)
		return append(b, '\r', '\n')
	}
	return appendBulk(b, s)
}

// Integer converts a Lua number to an integer reply's value as C's
// (long long) cast does.
func Integer(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return math.MinInt64
	case f >= 9.223372036854775807e18:
		return math.MinInt64
	case f < -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

type replier struct{ resp3, scriptResp3 bool }

func (r replier) append(b []byte, v glua.LValue, depth int) []byte {
	resp3 := r.resp3
	switch v := v.(type) {
	case glua.LString:
		return appendBulk(b, string(v))
	case glua.LNumber:
		b = append(b, ':')
		b = strconv.AppendInt(b, Integer(float64(v)), 10)
		return append(b, '\r', '\n')
	case glua.LBool:
		if r.scriptResp3 && !resp3 {
			if v {
				return append(b, ":1\r\n"...)
			}
			return append(b, ":0\r\n"...)
		}
		if r.scriptResp3 {
			if v {
				return append(b, "#t\r\n"...)
			}
			return append(b, "#f\r\n"...)
		}
		if v {
			return append(b, ":1\r\n"...)
		}
		return appendNull(b, resp3)
	case *glua.LTable:
		if depth > maxReplyDepth {
			return append(b, "-ERR reached lua stack limit\r\n"...)
		}
		if s, ok := v.RawGetString("err").(glua.LString); ok {
			b = append(b, '-')
			return append(append(b, oneLine(string(s))...), '\r', '\n')
		}
		if s, ok := v.RawGetString("ok").(glua.LString); ok {
			b = append(b, '+')
			return append(append(b, oneLine(string(s))...), '\r', '\n')
		}
		if d, ok := v.RawGetString("double").(glua.LNumber); ok {
			return AppendDouble(b, float64(d), resp3)
		}
		if s, ok := v.RawGetString("big_number").(glua.LString); ok {
			if resp3 {
				b = append(b, '(')
				return append(append(b, oneLine(string(s))...), '\r', '\n')
			}
			return appendBulk(b, string(s))
		}
		if vs, ok := v.RawGetString("verbatim_string").(*glua.LTable); ok {
			format, fok := vs.RawGetString("format").(glua.LString)
			text, tok := vs.RawGetString("string").(glua.LString)
			if fok && tok {
				if resp3 && len(format) == 3 {
					b = appendHeader(b, '=', len(format)+1+len(text))
					b = append(b, format...)
					b = append(b, ':')
					b = append(b, text...)
					return append(b, '\r', '\n')
				}
				return appendBulk(b, string(text))
			}
		}
		if m, ok := v.RawGetString("map").(*glua.LTable); ok {
			n := 0
			m.ForEach(func(_, _ glua.LValue) { n++ })
			if resp3 {
				b = appendHeader(b, '%', n)
			} else {
				b = appendHeader(b, '*', 2*n)
			}
			m.ForEach(func(k, val glua.LValue) {
				b = r.append(b, k, depth+1)
				b = r.append(b, val, depth+1)
			})
			return b
		}
		if s, ok := v.RawGetString("set").(*glua.LTable); ok {
			n := 0
			s.ForEach(func(_, _ glua.LValue) { n++ })
			if resp3 {
				b = appendHeader(b, '~', n)
			} else {
				b = appendHeader(b, '*', n)
			}
			s.ForEach(func(k, _ glua.LValue) { b = r.append(b, k, depth+1) })
			return b
		}
		n := 0
		for v.RawGetInt(n+1) != glua.LNil {
			n++
		}
		b = appendHeader(b, '*', n)
		for i := 1; i <= n; i++ {
			b = r.append(b, v.RawGetInt(i), depth+1)
		}
		return b
	}
	return appendNull(b, resp3)
}
