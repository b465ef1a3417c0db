package jsonpath

import (
	"math"
	"sort"
	"strings"
)

// MaxDepth bounds the nesting of documents (KVRocks's default
// json-max-nesting-depth). Decoding, printing and querying recurse once
// per level, a few hundred bytes of stack each, so the bound keeps the
// worst case well under a megabyte of goroutine stack.
const MaxDepth = 1024

// Kind is a JSON value's type.
type Kind uint8

const (
	Null Kind = iota
	Bool
	Int   // fits int64
	Uint  // above math.MaxInt64, fits uint64
	Float // any other number
	String
	Array
	Object
)

// TypeName is the name JSON.TYPE answers with.
func (k Kind) TypeName() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Int, Uint:
		return "integer"
	case Float:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	}
	return "object"
}

// Value is one JSON value. Only the fields of its Kind are meaningful.
type Value struct {
	Kind Kind
	B    bool
	I    int64
	U    uint64
	F    float64
	S    string
	A    []*Value
	O    []Member // sorted by Key, keys unique
}

// Member is one key of an object.
type Member struct {
	Key string
	Val *Value
}

// Constructors.

func NewNull() *Value            { return &Value{Kind: Null} }
func NewBool(b bool) *Value      { return &Value{Kind: Bool, B: b} }
func NewInt(i int64) *Value      { return &Value{Kind: Int, I: i} }
func NewFloat(f float64) *Value  { return &Value{Kind: Float, F: f} }
func NewString(s string) *Value  { return &Value{Kind: String, S: s} }
func NewArray(a []*Value) *Value { return &Value{Kind: Array, A: a} }
func NewObject() *Value          { return &Value{Kind: Object} }

// IsNumber reports whether v is an integer or a float.
func (v *Value) IsNumber() bool { return v.Kind == Int || v.Kind == Uint || v.Kind == Float }

// Float64 is v's numeric value as a float64 (0 for non-numbers).
func (v *Value) Float64() float64 {
	switch v.Kind {
	case Int:
		return float64(v.I)
	case Uint:
		return float64(v.U)
	case Float:
		return v.F
	}
	return 0
}

// Len is an array's or object's element count, a string's byte length.
func (v *Value) Len() int {
	switch v.Kind {
	case Array:
		return len(v.A)
	case Object:
		return len(v.O)
	case String:
		return len(v.S)
	}
	return 0
}

// find returns the index of key in object v, and whether it is there.
func (v *Value) find(key string) (int, bool) {
	i := sort.Search(len(v.O), func(i int) bool { return v.O[i].Key >= key })
	return i, i < len(v.O) && v.O[i].Key == key
}

// Get returns object v's member key, or nil.
func (v *Value) Get(key string) *Value {
	if v.Kind != Object {
		return nil
	}
	if i, ok := v.find(key); ok {
		return v.O[i].Val
	}
	return nil
}

// Put sets object v's member key to val (the last write of a key wins).
func (v *Value) Put(key string, val *Value) {
	i, ok := v.find(key)
	if ok {
		v.O[i].Val = val
		return
	}
	v.O = append(v.O, Member{})
	copy(v.O[i+1:], v.O[i:])
	v.O[i] = Member{Key: key, Val: val}
}

// Remove deletes object v's member key; false when absent.
func (v *Value) Remove(key string) bool {
	i, ok := v.find(key)
	if ok {
		v.O = append(v.O[:i], v.O[i+1:]...)
	}
	return ok
}

// Clone returns a deep copy of v.
func (v *Value) Clone() *Value {
	c := *v
	switch v.Kind {
	case Array:
		c.A = make([]*Value, len(v.A))
		for i, e := range v.A {
			c.A[i] = e.Clone()
		}
	case Object:
		c.O = make([]Member, len(v.O))
		for i, m := range v.O {
			c.O[i] = Member{m.Key, m.Val.Clone()}
		}
	}
	return &c
}

// Equal reports whether a and b are the same JSON value; numbers compare
// by value whatever their representation (1 equals 1.0), as jsoncons does.
func Equal(a, b *Value) bool {
	if a.IsNumber() && b.IsNumber() {
		return numCompare(a, b) == 0
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Null:
		return true
	case Bool:
		return a.B == b.B
	case String:
		return a.S == b.S
	case Array:
		if len(a.A) != len(b.A) {
			return false
		}
		for i := range a.A {
			if !Equal(a.A[i], b.A[i]) {
				return false
			}
		}
		return true
	}
	if len(a.O) != len(b.O) {
		return false
	}
	for i := range a.O {
		if a.O[i].Key != b.O[i].Key || !Equal(a.O[i].Val, b.O[i].Val) {
			return false
		}
	}
	return true
}

// numCompare orders two numbers exactly where both are integers.
func numCompare(a, b *Value) int {
	switch {
	case a.Kind == Int && b.Kind == Int:
		return cmp3(a.I < b.I, a.I > b.I)
	case a.Kind == Uint && b.Kind == Uint:
		return cmp3(a.U < b.U, a.U > b.U)
	case a.Kind == Int && b.Kind == Uint:
		return -1 // every Uint is above MaxInt64
	case a.Kind == Uint && b.Kind == Int:
		return 1
	}
	x, y := a.Float64(), b.Float64()
	if math.IsNaN(x) || math.IsNaN(y) {
		return 2
	}
	return cmp3(x < y, x > y)
}

func cmp3(lt, gt bool) int {
	if lt {
		return -1
	}
	if gt {
		return 1
	}
	return 0
}

// compareValues orders a and b for filter comparisons: numbers by value,
// strings by bytes; ok is false when they are not comparable.
func compareValues(a, b *Value) (int, bool) {
	if a.IsNumber() && b.IsNumber() {
		c := numCompare(a, b)
		return c, c != 2
	}
	if a.Kind == String && b.Kind == String {
		return strings.Compare(a.S, b.S), true
	}
	return 0, false
}
