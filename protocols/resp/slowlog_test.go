package resp

import (
	"bytes"
	"testing"
	"time"
)

// TestSlowlogCostsNoAllocs: with the slow log on, a command under the
// threshold costs no allocation (invariant 6), and one over it is logged.
func TestSlowlogCostsNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	s := NewServer(openEngine(t), Config{})
	defer s.Close()
	s.SetSlowlog(time.Hour, 128)
	sc := newSyncConn(s)
	batch := bytes.Join([][]byte{encode("PING"), encode("ECHO", "hello")}, nil)
	sc.run(batch)
	if a := testing.AllocsPerRun(200, func() { sc.run(batch) }); a != 0 {
		t.Errorf("PING/ECHO with the slow log on: %v allocs per batch, want 0", a)
	}
	if n := s.slowlog.len(); n != 0 {
		t.Fatalf("%d entries under a 1 h threshold", n)
	}
	s.SetSlowlog(0, 2)
	sc.run(bytes.Join([][]byte{encode("PING"), encode("ECHO", "a"), encode("ECHO", "b")}, nil))
	e := s.slowlog.latest(-1)
	if len(e) != 2 || e[0].args[1] != "b" || e[1].args[1] != "a" || e[0].id != e[1].id+1 {
		t.Fatalf("entries %+v, want the last two, newest first", e)
	}
}

// TestPerflogSampling: PERFLOG records the named commands at the ratio and
// over the threshold, keeps max-len entries, and costs nothing when off.
func TestPerflogSampling(t *testing.T) {
	s := NewServer(openEngine(t), Config{})
	defer s.Close()
	sc := newSyncConn(s)
	batch := bytes.Join([][]byte{encode("PING"), encode("ECHO", "hello")}, nil)
	if !raceEnabled {
		sc.run(batch)
		if a := testing.AllocsPerRun(200, func() { sc.run(batch) }); a != 0 {
			t.Errorf("PING/ECHO with PERFLOG off: %v allocs per batch, want 0", a)
		}
	}
	s.SetPerflog(100, "echo, DEBUG", 0, 2)
	sc.run(bytes.Join([][]byte{encode("PING"), encode("ECHO", "a"), encode("ECHO", "b"), encode("debug", "sleep", "0")}, nil))
	got := string(sc.run(encode("PERFLOG", "GET", "*")))
	// Newest first: debug (id 3), echo (id 2); the first echo fell out.
	if !bytes.HasPrefix([]byte(got), []byte("*2\r\n*6\r\n:3\r\n")) || !bytes.Contains([]byte(got), []byte("$5\r\ndebug\r\n")) || !bytes.Contains([]byte(got), []byte("$4\r\necho\r\n")) || bytes.Contains([]byte(got), []byte("ping")) {
		t.Fatalf("PERFLOG GET * = %q", got)
	}
	// A threshold no command reaches records nothing more.
	s.SetPerflog(100, "*", time.Hour, 2)
	sc.run(batch)
	if got := string(sc.run(encode("PERFLOG", "LEN"))); got != ":2\r\n" {
		t.Fatalf("PERFLOG LEN = %q", got)
	}
	sc.run(encode("PERFLOG", "RESET"))
	if got := string(sc.run(encode("PERFLOG", "LEN"))); got != ":0\r\n" {
		t.Fatalf("PERFLOG LEN after RESET = %q", got)
	}
}
