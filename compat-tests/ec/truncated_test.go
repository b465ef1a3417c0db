package ec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// truncateShards truncates every shard file on device d to nothing and
// returns how many there were.
func truncateShards(t testing.TB, v volume, d int) int {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(v.devs[d], "*.s[0-9]*"))
	n := 0
	for _, p := range names {
		if strings.HasSuffix(p, ".crc") {
			continue
		}
		if err := os.Truncate(p, 0); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// TestTruncatedShardAtStart: a device whose shard files were truncated
// while the server was stopped (a file system repaired after a crash,
// say) is one faulty device of six: reads must reconstruct.
func TestTruncatedShardAtStart(t *testing.T) {
	ds := data()
	v := populated(t)
	truncateShards(t, v, shardHolders(t, v)[0])
	srv := v.start(t, v.devs)
	rdb := client(t, srv.Addr())
	readAllOK(t, rdb, ds, ds.keys)
}

// TestScrubRepairsTruncatedShards: shard files truncated under a running
// server; reads reconstruct, and the scrub the errors start must restore
// the device.
func TestScrubRepairsTruncatedShards(t *testing.T) {
	ds := data()
	v := populated(t)
	srv := v.start(t, v.devs)
	rdb := client(t, srv.Addr())
	truncateShards(t, v, shardHolders(t, v)[0])
	readAllOK(t, rdb, ds, ds.keys)
	in := waitInfo(t, rdb, 90*time.Second, "a scrub to repair the truncated device", func(in info) bool {
		return in.fields["ec_degraded"] == "no"
	})
	if in.fields["scrub_last_error"] != "" {
		t.Fatalf("scrub error: %.300s", in.fields["scrub_last_error"])
	}
}
