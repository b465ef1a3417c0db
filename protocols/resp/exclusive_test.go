package resp

import (
	"bufio"
	"net"
	"runtime"
	"testing"
	"time"
)

// addProbe registers a test command that runs exclusively: it reports
// that it started, runs body, and answers +OK.
func addProbe(s *Server, body func(c *conn)) {
	spec := &cmdSpec{name: "x-exclusive-probe", arity: 1, flags: flagExclusive, fn: func(c *conn, _ *Command) {
		body(c)
		c.wr.OK()
	}}
	s.commands.m[spec.name] = spec
}

func sendReq(t *testing.T, nc net.Conn, args ...string) {
	t.Helper()
	if _, err := nc.Write(encode(args...)); err != nil {
		t.Fatal(err)
	}
}

func wantReply(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	got, err := readReply(r)
	if err != nil || string(got) != want {
		t.Fatalf("reply %q, %v; want %q", got, err, want)
	}
}

// waitFor polls a condition on server state (not a timer standing in for
// an event: the state is what is waited on).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// TestExclusiveGuard: an exclusive command runs while another client is
// blocked in BLPOP (a blocked client does not hold the guard), excludes a
// writer for as long as it runs, and a blocking command it runs itself
// answers at once instead of waiting.
func TestExclusiveGuard(t *testing.T) {
	s, addr := startServer(t, Config{})
	release := make(chan struct{})
	entered := make(chan struct{})
	var during, blpop []byte
	addProbe(s, func(c *conn) {
		close(entered)
		<-release
		v, err := c.eng.Get(c.ns, []byte("k"))
		if err == nil {
			during = append([]byte(nil), v.Bytes()...)
			v.Release()
		}
		// BLPOP with no timeout, from inside: answers nil at once.
		mark := c.wr.Pending()
		spec := s.commands.lookup([]byte("blpop"))
		spec.fn(c, &Command{Args: [][]byte{[]byte("blpop"), []byte("empty"), []byte("0")}})
		blpop = append([]byte(nil), c.wr.buf[mark:]...)
		c.wr.buf = c.wr.buf[:mark]
	})

	blocked, blockedR := dial(t, addr)
	sendReq(t, blocked, "BLPOP", "q", "0")
	waitFor(t, "the BLPOP client to block", func() bool { return s.blocked.waiting.Load() == 1 })

	probe, probeR := dial(t, addr)
	sendReq(t, probe, "X-EXCLUSIVE-PROBE")
	<-entered // with the BLPOP client holding the guard, this would hang

	writer, writerR := dial(t, addr)
	sendReq(t, writer, "SET", "k", "v")
	waitFor(t, "the SET to reach the server", func() bool { cmds, _, _, _, _ := s.totals(); return cmds >= 3 })
	close(release)
	wantReply(t, probeR, "+OK\r\n")
	wantReply(t, writerR, "+OK\r\n")
	if during != nil {
		t.Fatalf("a SET ran while an exclusive command held the guard (saw %q)", during)
	}
	if string(blpop) != "*-1\r\n" {
		t.Fatalf("BLPOP under the exclusive guard answered %q, want a nil array at once", blpop)
	}

	sendReq(t, writer, "RPUSH", "q", "x")
	wantReply(t, writerR, ":1\r\n")
	wantReply(t, blockedR, "*2\r\n$1\r\nq\r\n$1\r\nx\r\n")
}

// TestGuardBehindAnnouncedScript: a command that looked for a running
// script just before one was announced, and reaches the guard after the
// script took it, is answered as if it had arrived after the
// announcement (-BUSY past the time limit) instead of waiting on the
// guard until the script ends (which SCRIPT KILL, sent by the same
// client, could then never stop).
func TestGuardBehindAnnouncedScript(t *testing.T) {
	s := NewServer(openEngine(t), Config{})
	defer s.Close()
	scripted, pinger := newSyncConn(s), newSyncConn(s)
	run := &scriptRun{c: scripted.c, done: make(chan struct{}), busy: make(chan struct{})}
	s.lua.running.Store(run)
	s.work.mu.Lock() // the script took the guard
	spec := s.commands.lookup([]byte("ping"))
	answered := make(chan bool, 1)
	go func() {
		answered <- pinger.c.waitGuard(spec, &Command{Args: [][]byte{[]byte("ping")}})
	}()
	select {
	case <-answered:
		t.Fatal("the command went on while the script held the guard, before its time limit")
	default:
	}
	close(run.busy) // past the time limit
	select {
	case ok := <-answered:
		if !ok {
			t.Fatal("the command ran while the script held the guard")
		}
	case <-time.After(10 * time.Second):
		s.work.mu.Unlock()
		t.Fatal("the command waited on the guard behind the announced script")
	}
	if got := string(pinger.c.wr.buf); got != "-"+errBusyEval+"\r\n" {
		t.Fatalf("reply %q", got)
	}
	s.lua.running.Store(nil)
	close(run.done)
	s.work.mu.Unlock()
	// With no script, the guard is taken as before.
	if pinger.c.waitGuard(spec, &Command{Args: [][]byte{[]byte("ping")}}) || pinger.c.guard != guardShared {
		t.Fatal("the guard was not taken once free")
	}
	pinger.c.leaveGuard()
}
