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

// TestPipelinedMSetJoinsRun: MSETs of small values join a run of SETs,
// the last value named wins across both, an MSET that does not fit in what
// is left of a run starts the next one whole, and malformed MSETs still get
// their error.
func TestPipelinedMSetJoinsRun(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	sc := newSyncConn(s)
	var in, want bytes.Buffer
	in.Write(encode("SET", "a", "1"))
	in.Write(encode("MSET", "a", "2", "b", "3", "a", "4"))
	in.Write(encode("SET", "b", "5"))
	want.WriteString("+OK\r\n+OK\r\n+OK\r\n")
	in.Write(encode("MSET", "a"))
	want.WriteString("-ERR wrong number of arguments\r\n") // as before: cmdMSet's own check
	for i := 0; i < setRunMax-3; i++ {
		in.Write(encode("SET", fmt.Sprint("f", i), "x"))
		want.WriteString("+OK\r\n")
	}
	big := []string{"MSET"}
	for i := 0; i < setRunMax; i++ {
		big = append(big, fmt.Sprint("g", i), fmt.Sprint(i))
	}
	in.Write(encode(big...))
	want.WriteString("+OK\r\n")
	in.Write(encode("MGET", "a", "b", "g0", fmt.Sprint("g", setRunMax-1)))
	fmt.Fprintf(&want, "*4\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n0\r\n$%d\r\n%d\r\n", len(fmt.Sprint(setRunMax-1)), setRunMax-1)
	in.Write(encode("DBSIZE"))
	fmt.Fprintf(&want, ":%d\r\n", 2+setRunMax-3+setRunMax)
	if got := sc.run(in.Bytes()); !bytes.Equal(got, want.Bytes()) {
		i := 0
		for i < len(got) && i < len(want.Bytes()) && got[i] == want.Bytes()[i] {
			i++
		}
		t.Fatalf("replies differ at byte %d:\ngot  %q\nwant %q", i, got[max(0, i-40):min(len(got), i+80)], want.Bytes()[max(0, i-40):min(want.Len(), i+80)])
	}
}
