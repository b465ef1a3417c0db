package client

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	in := "+OK\r\n-ERR no\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:4096\r\n:123\r\n*-1\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	into := make([]byte, 8)
	want := []func(reply) bool{
		func(rp reply) bool { return rp.Kind == '+' && string(rp.Str) == "OK" },
		func(rp reply) bool { return rp.Kind == '-' && string(rp.Str) == "ERR no" },
		func(rp reply) bool { return rp.Kind == ':' && rp.Int == 42 },
		func(rp reply) bool { return rp.Kind == '$' && string(rp.Str) == "abc" && &rp.Str[0] == &into[0] },
		func(rp reply) bool { return rp.Kind == '$' && rp.Nil },
		func(rp reply) bool {
			return rp.Kind == '*' && len(rp.Elems) == 2 && rp.Elems[0].Int == 4096 && rp.Elems[1].Int == 123
		},
		func(rp reply) bool { return rp.Kind == '*' && rp.Nil },
	}
	for i, ok := range want {
		rp, err := readReply(r, into)
		if err != nil || !ok(rp) {
			t.Fatalf("reply %d: %+v %v", i, rp, err)
		}
	}
}

func TestWriteCommand(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := writeCommand(w, [][]byte{[]byte("BLOB.SET"), []byte("k")}, [][]byte{[]byte("ab"), []byte("c")}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "*3\r\n$8\r\nBLOB.SET\r\n$1\r\nk\r\n$3\r\nabc\r\n" {
		t.Fatalf("%q", got)
	}
}

// FuzzReadReply: any bytes parse into a reply or an error, never a panic;
// a bulk length over maxBulk is an error, not an allocation.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n:1\r\n:2\r\n", "$3\r\nabc\r\n", "$-1\r\n", "-ERR x\r\n", "*1\r\n$2\r\nab\r\n", ":x\r\n", "$5\r\nab", "$99999999999\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for i := 0; i < 4; i++ {
			if _, err := readReply(r, nil); err != nil {
				return
			}
		}
	})
}
