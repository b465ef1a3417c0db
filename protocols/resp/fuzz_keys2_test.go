package resp

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzSortArgs runs SORT and SORT_RO with fuzzed options over a fixed
// dataset (a list, a set, a sorted set, strings and hashes for BY and
// GET): never a panic, always one well-formed reply, and a LIMIT window
// inside the collection.
func FuzzSortArgs(f *testing.F) {
	for _, s := range []string{"sort l", "sort l desc alpha", "sort l by w_* get # get h_*->f", "sort s by nosort limit 1 2",
		"sort z by nosort desc limit -1 9", "sort l limit 3 -1 store d", "sort_ro l store d", "sort l by h_*-> get *->",
		"sort z alpha get #", "sort l limit 9223372036854775807 9223372036854775807", "sort str", "sort l by w_*->f alpha desc"} {
		f.Add([]byte(s))
	}
	srv := NewServer(openEngine(f), Config{})
	f.Cleanup(func() { srv.Close() })
	sc := newSyncConn(srv)
	for _, c := range [][]string{{"RPUSH", "l", "3", "1", "b", "-2", "", "1e3", "10"}, {"SADD", "s", "3", "a", "1"},
		{"ZADD", "z", "1", "x", "2", "y", "0", "w"}, {"MSET", "w_3", "1", "w_1", "x", "w_b", "2", "str", "v"},
		{"HSET", "h_1", "f", "z"}, {"HSET", "h_3", "f", "a"}} {
		sc.run(encode(c...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := splitArgs(data)
		if len(args) < 2 || !eqFold(args[0], "sort") && !eqFold(args[0], "sort_ro") {
			return
		}
		for _, a := range args {
			if bytes.ContainsAny(a, "\r\n") {
				return
			}
		}
		strs := make([]string, len(args))
		for i, a := range args {
			strs[i] = string(a)
		}
		out := sc.run(encode(strs...))
		r := bufio.NewReader(bytes.NewReader(out))
		if _, err := readReply(r); err != nil || r.Buffered() != 0 {
			t.Fatalf("%q: malformed reply %q", data, out)
		}
		a, e := parseSortArgs(args[1:], eqFold(args[0], "sort_ro"), false)
		if e != "" {
			return
		}
		for n := int64(0); n < 10; n++ {
			start, end := sortRange(n, a.offset, a.count)
			if start <= end && (start < 0 || end >= n) {
				t.Fatalf("LIMIT %d %d of %d: [%d, %d]", a.offset, a.count, n, start, end)
			}
		}
	})
}

// FuzzLCS checks lcs against a second computation of the length, and
// that what it returns is a common subsequence with matching ranges.
func FuzzLCS(f *testing.F) {
	f.Add([]byte("ohmytext"), []byte("mynewtext"), uint8(0))
	f.Add([]byte("aaaa"), []byte("aa"), uint8(2))
	f.Add([]byte(""), []byte("abc"), uint8(1))
	f.Fuzz(func(t *testing.T, a, b []byte, minLen uint8) {
		if len(a) > 300 || len(b) > 300 {
			return
		}
		o := lcsOpts{idx: true, minLen: int64(minLen % 8)}
		r := lcs(a, b, &o)
		// Length by a one-row table.
		row := make([]int, len(b)+1)
		for i := 1; i <= len(a); i++ {
			prev := 0
			for j := 1; j <= len(b); j++ {
				cur := row[j]
				if a[i-1] == b[j-1] {
					row[j] = prev + 1
				} else {
					row[j] = max(row[j], row[j-1])
				}
				prev = cur
			}
		}
		if int64(row[len(b)]) != r.length || int64(len(r.str)) != r.length {
			t.Fatalf("lcs(%q, %q): length %d, string %q, want %d", a, b, r.length, r.str, row[len(b)])
		}
		if !isSubsequence(r.str, a) || !isSubsequence(r.str, b) {
			t.Fatalf("lcs(%q, %q) = %q is not common", a, b, r.str)
		}
		lastA, lastB := int64(len(a)), int64(len(b))
		for _, m := range r.matches {
			if m.a0 > m.a1 || m.a1 >= lastA || m.b1 >= lastB || m.a1-m.a0 != m.b1-m.b0 ||
				!bytes.Equal(a[m.a0:m.a1+1], b[m.b0:m.b1+1]) || o.minLen > 0 && m.a1-m.a0+1 < o.minLen {
				t.Fatalf("lcs(%q, %q): bad match %+v", a, b, m)
			}
			lastA, lastB = m.a0, m.b0
		}
		if lcs(a, b, &lcsOpts{len: true}).length != r.length {
			t.Fatal("LEN disagrees")
		}
	})
}

func isSubsequence(s, of []byte) bool {
	for _, c := range of {
		if len(s) > 0 && s[0] == c {
			s = s[1:]
		}
	}
	return len(s) == 0
}
