package resp

import "testing"

// TestSortClusterMode: in cluster mode BY and GET patterns that name
// other keys are refused with Redis 7.0's errors; BY without '*' is not.
func TestSortClusterMode(t *testing.T) {
	srv := NewServer(openEngine(t), Config{ClusterEnabled: true})
	defer srv.Close()
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
