package resp

import (
	"bufio"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// monitorLines reads n MONITOR lines and returns them with the timestamp
// and address cut off ("[0] "SET" "k"").
func monitorLines(t *testing.T, br *bufio.Reader, n int) []string {
	t.Helper()
	re := regexp.MustCompile(`^\+(\d{10})\.(\d{6}) \[(\S+) (127\.0\.0\.1:\d+|lua)\] (.*)\r\n$`)
	var out []string
	for i := 0; i < n; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("monitor line %d: %v", i, err)
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("monitor line %q is not in Redis's format", line)
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		if d := time.Since(time.Unix(sec, 0)); d < -time.Second || d > time.Minute {
			t.Fatalf("monitor line %q: timestamp off by %v", line, d)
		}
		if m[4] == "lua" {
			m[3] += " lua"
		}
		out = append(out, "["+m[3]+"] "+m[5])
	}
	return out
}

func TestMonitor(t *testing.T) {
	_, addr := startServer(t, Config{RequirePass: "pw", Namespaces: map[string]string{"ns1": "tok1"}})
	mon, monR := dial(t, addr)
	mon.Write(encode("AUTH", "pw"))
	mon.Write(encode("MONITOR"))
	if r, _ := readReply(monR); string(r) != "+OK\r\n" {
		t.Fatalf("AUTH: %q", r)
	}
	if r, _ := readReply(monR); string(r) != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	cl, clR := dial(t, addr)
	big := strings.Repeat("v", 5000)
	reqs := [][]string{
		{"GET", "k"},        // refused before AUTH: not shown
		{"AUTH", "wrong"},   // shown, redacted
		{"AUTH", "u", "pw"}, // shown, redacted
		{"SET", "k", "v with space\n\"q\x01\xff"},
		{"HELLO", "2", "AUTH", "default", "pw", "SETNAME", "x"},
		{"CONFIG", "GET", "maxclients"}, // admin: not shown
		{"CLIENT", "LIST"},              // admin: not shown
		{"CLIENT", "GETNAME"},
		{"NOSUCH"}, // refused: not shown
		{"GET"},    // refused: not shown
		{"SET", "big", big},
		{"AUTH", "tok1"},
		{"GET", "k"},
	}
	for _, r := range reqs {
		cl.Write(encode(r...))
		if _, err := readReply(clR); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`[0] "AUTH" "(redacted)"`,
		`[0] "AUTH" "(redacted)" "(redacted)"`,
		`[0] "SET" "k" "v with space\n\"q\x01\xff"`,
		`[0] "HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME" "x"`,
		`[0] "CLIENT" "GETNAME"`,
		`[0] "SET" "big" "` + big[:monitorArgMax] + `... (5000 bytes)"`,
		`[0] "AUTH" "(redacted)"`,
		`[ns1] "GET" "k"`,
	}
	got := monitorLines(t, monR, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %.200q\nwant %.200q", i, got[i], want[i])
		}
	}
	// A namespace's monitor sees that namespace's commands only.
	nsMon, nsMonR := dial(t, addr)
	nsMon.Write(encode("AUTH", "tok1"))
	nsMon.Write(encode("MONITOR"))
	readReply(nsMonR)
	readReply(nsMonR)
	cl.Write(encode("GET", "in-ns1"))
	readReply(clR)
	other, otherR := dial(t, addr)
	other.Write(encode("AUTH", "pw"))
	readReply(otherR)
	other.Write(encode("GET", "in-default"))
	readReply(otherR)
	cl.Write(encode("GET", "in-ns1-again"))
	readReply(clR)
	if got := monitorLines(t, nsMonR, 2); got[0] != `[ns1] "GET" "in-ns1"` || got[1] != `[ns1] "GET" "in-ns1-again"` {
		t.Fatalf("namespace monitor saw %q", got)
	}
	// The admin's sees all: the namespace monitor's AUTH, the GETs and the
	// other client's AUTH.
	if got := monitorLines(t, monR, 5); got[4] != `[ns1] "GET" "in-ns1-again"` {
		t.Fatalf("admin monitor saw %q", got)
	}

	// A monitor may not touch the keyspace; it sees its own PING after the
	// reply, as in Redis.
	mon.Write(encode("GET", "k"))
	if r, _ := readReply(monR); string(r) != "-ERR Replica can't interact with the keyspace\r\n" {
		t.Fatalf("monitor GET: %q", r)
	}
	mon.Write(encode("PING"))
	if r, _ := readReply(monR); string(r) != "+PONG\r\n" {
		t.Fatalf("monitor PING: %q", r)
	}
	if l := monitorLines(t, monR, 1); l[0] != `[0] "PING"` {
		t.Fatalf("own PING: %q", l[0])
	}
	// RESET ends monitoring.
	mon.Write(encode("RESET"))
	if r, _ := readReply(monR); string(r) != "+RESET\r\n" {
		t.Fatalf("RESET: %q", r)
	}
	cl.Write(encode("PING"))
	readReply(clR)
	mon.Write(encode("PING"))
	if r, _ := readReply(monR); string(r) != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("after RESET: %q", r)
	}
}

// TestMonitorQuit: QUIT's +OK reaches a monitor before the connection
// closes.
func TestMonitorQuit(t *testing.T) {
	_, addr := startServer(t, Config{})
	mon, monR := dial(t, addr)
	mon.Write(encode("MONITOR"))
	readReply(monR)
	mon.Write(encode("QUIT"))
	if r, err := readReply(monR); string(r) != "+OK\r\n" {
		t.Fatalf("QUIT: %q, %v", r, err)
	}
	mon.(*net.TCPConn).SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := monR.ReadByte(); err == nil {
		t.Fatal("connection still open after QUIT")
	}
}

// TestMonitorRepr: arguments are quoted as Redis's sdscatrepr does.
func TestMonitorRepr(t *testing.T) {
	for in, want := range map[string]string{
		"plain":             "plain",
		"a\\b\"c":           `a\\b\"c`,
		"\n\r\t\a\b":        `\n\r\t\a\b`,
		"\x00\x1f\x7f\x80ÿ": `\x00\x1f\x7f\x80\xc3\xbf`,
	} {
		if got := string(appendRepr(nil, []byte(in))); got != want {
			t.Errorf("appendRepr(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestMonitorExecAndScripts: as Redis's call() does, the commands MULTI
// queued are shown and counted when EXEC runs them, between MULTI and
// EXEC; a script's commands are shown as "[0 lua]" after its EVAL (as
// Redis 7.0 shows them), and counted as calls of their own.
func TestMonitorExecAndScripts(t *testing.T) {
	s, addr := startServer(t, Config{})
	mon, monR := dial(t, addr)
	mon.Write(encode("MONITOR"))
	if r, _ := readReply(monR); string(r) != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	calls := func(name string) uint64 {
		for _, st := range s.CommandStats() {
			if st.Name == name {
				return st.Calls
			}
		}
		return 0
	}
	cl, clR := dial(t, addr)
	do := func(args ...string) string {
		t.Helper()
		cl.Write(encode(args...))
		r, err := readReply(clR)
		if err != nil {
			t.Fatal(err)
		}
		return string(r)
	}
	do("MULTI")
	if r := do("SET", "a", "1"); r != "+QUEUED\r\n" {
		t.Fatalf("SET in MULTI: %q", r)
	}
	do("INCR", "a")
	do("HSET", "a", "f", "v") // fails at run time
	if n := calls("set") + calls("incr") + calls("hset"); n != 0 {
		t.Fatalf("queued commands counted before EXEC: %d calls", n)
	}
	if r := do("EXEC"); r != "*3\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" {
		t.Fatalf("EXEC: %q", r)
	}
	if calls("set") != 1 || calls("incr") != 1 || calls("hset") != 1 || calls("exec") != 1 {
		t.Fatalf("after EXEC: set %d incr %d hset %d exec %d calls", calls("set"), calls("incr"), calls("hset"), calls("exec"))
	}
	var failed = map[string]uint64{}
	for _, st := range s.CommandStats() {
		failed[st.Name] = st.Failed
	}
	if failed["hset"] != 1 || failed["exec"] != 0 {
		t.Fatalf("failed calls: hset %d exec %d, want 1 and 0", failed["hset"], failed["exec"])
	}
	script := "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])"
	if r := do("EVAL", script, "1", "b", "2"); r != "$1\r\n2\r\n" {
		t.Fatalf("EVAL: %q", r)
	}
	if calls("set") != 2 || calls("get") != 1 || calls("eval") != 1 {
		t.Fatalf("after EVAL: set %d get %d eval %d calls", calls("set"), calls("get"), calls("eval"))
	}
	// A script inside EXEC: its commands, then the EVAL, then EXEC.
	do("MULTI")
	do("EVAL", script, "1", "c", "3")
	do("EXEC")
	want := []string{
		`[0] "MULTI"`,
		`[0] "SET" "a" "1"`,
		`[0] "INCR" "a"`,
		`[0] "HSET" "a" "f" "v"`,
		`[0] "EXEC"`,
		`[0] "EVAL" "` + script + `" "1" "b" "2"`,
		`[0 lua] "set" "b" "2"`,
		`[0 lua] "get" "b"`,
		`[0] "MULTI"`,
		`[0] "EVAL" "` + script + `" "1" "c" "3"`,
		`[0 lua] "set" "c" "3"`,
		`[0 lua] "get" "c"`,
		`[0] "EXEC"`,
	}
	got := monitorLines(t, monR, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}
