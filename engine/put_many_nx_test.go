package engine

import (
	"testing"
)

// TestPutManyIfAbsent: all pairs are stored or none; a refused call
// releases the buffers it was given and leaves no referenced blob.
func TestPutManyIfAbsent(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	big := pattern(2, 1<<20)
	bufOf := func(v []byte) *Buffer {
		b, err := e.NewBuffer(int64(len(v)))
		if err != nil {
			t.Fatal(err)
		}
		copyIntoPages(b, 0, v)
		return b
	}
	keys := [][]byte{[]byte("a"), []byte("big"), []byte("a")}
	ok, err := e.PutManyIfAbsent("", keys, [][]byte{[]byte("1"), nil, []byte("3")}, []*Buffer{nil, bufOf(big), nil})
	if err != nil || !ok {
		t.Fatalf("first call: %v %v", ok, err)
	}
	e.Sync()
	if got := string(mustGet(t, e, "", "a")); got != "3" {
		t.Fatalf("a = %q, want the last value", got)
	}
	if got := mustGet(t, e, "", "big"); string(got) != string(big) {
		t.Fatal("big value differs")
	}
	// One existing key refuses the whole call.
	_, _, liveBefore := e.blobs.stats()
	ok, err = e.PutManyIfAbsent("", [][]byte{[]byte("new"), []byte("big2"), []byte("a")},
		[][]byte{[]byte("x"), nil, []byte("y")}, []*Buffer{nil, bufOf(pattern(3, 1<<20)), nil})
	if err != nil || ok {
		t.Fatalf("call over an existing key: %v %v", ok, err)
	}
	if _, err := e.Stat("", []byte("new")); err != ErrNotFound {
		t.Fatalf("refused call stored a key: %v", err)
	}
	if _, _, live := e.blobs.stats(); live != liveBefore {
		t.Fatalf("refused call left %d live blob bytes", live-liveBefore)
	}
	if got := string(mustGet(t, e, "", "a")); got != "3" {
		t.Fatalf("a = %q after a refused call", got)
	}
	if e.DBSize("") != 2 {
		t.Fatalf("DBSize = %d", e.DBSize(""))
	}
}
