package ec_test

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestRebuildThenLoseTwoOthers replaces a device with an empty directory,
// waits for the rebuild, then removes the two other devices that held
// the metadata mirrors: everything must come from the rebuilt device and
// its copy of the metadata.
func TestRebuildThenLoseTwoOthers(t *testing.T) {
	ds := data()
	v := populated(t)
	removeDevices(t, v, 1)
	if err := os.Mkdir(v.devs[1], 0o755); err != nil {
		t.Fatal(err)
	}
	srv := v.start(t, v.devs)
	rdb := client(t, srv.Addr())
	if s := getInfo(t, rdb, "devices").devices[v.devs[1]]; s != "rebuilding" && s != "ok" {
		t.Fatalf("replacement device state %q", s)
	}
	start := time.Now()
	in := waitInfo(t, rdb, 40*time.Second, "the rebuild to end", rebuildDone(t))
	t.Logf("rebuilt %s MiB in about %v", strconv.FormatInt(in.int(t, "rebuild_bytes")>>20, 10), time.Since(start).Round(100*time.Millisecond))
	if in.fields["ec_degraded"] != "no" || in.int(t, "rebuild_lost") != 0 || in.fields["rebuild_last_error"] != "" {
		t.Fatalf("after the rebuild:\n%s", in.raw)
	}
	srv.Stop(t)

	removeDevices(t, v, 0, 2)
	srv = v.start(t, order(v, 4, 2, 0, 5, 1, 3), "--ec-rebuild-rate", "1mb")
	rdb = client(t, srv.Addr())
	readAllOK(t, rdb, ds, ds.keys)
	if in := getInfo(t, rdb, "devices"); in.fields["ec_degraded"] != "yes" {
		t.Fatalf("two devices lost, INFO:\n%s", in.raw)
	}
}

// TestKillDuringRebuild kills the server (SIGKILL) in the middle of a slow
// rebuild; after the restart the rebuild completes, nothing is lost, and
// the volume then survives losing two other devices.
func TestKillDuringRebuild(t *testing.T) {
	ds := data()
	v := populated(t)
	removeDevices(t, v, 3)
	srv := v.start(t, v.devs, "--ec-rebuild-rate", "16mb")
	rdb := client(t, srv.Addr())
	in := waitInfo(t, rdb, 30*time.Second, "the rebuild to make progress", func(in info) bool {
		// Past the first file, so the restart resumes with some shards
		// rebuilt and one half done.
		return in.int(t, "rebuild_running") == 1 && in.int(t, "rebuild_files_done") >= 1 && in.int(t, "rebuild_bytes") >= 80<<20
	})
	t.Logf("killing at rebuild_bytes:%s rebuild_files_done:%s/%s", in.fields["rebuild_bytes"], in.fields["rebuild_files_done"], in.fields["rebuild_files"])
	srv.Kill(t)

	srv = v.start(t, v.devs)
	rdb = client(t, srv.Addr())
	readAllOK(t, rdb, ds, ds.keys) // during or after the resumed rebuild
	in = waitInfo(t, rdb, 40*time.Second, "the resumed rebuild to end", rebuildDone(t))
	if in.fields["ec_degraded"] != "no" || in.int(t, "rebuild_lost") != 0 || in.fields["rebuild_last_error"] != "" {
		t.Fatalf("after the resumed rebuild:\n%s", in.raw)
	}
	srv.Stop(t)

	removeDevices(t, v, 1, 5)
	srv = v.start(t, order(v, 5, 4, 3, 2, 1, 0), "--ec-rebuild-rate", "1mb")
	rdb = client(t, srv.Addr())
	readAllOK(t, rdb, ds, ds.keys)
}
