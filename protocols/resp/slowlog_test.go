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
