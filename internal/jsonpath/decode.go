package jsonpath

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// SyntaxError is a malformed JSON text, worded as jsoncons words it.
type SyntaxError struct {
	Msg          string
	Line, Column int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at line %d and column %d", e.Msg, e.Line, e.Column)
}

// Parse decodes one JSON text (surrounding white space allowed). Nesting
// deeper than MaxDepth is an error.
func Parse(data []byte) (*Value, error) { return ParseDepth(data, MaxDepth) }

// ParseDepth is Parse with nesting bounded by depth (at most MaxDepth).
func ParseDepth(data []byte, depth int) (*Value, error) {
	d := decoder{data: data, maxDepth: min(max(depth, 0), MaxDepth)}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.pos < len(d.data) {
		return nil, d.fail("Extra character")
	}
	return v, nil
}

type decoder struct {
	data     []byte
	pos      int
	maxDepth int
}

func (d *decoder) alloc(v Value) *Value { return &v }

func (d *decoder) fail(msg string) error {
	line, col := 1, 1
	for _, c := range d.data[:min(d.pos, len(d.data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &SyntaxError{Msg: msg, Line: line, Column: col}
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (*Value, error) {
	if d.pos >= len(d.data) {
		return nil, d.fail("Unexpected end of file")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		if depth >= d.maxDepth {
			return nil, d.fail("Maximum JSON depth exceeded")
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= d.maxDepth {
			return nil, d.fail("Maximum JSON depth exceeded")
		}
		return d.array(depth + 1)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return d.alloc(Value{Kind: String, S: s}), nil
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true", Value{Kind: Bool, B: true})
	case c == 'f':
		return d.literal("false", Value{Kind: Bool})
	case c == 'n':
		return d.literal("null", Value{Kind: Null})
	}
	return nil, d.fail("Expected value")
}

func (d *decoder) literal(word string, v Value) (*Value, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return nil, d.fail("Invalid value")
	}
	d.pos += len(word)
	return d.alloc(v), nil
}

func (d *decoder) object(depth int) (*Value, error) {
	d.pos++ // {
	obj := d.alloc(Value{Kind: Object})
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return obj, nil
	}
	for {
		d.ws()
		if d.pos >= len(d.data) {
			return nil, d.fail("Unexpected end of file")
		}
		if d.data[d.pos] != '"' {
			return nil, d.fail("Expected key")
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.fail("Expected colon")
		}
		d.pos++
		d.ws()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		obj.Put(key, v)
		d.ws()
		if d.pos >= len(d.data) {
			return nil, d.fail("Unexpected end of file")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return obj, nil
		default:
			return nil, d.fail("Expected comma or right brace")
		}
	}
}

func (d *decoder) array(depth int) (*Value, error) {
	d.pos++ // [
	arr := d.alloc(Value{Kind: Array})
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return arr, nil
	}
	for {
		d.ws()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		arr.A = append(arr.A, v)
		d.ws()
		if d.pos >= len(d.data) {
			return nil, d.fail("Unexpected end of file")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return arr, nil
		default:
			return nil, d.fail("Expected comma or right bracket")
		}
	}
}

func (d *decoder) number() (*Value, error) {
	start := d.pos
	isFloat := false
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	intStart := d.pos
	if n := digits(); n == 0 || n > 1 && d.data[intStart] == '0' {
		return nil, d.fail("Invalid number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		isFloat = true
		if digits() == 0 {
			return nil, d.fail("Invalid number")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		isFloat = true
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.fail("Invalid number")
		}
	}
	if raw := d.data[start:d.pos]; !isFloat && len(raw) <= 18 {
		// Up to 18 characters cannot overflow int64: no string needed.
		neg, n := raw[0] == '-', int64(0)
		if neg {
			raw = raw[1:]
		}
		for _, c := range raw {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return d.alloc(Value{Kind: Int, I: n}), nil
	}
	text := string(d.data[start:d.pos])
	if !isFloat {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return d.alloc(Value{Kind: Int, I: i}), nil
		}
		if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			return d.alloc(Value{Kind: Uint, U: u}), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		return nil, d.fail("Invalid number")
	}
	return d.alloc(Value{Kind: Float, F: f}), nil
}

// str decodes a string at d.pos (its opening quote), checking UTF-8.
func (d *decoder) str() (string, error) {
	d.pos++ // "
	start := d.pos
	// Fast path: no escapes.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := d.data[start:d.pos]
			if !utf8.Valid(s) {
				return "", d.fail("Illegal character in string")
			}
			d.pos++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.pos++
	}
	buf := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", d.fail("Illegal character in string")
			}
			d.pos++
			return string(buf), nil
		case c < 0x20:
			return "", d.fail("Illegal control character in string")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		d.pos++
		if d.pos >= len(d.data) {
			break
		}
		e := d.data[d.pos]
		d.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := d.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					d.pos += 2
					r2, err := d.hex4()
					if err != nil {
						return "", err
					}
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			d.pos--
			return "", d.fail("Illegal escaped character in string")
		}
	}
	return "", d.fail("Unexpected end of file")
}

func (d *decoder) hex4() (rune, error) {
	if len(d.data)-d.pos < 4 {
		return 0, d.fail("Invalid codepoint, expected hexadecimal digit.")
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, d.fail("Invalid codepoint, expected hexadecimal digit.")
		}
	}
	d.pos += 4
	return r, nil
}
