package resp

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzKVRocksArgs runs DIGEST, DELEX, MSETEX, KMETADATA and SHUTDOWN with
// arbitrary arguments: each answers one well-formed reply (or, for a
// SHUTDOWN that passed its checks, none), and never panics.
func FuzzKVRocksArgs(f *testing.F) {
	for _, seed := range []string{
		"MSETEX 2 a 1 b 2 NX EX 10", "MSETEX 1 a 1 KEEPTTL XX", "MSETEX 9223372036854775807 a 1",
		"MSETEX 1 a 1 PXAT 1 EXAT 2", "DELEX a IFDEQ 0123456789abcdef", "DELEX a IFEQ", "DELEX a ifne x",
		"DIGEST a", "KMETADATA a", "SHUTDOWN NOSAVE NOW", "SHUTDOWN ABORT FORCE", "SHUTDOWN save nosave",
	} {
		f.Add(seed)
	}
	eng := openEngine(f)
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		if len(args) == 0 || len(args) > 64 {
			return
		}
		s := NewServer(eng, Config{})
		defer s.Close()
		cl := newSyncConn(s)
		cl.run(encode("SET", "a", "1"))
		cl.run(encode("RPUSH", "l", "x"))
		out := cl.run(encode(args...))
		if strings.EqualFold(args[0], "shutdown") && cl.c.closeAfter && len(out) == 0 {
			return
		}
		br := bufio.NewReader(bytes.NewReader(out))
		r, err := readReply(br)
		if err != nil || br.Buffered() != 0 {
			t.Fatalf("%q: reply %q, %v, %d bytes left", line, r, err, br.Buffered())
		}
	})
}
