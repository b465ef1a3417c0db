package resp

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/gpucache/gpucache/engine"
)

// FuzzStreamID: the ID parser never panics; an ID it accepts prints back
// to itself; plain "ms-seq" in range is always accepted; "(" bounds move
// by exactly one ID.
func FuzzStreamID(f *testing.F) {
	for _, s := range []string{"1-1", "0-0", "5", "-", "+", "(5-3", "(-", "(+", "18446744073709551615-18446744073709551615",
		"18446744073709551616-0", "1-*", "-1-0", " 5-0", "+5-1", "007-01", "-05", "1-", "-1", "1--1", "1-2-3", "*"} {
		f.Add([]byte(s))
	}
	plain := regexp.MustCompile(`^(0|[1-9][0-9]{0,18})-(0|[1-9][0-9]{0,18})$`)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, strict := range []bool{false, true} {
			for _, auto := range []bool{false, true} {
				s, ok := parseStreamID(b, 7, strict, auto)
				if !ok {
					if plain.Match(b) {
						t.Fatalf("%q refused (strict=%v)", b, strict)
					}
					continue
				}
				if s.autoSeq && !auto {
					t.Fatalf("%q: auto sequence without asking", b)
				}
				if strict && len(b) == 1 && (b[0] == '-' || b[0] == '+') {
					t.Fatalf("%q accepted strictly", b)
				}
				if plain.Match(b) && string(s.id.AppendTo(nil)) != string(b) {
					t.Fatalf("%q parsed as %v", b, s.id)
				}
				if s.autoSeq {
					continue
				}
				back, ok := parseStreamID(s.id.AppendTo(nil), 0, true, false)
				if !ok || back.id != s.id {
					t.Fatalf("%q -> %v -> %v, %v", b, s.id, back.id, ok)
				}
			}
		}
		for _, end := range []bool{false, true} {
			id, e := parseRangeID(b, end)
			if e != "" || len(b) < 2 || b[0] != '(' {
				continue
			}
			inner, ok := parseStreamID(b[1:], map[bool]uint64{false: 0, true: ^uint64(0)}[end], true, false)
			if !ok {
				t.Fatalf("%q: exclusive bound of an invalid ID accepted", b)
			}
			if next, _ := id.Next(); end && next != inner.id {
				t.Fatalf("%q: end %v, inner %v", b, id, inner.id)
			}
			if prev, _ := id.Prev(); !end && prev != inner.id {
				t.Fatalf("%q: start %v, inner %v", b, id, inner.id)
			}
		}
	})
}

// FuzzStreamArgs runs XADD and XRANGE with fuzzed arguments through a real
// connection on one stream: the commands never panic, XADD's arguments
// parse consistently, and whatever was accepted leaves the stream sound:
// XRANGE lists strictly increasing IDs, as many as XLEN, none above the
// last generated ID.
func FuzzStreamArgs(f *testing.F) {
	for _, s := range []string{"* a b", "NOMKSTREAM 5-* a b", "MAXLEN ~ 3 LIMIT 2 * a b", "MINID = 3 9-1 a b",
		"MAXLEN 1 MINID 2 * a b", "LIMIT 5 * a b", "5 a", "0-0 a b", "0-* a b", "MAXLEN -1 * a b",
		"18446744073709551615-18446744073709551615 a b", "(1 + COUNT 2", "- (5-0", "+ - COUNT -1", "(+ +"} {
		f.Add([]byte(s))
	}
	srv := NewServer(openEngine(f), Config{})
	f.Cleanup(func() { srv.Close() })
	sc := newSyncConn(srv)
	idRe := regexp.MustCompile(`\$\d+\r\n(\d+)-(\d+)\r\n\*`)
	f.Fuzz(func(t *testing.T, data []byte) {
		args := splitArgs(data)
		xadd := append([][]byte{[]byte("xadd"), []byte("fz")}, args...)
		if a, e := parseStreamAddArgs(xadd, true); e == "" {
			if a.fieldPos < 2 || a.fieldPos > len(xadd) || a.trim.limit < 0 || a.trim.maxLen < 0 {
				t.Fatalf("%q parsed as %+v", data, a)
			}
			if a.trim.limit > 0 && (a.trim.strategy == 0 || !a.trim.approx) {
				t.Fatalf("%q: LIMIT accepted with %+v", data, a.trim)
			}
		}
		var in []byte
		strs := []string{"XADD", "fz"}
		for _, a := range args {
			strs = append(strs, string(a))
		}
		in = append(in, encode(strs...)...)
		strs[0] = "XRANGE"
		in = append(in, encode(strs...)...)
		sc.run(in)
		out := sc.run(encode("XRANGE", "fz", "-", "+"))
		var last engine.StreamID
		n := 0
		for _, m := range idRe.FindAllSubmatch(out, -1) {
			ms, _ := strconv.ParseUint(string(m[1]), 10, 64)
			seq, _ := strconv.ParseUint(string(m[2]), 10, 64)
			id := engine.StreamID{Ms: ms, Seq: seq}
			if n > 0 && !last.Less(id) {
				t.Fatalf("XRANGE after %q: %v then %v", data, last, id)
			}
			last, n = id, n+1
		}
		xlen := sc.run(encode("XLEN", "fz"))
		if !bytes.Equal(xlen, []byte(":"+strconv.Itoa(n)+"\r\n")) {
			t.Fatalf("after %q: XLEN %q, XRANGE listed %d", data, xlen, n)
		}
		if n > 50 {
			sc.run(encode("DEL", "fz"))
		}
	})
}
