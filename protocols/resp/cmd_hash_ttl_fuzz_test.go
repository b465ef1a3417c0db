package resp

import (
	"bufio"
	"bytes"
	"strconv"
	"testing"
)

// hashxFuzzCommands are the commands FuzzHashTTLCommands drives, with the
// plain hash commands whose interplay with field TTLs matters.
var hashxFuzzCommands = []string{"hexpire", "hpexpire", "hexpireat", "hpexpireat", "httl", "hpttl", "hexpiretime",
	"hpexpiretime", "hpersist", "hgetdel", "hgetex", "hsetex", "hrangebylex", "hsetexpire", "hset", "hdel", "hincrby", "hsetnx"}

// FuzzHashTTLCommands runs the field-expiry commands (and HRANGEBYLEX)
// with fuzzed arguments on one hash: every request gets exactly one
// well-formed reply, and afterwards the hash is consistent: HLEN counts
// what HGETALL returns, and every field HGETALL returns has a TTL state
// (never -2).
func FuzzHashTTLCommands(f *testing.F) {
	for _, s := range []string{"10 FIELDS 1 a", "0 FIELDS 2 a b", "1 NX FIELDS 1 b", "4102444800 GT FIELDS 1 c",
		"FIELDS 1 a", "FIELDS 3 a a b", "EX 10 FIELDS 1 a", "PERSIST FIELDS 1 b", "PXAT 1 FIELDS 1 c",
		"FNX EX 100 FIELDS 2 a 1 b 2", "FXX KEEPTTL FIELDS 1 a 3", "PX 0 FIELDS 1 b 1", "- +", "[a (c REV LIMIT 0 1",
		"+ - REV", "a 1 b 2 c 3", "a b", "c 5", "10 FIELDS -1 a", "9999999999999999 FIELDS 1 a", "10 XX LT FIELDS 1 a"} {
		for op := range hashxFuzzCommands {
			f.Add([]byte(s), uint8(op))
		}
	}
	eng := openEngine(f)
	srv := NewServer(eng, Config{})
	f.Cleanup(func() { srv.Close() })
	sc := newSyncConn(srv)
	sc.run(encode("HSET", "h", "a", "1", "b", "2", "c", "3"))
	f.Fuzz(func(t *testing.T, data []byte, op uint8) {
		args := append([]string{hashxFuzzCommands[int(op)%len(hashxFuzzCommands)], "h"}, func() []string {
			var s []string
			for _, a := range splitArgs(data) {
				s = append(s, string(a))
			}
			return s
		}()...)
		out := sc.run(encode(args...))
		r := bufio.NewReader(bytes.NewReader(out))
		if _, err := readReply(r); err != nil {
			t.Fatalf("%q: bad reply %q: %v", args, out, err)
		}
		if r.Buffered() != 0 {
			t.Fatalf("%q: more than one reply: %q", args, out)
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimPrefix(sc.run(encode("HLEN", "h")), []byte(":")))))
		if err != nil {
			t.Fatalf("HLEN after %q: %v", args, err)
		}
		all := sc.run(encode("HKEYS", "h"))
		r = bufio.NewReader(bytes.NewReader(all))
		line, _ := r.ReadString('\n')
		if want := "*" + strconv.Itoa(n) + "\r\n"; line != want {
			t.Fatalf("after %q: HLEN %d, HKEYS %q", args, n, all)
		}
		for range n {
			field, err := readReply(r)
			if err != nil {
				t.Fatal(err)
			}
			f := string(field[bytes.IndexByte(field, '\n')+1 : len(field)-2])
			if ttl := sc.run(encode("HPTTL", "h", "FIELDS", "1", f)); bytes.Equal(ttl, []byte("*1\r\n:-2\r\n")) {
				t.Fatalf("after %q: field %q is listed but HPTTL says -2", args, f)
			}
		}
		if n == 0 {
			sc.run(encode("HSET", "h", "a", "1", "b", "2", "c", "3"))
		}
	})
}
