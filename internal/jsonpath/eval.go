package jsonpath

import "math"

// Node is one location a query selected: the value, and where it sits
// (Parent nil for the root; Key in an object parent, Index in an array
// parent) so that commands can replace or remove it.
type Node struct {
	V      *Value
	Parent *Value
	Key    string
	Index  int
}

// Query returns the locations p selects in root, in document order as
// jsoncons yields them: union selectors in the order written, recursive
// descent pre-order with members in key order.
func (p *Path) Query(root *Value) []Node {
	return evalSegments(p.segs, []Node{{V: root}}, root, 0)
}

// Values returns the values p selects in root.
func (p *Path) Values(root *Value) []*Value {
	nodes := p.Query(root)
	out := make([]*Value, len(nodes))
	for i, n := range nodes {
		out[i] = n.V
	}
	return out
}

func evalSegments(segs []segment, nodes []Node, root *Value, depth int) []Node {
	for _, seg := range segs {
		var next []Node
		for _, n := range nodes {
			if seg.recursive {
				descend(n, func(d Node) { next = applySelectors(seg.sels, d, root, next, depth) }, 0)
			} else {
				next = applySelectors(seg.sels, n, root, next, depth)
			}
		}
		nodes = next
		if len(nodes) == 0 {
			break
		}
	}
	return nodes
}

// descend calls fn for n and each node under it, pre-order. Documents are
// at most MaxDepth deep, which bounds the recursion.
func descend(n Node, fn func(Node), level int) {
	fn(n)
	if level > MaxDepth {
		return
	}
	switch n.V.Kind {
	case Array:
		for i, e := range n.V.A {
			descend(Node{V: e, Parent: n.V, Index: i}, fn, level+1)
		}
	case Object:
		for _, m := range n.V.O {
			descend(Node{V: m.Val, Parent: n.V, Key: m.Key}, fn, level+1)
		}
	}
}

func applySelectors(sels []selector, n Node, root *Value, out []Node, depth int) []Node {
	v := n.V
	for i := range sels {
		s := &sels[i]
		switch s.kind {
		case selName:
			if v.Kind == Object {
				if c := v.Get(s.name); c != nil {
					out = append(out, Node{V: c, Parent: v, Key: s.name})
				}
			}
		case selIndex:
			if v.Kind == Array {
				idx := s.index
				if idx < 0 {
					idx += len(v.A)
				}
				if idx >= 0 && idx < len(v.A) {
					out = append(out, Node{V: v.A[idx], Parent: v, Index: idx})
				}
			}
		case selWildcard:
			out = children(v, out)
		case selSlice:
			if v.Kind == Array {
				start, end, step := sliceBounds(s, len(v.A))
				if step > 0 {
					for i := start; i < end; i += step {
						out = append(out, Node{V: v.A[i], Parent: v, Index: i})
					}
				} else {
					for i := start; i > end; i += step {
						out = append(out, Node{V: v.A[i], Parent: v, Index: i})
					}
				}
			}
		case selFilter:
			for _, c := range children(v, nil) {
				if truthy(&s.filter, c.V, root, depth+1) {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

func children(v *Value, out []Node) []Node {
	switch v.Kind {
	case Array:
		for i, e := range v.A {
			out = append(out, Node{V: e, Parent: v, Index: i})
		}
	case Object:
		for _, m := range v.O {
			out = append(out, Node{V: m.Val, Parent: v, Key: m.Key})
		}
	}
	return out
}

// sliceBounds normalizes a slice as Python (and RFC 9535) do.
func sliceBounds(s *selector, n int) (start, end, step int) {
	step = s.step
	norm := func(i int) int {
		if i < 0 {
			return i + n
		}
		return i
	}
	if step > 0 {
		start, end = 0, n
		if s.hasStart {
			start = min(max(norm(s.start), 0), n)
		}
		if s.hasEnd {
			end = min(max(norm(s.end), 0), n)
		}
		return start, end, step
	}
	start, end = n-1, -1
	if s.hasStart {
		start = min(max(norm(s.start), -1), n-1)
	}
	if s.hasEnd {
		end = min(max(norm(s.end), -1), n-1)
	}
	return start, end, step
}

// isFalse is jsoncons's falsehood, which a filter's result is tested
// by: null (and nothing selected), false, "", [] and {}. Numbers, 0
// included, are true.
func isFalse(v *Value) bool {
	if v == nil {
		return true
	}
	switch v.Kind {
	case Null:
		return true
	case Bool:
		return !v.B
	case String:
		return v.S == ""
	case Array:
		return len(v.A) == 0
	case Object:
		return len(v.O) == 0
	}
	return false
}

// truthy evaluates a filter for the candidate cur. A path is tested by
// its value as jsoncons evaluates it: a path naming at most one location
// by that location's value (so [?@.active] drops an item whose active is
// false, "" or missing), any other by whether it selected anything.
func truthy(e *expr, cur, root *Value, depth int) bool {
	switch e.kind {
	case exOr:
		return truthy(e.l, cur, root, depth) || truthy(e.r, cur, root, depth)
	case exAnd:
		return truthy(e.l, cur, root, depth) && truthy(e.r, cur, root, depth)
	case exNot:
		return !truthy(e.l, cur, root, depth)
	case exLit:
		return !isFalse(e.lit)
	case exPath:
		return !isFalse(funcArg(e, cur, root, depth))
	case exRegex:
		v := funcArg(e.l, cur, root, depth)
		return v != nil && v.Kind == String && e.regexp.MatchString(v.S)
	case exFunc, exArith, exNeg:
		return !isFalse(operand(e, cur, root, depth))
	}
	// As jsoncons: a path naming one location compares by its value,
	// null when it selected nothing; any other path by the array of
	// what it selected.
	l, r := orNull(funcArg(e.l, cur, root, depth)), orNull(funcArg(e.r, cur, root, depth))
	switch e.op {
	case "==":
		return Equal(l, r)
	case "!=":
		return !Equal(l, r)
	}
	c, ok := compareValues(l, r)
	if !ok {
		return false
	}
	switch e.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// operand is the value of a filter operand that is not a path (funcArg
// gives a path's): a literal, a function's or an arithmetic operator's
// result, the operand && or || yields, or the boolean a test yields.
func operand(e *expr, cur, root *Value, depth int) *Value {
	switch e.kind {
	case exLit:
		return e.lit
	case exFunc:
		return callFunc(e, cur, root, depth)
	case exArith:
		return arith(e.op[0], funcArg(e.l, cur, root, depth), funcArg(e.r, cur, root, depth))
	case exNeg:
		return negate(funcArg(e.l, cur, root, depth))
	case exOr:
		// As jsoncons: the first operand that is not false, else the
		// second; null when both are null.
		l, r := funcArg(e.l, cur, root, depth), funcArg(e.r, cur, root, depth)
		if isNull(l) && isNull(r) {
			return NewNull()
		}
		if !isFalse(l) {
			return l
		}
		return orNull(r)
	case exAnd:
		// As jsoncons: the second operand when the first is true, else
		// the first.
		if l := funcArg(e.l, cur, root, depth); isFalse(l) {
			return orNull(l)
		}
		return orNull(funcArg(e.r, cur, root, depth))
	}
	return NewBool(truthy(e, cur, root, depth))
}

// isNull reports a null value or nothing selected.
func isNull(v *Value) bool { return v == nil || v.Kind == Null }

// orNull is v, or null for nothing selected.
func orNull(v *Value) *Value {
	if v == nil {
		return NewNull()
	}
	return v
}

// arith is a binary arithmetic operator, as jsoncons's filters compute
// it. Operands take the values they would have as function arguments
// (funcs.go: a path that may name several locations is an array), and
// anything but two numbers yields null: a path that selects nothing, a
// string, a boolean, an array. Two integers that fit int64 compute in
// int64; two that fit uint64 (one of them above math.MaxInt64) in uint64,
// both wrapping around on overflow; any other pair in float64, where x/0
// is ±Inf and x%0 NaN. An integer division or remainder by zero, which
// jsoncons leaves to the processor (a trap), yields null.
func arith(op byte, a, b *Value) *Value {
	if a == nil || b == nil || !a.IsNumber() || !b.IsNumber() {
		return NewNull()
	}
	switch {
	case a.Kind == Int && b.Kind == Int:
		x, y := a.I, b.I
		switch op {
		case '+':
			return NewInt(x + y)
		case '-':
			return NewInt(x - y)
		case '*':
			return NewInt(x * y)
		}
		if y == 0 {
			return NewNull()
		}
		if op == '/' {
			return NewInt(x / y) // MinInt64 / -1 wraps to MinInt64
		}
		return NewInt(x % y)
	case unsigned(a) && unsigned(b):
		x, y := asUint(a), asUint(b)
		switch op {
		case '+':
			return newUint(x + y)
		case '-':
			return newUint(x - y)
		case '*':
			return newUint(x * y)
		}
		if y == 0 {
			return NewNull()
		}
		if op == '/' {
			return newUint(x / y)
		}
		return newUint(x % y)
	}
	x, y := a.Float64(), b.Float64()
	switch op {
	case '+':
		return NewFloat(x + y)
	case '-':
		return NewFloat(x - y)
	case '*':
		return NewFloat(x * y)
	case '/':
		return NewFloat(x / y)
	}
	return NewFloat(math.Mod(x, y))
}

// negate is unary minus: an integer that fits int64 (MinInt64 stays
// itself) or a float; anything else, a larger integer too, is null.
func negate(v *Value) *Value {
	switch {
	case v == nil:
		return NewNull()
	case v.Kind == Int:
		return NewInt(-v.I)
	case v.Kind == Float:
		return NewFloat(-v.F)
	}
	return NewNull()
}

// unsigned reports whether v is an integer that fits uint64.
func unsigned(v *Value) bool { return v.Kind == Uint || v.Kind == Int && v.I >= 0 }

// asUint is an unsigned integer's value.
func asUint(v *Value) uint64 {
	if v.Kind == Uint {
		return v.U
	}
	return uint64(v.I)
}

// newUint is u as the package stores integers: Int when it fits int64.
func newUint(u uint64) *Value {
	if u <= math.MaxInt64 {
		return NewInt(int64(u))
	}
	return &Value{Kind: Uint, U: u}
}

func operandNodes(e *expr, cur, root *Value, depth int) []Node {
	if depth > 64 {
		return nil
	}
	start := root
	if e.rel {
		start = cur
	}
	return evalSegments(e.segs, []Node{{V: start}}, root, depth)
}
