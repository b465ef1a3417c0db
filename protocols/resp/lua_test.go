package resp

import (
	"strings"
	"testing"
	"time"
)

// TestScriptBusyKill: a command sent while a script runs waits, answers
// -BUSY once the script passes the time limit, SCRIPT KILL stops it, and
// the server answers normally after.
func TestScriptBusyKill(t *testing.T) {
	s, addr := startServer(t, Config{})
	s.SetScriptTimeLimit(50 * time.Millisecond)
	runner, runnerR := dial(t, addr)
	other, otherR := dial(t, addr)

	sendReq(t, runner, "EVAL", "local i = 0 while true do i = i + 1 end", "0")
	waitFor(t, "the script to run", func() bool { return s.lua.running.Load() != nil })
	sendReq(t, other, "SET", "k", "v")
	wantReply(t, otherR, "-"+errBusyEval+"\r\n")
	sendReq(t, other, "FUNCTION", "KILL")
	wantReply(t, otherR, "-"+errBusyEval+"\r\n")
	sendReq(t, other, "SCRIPT", "KILL")
	wantReply(t, otherR, "+OK\r\n")
	got, err := readReply(runnerR)
	if err != nil || !strings.HasPrefix(string(got), "-ERR Script killed by user with SCRIPT KILL... script: ") {
		t.Fatalf("killed script answered %q, %v", got, err)
	}
	sendReq(t, other, "SET", "k", "v")
	wantReply(t, otherR, "+OK\r\n")
	sendReq(t, other, "SCRIPT", "KILL")
	wantReply(t, otherR, "-"+errNotBusy+"\r\n")

	// A script that wrote cannot be killed; it ends on its own.
	sendReq(t, runner, "EVAL", "redis.call('set', 'w', '1') local i = 0 while i < 3000000 do i = i + 1 end return i", "0")
	waitFor(t, "the script to run", func() bool { return s.lua.running.Load() != nil })
	sendReq(t, other, "SCRIPT", "KILL")
	got, err = readReply(otherR)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "-"+errUnkillable+"\r\n" && string(got) != "-"+errNotBusy+"\r\n" {
		t.Fatalf("SCRIPT KILL of a script that wrote: %q", got)
	}
	wantReply(t, runnerR, ":3000000\r\n")
	sendReq(t, other, "GET", "w")
	wantReply(t, otherR, "$1\r\n1\r\n")
}

// TestScriptGlobalsIsolated: nothing a script does to the environment is
// seen by the next one.
func TestScriptGlobalsIsolated(t *testing.T) {
	s, addr := startServer(t, Config{})
	_ = s
	nc, r := dial(t, addr)
	for _, script := range []string{
		"x = 1", "rawset(_G, 'x', 1)", "_G.x = 1", "string.x = 1", "setmetatable(_G, nil)",
		"loadstring('x = 1')()", "redis.call = nil", "KEYS = 1",
	} {
		sendReq(t, nc, "EVAL", script, "0")
		if _, err := readReply(r); err != nil {
			t.Fatal(err)
		}
	}
	sendReq(t, nc, "EVAL", "return {type(rawget(_G, 'x')), type(string.x), type(redis.call), type(KEYS)}", "0")
	wantReply(t, r, "*4\r\n$3\r\nnil\r\n$3\r\nnil\r\n$8\r\nfunction\r\n$5\r\ntable\r\n")
}

// BenchmarkEvalsha: EVALSHA of a one-GET script through the request path.
func BenchmarkEvalsha(b *testing.B) {
	eng := openEngine(b)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	sc.run(encode("SET", "k", "v"))
	sha := strings.TrimSpace(strings.Split(string(sc.run(encode("SCRIPT", "LOAD", "return redis.call('get', KEYS[1])"))), "\r\n")[1])
	req := encode("EVALSHA", sha, "1", "k")
	if got := string(sc.run(req)); got != "$1\r\nv\r\n" {
		b.Fatalf("EVALSHA answered %q", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc.run(req)
	}
}
