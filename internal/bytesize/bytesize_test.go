package bytesize

import (
	"errors"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1024": 1024, " 7 ": 7, "5b": 5,
		"1k": 1 << 10, "1K": 1 << 10, "1kb": 1 << 10, "1KB": 1 << 10,
		"2m": 2 << 20, "2mb": 2 << 20, "1g": 1 << 30, "1GB": 1 << 30,
		"3t": 3 << 40, "3tb": 3 << 40, "1p": 1 << 50,
		"8191p":               8191 << 50,
		"9223372036854775807": 1<<63 - 1,
	} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "k", "x", "-1", "+1", "1.5g", "1 k", "1zb", "1kib", "0x10"} {
		if _, err := Parse(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): %v, want ErrSyntax", in, err)
		}
	}
	for _, in := range []string{"8192p", "9223372036854775808", "99999999999999999999gb"} {
		if _, err := Parse(in); !errors.Is(err, ErrRange) {
			t.Errorf("Parse(%q): %v, want ErrRange", in, err)
		}
	}
}

// FuzzParse: never panics; a value accepted is non-negative and a plain
// number round-trips.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1k", "512mb", "1p", "8192p", "-1", "1.5g", " 3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("Parse(%q) = %d", s, n)
		}
		if m, err := Parse(strconv.FormatInt(n, 10)); err != nil || m != n {
			t.Fatalf("round trip of %d: %d, %v", n, m, err)
		}
	})
}
