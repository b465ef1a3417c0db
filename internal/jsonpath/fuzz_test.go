package jsonpath

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzParse: whatever the input, Parse returns or fails without
// panicking; what it accepts prints to text that parses back to an equal
// document, and survives a CBOR round trip.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",true,null]}`, `[]`, `"\ud83d\ude00"`, `-0.0`, `1e400`,
		`18446744073709551616`, `[[[[[]]]]]`, `{"":{"":""}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		// encoding/json is the reference for what JSON is (it takes
		// invalid UTF-8, which KVRocks refuses, and deeper nesting).
		if ref := json.Valid(data); err == nil && !ref {
			t.Fatalf("Parse accepted %q, which is not JSON", data)
		} else if ref && err != nil && utf8.Valid(data) && len(data) < 2*MaxDepth {
			t.Fatalf("Parse refused valid JSON %q: %v", data, err)
		}
		if err != nil {
			return
		}
		text := AppendCompact(nil, v)
		w, err := Parse(text)
		if err != nil {
			t.Fatalf("printed %q does not parse: %v", text, err)
		}
		if string(AppendCompact(nil, w)) != string(text) {
			t.Fatalf("not stable: %q then %q", text, AppendCompact(nil, w))
		}
		c, err := ParseCBOR(AppendCBOR(nil, v))
		if err != nil || string(AppendCompact(nil, c)) != string(text) {
			t.Fatalf("CBOR round trip of %q: %v", text, err)
		}
		_ = Append(nil, v, Format{Indent: "  ", Newline: "\n", Space: " "})
	})
}

// FuzzParseCBOR: stored documents are decoded from bytes that may be
// damaged; the decoder must fail cleanly.
func FuzzParseCBOR(f *testing.F) {
	f.Add(AppendCBOR(nil, &Value{Kind: Array, A: []*Value{NewInt(1), NewString("x")}}))
	f.Add([]byte{0x9f, 0xbf, 0x61, 'a', 0xf9, 0x3c, 0x00, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseCBOR(data)
		if err != nil {
			return
		}
		if _, err := ParseCBOR(AppendCBOR(nil, v)); err != nil {
			t.Fatalf("re-encoded document does not decode: %v", err)
		}
	})
}

// FuzzCompile: any path compiles or fails cleanly, and a compiled one
// queries a document (and deletes what it selects) without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"$", ".", "a.b", "$..x", "$.a[*]", "$[1:3:-1]", "$['a','b']", `$[?(@.x>1 && @.y=='a')]`,
		`$..[?(!(@.a =~ /x/i) || $.b)]`, "$[-1,0]", `$["a\"b"]`,
		`$.a[?(length(@) > 1 && contains(keys(@), 'x'))]`, `$..[?(max($..x) >= abs(to_number(@.y)))]`,
		`$..[?(@.x * 2 + -@.x % 3 >= 1 / 0 - $.a[0])]`, `$..[?(tokenize(@.y, 'a|b')[-1] == '' || 18446744073709551615 + @.x)]`} {
		f.Add(s)
	}
	doc := `{"a":[1,{"x":2,"y":"a"},[3]],"b":{"a":{"x":0}},"x":"s"}`
	f.Fuzz(func(t *testing.T, path string) {
		p, err := Compile(path)
		if err != nil {
			return
		}
		v, _ := Parse([]byte(doc))
		nodes := p.Query(v)
		for _, n := range nodes {
			if n.V == nil {
				t.Fatal("nil node")
			}
		}
		Delete(v, nodes)
		if _, err := Parse(AppendCompact(nil, v)); err != nil {
			t.Fatalf("document broken after delete: %v", err)
		}
	})
}
