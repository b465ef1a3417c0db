package engine

import (
	"strings"
	"testing"

	"github.com/gpucache/gpucache/internal/jsonpath"
)

func jsonDoc(t *testing.T, s string) *jsonpath.Value {
	t.Helper()
	v, err := jsonpath.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestJSONStore: documents in both storage formats survive a restart,
// keep their expiry across changes, take part in RENAME, COPY and DEL,
// and collide with other types as WRONGTYPE.
func TestJSONStore(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	const doc = `{"a":[1,2.5,"x",true,null],"b":{"c":-7,"d":18446744073709551615}}`
	txn(t, e, []string{"text"}, func(tx *Txn) error { return tx.JSONPut(0, jsonDoc(t, doc), JSONText) })
	txn(t, e, []string{"cbor"}, func(tx *Txn) error { return tx.JSONPut(0, jsonDoc(t, doc), JSONCBOR) })
	if _, err := e.Expire("", []byte("text"), nowMs()+100_000, ExpireAlways); err != nil {
		t.Fatal(err)
	}
	// A change keeps the expiry.
	txn(t, e, []string{"text"}, func(tx *Txn) error {
		v, _, ok, err := tx.JSONGet(0)
		if err != nil || !ok {
			t.Fatalf("get: %v %v", ok, err)
		}
		v.Put("z", jsonpath.NewInt(1))
		return tx.JSONPut(0, v, JSONText)
	})
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	for _, tc := range []struct {
		key  string
		f    JSONFormat
		want string
	}{
		{"text", JSONText, `{"a":[1,2.5,"x",true,null],"b":{"c":-7,"d":18446744073709551615},"z":1}`},
		{"cbor", JSONCBOR, doc},
	} {
		txn(t, e, []string{tc.key}, func(tx *Txn) error {
			v, f, ok, err := tx.JSONGet(0)
			if err != nil || !ok || f != tc.f {
				t.Fatalf("%s: ok %v format %v err %v", tc.key, ok, f, err)
			}
			if got := string(jsonpath.AppendCompact(nil, v)); got != tc.want {
				t.Fatalf("%s: %s", tc.key, got)
			}
			return nil
		})
	}
	m, err := e.Stat("", []byte("text"))
	if err != nil || m.Type != TypeJSON || m.ExpireAt == 0 {
		t.Fatalf("stat: %+v %v", m, err)
	}
	if m.Type.String() != "ReJSON-RL" {
		t.Fatalf("type name %q", m.Type)
	}
	if _, err := e.Rename("", []byte("cbor"), []byte("moved"), false); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.Copy("", []byte("moved"), []byte("copy"), false); err != nil || !ok {
		t.Fatalf("copy: %v %v", ok, err)
	}
	txn(t, e, []string{"copy"}, func(tx *Txn) error {
		v, f, ok, err := tx.JSONGet(0)
		if err != nil || !ok || f != JSONCBOR || string(jsonpath.AppendCompact(nil, v)) != doc {
			t.Fatalf("copy reads back %v %v %v", ok, f, err)
		}
		return nil
	})
	// Other types' commands refuse a document, and JSON refuses them.
	// (GET answers WRONGTYPE from the type it reads: testdata/json.txt.)
	if v, err := e.Get("", []byte("copy")); err == nil {
		if v.Meta().Type != TypeJSON {
			t.Fatalf("GET reads type %v", v.Meta().Type)
		}
		v.Release()
	}
	txn(t, e, []string{"h"}, func(tx *Txn) error { _, err := tx.HashSet(0, []byte("f"), []byte("v"), false); return err })
	if err := e.Txn("", [][]byte{[]byte("h")}, func(tx *Txn) error { _, _, _, err := tx.JSONGet(0); return err }); err != ErrWrongType {
		t.Fatalf("JSONGet of a hash: %v", err)
	}
	if err := e.Txn("", [][]byte{[]byte("h")}, func(tx *Txn) error { return tx.JSONPut(0, jsonpath.NewNull(), JSONText) }); err != ErrWrongType {
		t.Fatalf("JSONPut over a hash: %v", err)
	}
	if n, err := e.Delete("", [][]byte{[]byte("copy"), []byte("moved"), []byte("text")}); n != 3 || err != nil {
		t.Fatalf("delete: %d %v", n, err)
	}
	txn(t, e, []string{"text"}, func(tx *Txn) error {
		if _, _, ok, err := tx.JSONGet(0); ok || err != nil {
			t.Fatalf("deleted document reads %v %v", ok, err)
		}
		return nil
	})
}

// TestJSONLimits: a change that nests past MaxDepth is refused and
// writes nothing; a multi-MiB document round-trips.
func TestJSONLimits(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	half := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	txn(t, e, []string{"d"}, func(tx *Txn) error { return tx.JSONPut(0, jsonDoc(t, half), JSONText) })
	err := e.Txn("", [][]byte{[]byte("d")}, func(tx *Txn) error {
		v, _, _, err := tx.JSONGet(0)
		if err != nil {
			return err
		}
		inner := v
		for len(inner.A) > 0 {
			inner = inner.A[0]
		}
		inner.A = append(inner.A, jsonDoc(t, half))
		return tx.JSONPut(0, v, JSONText)
	})
	if err != ErrJSONDepth {
		t.Fatalf("too deep: %v", err)
	}
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; i < 100_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":12345,"name":"item name"}`)
	}
	b.WriteString(`]}`)
	big := b.String()
	if len(big) < 3<<20 {
		t.Fatalf("document of %d bytes", len(big))
	}
	for _, f := range []JSONFormat{JSONText, JSONCBOR} {
		txn(t, e, []string{"big"}, func(tx *Txn) error { return tx.JSONPut(0, jsonDoc(t, big), f) })
		txn(t, e, []string{"big"}, func(tx *Txn) error {
			v, _, ok, err := tx.JSONGet(0)
			if err != nil || !ok || string(jsonpath.AppendCompact(nil, v)) != big {
				t.Fatalf("format %v: %v %v", f, ok, err)
			}
			return nil
		})
	}
}
