package resp

import (
	"strings"
	"testing"
)

// TestScriptMemoryLimit: a script that holds more than lua-memory-limit
// fails with "not enough memory" (built up step by step, at once with
// string.rep, or through a redis.call reply), one that only makes garbage
// does not, and the next script runs normally.
func TestScriptMemoryLimit(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	s.SetScriptMemoryLimit(16 << 20)
	cl := newSyncConn(s)
	const oom = "-ERR not enough memory: the script exceeded lua-memory-limit (16777216 bytes)"
	cl.run(encode("SET", "big", strings.Repeat("b", 20<<20)))
	for _, tc := range []struct {
		name, script, want string
	}{
		{"held table", "local t = {} for i = 1, 3000000 do t[i] = string.rep('x', 100) .. i end return #t", oom},
		{"string.rep", "return #string.rep('x', 1024 * 1024 * 1024)", oom},
		{"redis.call reply", "return #redis.call('get', 'big')", oom},
		{"garbage only", "local n = 0 for i = 1, 200000 do local s = string.rep('y', 1000) .. i n = n + #s end return n", ":"},
		{"after", "return redis.call('set', 'k', 'v')", "+OK"},
	} {
		got := string(cl.run(encode("EVAL", tc.script, "0")))
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q...", tc.name, got, tc.want)
		}
	}
	// No bound: string.rep of 32 MiB is fine.
	s.SetScriptMemoryLimit(0)
	if got := string(cl.run(encode("EVAL", "return #string.rep('x', 32 * 1024 * 1024)", "0"))); got != ":33554432\r\n" {
		t.Errorf("without a bound: %q", got)
	}
}
