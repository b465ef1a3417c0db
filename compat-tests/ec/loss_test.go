package ec_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestLoseTwoDevices deletes two device directories of a stopped 4+2
// server — two data shards, a data and a parity shard, two of the three
// metadata mirrors — and starts it with the devices listed in another
// order: every value reads back identical and INFO says degraded.
func TestLoseTwoDevices(t *testing.T) {
	ds := data()
	cases := []struct {
		name string
		lose func(holders map[int]int) []int
		perm []int
	}{
		{"two data shards", func(h map[int]int) []int { return []int{h[0], h[1]} }, []int{5, 4, 3, 2, 1, 0}},
		{"data and parity shard", func(h map[int]int) []int { return []int{h[2], h[4]} }, []int{3, 4, 5, 0, 1, 2}},
		// Devices 0-2 were listed first at creation: they hold the
		// metadata mirrors.
		{"two metadata mirrors", func(map[int]int) []int { return []int{0, 1} }, []int{1, 3, 5, 0, 2, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := populated(t)
			lost := tc.lose(shardHolders(t, v))
			removeDevices(t, v, lost...)
			// A slow rebuild keeps the volume degraded while it is read.
			srv := v.start(t, order(v, tc.perm...), "--ec-rebuild-rate", "1mb")
			rdb := client(t, srv.Addr())
			in := getInfo(t, rdb, "devices")
			if in.fields["ec_degraded"] != "yes" {
				t.Fatalf("devices %v lost, INFO says ec_degraded:%s:\n%s", lost, in.fields["ec_degraded"], in.raw)
			}
			for _, i := range lost {
				if s := in.devices[v.devs[i]]; s != "rebuilding" {
					t.Errorf("blank replacement %s: state %q, want rebuilding", v.devs[i], s)
				}
			}
			start := time.Now()
			readAllOK(t, rdb, ds, ds.keys)
			t.Logf("lost devices %v: read %d values degraded in %v", lost, len(ds.keys), time.Since(start).Round(time.Millisecond))
			in = getInfo(t, rdb, "devices")
			if in.fields["ec_degraded"] != "yes" || in.int(t, "ec_reconstructed") == 0 {
				t.Fatalf("after degraded reads INFO shows ec_degraded:%s ec_reconstructed:%s", in.fields["ec_degraded"], in.fields["ec_reconstructed"])
			}
			if n := in.int(t, "ec_unrecoverable"); n != 0 {
				t.Fatalf("ec_unrecoverable:%d with only %d devices lost", n, len(lost))
			}
		})
	}
}

// TestLoseThreeDevicesWithMetadata: with three devices gone, the ones that
// held every metadata mirror, the server must refuse to start and say why
// rather than start empty.
func TestLoseThreeDevicesWithMetadata(t *testing.T) {
	v := populated(t)
	removeDevices(t, v, 0, 1, 2)
	log := expectStartFailure(t, v, order(v, 0, 1, 2, 3, 4, 5))
	if !strings.Contains(log, "metadata store is missing") || !strings.Contains(log, "too many devices lost") {
		t.Fatalf("the server exited without saying that the metadata is lost:\n%s", log)
	}
}

// TestLoseThreeDevices: with three devices gone but a metadata mirror left,
// the server starts; small values (kept in the metadata store) read back
// identical; every blob read is an error that says the data is
// unrecoverable, never wrong bytes — also after the blank replacements
// have been "rebuilt" and after a restart.
func TestLoseThreeDevices(t *testing.T) {
	ds := data()
	v := populated(t)
	removeDevices(t, v, 3, 4, 5)
	devs := order(v, 0, 1, 2, 3, 4, 5)
	srv := v.start(t, devs, "--ec-rebuild-rate", "1mb")
	rdb := client(t, srv.Addr())
	check := func(when string) {
		t.Helper()
		res := readAll(t, rdb, ds, ds.keys)
		if len(res.wrong) > 0 {
			t.Fatalf("%s: values came back WRONG: %v", when, res.wrong)
		}
		for _, k := range ds.keys {
			err, failed := res.errors[k]
			switch {
			case strings.HasPrefix(k, "small:") && failed:
				t.Fatalf("%s: small value %s (metadata store, intact): %v", when, k, err)
			case !strings.HasPrefix(k, "small:") && !failed:
				t.Fatalf("%s: blob %s read back although every stripe lost 3 of 6 shards", when, k)
			case failed && !clearLoss(err.Error()):
				t.Fatalf("%s: %s failed with an unclear error: %v", when, k, err)
			}
		}
		t.Logf("%s: %d blob reads failed, e.g. %s", when, len(res.errors), firstError(res.errors))
	}
	check("degraded beyond parity")
	in := getInfo(t, rdb, "devices")
	if in.fields["ec_degraded"] != "yes" || in.int(t, "ec_unrecoverable") == 0 {
		t.Fatalf("INFO after unrecoverable reads:\n%s", in.raw)
	}
	srv.Stop(t)

	// A full-speed rebuild finds the stripes lost and says so; it must not
	// make the lost data readable as whatever it wrote to the replacements.
	srv = v.start(t, devs)
	rdb = client(t, srv.Addr())
	in = waitInfo(t, rdb, 20*time.Second, "the rebuild to report lost stripes", func(in info) bool { return in.int(t, "rebuild_lost") > 0 })
	t.Logf("rebuild: %s stripes lost so far", in.fields["rebuild_lost"])
	waitInfo(t, rdb, 40*time.Second, "the rebuilds to end", rebuildDone(t))
	check("after rebuild")
	srv.Stop(t)

	// A scrub after the restart reports the loss again.
	srv = v.start(t, devs, "--ec-scrub-interval", "1")
	rdb = client(t, srv.Addr())
	check("after rebuild and restart")
	in = waitInfo(t, rdb, 40*time.Second, "a scrub to report lost stripes", func(in info) bool { return in.int(t, "scrub_lost") > 0 })
	t.Logf("scrub: %s stripes lost", in.fields["scrub_lost"])
}

// clearLoss reports whether a client error message says that data is lost.
func clearLoss(msg string) bool {
	msg = strings.ToLower(msg)
	for _, w := range []string{"unrecoverable", "lost", "corrupt", "cannot read"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// expectStartFailure runs the server on v and expects it to exit with an
// error before serving; it returns the server's output.
func expectStartFailure(t *testing.T, v volume, devs []string) string {
	t.Helper()
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	port := internal.FreePort(t)
	args := append([]string{"--port", strconv.Itoa(port), "--dir", v.dir, "--s3-port", "0"}, ecArgs(devs)...)
	cmd := exec.Command(bin, args...)
	out := make(chan []byte, 1)
	errc := make(chan error, 1)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() {
		var buf []byte
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			buf = append(buf, b[:n]...)
			if err != nil {
				out <- buf
				return
			}
		}
	}()
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		log := string(<-out)
		if err == nil {
			t.Fatalf("the server exited with status 0:\n%s", log)
		}
		return log
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-errc
		t.Fatalf("the server kept running with its metadata gone:\n%s", <-out)
	}
	return ""
}
