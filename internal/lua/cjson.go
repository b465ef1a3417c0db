package lua

import (
	"math"
	"strconv"
	"unicode/utf8"

	glua "github.com/yuin/gopher-lua"
)

// The cjson library as Redis bundles it (lua-cjson 2.1): numbers with
// 14 significant digits, "/" escaped, empty tables as objects, arrays
// detected from positive integer keys with the excessively-sparse check,
// cjson.null for JSON null.

const (
	cjsonDefaultDepth    = 1000
	cjsonSparseRatio     = 2
	cjsonSparseSafe      = 10
	cjsonDefaultPrecison = 14
)

type cjsonConfig struct {
	encodeMaxDepth  int
	decodeMaxDepth  int
	precision       int
	sparseConvert   bool
	sparseRatio     int
	sparseSafe      int
	encodeInvalidOK bool
	null            *glua.LUserData
}

// OpenCjson returns the cjson library table.
func OpenCjson(L *glua.LState) *glua.LTable {
	cfg := &cjsonConfig{
		encodeMaxDepth: cjsonDefaultDepth, decodeMaxDepth: cjsonDefaultDepth,
		precision: cjsonDefaultPrecison, sparseRatio: cjsonSparseRatio, sparseSafe: cjsonSparseSafe,
	}
	cfg.null = L.NewUserData()
	t := L.NewTable()
	t.RawSetString("encode", L.NewFunction(func(L *glua.LState) int {
		if L.GetTop() != 1 {
			argError(L, 1, "encode", "expected 1 argument")
		}
		b, err := cfg.encode(nil, L.Get(1), 0)
		if err != "" {
			L.RaiseError("%s", err)
		}
		L.Push(glua.LString(b))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *glua.LState) int {
		if L.GetTop() != 1 {
			argError(L, 1, "decode", "expected 1 argument")
		}
		d := jsonDecoder{L: L, cfg: cfg, s: checkString(L, 1, "decode")}
		v := d.decode()
		L.Push(v)
		return 1
	}))
	t.RawSetString("null", cfg.null)
	t.RawSetString("_NAME", glua.LString("cjson"))
	t.RawSetString("_VERSION", glua.LString("2.1.0"))
	t.RawSetString("encode_max_depth", L.NewFunction(cfg.intOption(&cfg.encodeMaxDepth)))
	t.RawSetString("decode_max_depth", L.NewFunction(cfg.intOption(&cfg.decodeMaxDepth)))
	t.RawSetString("encode_number_precision", L.NewFunction(func(L *glua.LState) int {
		if L.GetTop() >= 1 {
			p := L.CheckInt(1)
			if p < 1 || p > 14 {
				L.ArgError(1, "expected integer between 1 and 14")
			}
			cfg.precision = p
		}
		L.Push(glua.LNumber(cfg.precision))
		return 1
	}))
	t.RawSetString("encode_sparse_array", L.NewFunction(func(L *glua.LState) int {
		if L.GetTop() >= 1 {
			cfg.sparseConvert = L.ToBool(1)
		}
		if L.GetTop() >= 2 {
			cfg.sparseRatio = L.CheckInt(2)
		}
		if L.GetTop() >= 3 {
			cfg.sparseSafe = L.CheckInt(3)
		}
		L.Push(glua.LBool(cfg.sparseConvert))
		L.Push(glua.LNumber(cfg.sparseRatio))
		L.Push(glua.LNumber(cfg.sparseSafe))
		return 3
	}))
	t.RawSetString("encode_invalid_numbers", L.NewFunction(func(L *glua.LState) int {
		if L.GetTop() >= 1 {
			cfg.encodeInvalidOK = L.ToBool(1)
		}
		L.Push(glua.LBool(cfg.encodeInvalidOK))
		return 1
	}))
	t.RawSetString("encode_keep_buffer", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LTrue)
		return 1
	}))
	t.RawSetString("decode_invalid_numbers", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LTrue)
		return 1
	}))
	return t
}

func (cfg *cjsonConfig) intOption(p *int) glua.LGFunction {
	return func(L *glua.LState) int {
		if L.GetTop() >= 1 {
			n := L.CheckInt(1)
			if n < 1 || n > math.MaxInt32 {
				L.ArgError(1, "expected integer between 1 and 2147483647")
			}
			*p = n
		}
		L.Push(glua.LNumber(*p))
		return 1
	}
}

// FormatNumber formats n as cjson and Redis's %.14g do.
func FormatNumber(b []byte, n float64, prec int) []byte {
	return strconv.AppendFloat(b, n, 'g', prec, 64)
}

var jsonEscapes = func() [256]string {
	var e [256]string
	for i := 0; i < 32; i++ {
		e[i] = `\u00` + string("0123456789abcdef"[i>>4]) + string("0123456789abcdef"[i&15])
	}
	e['\b'], e['\t'], e['\n'], e['\f'], e['\r'] = `\b`, `\t`, `\n`, `\f`, `\r`
	e['"'], e['\\'], e['/'] = `\"`, `\\`, `\/`
	e[127] = `\u007f`
	return e
}()

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if e := jsonEscapes[s[i]]; e != "" {
			b = append(b, e...)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, '"')
}

// encode appends v's JSON; a non-empty string is the error to raise.
func (cfg *cjsonConfig) encode(b []byte, v glua.LValue, depth int) ([]byte, string) {
	switch v := v.(type) {
	case glua.LString:
		return appendJSONString(b, string(v)), ""
	case glua.LNumber:
		f := float64(v)
		if (math.IsInf(f, 0) || math.IsNaN(f)) && !cfg.encodeInvalidOK {
			return b, "Cannot serialise number: must not be NaN or Inf"
		}
		return FormatNumber(b, f, cfg.precision), ""
	case glua.LBool:
		if v {
			return append(b, "true"...), ""
		}
		return append(b, "false"...), ""
	case *glua.LNilType:
		return append(b, "null"...), ""
	case *glua.LUserData:
		if v == cfg.null {
			return append(b, "null"...), ""
		}
		return b, "Cannot serialise userdata: type not supported"
	case *glua.LTable:
		depth++
		if depth > cfg.encodeMaxDepth {
			return b, "Cannot serialise, excessive nesting (" + strconv.Itoa(depth) + ")"
		}
		n, err := cfg.arrayLength(v)
		if err != "" {
			return b, err
		}
		if n > 0 {
			b = append(b, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b = append(b, ',')
				}
				if b, err = cfg.encode(b, v.RawGetInt(i), depth); err != "" {
					return b, err
				}
			}
			return append(b, ']'), ""
		}
		b = append(b, '{')
		first := true
		var failed string
		v.ForEach(func(k, val glua.LValue) {
			if failed != "" {
				return
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			switch k := k.(type) {
			case glua.LString:
				b = appendJSONString(b, string(k))
			case glua.LNumber:
				b = append(b, '"')
				b = FormatNumber(b, float64(k), cfg.precision)
				b = append(b, '"')
			default:
				failed = "Cannot serialise " + k.Type().String() + ": table key must be a number or string"
				return
			}
			b = append(b, ':')
			b, failed = cfg.encode(b, val, depth)
		})
		if failed != "" {
			return b, failed
		}
		return append(b, '}'), ""
	default:
		return b, "Cannot serialise " + v.Type().String() + ": type not supported"
	}
}

// arrayLength is lua_array_length: the array size if every key is a
// positive integer (0 for an empty table), -1 for an object.
func (cfg *cjsonConfig) arrayLength(t *glua.LTable) (int, string) {
	max, items := 0, 0
	object := false
	t.ForEach(func(k, _ glua.LValue) {
		if object {
			return
		}
		if n, ok := k.(glua.LNumber); ok {
			f := float64(n)
			if f == math.Floor(f) && f >= 1 {
				if f > float64(max) {
					max = int(f)
				}
				items++
				return
			}
		}
		object = true
	})
	if object {
		return -1, ""
	}
	if cfg.sparseRatio > 0 && max > items*cfg.sparseRatio && max > cfg.sparseSafe {
		if !cfg.sparseConvert {
			return 0, "Cannot serialise table: excessively sparse array"
		}
		return -1, ""
	}
	return max, ""
}

// jsonDecoder parses as lua-cjson does, with its error messages.
type jsonDecoder struct {
	L     *glua.LState
	cfg   *cjsonConfig
	s     string
	pos   int
	depth int
}

type jsonToken struct {
	kind  int
	index int
	str   string
	num   float64
	b     bool
	err   string
}

const (
	tObjBegin = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tWhitespace
	tError
)

var jsonTokenNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR"}

func (d *jsonDecoder) fail(expected string, t *jsonToken) {
	found := ""
	if t.kind == tError {
		found = t.err
	} else {
		found = jsonTokenNames[t.kind]
	}
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, t.index+1)
}

func (d *jsonDecoder) next() jsonToken {
	s := d.s
	for d.pos < len(s) && (s[d.pos] == ' ' || s[d.pos] == '\t' || s[d.pos] == '\n' || s[d.pos] == '\r') {
		d.pos++
	}
	t := jsonToken{index: d.pos}
	if d.pos >= len(s) {
		t.kind = tEnd
		return t
	}
	c := s[d.pos]
	switch c {
	case '{':
		t.kind = tObjBegin
	case '}':
		t.kind = tObjEnd
	case '[':
		t.kind = tArrBegin
	case ']':
		t.kind = tArrEnd
	case ':':
		t.kind = tColon
	case ',':
		t.kind = tComma
	case '"':
		d.string(&t)
		return t
	default:
		switch {
		case c == '-' || (c >= '0' && c <= '9'):
			d.number(&t)
			return t
		case hasWord(s[d.pos:], "true"):
			t.kind, t.b = tBoolean, true
			d.pos += 4
			return t
		case hasWord(s[d.pos:], "false"):
			t.kind = tBoolean
			d.pos += 5
			return t
		case hasWord(s[d.pos:], "null"):
			t.kind = tNull
			d.pos += 4
			return t
		case hasWord(s[d.pos:], "nan") || hasWord(s[d.pos:], "inf"):
			d.number(&t)
			return t
		}
		t.kind, t.err = tError, "invalid token"
		return t
	}
	d.pos++
	return t
}

func hasWord(s, w string) bool { return len(s) >= len(w) && s[:len(w)] == w }

func (d *jsonDecoder) number(t *jsonToken) {
	s := d.s
	end := d.pos
	for end < len(s) && isNumberChar(s[end]) {
		end++
	}
	text := s[d.pos:end]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			t.kind, t.num = tNumber, f
			d.pos = end
			return
		}
		if i, ierr := strconv.ParseInt(text, 0, 64); ierr == nil {
			t.kind, t.num = tNumber, float64(i)
			d.pos = end
			return
		}
		t.kind, t.err = tError, "invalid number"
		return
	}
	t.kind, t.num = tNumber, f
	d.pos = end
}

func isNumberChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
		c == 'x' || c == 'X' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == 'n' || c == 'i' || c == 'N' || c == 'I'
}

func (d *jsonDecoder) string(t *jsonToken) {
	s := d.s
	d.pos++
	var b []byte
	for {
		if d.pos >= len(s) {
			t.kind, t.err, t.index = tError, "unexpected end of string", d.pos
			return
		}
		c := s[d.pos]
		if c == '"' {
			d.pos++
			break
		}
		if c != '\\' {
			b = append(b, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(s) {
			t.kind, t.err, t.index = tError, "unexpected end of string", d.pos
			return
		}
		switch e := s[d.pos+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n := d.unicode(d.pos)
			if n < 0 {
				t.kind, t.err, t.index = tError, "invalid unicode escape code", d.pos
				return
			}
			b = utf8.AppendRune(b, r)
			d.pos += n
			continue
		default:
			t.kind, t.err, t.index = tError, "invalid escape code", d.pos
			return
		}
		d.pos += 2
	}
	t.kind, t.str = tString, string(b)
}

// unicode decodes \uXXXX (and a following low surrogate) at i.
func (d *jsonDecoder) unicode(i int) (rune, int) {
	hex := func(at int) int {
		if at+6 > len(d.s) || d.s[at] != '\\' || d.s[at+1] != 'u' {
			return -1
		}
		v, err := strconv.ParseUint(d.s[at+2:at+6], 16, 32)
		if err != nil {
			return -1
		}
		return int(v)
	}
	hi := hex(i)
	if hi < 0 {
		return 0, -1
	}
	if hi >= 0xDC00 && hi <= 0xDFFF {
		return 0, -1
	}
	if hi >= 0xD800 && hi <= 0xDBFF {
		lo := hex(i + 6)
		if lo < 0xDC00 || lo > 0xDFFF {
			return 0, -1
		}
		return rune(((hi & 0x3FF) << 10) + (lo & 0x3FF) + 0x10000), 12
	}
	return rune(hi), 6
}

func (d *jsonDecoder) decode() glua.LValue {
	t := d.next()
	v := d.value(&t)
	t = d.next()
	if t.kind != tEnd {
		d.fail("the end", &t)
	}
	return v
}

func (d *jsonDecoder) value(t *jsonToken) glua.LValue {
	switch t.kind {
	case tString:
		return glua.LString(t.str)
	case tNumber:
		return glua.LNumber(t.num)
	case tBoolean:
		return glua.LBool(t.b)
	case tNull:
		return d.cfg.null
	case tObjBegin:
		return d.object(t)
	case tArrBegin:
		return d.array(t)
	}
	d.fail("value", t)
	return nil
}

func (d *jsonDecoder) nest(t *jsonToken) {
	d.depth++
	if d.depth > d.cfg.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, t.index+1)
	}
}

func (d *jsonDecoder) object(start *jsonToken) glua.LValue {
	d.nest(start)
	tbl := d.L.NewTable()
	t := d.next()
	if t.kind == tObjEnd {
		d.depth--
		return tbl
	}
	for {
		if t.kind != tString {
			d.fail("object key string", &t)
		}
		key := t.str
		t = d.next()
		if t.kind != tColon {
			d.fail("colon", &t)
		}
		t = d.next()
		tbl.RawSetString(key, d.value(&t))
		t = d.next()
		if t.kind == tObjEnd {
			d.depth--
			return tbl
		}
		if t.kind != tComma {
			d.fail("comma or object end", &t)
		}
		t = d.next()
	}
}

func (d *jsonDecoder) array(start *jsonToken) glua.LValue {
	d.nest(start)
	tbl := d.L.NewTable()
	t := d.next()
	if t.kind == tArrEnd {
		d.depth--
		return tbl
	}
	for i := 1; ; i++ {
		tbl.RawSetInt(i, d.value(&t))
		t = d.next()
		if t.kind == tArrEnd {
			d.depth--
			return tbl
		}
		if t.kind != tComma {
			d.fail("comma or array end", &t)
		}
		t = d.next()
	}
}
