package lua

import (
	"bytes"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// FuzzReplyToLua feeds arbitrary bytes to the RESP -> Lua conversion: it
// never panics, and what it accepts converts back to RESP that converts to
// the same Lua value again (RESP -> Lua -> RESP is a fixed point after one
// round).
func FuzzReplyToLua(f *testing.F) {
	for _, s := range []string{
		"+OK\r\n", "-ERR x\r\n", ":12\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n",
		"*3\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n", "%1\r\n$1\r\nk\r\n:1\r\n", "~2\r\n$1\r\na\r\n$1\r\nb\r\n",
		"_\r\n", "#t\r\n", ",1.5\r\n", ",inf\r\n", "(123456789012345678901\r\n", "=7\r\ntxt:abc\r\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, p []byte, resp3 bool) {
		L := glua.NewState(glua.Options{SkipOpenLibs: true})
		defer L.Close()
		v, _, err := ReplyToLua(L, p)
		if err != nil {
			return
		}
		once := AppendReply(nil, v, resp3, resp3)
		v2, rest, err := ReplyToLua(L, once)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%q -> %q does not read back: %v (rest %q)", p, once, err, rest)
		}
		twice := AppendReply(nil, v2, resp3, resp3)
		if !sameReplyShape(once, twice) {
			t.Fatalf("%q: %q then %q", p, once, twice)
		}
	})
}

// sameReplyShape compares two replies; maps and sets may list their
// members in another order, so only their lengths are compared then.
func sameReplyShape(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	return len(a) == len(b) && bytes.ContainsAny(a, "%~")
}

// FuzzCjsonDecode: cjson.decode never panics; what it accepts encodes, and
// that encoding decodes and encodes to itself.
func FuzzCjsonDecode(f *testing.F) {
	for _, s := range []string{`[1,2,{"a":null}]`, `{"k":"v\u00e9"}`, `"\ud83d\ude00"`, `1e400`, `[`, `{"a" 1}`, `-`, `0x10`, `[[[[]]]]`} {
		f.Add(s)
	}
	st := NewState()
	defer st.Close()
	L := st.L
	enc := st.globals.RawGetString("cjson").(*glua.LTable)
	_ = enc
	f.Fuzz(func(t *testing.T, s string) {
		fn, err := st.Compile("local v = cjson.decode(ARGV) local e = cjson.encode(v) local e2 = cjson.encode(cjson.decode(e)) return {e, e2}", "user_script")
		if err != nil {
			t.Fatal(err)
		}
		st.SetGlobal("ARGV", glua.LString(s))
		L.Push(fn)
		if err := L.PCall(0, 1, nil); err != nil {
			return
		}
		r := L.Get(-1).(*glua.LTable)
		L.Pop(1)
		e, e2 := r.RawGetInt(1).String(), r.RawGetInt(2).String()
		if len(e) != len(e2) {
			t.Fatalf("%q: encodes to %q, then %q", s, e, e2)
		}
	})
}

// FuzzCmsgpackDecode: cmsgpack.unpack never panics; what it accepts packs
// to bytes that unpack, and packing settles after that (the first packing
// may lose what lies deeper than 16 levels, and the nils it leaves there
// drop map entries at the next unpacking, as Redis's cmsgpack does).
func FuzzCmsgpackDecode(f *testing.F) {
	for _, s := range []string{"\x93\x01\x02\x03", "\x81\xa1x\x01", "\xca\x3f\xc0\x00\x00", "\xda", "\xc1", "\xdd\xff\xff\xff\xff", "\xc0\xc2\xc3"} {
		f.Add([]byte(s))
	}
	L := glua.NewState(glua.Options{SkipOpenLibs: true})
	defer L.Close()
	f.Fuzz(func(t *testing.T, p []byte) {
		v, n, ok := MsgpackDecode(L, string(p))
		if !ok {
			return
		}
		if n > len(p) {
			t.Fatalf("used %d of %d bytes", n, len(p))
		}
		once := MsgpackEncode(nil, v, 0)
		v2, _, ok := MsgpackDecode(L, string(once))
		if !ok {
			t.Fatalf("%x packs to %x, which does not unpack", p, once)
		}
		twice := MsgpackEncode(nil, v2, 0)
		v3, _, ok := MsgpackDecode(L, string(twice))
		if !ok {
			t.Fatalf("%x packs to %x, which does not unpack", v2, twice)
		}
		thrice := MsgpackEncode(nil, v3, 0)
		if len(twice) != len(thrice) {
			t.Fatalf("%x: %x then %x then %x", p, once, twice, thrice)
		}
	})
}
