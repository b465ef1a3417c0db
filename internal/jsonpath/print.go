package jsonpath

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Format is how Append lays a document out (JSON.GET's INDENT, NEWLINE
// and SPACE). The zero Format is compact.
type Format struct {
	Indent  string // per nesting level
	Newline string
	Space   string // after each colon
}

// AppendCompact appends v's compact JSON text to dst.
func AppendCompact(dst []byte, v *Value) []byte { return Append(dst, v, Format{}) }

// Append appends v's JSON text to dst laid out as f. Objects print their
// keys in byte order; the layout follows jsoncons's encoder, which KVRocks
// uses: a newline (when given) and the indentation before each element
// and before a non-empty container's closing bracket.
func Append(dst []byte, v *Value, f Format) []byte {
	return appendValue(dst, v, &f, 0)
}

func appendValue(dst []byte, v *Value, f *Format, level int) []byte {
	switch v.Kind {
	case Null:
		return append(dst, "null"...)
	case Bool:
		if v.B {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Int:
		return strconv.AppendInt(dst, v.I, 10)
	case Uint:
		return strconv.AppendUint(dst, v.U, 10)
	case Float:
		return AppendFloat(dst, v.F)
	case String:
		return AppendString(dst, v.S)
	case Array:
		if len(v.A) == 0 {
			return append(dst, "[]"...)
		}
		dst = append(dst, '[')
		for i, e := range v.A {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = breakLine(dst, f, level+1)
			dst = appendValue(dst, e, f, level+1)
		}
		dst = breakLine(dst, f, level)
		return append(dst, ']')
	}
	if len(v.O) == 0 {
		return append(dst, "{}"...)
	}
	dst = append(dst, '{')
	for i, m := range v.O {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = breakLine(dst, f, level+1)
		dst = AppendString(dst, m.Key)
		dst = append(dst, ':')
		dst = append(dst, f.Space...)
		dst = appendValue(dst, m.Val, f, level+1)
	}
	dst = breakLine(dst, f, level)
	return append(dst, '}')
}

func breakLine(dst []byte, f *Format, level int) []byte {
	dst = append(dst, f.Newline...)
	if f.Indent == "" {
		return dst
	}
	for i := 0; i < level; i++ {
		dst = append(dst, f.Indent...)
	}
	return dst
}

// AppendFloat prints a double as jsoncons does: the shortest text that
// reads back to the same value, with ".0" on integral values so that it
// stays a double, exponents as "e+NN"/"e-NN". NaN and infinities, which
// JSON cannot hold, print as null.
func AppendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e17) {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s quoted as JSON: quotes, backslashes and control
// characters escaped; other characters, multi-byte ones included, as is.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				i++
				continue
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
