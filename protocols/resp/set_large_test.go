package resp

import (
	"bytes"
	"fmt"
	"testing"
)

// TestPipelinedLargeSetsKeepOrder pipelines large SETs (streamed, so they
// go through the connection's writer) and small SETs of the same key with
// GETs between them: every GET must see the latest SET before it.
func TestPipelinedLargeSetsKeepOrder(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	defer sc.c.stopLarge()
	a := bytes.Repeat([]byte("a"), 9<<20)
	b := bytes.Repeat([]byte("b"), 9<<20+1)
	var in, want bytes.Buffer
	in.Write(encode("SET", "k", string(a)))
	in.Write(encode("SET", "k", string(b)))
	in.Write(encode("GET", "k"))
	in.Write(encode("SET", "k", "small"))
	in.Write(encode("SET", "k", string(a)))
	in.Write(encode("STRLEN", "k"))
	want.WriteString("+OK\r\n+OK\r\n")
	fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(b), b)
	want.WriteString("+OK\r\n+OK\r\n")
	fmt.Fprintf(&want, ":%d\r\n", len(a))
	if got := sc.run(in.Bytes()); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("replies differ (%d bytes, want %d): %q...", len(got), want.Len(), tail(got))
	}
	if sc.c.large.jobs == nil {
		t.Fatal("the large SETs did not go through the connection's writer")
	}
}
