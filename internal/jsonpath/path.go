package jsonpath

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Path is a compiled query.
type Path struct {
	origin string
	legacy bool
	segs   []segment
}

// String is the path as the client wrote it.
func (p *Path) String() string { return p.origin }

// Legacy reports whether the path was a RedisJSON legacy path: commands
// then answer with one value instead of an array of matches.
func (p *Path) Legacy() bool { return p.legacy }

// IsRoot reports whether the path names the whole document ("$" or ".").
func (p *Path) IsRoot() bool { return len(p.segs) == 0 }

// Static reports whether the path names at most one location (names and
// indexes only), so that a missing last member may be created by a set.
func (p *Path) Static() bool {
	for _, s := range p.segs {
		if s.recursive || len(s.sels) != 1 || s.sels[0].kind != selName && s.sels[0].kind != selIndex {
			return false
		}
	}
	return true
}

type segment struct {
	recursive bool // ".." before the selectors
	sels      []selector
}

type selKind uint8

const (
	selName selKind = iota
	selIndex
	selWildcard
	selSlice
	selFilter
)

type selector struct {
	kind             selKind
	name             string
	index            int
	start, end, step int
	hasStart, hasEnd bool
	filter           expr
}

// PathError is a malformed path.
type PathError struct {
	Msg string
	Pos int // 1-based column
}

func (e *PathError) Error() string { return fmt.Sprintf("%s at position %d", e.Msg, e.Pos) }

// maxPathLen bounds a path's text; filters nest, and each level costs
// parser and evaluator stack.
const maxPathLen = 4096

// Compile parses a JSONPath, or a legacy path converted as KVRocks and
// RedisJSON convert it: "." is the root, ".a" is "$.a", "a" is "$.a".
func Compile(s string) (*Path, error) {
	text, legacy := s, false
	switch {
	case s == "":
		return nil, &PathError{"Expected root or current node", 1}
	case s[0] == '$' && (len(s) == 1 || s[1] == '.' || s[1] == '['):
	case s == ".":
		text, legacy = "$", true
	case s[0] == '.':
		text, legacy = "$"+s, true
	default:
		text, legacy = "$."+s, true
	}
	if len(text) > maxPathLen {
		return nil, &PathError{"Path too long", maxPathLen}
	}
	p := &pathParser{s: text}
	p.pos = 1 // past '$'
	segs, err := p.segments(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) {
		return nil, p.fail("Unexpected character")
	}
	return &Path{origin: s, legacy: legacy, segs: segs}, nil
}

type pathParser struct {
	s   string
	pos int
}

func (p *pathParser) fail(msg string) error { return &PathError{msg, p.pos + 1} }

func (p *pathParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *pathParser) ws() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

// segments parses segments until something that is not one (the end, or
// inside a filter an operator or a closing parenthesis).
func (p *pathParser) segments(depth int) ([]segment, error) {
	var segs []segment
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case '.':
			p.pos++
			seg := segment{}
			if p.peek() == '.' {
				p.pos++
				seg.recursive = true
			}
			switch c := p.peek(); {
			case c == '*':
				p.pos++
				seg.sels = []selector{{kind: selWildcard}}
			case c == '[':
				sels, err := p.bracket(depth)
				if err != nil {
					return nil, err
				}
				seg.sels = sels
			default:
				name := p.name(depth > 0)
				if name == "" {
					return nil, p.fail("Expected identifier")
				}
				seg.sels = []selector{{kind: selName, name: name}}
			}
			segs = append(segs, seg)
		case '[':
			sels, err := p.bracket(depth)
			if err != nil {
				return nil, err
			}
			segs = append(segs, segment{sels: sels})
		default:
			return segs, nil
		}
	}
	return segs, nil
}

// name reads a dot-notation member name. Inside a filter (inFilter) an
// arithmetic operator ends it too, so that "@.price*2" is a product, as
// jsoncons reads it.
func (p *pathParser) name(inFilter bool) string {
	stop := ".[]()=!<>&|, '\"~"
	if inFilter {
		stop += "+-*/%"
	}
	start := p.pos
	for p.pos < len(p.s) && !strings.ContainsRune(stop, rune(p.s[p.pos])) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *pathParser) bracket(depth int) ([]selector, error) {
	p.pos++ // [
	var sels []selector
	for {
		p.ws()
		sel, err := p.selector(depth)
		if err != nil {
			return nil, err
		}
		sels = append(sels, sel)
		p.ws()
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return sels, nil
		default:
			return nil, p.fail("Expected comma or right bracket")
		}
	}
}

func (p *pathParser) selector(depth int) (selector, error) {
	switch c := p.peek(); {
	case c == '*':
		p.pos++
		return selector{kind: selWildcard}, nil
	case c == '\'' || c == '"':
		s, err := p.quoted()
		return selector{kind: selName, name: s}, err
	case c == '?':
		p.pos++
		p.ws()
		paren := p.peek() == '('
		if depth >= 32 {
			return selector{}, p.fail("Filters nested too deep")
		}
		e, err := p.orExpr(depth + 1)
		if err != nil {
			return selector{}, err
		}
		_ = paren
		return selector{kind: selFilter, filter: e}, nil
	case c == '-' || c == ':' || '0' <= c && c <= '9':
		return p.indexOrSlice()
	}
	return selector{}, p.fail("Expected index, name, wildcard, slice or filter")
}

func (p *pathParser) int() (int, bool, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for p.pos < len(p.s) && '0' <= p.s[p.pos] && p.s[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		return 0, false, nil
	}
	n, err := strconv.Atoi(p.s[start:p.pos])
	if err != nil {
		p.pos = start
		return 0, false, p.fail("Invalid number")
	}
	return n, true, nil
}

func (p *pathParser) indexOrSlice() (selector, error) {
	n, ok, err := p.int()
	if err != nil {
		return selector{}, err
	}
	p.ws()
	if p.peek() != ':' {
		if !ok {
			return selector{}, p.fail("Expected index")
		}
		return selector{kind: selIndex, index: n}, nil
	}
	sel := selector{kind: selSlice, start: n, hasStart: ok, step: 1}
	p.pos++
	p.ws()
	if sel.end, sel.hasEnd, err = p.int(); err != nil {
		return selector{}, err
	}
	p.ws()
	if p.peek() == ':' {
		p.pos++
		p.ws()
		step, ok, err := p.int()
		if err != nil {
			return selector{}, err
		}
		if ok {
			if step == 0 {
				return selector{}, p.fail("Slice step cannot be zero")
			}
			sel.step = step
		}
	}
	return sel, nil
}

// quoted reads a '...' or "..." string with JSON-like escapes.
func (p *pathParser) quoted() (string, error) {
	q := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\\' && p.pos < len(p.s):
			e := p.s[p.pos]
			p.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if p.pos+4 > len(p.s) {
					return "", p.fail("Invalid escape")
				}
				r, err := strconv.ParseUint(p.s[p.pos:p.pos+4], 16, 32)
				if err != nil {
					return "", p.fail("Invalid escape")
				}
				p.pos += 4
				b.WriteRune(rune(r))
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", p.fail("Unterminated string")
}

// Filter expressions, with jsoncons's operators and precedence, from the
// tightest: unary ! and -, =~, * / %, + -, < <= > >=, == !=, &&, ||.
// Binary operators associate to the left; parentheses group.

type exprKind uint8

const (
	exOr exprKind = iota
	exAnd
	exNot
	exCmp
	exPath // @... or $...: true when it selects something
	exLit
	exRegex
	exFunc  // a function call (funcs.go), then any segments applied to its result
	exArith // + - * / % (op)
	exNeg   // unary minus
)

type expr struct {
	kind   exprKind
	op     string // comparison or arithmetic operator
	l, r   *expr
	rel    bool      // path relative to @
	segs   []segment // exPath; exFunc: applied to the result
	lit    *Value
	regexp *regexp.Regexp
	fn     funcSpec // exFunc
	args   []*expr  // exFunc
}

// Binary operators of each precedence level (longer spellings first).
var (
	orOps  = []string{"||"}
	andOps = []string{"&&"}
	eqOps  = []string{"==", "!="}
	relOps = []string{"<=", ">=", "<", ">"}
	addOps = []string{"+", "-"}
	mulOps = []string{"*", "/", "%"}
)

func (p *pathParser) orExpr(depth int) (expr, error) {
	return p.binary(depth, orOps, exOr, p.andExpr)
}

func (p *pathParser) andExpr(depth int) (expr, error) {
	return p.binary(depth, andOps, exAnd, p.eqExpr)
}

func (p *pathParser) eqExpr(depth int) (expr, error) {
	return p.binary(depth, eqOps, exCmp, p.relExpr)
}

func (p *pathParser) relExpr(depth int) (expr, error) {
	return p.binary(depth, relOps, exCmp, p.addExpr)
}

func (p *pathParser) addExpr(depth int) (expr, error) {
	return p.binary(depth, addOps, exArith, p.mulExpr)
}

func (p *pathParser) mulExpr(depth int) (expr, error) {
	return p.binary(depth, mulOps, exArith, p.matchExpr)
}

// binary parses operands (each by next) joined by any of ops, as a
// left-associative chain of kind.
func (p *pathParser) binary(depth int, ops []string, kind exprKind, next func(int) (expr, error)) (expr, error) {
	l, err := next(depth)
	if err != nil {
		return expr{}, err
	}
	for {
		p.ws()
		op := ""
		for _, o := range ops {
			if strings.HasPrefix(p.s[p.pos:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return l, nil
		}
		p.pos += len(op)
		r, err := next(depth)
		if err != nil {
			return expr{}, err
		}
		left := l
		l = expr{kind: kind, op: op, l: &left, r: &r}
	}
}

// matchExpr is a unary expression tested by "=~ /regex/" any number of
// times (a test's result is a boolean, which a further test never matches).
func (p *pathParser) matchExpr(depth int) (expr, error) {
	l, err := p.unary(depth)
	if err != nil {
		return expr{}, err
	}
	for {
		p.ws()
		if !strings.HasPrefix(p.s[p.pos:], "=~") {
			return l, nil
		}
		p.pos += 2
		p.ws()
		re, err := p.regex()
		if err != nil {
			return expr{}, err
		}
		left := l
		l = expr{kind: exRegex, l: &left, regexp: re}
	}
}

// unary is "!" or "-" before a unary expression, or an operand. As in
// jsoncons they bind tighter than any binary operator: "!@.a == 1" is
// "(!@.a) == 1", and "-1" is unary minus applied to 1.
func (p *pathParser) unary(depth int) (expr, error) {
	p.ws()
	var kind exprKind
	switch c := p.peek(); {
	case c == '!' && !strings.HasPrefix(p.s[p.pos:], "!="):
		kind = exNot
	case c == '-':
		kind = exNeg
	default:
		return p.operand(depth)
	}
	if depth >= 64 {
		return expr{}, p.fail("Filters nested too deep")
	}
	p.pos++
	e, err := p.unary(depth + 1)
	if err != nil {
		return expr{}, err
	}
	return expr{kind: kind, l: &e}, nil
}

func (p *pathParser) regex() (*regexp.Regexp, error) {
	if p.peek() != '/' {
		return nil, p.fail("Expected regular expression")
	}
	p.pos++
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] != '/' {
		if p.s[p.pos] == '\\' {
			p.pos++
		}
		p.pos++
	}
	if p.pos >= len(p.s) {
		return nil, p.fail("Unterminated regular expression")
	}
	pat := p.s[start:p.pos]
	p.pos++
	if p.peek() == 'i' {
		p.pos++
		pat = "(?i)" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, p.fail("Invalid regular expression")
	}
	return re, nil
}

func (p *pathParser) operand(depth int) (expr, error) {
	p.ws()
	switch c := p.peek(); {
	case c == '(':
		if depth >= 64 {
			return expr{}, p.fail("Filters nested too deep")
		}
		p.pos++
		e, err := p.orExpr(depth + 1)
		if err != nil {
			return expr{}, err
		}
		p.ws()
		if p.peek() != ')' {
			return expr{}, p.fail("Expected right parenthesis")
		}
		p.pos++
		return e, nil
	case c == '@' || c == '$':
		p.pos++
		segs, err := p.segments(depth)
		if err != nil {
			return expr{}, err
		}
		return expr{kind: exPath, rel: c == '@', segs: segs}, nil
	case c == '\'' || c == '"':
		s, err := p.quoted()
		if err != nil {
			return expr{}, err
		}
		return expr{kind: exLit, lit: NewString(s)}, nil
	case '0' <= c && c <= '9':
		// Digits, a fraction, an exponent: a sign before a number is
		// unary minus, and one after it is subtraction ("2-1").
		start := p.pos
		p.digits()
		if p.peek() == '.' {
			p.pos++
			p.digits()
		}
		if c := p.peek(); c == 'e' || c == 'E' {
			p.pos++
			if c := p.peek(); c == '+' || c == '-' {
				p.pos++
			}
			p.digits()
		}
		v, err := Parse([]byte(p.s[start:p.pos]))
		if err != nil {
			p.pos = start
			return expr{}, p.fail("Invalid number")
		}
		return expr{kind: exLit, lit: v}, nil
	}
	if isFuncName(p.peek()) {
		start := p.pos
		for p.pos < len(p.s) && isFuncName(p.s[p.pos]) {
			p.pos++
		}
		name := p.s[start:p.pos]
		p.ws()
		if p.peek() == '(' {
			e, err := p.call(name, start, depth)
			if err != nil {
				return expr{}, err
			}
			// Selectors after a call apply to its result:
			// "tokenize(@.name, ' ')[-1]".
			if e.segs, err = p.segments(depth); err != nil {
				return expr{}, err
			}
			return e, nil
		}
		p.pos = start
	}
	for _, w := range []string{"true", "false", "null"} {
		if strings.HasPrefix(p.s[p.pos:], w) {
			p.pos += len(w)
			v, _ := Parse([]byte(w))
			return expr{kind: exLit, lit: v}, nil
		}
	}
	return expr{}, p.fail("Expected operand")
}

// call parses a function call's arguments, after its name.
func (p *pathParser) call(name string, at, depth int) (expr, error) {
	fn, ok := funcs[name]
	if !ok {
		p.pos = at
		return expr{}, p.fail("Unknown function")
	}
	if depth >= 64 {
		return expr{}, p.fail("Filters nested too deep")
	}
	p.pos++ // '('
	var args []*expr
	for {
		p.ws()
		if p.peek() == ')' && len(args) == 0 {
			break
		}
		a, err := p.orExpr(depth + 1)
		if err != nil {
			return expr{}, err
		}
		args = append(args, &a)
		p.ws()
		if p.peek() != ',' {
			break
		}
		p.pos++
	}
	if p.peek() != ')' {
		return expr{}, p.fail("Expected right parenthesis")
	}
	p.pos++
	if len(args) != fn.arity {
		p.pos = at
		return expr{}, p.fail("Wrong number of arguments")
	}
	if badPattern(name, args) {
		p.pos = at
		return expr{}, p.fail("Invalid regular expression")
	}
	return expr{kind: exFunc, fn: fn, args: args}, nil
}

// digits skips decimal digits.
func (p *pathParser) digits() {
	for p.pos < len(p.s) && '0' <= p.s[p.pos] && p.s[p.pos] <= '9' {
		p.pos++
	}
}
