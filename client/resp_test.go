package client

import (
	"bufio"
	"bytes"
	"runtime"
	"strconv"
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
// TestReadReplyDeclaredLength: a reply that declares a huge bulk string
// and sends a few bytes costs memory for what arrived, not what was
// declared (the fuzz target found 1 GiB allocated for a 20-byte input).
func TestReadReplyDeclaredLength(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := bufio.NewReader(strings.NewReader("$999999999\r\n9$\r\n"))
	if _, err := readReply(r, nil); err == nil {
		t.Fatal("a truncated bulk string was accepted")
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("reading a truncated 999999999-byte bulk allocated %d bytes", grew)
	}
	// A whole value larger than one step still reads back intact.
	val := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16+5)
	in := append([]byte("$"+strconv.Itoa(len(val))+"\r\n"), val...)
	in = append(in, "\r\n+OK\r\n"...)
	r = bufio.NewReader(bytes.NewReader(in))
	rp, err := readReply(r, nil)
	if err != nil || !bytes.Equal(rp.Str, val) {
		t.Fatalf("large bulk: %v, equal=%v", err, bytes.Equal(rp.Str, val))
	}
	if rp, err := readReply(r, nil); err != nil || string(rp.Str) != "OK" {
		t.Fatalf("next reply: %q, %v", rp.Str, err)
	}
}

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
