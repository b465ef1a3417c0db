package engine

import (
	"bytes"
	"testing"
)

// TestPropagateRecords: propagate records survive a restart, FLUSHALL and
// FLUSHDB, and no keyspace listing sees them.
func TestPropagateRecords(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	for _, kv := range [][2]string{{"lua_f_a", "1"}, {"lua_f_b", "2"}, {"lua_func_code_x", "3"}} {
		if err := e.SetPropagate([]byte(kv[0]), []byte(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, e, "", "k", []byte("v"), PutOptions{})
	if err := e.FlushAll(); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(""); err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := e.Scan("", ScanOptions{}, func([]byte, *Meta) bool { n++; return true }); err != nil || n != 0 {
		t.Fatalf("SCAN sees %d keys, %v", n, err)
	}
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	if v, err := e.GetPropagate([]byte("lua_f_b")); err != nil || string(v) != "2" {
		t.Fatalf("GetPropagate after restart = %q, %v", v, err)
	}
	var names []string
	if err := e.ScanPropagate([]byte("lua_f_"), func(name, val []byte) bool {
		names = append(names, string(name)+"="+string(val))
		return true
	}); err != nil || len(names) != 2 || names[0] != "lua_f_a=1" || names[1] != "lua_f_b=2" {
		t.Fatalf("ScanPropagate = %v, %v", names, err)
	}
	if err := e.DeletePropagate([]byte("lua_f_a"), []byte("lua_f_b")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.GetPropagate([]byte("lua_f_a")); err != ErrNotFound {
		t.Fatalf("GetPropagate of a deleted record: %v", err)
	}
	var left [][]byte
	e.ScanPropagate(nil, func(name, _ []byte) bool { left = append(left, bytes.Clone(name)); return true })
	if len(left) != 1 || string(left[0]) != "lua_func_code_x" {
		t.Fatalf("records left: %q", left)
	}
}
