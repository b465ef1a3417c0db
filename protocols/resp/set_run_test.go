package resp

import (
	"bytes"
	"fmt"
	"testing"
)

// TestPipelinedSetRuns interleaves runs of plain SETs with commands that
// must see them, in one pipelined batch, and checks every reply byte.
func TestPipelinedSetRuns(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	sc := newSyncConn(s)
	var in, want bytes.Buffer
	for i := 0; i < 3*setRunMax; i++ {
		k := fmt.Sprint("k", i%7)
		in.Write(encode("SET", k, fmt.Sprint("v", i)))
		want.WriteString("+OK\r\n")
		if i%50 == 49 {
			v := fmt.Sprint("v", i)
			in.Write(encode("GET", k))
			fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(v), v)
		}
	}
	in.Write(encode("SET", "x", "1", "NX")) // not plain: commits the run first
	want.WriteString("+OK\r\n")
	in.Write(encode("MSET", "m1", "a", "m2", "b", "m1", "c"))
	want.WriteString("+OK\r\n")
	in.Write(encode("MGET", "m1", "m2", "k0"))
	last := (3*setRunMax - 1) / 7 * 7 // the last i with i%7 == 0
	want.WriteString(fmt.Sprintf("*3\r\n$1\r\nc\r\n$1\r\nb\r\n$%d\r\nv%d\r\n", len(fmt.Sprint("v", last)), last))
	in.Write(encode("DBSIZE"))
	want.WriteString(":10\r\n")
	if got := sc.run(in.Bytes()); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("replies differ:\ngot  %q\nwant %q", tail(got), tail(want.Bytes()))
	}
	// The run is durable after the flush: a new engine view sees it.
	v, err := eng.Get("", []byte("k3"))
	if err != nil {
		t.Fatal(err)
	}
	v.Release()
}

func tail(b []byte) []byte {
	if len(b) > 300 {
		return b[len(b)-300:]
	}
	return b
}
