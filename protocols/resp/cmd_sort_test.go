package resp

import (
	"math"
	"strings"
	"testing"
)

// TestSortClusterMode: in cluster mode BY and GET patterns that name
// other keys are refused with Redis 7.0's errors; BY without '*' is not.
func TestSortClusterMode(t *testing.T) {
	srv := NewServer(openEngine(t), Config{ClusterEnabled: true, Port: 7001})
	defer srv.Close()
	// A topology in which this node serves every slot.
	id := strings.Repeat("a", 40)
	if err := srv.ClusterState().SetNodes(id+" 127.0.0.1 7001 master - 0-16383", 1, false); err != nil {
		t.Fatal(err)
	}
	sc := newSyncConn(srv)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"RPUSH", "l", "2", "1"}, ":2\r\n"},
		{[]string{"SORT", "l", "BY", "w_*"}, "-ERR BY option of SORT denied in Cluster mode.\r\n"},
		{[]string{"SORT", "l", "GET", "#"}, "-ERR GET option of SORT denied in Cluster mode.\r\n"},
		{[]string{"SORT", "l", "BY", "nosort"}, "*2\r\n$1\r\n2\r\n$1\r\n1\r\n"},
		{[]string{"SORT", "l"}, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
	} {
		if got := string(sc.run(encode(c.args...))); got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
}

// TestSortScore: values redis-server 7.0 (glibc strtod) sorts as numbers
// or refuses.
func TestSortScore(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "0x1.8": 1.5, "0X1p1": 2, "  0x10": 16, "-0x10": -16,
		"infinity": math.Inf(1), "-inf": math.Inf(-1), "0.0e5": 0, "2.2250738585072014e-308": 0x1p-1022, " 3": 3, "1.": 1} {
		if got, ok := sortScore([]byte(in)); !ok || got != want {
			t.Errorf("sortScore(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"1e-310", "1e-400", "0x", "nan", "1e400", "1 ", " ", "1_0", "0x1p-1080", "abc"} {
		if got, ok := sortScore([]byte(in)); ok {
			t.Errorf("sortScore(%q) = %v, want an error", in, got)
		}
	}
}
