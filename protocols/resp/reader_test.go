package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// testBulk is a heap LargeBulk that records its release.
type testBulk struct {
	heapBulk
	released bool
}

func (t *testBulk) Release() { t.released = true }

// readAll parses every request in input with the given limits and renders
// them: args joined by spaces, large bulks as <large:n>, one per line; a
// trailing "error: ..." line reports how reading stopped (unless io.EOF).
func readAll(t *testing.T, rd io.Reader, lim Limits) string {
	t.Helper()
	r := NewReader(rd, 512, lim)
	r.SetAllocator(func(name []byte, idx int, n int64) (LargeBulk, error) {
		if n > 1<<20 {
			return nil, errors.New("no memory")
		}
		tb := &testBulk{}
		tb.p[0] = make([]byte, n)
		return tb, nil
	})
	var sb strings.Builder
	for {
		cmd, err := r.ReadCommand()
		if err != nil {
			if err != io.EOF {
				sb.WriteString("error: " + err.Error() + "\n")
			}
			return sb.String()
		}
		for i, a := range cmd.Args {
			if i > 0 {
				sb.WriteByte(' ')
			}
			if lb := cmd.Large(i); lb != nil {
				p := lb.Pages()[0]
				sb.WriteString("<large:" + strings.Repeat("", 0))
				sb.WriteString(string(p[:1]) + "..." + string(p[len(p)-1:]) + ">")
				continue
			}
			if a == nil {
				sb.WriteString("<dropped>")
				continue
			}
			sb.Write(a)
		}
		if cmd.Err != nil {
			sb.WriteString(" !" + cmd.Err.Error())
		}
		sb.WriteByte('\n')
		cmd.Release()
	}
}

func TestReader(t *testing.T) {
	big := strings.Repeat("x", 100) + "y"
	huge := strings.Repeat("z", 2<<20)
	small := Limits{SmallBulk: 64, MaxInline: 128, MaxArgs: 8, MaxBulkLen: 4 << 20, MaxQueryBuf: 4096}
	tests := []struct {
		name string
		in   string
		lim  Limits
		want string
	}{
		{"array", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", Limits{}, "GET k\n"},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n", Limits{}, "PING\nECHO \nSET a b\n"},
		{"inline", "PING\r\nset a  b\t c\nECHO x\r\n", Limits{}, "PING\nset a b c\nECHO x\n"},
		{"empty lines and arrays", "\r\n\n*0\r\n*-1\r\nPING\r\n", Limits{}, "PING\n"},
		{"binary", "*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\x00\xff\r\n", Limits{}, "ECHO \r\n\x00\xff\n"},
		{"large bulk", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$101\r\n" + big + "\r\n*1\r\n$4\r\nPING\r\n", small, "SET k <large:x...y>\nPING\n"},
		{"large bulk dropped on alloc failure", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n" + huge + "\r\n*1\r\n$4\r\nPING\r\n", small, "SET k <dropped> !no memory\nPING\n"},
		{"bad multibulk length", "*x\r\n", Limits{}, "error: Protocol error: invalid multibulk length\n"},
		{"multibulk LF only", "*1\n$4\r\nPING\r\n", Limits{}, "error: Protocol error: invalid multibulk length\n"},
		{"too many args", "*9\r\n", small, "error: Protocol error: invalid multibulk length\n"},
		{"expected dollar", "*1\r\n:4\r\n", Limits{}, "error: Protocol error: expected '$'\n"},
		{"bad bulk length", "*1\r\n$-1\r\n", Limits{}, "error: Protocol error: invalid bulk length\n"},
		{"bulk over max", "*1\r\n$4194305\r\n", small, "error: Protocol error: invalid bulk length\n"},
		{"bulk without CRLF", "*1\r\n$4\r\nPINGxx", Limits{}, "error: Protocol error: expected CRLF after bulk data\n"},
		{"inline too big", strings.Repeat("a", 200), small, "error: Protocol error: too big inline request\n"},
		{"header too big", "*1\r\n$" + strings.Repeat("1", 200), small, "error: Protocol error: too big inline request\n"},
		{"query buffer limit", "*8\r\n" + strings.Repeat("$60\r\n"+strings.Repeat("q", 60)+"\r\n", 8), Limits{SmallBulk: 64, MaxQueryBuf: 256}, "error: Protocol error: query buffer limit exceeded\n"},
		{"truncated", "*2\r\n$3\r\nGET\r\n", Limits{}, "error: unexpected EOF\n"},
		{"truncated large", "*2\r\n$3\r\nSET\r\n$101\r\nxx", small, "error: unexpected EOF\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readAll(t, strings.NewReader(tt.in), tt.lim); got != tt.want {
				t.Errorf("whole input:\n got %q\nwant %q", got, tt.want)
			}
			// Partial reads: the same result one byte at a time.
			if got := readAll(t, iotest.OneByteReader(strings.NewReader(tt.in)), tt.lim); got != tt.want {
				t.Errorf("one byte at a time:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestReaderLargeBulkCopy checks that a large bulk's bytes land intact
// whatever the split between buffered and directly read bytes.
func TestReaderLargeBulkCopy(t *testing.T) {
	val := make([]byte, 300<<10)
	for i := range val {
		val[i] = byte(i * 7)
	}
	in := append(encode("SET", "k", string(val)), encode("GET", "k")...)
	for _, rd := range []io.Reader{bytes.NewReader(in), iotest.HalfReader(bytes.NewReader(in)), iotest.DataErrReader(bytes.NewReader(in))} {
		r := NewReader(rd, 4096, Limits{})
		cmd, err := r.ReadCommand()
		if err != nil {
			t.Fatal(err)
		}
		lb := cmd.Take(2)
		if lb == nil || !bytes.Equal(lb.Pages()[0], val) {
			t.Fatalf("large bulk corrupted")
		}
		cmd, err = r.ReadCommand()
		if err != nil || len(cmd.Args) != 2 || string(cmd.Args[0]) != "GET" {
			t.Fatalf("next request: %v %q", err, cmd.Args)
		}
	}
}

// TestReaderBeforeRead checks that the hook runs before each read, so the
// caller can flush before blocking.
func TestReaderBeforeRead(t *testing.T) {
	in := string(encode("PING")) + string(encode("PING"))
	r := NewReader(iotest.OneByteReader(strings.NewReader(in)), 512, Limits{})
	calls := 0
	r.SetBeforeRead(func() error { calls++; return nil })
	for i := 0; i < 2; i++ {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	}
	if calls < len(in) {
		t.Fatalf("beforeRead ran %d times for %d one-byte reads", calls, len(in))
	}
}

func TestReaderAllocs(t *testing.T) {
	req := bytes.Repeat(encode("SET", "somekey", "somevalue"), 50)
	src := bytes.NewReader(req)
	r := NewReader(src, 64<<10, Limits{})
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(req)
		for {
			if _, err := r.ReadCommand(); err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("parsing pipelined SETs: %v allocs per run, want 0", allocs)
	}
}

func TestParseInt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"123", 123, true}, {"", 0, false}, {"-", 0, false},
		{"1a", 0, false}, {"+1", 0, false}, {"1234567890123456789", 0, false},
	} {
		got, ok := parseInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseInt(%q) = %d, %v", tt.in, got, ok)
		}
	}
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"9223372036854775807", 9223372036854775807, true}, {"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false}, {"+5", 5, true}, {"1.5", 0, false},
	} {
		got, ok := parseArgInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseArgInt(%q) = %d, %v", tt.in, got, ok)
		}
	}
}

// TestReaderUnauthenticated: before authentication a request of more than
// UnauthMaxArgs arguments, or a bulk over UnauthMaxBulkLen, is a protocol
// error raised from its header alone, before any of its bytes are held or
// the Allocator is asked; lifting the limit lets the next request through.
func TestReaderUnauthenticated(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"*11\r\n", "unauthenticated multibulk length"},
		{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n", "unauthenticated bulk length"},
		{"*2\r\n$3\r\nGET\r\n$536870912\r\n", "unauthenticated bulk length"},
	} {
		r := NewReader(strings.NewReader(tc.in), 512, Limits{})
		r.SetAllocator(func([]byte, int, int64) (LargeBulk, error) {
			t.Fatalf("%q: allocator called before authentication", tc.in)
			return nil, nil
		})
		r.SetUnauthenticated(true)
		_, err := r.ReadCommand()
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Msg != tc.want {
			t.Errorf("%q: got %v, want protocol error %q", tc.in, err, tc.want)
		}
	}
	val := strings.Repeat("v", UnauthMaxBulkLen)
	in := "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n" + "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16384\r\n" + val + "\r\n" +
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n" + val + "v\r\n"
	r := NewReader(strings.NewReader(in), 512, Limits{})
	r.SetUnauthenticated(true)
	for i, want := range []int{2, 3} {
		cmd, err := r.ReadCommand()
		if err != nil || len(cmd.Args) != want {
			t.Fatalf("request %d within the limits: %v", i, err)
		}
	}
	r.SetUnauthenticated(false)
	if cmd, err := r.ReadCommand(); err != nil || len(cmd.Args) != 3 {
		t.Fatalf("request after the limits were lifted: %v", err)
	}
}
