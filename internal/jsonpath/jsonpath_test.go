package jsonpath

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) *Value {
	t.Helper()
	v, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return v
}

func TestParsePrint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{` {"y":2, "x":1} `, `{"x":1,"y":2}`},
		{`[1, -2, 3.5, 1e3, 1E-7, 0.1, -0.0, 100000000000000000000]`, `[1,-2,3.5,1000.0,1e-07,0.1,-0.0,1e+20]`},
		{`9223372036854775807`, `9223372036854775807`},
		{`18446744073709551615`, `18446744073709551615`},
		{`-9223372036854775809`, `-9.223372036854776e+18`},
		{`"a\"b\\c\/\n\u0001\u00e9\ud83d\ude00"`, `"a\"b\\c/\n\u0001é😀"`},
		{`{"a":1,"a":2}`, `{"a":2}`},
		{`[true,false,null,[],{}]`, `[true,false,null,[],{}]`},
		{`1.0`, `1.0`},
		{`123456789012345680000.0`, `1.2345678901234568e+20`},
	} {
		v := mustParse(t, tc.in)
		if got := string(AppendCompact(nil, v)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{``, ` `, `{`, `[1,]`, `{"a"}`, `{"a":}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`,
		`tru`, `nul`, `"abc`, "\"a\x01\"", `"\x"`, `"\u12"`, `[1 2]`, `{"a":1 "b":2}`, `1 2`, "\"\xff\"", `'a'`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
	_, err := Parse([]byte("[1,\n  x]"))
	if err == nil || err.Error() != "Expected value at line 2 and column 3" {
		t.Fatalf("error = %v", err)
	}
}

func TestDepthLimit(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	v := mustParse(t, ok)
	if Depth(v) != MaxDepth {
		t.Fatalf("Depth = %d", Depth(v))
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, err := Parse([]byte(deep)); err == nil {
		t.Fatal("a document past MaxDepth parsed")
	}
	// Hostile input far past the limit fails fast, without recursing.
	if _, err := Parse([]byte(strings.Repeat(`{"a":`, 1<<20))); err == nil {
		t.Fatal("1M nested objects parsed")
	}
	// CBOR: nested arrays and chains of tags are bounded too.
	if _, err := ParseCBOR(bytes.Repeat([]byte{0x81}, 1<<20)); err == nil {
		t.Fatal("1M nested CBOR arrays parsed")
	}
	if _, err := ParseCBOR(append(bytes.Repeat([]byte{0xc0}, 1<<20), 0x01)); err == nil {
		t.Fatal("1M CBOR tags parsed")
	}
	if _, err := ParseCBOR(AppendCBOR(nil, v)); err != nil {
		t.Fatalf("CBOR of a MaxDepth document: %v", err)
	}
}

func TestFormat(t *testing.T) {
	v := mustParse(t, `{"x":1,"y":[1,{}],"z":[]}`)
	for _, tc := range []struct {
		f    Format
		want string
	}{
		{Format{}, `{"x":1,"y":[1,{}],"z":[]}`},
		{Format{Indent: " "}, `{ "x":1, "y":[  1,  {} ], "z":[]}`},
		{Format{Newline: "\n", Indent: "  ", Space: " "}, "{\n  \"x\": 1,\n  \"y\": [\n    1,\n    {}\n  ],\n  \"z\": []\n}"},
	} {
		if got := string(Append(nil, v, tc.f)); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestCBORRoundTrip(t *testing.T) {
	in := `{"a":[1,-1,-9223372036854775808,18446744073709551615,2.5,-0.0,"x",true,false,null,{}],"b":{"c":"\u00e9"}}`
	v := mustParse(t, in)
	w, err := ParseCBOR(AppendCBOR(nil, v))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(v, w) || string(AppendCompact(nil, w)) != string(AppendCompact(nil, v)) {
		t.Fatalf("round trip: %s", AppendCompact(nil, w))
	}
	// Encodings other writers use: half and single floats, indefinite
	// lengths, tags.
	for _, tc := range []struct {
		cbor []byte
		want string
	}{
		{[]byte{0xf9, 0x3c, 0x00}, `1.0`},
		{[]byte{0xfa, 0x3f, 0xc0, 0x00, 0x00}, `1.5`},
		{[]byte{0x9f, 0x01, 0x02, 0xff}, `[1,2]`},
		{[]byte{0xbf, 0x61, 'a', 0x01, 0xff}, `{"a":1}`},
		{[]byte{0x7f, 0x61, 'a', 0x61, 'b', 0xff}, `"ab"`},
		{[]byte{0xc1, 0x1a, 0x00, 0x00, 0x00, 0x01}, `1`},
		{[]byte{0x38, 0x63}, `-100`},
	} {
		v, err := ParseCBOR(tc.cbor)
		if err != nil {
			t.Fatalf("%x: %v", tc.cbor, err)
		}
		if got := string(AppendCompact(nil, v)); got != tc.want {
			t.Errorf("%x: got %s, want %s", tc.cbor, got, tc.want)
		}
	}
	for _, bad := range [][]byte{{}, {0x18}, {0x62, 'a'}, {0x82, 0x01}, {0xa1, 0x01, 0x01}, {0x01, 0x02}, {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x61, 0xff}} {
		if _, err := ParseCBOR(bad); err == nil {
			t.Errorf("ParseCBOR(%x) succeeded", bad)
		}
	}
}

func TestFloatText(t *testing.T) {
	x, y := 0.1, 0.2
	point3 := x + y
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-2.5, "-2.5"}, {point3, "0.30000000000000004"}, {1e16, "10000000000000000.0"},
		{1e17, "1e+17"}, {1.5e-5, "1.5e-05"}, {1e-4, "0.0001"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{math.NaN(), "null"}, {math.Inf(1), "null"},
	} {
		if got := string(AppendFloat(nil, tc.f)); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.f, got, tc.want)
		}
	}
}

// checkQuery compiles path and compares what it selects in doc, printed
// as an array, with want.
func checkQuery(t *testing.T, doc *Value, path, want string) {
	t.Helper()
	p, err := Compile(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := string(AppendCompact(nil, NewArray(p.Values(doc)))); got != want {
		t.Errorf("%s:\n got %s\nwant %s", path, got, want)
	}
}

func TestQuery(t *testing.T) {
	doc := mustParse(t, `{"store":{"book":[{"cat":"ref","author":"Rees","price":8.95},
		{"cat":"fic","author":"Waugh","price":12.99},{"cat":"fic","author":"Melville","isbn":"0-553","price":8.99},
		{"cat":"fic","author":"Tolkien","isbn":"0-395","price":22.99}],"bicycle":{"color":"red","price":19.95}},"n":[0,1,2,3,4,5]}`)
	for _, tc := range []struct{ path, want string }{
		{`$`, `[` + string(AppendCompact(nil, doc)) + `]`},
		{`.`, `[` + string(AppendCompact(nil, doc)) + `]`},
		{`$.store.book[*].author`, `["Rees","Waugh","Melville","Tolkien"]`},
		{`$..author`, `["Rees","Waugh","Melville","Tolkien"]`},
		{`$.store.*`, `[{"color":"red","price":19.95},[{"author":"Rees","cat":"ref","price":8.95},{"author":"Waugh","cat":"fic","price":12.99},{"author":"Melville","cat":"fic","isbn":"0-553","price":8.99},{"author":"Tolkien","cat":"fic","isbn":"0-395","price":22.99}]]`},
		{`$.store..price`, `[19.95,8.95,12.99,8.99,22.99]`},
		{`$..book[2].author`, `["Melville"]`},
		{`$..book[-1].author`, `["Tolkien"]`},
		{`$..book[0,1].author`, `["Rees","Waugh"]`},
		{`$..book[:2].author`, `["Rees","Waugh"]`},
		{`$..book[?(@.isbn)].author`, `["Melville","Tolkien"]`},
		{`$..book[?(@.price<10)].author`, `["Rees","Melville"]`},
		{`$..book[?(@.price<10 && @.cat=="fic")].author`, `["Melville"]`},
		{`$..book[?(@.price > $.store.bicycle.price)].author`, `["Tolkien"]`},
		{`$..book[?(@.author =~ /^T.*n$/)].price`, `[22.99]`},
		{`$..book[?(@.cat != 'fic')].author`, `["Rees"]`},
		{`$..book[?(!@.isbn)].author`, `["Rees","Waugh"]`},
		{`$.n[1:5:2]`, `[1,3]`},
		{`$.n[::-2]`, `[5,3,1]`},
		{`$.n[-2:]`, `[4,5]`},
		{`$.n[10:]`, `[]`},
		{`$.n[?(@ >= 4)]`, `[4,5]`},
		{`$['store']['bicycle']["color"]`, `["red"]`},
		{`store.bicycle.color`, `["red"]`},
		{`.store.book[0].cat`, `["ref"]`},
		{`$.nope`, `[]`},
		{`$.n.x`, `[]`},
		{`$.n[99]`, `[]`},
	} {
		checkQuery(t, doc, tc.path, tc.want)
	}
}

func TestCompile(t *testing.T) {
	for _, tc := range []struct {
		path   string
		legacy bool
	}{{"$", false}, {"$.a", false}, {"$[0]", false}, {".", true}, {".a", true}, {"a", true}, {"a.b[0]", true}, {"$a", true}} {
		p, err := Compile(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if p.Legacy() != tc.legacy {
			t.Errorf("%s: legacy %v", tc.path, p.Legacy())
		}
	}
	for _, bad := range []string{"", "$[", "$[1", "$.", "$..", "$[?(@.a==)]", "$[?(@.a", "$['a", "$[1:2:0]", "$[a]", "$]",
		"$[?(@.a =~ /(/)]", "$[" + strings.Repeat("?(", 100) + "@" + strings.Repeat(")", 100) + "]",
		"$." + strings.Repeat("a", 5000)} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) succeeded", bad)
		}
	}
}

func TestEdit(t *testing.T) {
	doc := mustParse(t, `{"a":[1,2,3,4],"b":{"a":5},"c":{"d":{"a":6}}}`)
	p, _ := Compile("$..a")
	if n := Delete(doc, p.Query(doc)); n != 3 {
		t.Fatalf("Delete = %d", n)
	}
	if got := string(AppendCompact(nil, doc)); got != `{"b":{},"c":{"d":{}}}` {
		t.Fatalf("after delete: %s", got)
	}
	doc = mustParse(t, `[1,2,3,4,5]`)
	p, _ = Compile("$[?(@ > 2)]")
	Delete(doc, p.Query(doc))
	if got := string(AppendCompact(nil, doc)); got != `[1,2]` {
		t.Fatalf("after delete: %s", got)
	}
	got := MergePatch(mustParse(t, `{"a":"b","c":{"d":"e","f":"g"}}`), mustParse(t, `{"a":"z","c":{"f":null}}`))
	if s := string(AppendCompact(nil, got)); s != `{"a":"z","c":{"d":"e"}}` {
		t.Fatalf("merge: %s", s)
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		eq   bool
	}{
		{`1`, `1.0`, true}, {`1`, `2`, false}, {`"1"`, `1`, false}, {`[1,{"a":null}]`, `[1.0,{"a":null}]`, true},
		{`{"a":1}`, `{"a":1,"b":2}`, false}, {`18446744073709551615`, `-1`, false}, {`9223372036854775807`, `9223372036854775806`, false},
	} {
		if got := Equal(mustParse(t, tc.a), mustParse(t, tc.b)); got != tc.eq {
			t.Errorf("Equal(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

// TestFilterFunctions: jsoncons's filter functions, as KVRocks's JSON
// commands accept them.
func TestFilterFunctions(t *testing.T) {
	doc := mustParse(t, `{"book":[{"author":"Nigel Rees","price":8.95,"tags":["a","b","c"],"n":"12"},
		{"author":"Evelyn Waugh","price":12.99,"tags":["a"],"n":"x"},
		{"author":"Herman Melville","price":8.99,"tags":[],"n":-3},
		{"author":"J. R. R. Tolkien","price":22.99,"tags":["b","d"],"n":2.5}],
		"m":{"x":1,"y":2},"s":"héllo"}`)
	for _, tc := range []struct{ path, want string }{
		{`$.book[?(length(@.tags) >= 2)].author`, `["Nigel Rees","J. R. R. Tolkien"]`},
		{`$.book[?(length(@.author) == 12)].price`, `[12.99]`},
		{`$[?(length(@.x) == 1)]`, `[]`},
		{`$[?(length($.s) == 5)].x`, `[1]`},
		{`$.book[?(@.price < max($.book[*].price))].author`, `["Nigel Rees","Evelyn Waugh","Herman Melville"]`},
		{`$.book[?(@.price == min($.book[*].price))].author`, `["Nigel Rees"]`},
		{`$.book[?(@.price > avg($.book[*].price))].author`, `["J. R. R. Tolkien"]`},
		{`$.book[?(sum($.book[*].price) > 53)].price`, `[8.95,12.99,8.99,22.99]`},
		{`$.book[?(prod($.book[0:2].price) > 116)].price`, `[8.95,12.99,8.99,22.99]`},
		{`$.book[?(contains(@.tags, 'b'))].author`, `["Nigel Rees","J. R. R. Tolkien"]`},
		{`$.book[?(contains(@.author, 'Wau'))].price`, `[12.99]`},
		{`$.book[?(starts_with(@.author, 'J.'))].price`, `[22.99]`},
		{`$.book[?(ends_with(@.author, 'ville'))].price`, `[8.99]`},
		{`$.book[?(to_number(@.n) > 10)].author`, `["Nigel Rees"]`},
		{`$.book[?(abs(@.n) == 3)].author`, `["Herman Melville"]`},
		{`$.book[?(ceil(@.price) == 9)].author`, `["Nigel Rees","Herman Melville"]`},
		{`$.book[?(floor(@.price) == 22)].author`, `["J. R. R. Tolkien"]`},
		{`$[?(contains(keys(@), 'y'))]`, `[{"x":1,"y":2}]`},
		// Wrong types yield nothing: false in a comparison.
		{`$.book[?(sum(@.author) > 0)].price`, `[]`},
		{`$.book[?(length(@.price) > 0)].price`, `[]`},
		{`$.book[?(!contains(@.tags, 'a'))].author`, `["Herman Melville","J. R. R. Tolkien"]`},
	} {
		checkQuery(t, doc, tc.path, tc.want)
	}
	for _, bad := range []string{`$[?(nosuch(@))]`, `$[?(length())]`, `$[?(length(@, @))]`, `$[?(contains(@))]`, `$[?(length(@)]`} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) succeeded", bad)
		}
	}
}

// TestFilterArithmetic: jsoncons's arithmetic in filters, its precedence
// (unary ! and -, =~, * / %, + -, comparisons, ==/!=, &&, ||; binary
// operators left-associative) and its types: int64 arithmetic for
// integers, uint64 past MaxInt64, float64 otherwise, null for anything
// that is not two numbers.
func TestFilterArithmetic(t *testing.T) {
	doc := mustParse(t, `{"books":[{"title":"A","price":8.95,"qty":3,"a":2,"b":3},
		{"title":"B","price":12.99,"qty":0,"a":1,"b":4},
		{"title":"C","price":22.99,"qty":-2,"a":"x","b":1},
		{"title":"D","price":5,"a":9223372036854775807,"b":1}],
		"n":[-3,-1,0,1,2,7,2.5],"big":18446744073709551615}`)
	for _, tc := range []struct{ path, want string }{
		{`$.books[?(@.price * 2 > 20)].title`, `["B","C"]`},
		{`$.books[?(@.price*2>20)].title`, `["B","C"]`},
		{`$.books[?(@.a + @.b == 5)].title`, `["A","B"]`},
		{`$.books[?(@.a-1==1)].title`, `["A"]`},
		{`$.n[?(-@ < 0)]`, `[1,2,7,2.5]`},
		{`$.n[?(@ == -1)]`, `[-1]`},
		{`$.n[?(- @ == 3)]`, `[-3]`},
		{`$.n[?(--@ == 2)]`, `[2]`},
		// * before +, left to right within a level, parentheses first.
		{`$.n[?(@ + 2 * 3 == 7)]`, `[1]`},
		{`$.n[?((@ + 2) * 3 == 9)]`, `[1]`},
		{`$.n[?(10 - @ - 3 == 5)]`, `[2]`},
		{`$.n[?(12 / @ / 2 == 3)]`, `[2]`},
		{`$.n[?(1 + 2*3 - 4/2 == 5 && @ == 0)]`, `[0]`},
		// Integer division truncates; % takes the dividend's sign; a
		// float operand computes in float64 (fmod).
		{`$.n[?(@ / 2 == 0)]`, `[-1,0,1]`},
		{`$.n[?(@ % 2 == -1)]`, `[-3,-1]`},
		{`$.n[?(@ % 2 == 0.5)]`, `[2.5]`},
		{`$.books[?(@.price + 0.05 == 9)].title`, `["A"]`},
		// Division by zero: null for integers, ±Inf or NaN for floats.
		{`$.n[?(@ / 0 == null)]`, `[-3,-1,0,1,2,7]`},
		{`$.n[?(@ % 0 == null)]`, `[-3,-1,0,1,2,7]`},
		{`$.n[?(@ / 0.0 > 1000)]`, `[1,2,7,2.5]`},
		{`$.n[?(@ / 0)]`, `[2.5]`},
		// Not two numbers: null, which compares unequal to anything else.
		{`$.books[?(@.title + 1 == null)].title`, `["A","B","C","D"]`},
		{`$.books[?(@.title + 1)].title`, `[]`},
		{`$.books[?(@.title * 2 != 4)].title`, `["A","B","C","D"]`},
		{`$.books[?(@.a * 2 == 4)].title`, `["A"]`},
		{`$.books[?(@.qty + 1 > 0)].title`, `["A","B"]`},
		{`$.books[?(-@.a < 0)].title`, `["A","B","D"]`},
		{`$.books[?(-@.title == null)].title`, `["A","B","C","D"]`},
		{`$.books[?($.books[*].qty + 1 == null)].title`, `["A","B","C","D"]`},
		// Integers wrap: int64, and uint64 past MaxInt64; minus does not
		// apply to an integer past MaxInt64.
		{`$.books[?(@.a + 1 < 0)].title`, `["D"]`},
		{`$.n[?($.big + @ == 0)]`, `[1]`},
		{`$.n[?(-$.big == null && @ == 0)]`, `[0]`},
		// A number is true whatever its value.
		{`$.n[?(@ - 1)]`, `[-3,-1,0,1,2,7,2.5]`},
		// Arithmetic in and on function calls.
		{`$.books[?(abs(@.qty - 1) == 3)].title`, `["C"]`},
		{`$.books[?(@.price > avg($.books[*].price) - 1)].title`, `["B","C"]`},
		// ! binds tighter than comparisons and =~; comparisons chain.
		{`$.books[?(!@.qty == true)].title`, `["D"]`},
		{`$.books[?(!@.title =~ /A/)].title`, `[]`},
		{`$.books[?(!(@.title =~ /A/))].title`, `["B","C","D"]`},
		{`$.n[?(@ > 0 == true)]`, `[1,2,7,2.5]`},
	} {
		checkQuery(t, doc, tc.path, tc.want)
	}
	for _, bad := range []string{`$[?(@.a +)]`, `$[?(@.a * * 2)]`, `$[?(-)]`, `$[?(+1)]`, `$[?(1e)]`, `$[?(2.)]`,
		`$[?(@.a - b)]`, `$[?(@.a =~ /x/ +)]`, `$[?(1 2)]`, "$[?(" + strings.Repeat("-", 100) + "1)]"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) succeeded", bad)
		}
	}
	// Outside filters a name may hold the operators' characters.
	checkQuery(t, mustParse(t, `{"a-b":{"c*d":1}}`), `$.a-b.c*d`, `[1]`)
}

// TestFilterTruthiness: a filter keeps a candidate when its expression is
// true as jsoncons (1.6, KVRocks's) tests it: null, false, "", [] and {}
// are false, numbers (0 too) and everything else true; a path naming one
// location is tested by that location's value (missing: null), any other
// path by whether it selected anything; && and || yield one of their
// operands; in a comparison a one-location path is its value (null when
// missing), any other the array of what it selected.
func TestFilterTruthiness(t *testing.T) {
	doc := mustParse(t, `[{"a":true},{"a":false},{"a":""},{"a":0},{"a":[]},{"a":{}},{"a":null},{"b":1},{"a":"x"},{"a":[1]}]`)
	for _, tc := range []struct{ path, want string }{
		{`$[?@.a]`, `[{"a":true},{"a":0},{"a":"x"},{"a":[1]}]`},
		{`$[?(@.a)]`, `[{"a":true},{"a":0},{"a":"x"},{"a":[1]}]`},
		{`$[?!@.a]`, `[{"a":false},{"a":""},{"a":[]},{"a":{}},{"a":null},{"b":1}]`},
		{`$[?@.a && @.a != 0]`, `[{"a":true},{"a":"x"},{"a":[1]}]`},
		// || yields its first true operand, else the second.
		{`$[?(@.a || @.b) == 1]`, `[{"b":1}]`},
		{`$[?(@.a || 7) == 7]`, `[{"a":false},{"a":""},{"a":[]},{"a":{}},{"a":null},{"b":1}]`},
		{`$[?(@.a || @.b) == null]`, `[{"a":false},{"a":""},{"a":[]},{"a":{}},{"a":null}]`},
		// && yields its second operand when the first is true.
		{`$[?(@.a && "y") == "y"]`, `[{"a":true},{"a":0},{"a":"x"},{"a":[1]}]`},
		{`$[?(@.a && 1) == ""]`, `[{"a":""}]`},
		// A path that may name several locations: anything selected.
		{`$[?@.*]`, `[{"a":true},{"a":false},{"a":""},{"a":0},{"a":[]},{"a":{}},{"a":null},{"b":1},{"a":"x"},{"a":[1]}]`},
		{`$[?@.a[*]]`, `[{"a":[1]}]`},
		// Comparisons: a one-location path that selected nothing is
		// null; any other path compares as the array of its values.
		{`$[?@.a == null]`, `[{"a":null},{"b":1}]`},
		{`$[?@.a != null]`, `[{"a":true},{"a":false},{"a":""},{"a":0},{"a":[]},{"a":{}},{"a":"x"},{"a":[1]}]`},
		{`$[?@.a < 1]`, `[{"a":0}]`},
		{`$[?@.* == true]`, `[]`},
		{`$[?@.* == $[9].a]`, `[{"b":1}]`},
		{`$[?@.a[*] == $[9].a]`, `[{"a":[1]}]`},
		// Literals and function results.
		{`$[?""]`, `[]`},
		{`$[?0]`, `[{"a":true},{"a":false},{"a":""},{"a":0},{"a":[]},{"a":{}},{"a":null},{"b":1},{"a":"x"},{"a":[1]}]`},
		// length is a number (true, 0 too), or null for a boolean or a
		// number.
		{`$[?length(@.a)]`, `[{"a":""},{"a":[]},{"a":{}},{"a":"x"},{"a":[1]}]`},
	} {
		checkQuery(t, doc, tc.path, tc.want)
	}
}

// TestTokenize: tokenize(string, pattern) splits as jsoncons's does, and
// selectors apply to a function's result.
func TestTokenize(t *testing.T) {
	for _, tc := range []struct{ s, pat, want string }{
		{"Haruki Murakami", `\s+`, `["Haruki","Murakami"]`},
		{",a,,b,", ",", `["","a","","b"]`},
		{"a1b22c", `\d+`, `["a","b","c"]`},
		{"abc", ",", `["abc"]`},
		{",", ",", `[""]`},
		{"", ",", `[""]`},
	} {
		got := fnTokenize([]*Value{NewString(tc.s), NewString(tc.pat)})
		if s := string(AppendCompact(nil, got)); s != tc.want {
			t.Errorf("tokenize(%q, %q) = %s, want %s", tc.s, tc.pat, s, tc.want)
		}
	}
	for _, args := range [][]*Value{{NewInt(1), NewString(",")}, {NewString("a"), NewInt(1)}, {nil, NewString(",")}, {NewString("a"), NewString("(")}} {
		if got := fnTokenize(args); got != nil {
			t.Errorf("tokenize(%v) = %s, want nothing", args, AppendCompact(nil, got))
		}
	}
	doc := mustParse(t, `{"books":[{"title":"A Wild Sheep Chase","author":"Haruki Murakami"},
		{"title":"Almost Transparent Blue","author":"Ryu Murakami"},
		{"title":"The Quiet American","author":"Graham Greene"}],"bad":"(","n":5}`)
	for _, tc := range []struct{ path, want string }{
		{`$.books[?(tokenize(@.author,'\\s+')[-1] == 'Murakami')].title`, `["A Wild Sheep Chase","Almost Transparent Blue"]`},
		{`$.books[?(tokenize(@.author, ' ')[0] == 'Ryu')].title`, `["Almost Transparent Blue"]`},
		{`$.books[?(length(tokenize(@.title, ' ')) == 3)].title`, `["Almost Transparent Blue","The Quiet American"]`},
		{`$.books[?(contains(tokenize(@.title, '\\s'), 'Quiet'))].author`, `["Graham Greene"]`},
		{`$.books[?(tokenize(@.author, ' ')[5] != 'x')].author`, `["Haruki Murakami","Ryu Murakami","Graham Greene"]`},
		{`$.books[?(tokenize($.n, ' '))].title`, `[]`},
		{`$.books[?(tokenize(@.author, $.bad)[0])].title`, `[]`},
		{`$.books[?(keys(@)[0] == 'author')].title`, `["A Wild Sheep Chase","Almost Transparent Blue","The Quiet American"]`},
	} {
		checkQuery(t, doc, tc.path, tc.want)
	}
	for _, bad := range []string{`$[?(tokenize(@, '('))]`, `$[?(tokenize(@))]`, `$[?(tokenize(@, ' ')[)]`} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("Compile(%q) succeeded", bad)
		}
	}
}
