package resp

import (
	"bytes"
	"math"
	"testing"
)

type countRelease struct{ n int }

func (c *countRelease) Release() { c.n++ }

func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer)
		resp2 string
		resp3 string
	}{
		{"ok", func(w *Writer) { w.OK() }, "+OK\r\n", "+OK\r\n"},
		{"error", func(w *Writer) { w.Error("ERR bad\r\nthing") }, "-ERR bad  thing\r\n", "-ERR bad  thing\r\n"},
		{"int", func(w *Writer) { w.Int(-42) }, ":-42\r\n", ":-42\r\n"},
		{"bulk", func(w *Writer) { w.Bulk([]byte("a\r\nb")) }, "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"},
		{"empty bulk", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *Writer) { w.Map(1); w.BulkString("k"); w.Int(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"set", func(w *Writer) { w.Set(0) }, "*0\r\n", "~0\r\n"},
		{"push", func(w *Writer) { w.Push(1); w.Simple("x") }, "*1\r\n+x\r\n", ">1\r\n+x\r\n"},
		{"bool", func(w *Writer) { w.Bool(true); w.Bool(false) }, ":1\r\n:0\r\n", "#t\r\n#f\r\n"},
		{"double", func(w *Writer) { w.Double(1.5); w.Double(math.Inf(-1)) }, "$3\r\n1.5\r\n$4\r\n-inf\r\n", ",1.5\r\n,-inf\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", []byte("hi")) }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
	}
	for _, tt := range tests {
		for _, proto := range []int{2, 3} {
			var out bytes.Buffer
			w := NewWriter(&out, 16)
			w.SetProto(proto)
			tt.write(w)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			want := tt.resp2
			if proto == 3 {
				want = tt.resp3
			}
			if out.String() != want {
				t.Errorf("%s RESP%d: got %q, want %q", tt.name, proto, out.String(), want)
			}
		}
	}
}

// TestWriterPages checks that large values go out by reference, in order
// with the replies around them, and are released after the flush.
func TestWriterPages(t *testing.T) {
	big := bytes.Repeat([]byte("v"), copyMax+1)
	pages := [][]byte{big[:100], big[100:]}
	var out bytes.Buffer
	w := NewWriter(&out, 16)
	rel := &countRelease{}
	small := &countRelease{}
	w.OK()
	w.BulkPages(pages, int64(len(big)), rel)
	w.BulkPages([][]byte{[]byte("ab")}, 2, small)
	w.Int(7)
	if small.n != 1 {
		t.Fatalf("small value not released at once")
	}
	if rel.n != 0 {
		t.Fatalf("large value released before flush")
	}
	if w.Pending() != int64(5+8+len(big)+2+8+4) {
		t.Fatalf("pending = %d", w.Pending())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "+OK\r\n$16385\r\n" + string(big) + "\r\n$2\r\nab\r\n:7\r\n"
	if out.String() != want {
		t.Fatalf("got %d bytes, want %d", out.Len(), len(want))
	}
	if rel.n != 1 || w.Pending() != 0 {
		t.Fatalf("after flush: released %d, pending %d", rel.n, w.Pending())
	}
}

func TestWriterAllocs(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, 4096)
	big := make([]byte, copyMax*2)
	pages := [][]byte{big[:copyMax], big[copyMax:]}
	rel := &countRelease{}
	allocs := testing.AllocsPerRun(100, func() {
		out.Reset()
		w.OK()
		w.Int(1)
		w.Bulk([]byte("value"))
		w.Null()
		w.BulkPages(pages, int64(len(big)), rel)
		w.Flush()
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per batch, want 0", allocs)
	}
}
