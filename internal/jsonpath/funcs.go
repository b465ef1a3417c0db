package jsonpath

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Filter functions, as jsoncons's JSONPath (the library KVRocks's JSON
// commands use) names them: `$.a[?(length(@.tags) > 2)]`,
// `$.book[?(@.price < max($.book[*].price))]`. An argument that is a path
// naming one location (names and indexes only) is that location's value;
// any other path is the array of the values it selects. A function given
// an argument of the wrong type, or nothing, yields nothing, so a
// comparison with it is false (as a path that selects nothing).

// funcSpec is a filter function: its arity and its evaluation.
type funcSpec struct {
	arity int
	eval  func(args []*Value) *Value
}

var funcs = map[string]funcSpec{
	"length":      {1, fnLength},
	"keys":        {1, fnKeys},
	"sum":         {1, fnSum},
	"avg":         {1, fnAvg},
	"prod":        {1, fnProd},
	"min":         {1, func(a []*Value) *Value { return fnExtreme(a, -1) }},
	"max":         {1, func(a []*Value) *Value { return fnExtreme(a, 1) }},
	"abs":         {1, fnAbs},
	"ceil":        {1, func(a []*Value) *Value { return fnRound(a, math.Ceil) }},
	"floor":       {1, func(a []*Value) *Value { return fnRound(a, math.Floor) }},
	"to_number":   {1, fnToNumber},
	"contains":    {2, fnContains},
	"starts_with": {2, func(a []*Value) *Value { return fnAffix(a, strings.HasPrefix) }},
	"ends_with":   {2, func(a []*Value) *Value { return fnAffix(a, strings.HasSuffix) }},
	"tokenize":    {2, fnTokenize},
}

func fnLength(a []*Value) *Value {
	switch v := a[0]; {
	case v == nil:
		return nil
	case v.Kind == String:
		return NewInt(int64(utf8.RuneCountInString(v.S)))
	case v.Kind == Array:
		return NewInt(int64(len(v.A)))
	case v.Kind == Object:
		return NewInt(int64(len(v.O)))
	}
	return nil
}

func fnKeys(a []*Value) *Value {
	v := a[0]
	if v == nil || v.Kind != Object {
		return nil
	}
	out := make([]*Value, len(v.O))
	for i, m := range v.O {
		out[i] = NewString(m.Key)
	}
	return NewArray(out)
}

// numbers is the elements of an array of numbers, or false.
func numbers(v *Value) ([]*Value, bool) {
	if v == nil || v.Kind != Array {
		return nil, false
	}
	for _, e := range v.A {
		if !e.IsNumber() {
			return nil, false
		}
	}
	return v.A, true
}

// number is f as an integer when it is one (and fits), else a float.
func number(f float64) *Value {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return NewInt(int64(f))
	}
	return NewFloat(f)
}

func fnSum(a []*Value) *Value {
	ns, ok := numbers(a[0])
	if !ok {
		return nil
	}
	var s float64
	for _, n := range ns {
		s += n.Float64()
	}
	return number(s)
}

func fnAvg(a []*Value) *Value {
	ns, ok := numbers(a[0])
	if !ok {
		return nil
	}
	if len(ns) == 0 {
		return NewNull()
	}
	var s float64
	for _, n := range ns {
		s += n.Float64()
	}
	return NewFloat(s / float64(len(ns)))
}

func fnProd(a []*Value) *Value {
	ns, ok := numbers(a[0])
	if !ok || len(ns) == 0 {
		return nil
	}
	p := 1.0
	for _, n := range ns {
		p *= n.Float64()
	}
	return number(p)
}

// fnExtreme is min (sign -1) or max (1) of an array of numbers, or of an
// array of strings (compared as byte strings).
func fnExtreme(a []*Value, sign int) *Value {
	v := a[0]
	if v == nil || v.Kind != Array || len(v.A) == 0 {
		return nil
	}
	best := v.A[0]
	if !best.IsNumber() && best.Kind != String {
		return nil
	}
	for _, e := range v.A[1:] {
		c, ok := compareValues(e, best)
		if !ok || e.IsNumber() != best.IsNumber() {
			return nil
		}
		if c*sign > 0 {
			best = e
		}
	}
	return best
}

func fnAbs(a []*Value) *Value {
	v := a[0]
	switch {
	case v == nil || !v.IsNumber():
		return nil
	case v.Kind == Int && v.I < 0 && v.I != math.MinInt64:
		return NewInt(-v.I)
	case v.Kind == Float:
		return NewFloat(math.Abs(v.F))
	}
	return v
}

// fnRound is ceil or floor: integers are their own.
func fnRound(a []*Value, f func(float64) float64) *Value {
	v := a[0]
	switch {
	case v == nil || !v.IsNumber():
		return nil
	case v.Kind == Float:
		return number(f(v.F))
	}
	return v
}

func fnToNumber(a []*Value) *Value {
	v := a[0]
	switch {
	case v == nil:
		return nil
	case v.IsNumber():
		return v
	case v.Kind == String:
		if n, err := Parse([]byte(strings.TrimSpace(v.S))); err == nil && n.IsNumber() {
			return n
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return NewFloat(f)
		}
	}
	return nil
}

// fnContains: an array holding an element equal to the value, or a string
// holding the substring.
func fnContains(a []*Value) *Value {
	h, n := a[0], a[1]
	switch {
	case h == nil || n == nil:
		return nil
	case h.Kind == Array:
		for _, e := range h.A {
			if Equal(e, n) {
				return NewBool(true)
			}
		}
		return NewBool(false)
	case h.Kind == String && n.Kind == String:
		return NewBool(strings.Contains(h.S, n.S))
	}
	return nil
}

func fnAffix(a []*Value, has func(s, affix string) bool) *Value {
	s, x := a[0], a[1]
	if s == nil || x == nil || s.Kind != String || x.Kind != String {
		return nil
	}
	return NewBool(has(s.S, x.S))
}

// fnTokenize splits a string at the matches of a regular expression, as
// jsoncons does (std::regex_token_iterator's pieces between matches): a
// match at the start gives an empty first piece, one at the end no empty
// last piece, and a string without a match is its own one piece, as in
// `$.books[?(tokenize(@.author, '\\s+')[-1] == 'Murakami')]`. Patterns
// are RE2's syntax, which for the usual classes, alternations and
// repetitions is ECMAScript's (jsoncons's); a pattern that does not
// compile yields nothing, and a literal one is an error when the path is
// compiled.
func fnTokenize(a []*Value) *Value {
	s, pat := a[0], a[1]
	if s == nil || pat == nil || s.Kind != String || pat.Kind != String {
		return nil
	}
	re, err := compilePattern(pat.S)
	if err != nil {
		return nil
	}
	var out []*Value
	last := 0
	for _, m := range re.FindAllStringIndex(s.S, -1) {
		out = append(out, NewString(s.S[last:m[0]]))
		last = m[1]
	}
	if last < len(s.S) || len(out) == 0 {
		out = append(out, NewString(s.S[last:]))
	}
	return NewArray(out)
}

// lastPattern is the pattern tokenize compiled last: a filter calls it
// once per candidate, nearly always with the same literal pattern.
var lastPattern atomic.Pointer[compiledPattern]

// compiledPattern is a pattern and what compiling it gave.
type compiledPattern struct {
	pat string
	re  *regexp.Regexp
	err error
}

// compilePattern compiles tokenize's pattern, or takes it from lastPattern.
func compilePattern(pat string) (*regexp.Regexp, error) {
	if c := lastPattern.Load(); c != nil && c.pat == pat {
		return c.re, c.err
	}
	re, err := regexp.Compile(pat)
	lastPattern.Store(&compiledPattern{pat, re, err})
	return re, err
}

// badPattern reports whether a call of name has a literal pattern
// argument that does not compile.
func badPattern(name string, args []*expr) bool {
	if name != "tokenize" || args[1].kind != exLit || args[1].lit.Kind != String {
		return false
	}
	_, err := compilePattern(args[1].lit.S)
	return err != nil
}

// callFunc evaluates a function call of a filter for the candidate cur,
// and the selectors after it on its result.
func callFunc(e *expr, cur, root *Value, depth int) *Value {
	var buf [2]*Value
	args := buf[:0]
	for _, arg := range e.args {
		args = append(args, funcArg(arg, cur, root, depth))
	}
	v := e.fn.eval(args)
	switch {
	case v == nil || len(e.segs) == 0:
		return v
	case depth > 64:
		return nil // as operandNodes
	}
	return selected(e.segs, evalSegments(e.segs, []Node{{V: v}}, root, depth))
}

// funcArg is an argument's value (see the package comment above).
func funcArg(e *expr, cur, root *Value, depth int) *Value {
	if e.kind != exPath {
		return operand(e, cur, root, depth)
	}
	return selected(e.segs, operandNodes(e, cur, root, depth))
}

// selected is what segs selected as one value: the value of the one
// location they may name (nil if none), or the array of the values of
// all the locations they selected.
func selected(segs []segment, nodes []Node) *Value {
	if singular(segs) {
		if len(nodes) == 0 {
			return nil
		}
		return nodes[0].V
	}
	vals := make([]*Value, len(nodes))
	for i, n := range nodes {
		vals[i] = n.V
	}
	return NewArray(vals)
}

// singular reports whether segs name at most one location.
func singular(segs []segment) bool {
	return (&Path{segs: segs}).Static()
}

// isFuncName reports whether c may be part of a function's name.
func isFuncName(c byte) bool { return 'a' <= c && c <= 'z' || c == '_' }
