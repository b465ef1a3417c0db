package ec_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unitSize is the bytes of one shard in one stripe (nvme.Align).
const unitSize = 4096

// corruptShards flips bytes in n random written units of the shard files
// (not their checksum files), at most one unit per stripe of a segment, so
// every stripe stays recoverable. It returns how many units it corrupted
// in data and in parity shards.
func corruptShards(t testing.TB, v volume, seed uint64, n int, used map[string]bool) (data, parity int) {
	t.Helper()
	var files []string
	for _, dev := range v.devs {
		names, _ := filepath.Glob(filepath.Join(dev, "*.s[0-9]*"))
		for _, p := range names {
			if !strings.HasSuffix(p, ".crc") {
				files = append(files, p)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no shard files to corrupt")
	}
	r := rand.New(rand.NewPCG(seed, 7))
	unitBuf := make([]byte, unitSize)
	for tries := 0; data+parity < n; tries++ {
		if tries > 100*n {
			t.Fatalf("found only %d units to corrupt", data+parity)
		}
		p := files[r.IntN(len(files))]
		fi, err := os.Stat(p)
		if err != nil || fi.Size() < unitSize {
			continue
		}
		u := r.Int64N(fi.Size() / unitSize)
		base := filepath.Base(p)
		i := strings.LastIndex(base, ".s")
		stripe := fmt.Sprintf("%s@%d", base[:i], u)
		if used[stripe] {
			continue
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ReadAt(unitBuf, u*unitSize); err != nil || bytes.Count(unitBuf, []byte{0}) == unitSize {
			f.Close()
			continue // not written (preallocated space)
		}
		off := r.IntN(unitSize - 16)
		for j := off; j < off+16; j++ {
			unitBuf[j] ^= byte(1 + r.IntN(255))
		}
		if _, err := f.WriteAt(unitBuf[off:off+16], u*unitSize+int64(off)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		used[stripe] = true
		if idx, _ := strconv.Atoi(base[i+2:]); idx < ecK {
			data++
		} else {
			parity++
		}
	}
	return data, parity
}

var scrubDone = regexp.MustCompile(`scrub done in [^:]+: (\d+) MiB verified, (\d+) units repaired, (\d+) stripes lost`)

// scrubs returns the (repaired, lost) figures of every finished scrub in
// the server's log.
func scrubs(log string) [][2]int64 {
	var out [][2]int64
	for _, m := range scrubDone.FindAllStringSubmatch(log, -1) {
		rep, _ := strconv.ParseInt(m[2], 10, 64)
		lost, _ := strconv.ParseInt(m[3], 10, 64)
		out = append(out, [2]int64{rep, lost})
	}
	return out
}

// TestCorruptShards flips bytes in shard files of a stopped server. Reads
// after the restart return the right bytes (and repair the data units
// they read), the volume says degraded until the scrub the errors start
// has repaired the parity units. Corruption found by a periodic scrub
// before any read is repaired by it, and the next scrub finds nothing.
func TestCorruptShards(t *testing.T) {
	ds := data()
	v := populated(t)
	used := make(map[string]bool)
	d, p := corruptShards(t, v, 1, 60, used)
	t.Logf("corrupted %d data and %d parity units", d, p)
	srv := v.start(t, v.devs)
	rdb := client(t, srv.Addr())
	readAllOK(t, rdb, ds, ds.keys)
	in := getInfo(t, rdb, "devices")
	if in.int(t, "ec_checksum_errors") == 0 || in.int(t, "ec_read_repaired") == 0 {
		t.Fatalf("reads over %d corrupt data units: INFO shows no checksum errors or read repairs:\n%s", d, in.raw)
	}
	t.Logf("reads: %s checksum errors, %s units read-repaired", in.fields["ec_checksum_errors"], in.fields["ec_read_repaired"])
	if in.fields["ec_degraded"] != "yes" {
		t.Fatalf("checksum errors not yet scrubbed, INFO says ec_degraded:%s", in.fields["ec_degraded"])
	}
	// Reads repair data units only; the errors start a scrub that repairs
	// the rest: the parity units, and any data unit the scrub reached
	// before a read did. Then the volume is sound again.
	readRepaired := in.int(t, "ec_read_repaired")
	in = waitInfo(t, rdb, 30*time.Second, "a scrub after the errors", func(in info) bool { return in.fields["ec_degraded"] == "no" })
	if runs := scrubs(srv.Log()); len(runs) != 1 || runs[0][1] != 0 || runs[0][0] < int64(p) || runs[0][0] > int64(d+p) || runs[0][0]+readRepaired < int64(d+p) {
		t.Fatalf("scrubs after the errors (repaired, lost): %v after %d read repairs; want one that repaired the %d parity units and what reads left of the %d data units, none lost",
			runs, readRepaired, p, d)
	}
	srv.Stop(t)

	// Fresh corruption, this time found by scrub before any read.
	d, p = corruptShards(t, v, 2, 60, used)
	t.Logf("corrupted %d data and %d parity units", d, p)
	srv = v.start(t, v.devs, "--ec-scrub-interval", "1")
	rdb = client(t, srv.Addr())
	in = waitInfo(t, rdb, 30*time.Second, "a scrub to repair units", func(in info) bool { return in.int(t, "scrub_repaired") > 0 })
	first := in.int(t, "scrub_started")
	// The first scrub's totals are in the log: INFO shows the running or
	// last scrub, and scrubs follow each other at once when they take
	// longer than the interval.
	deadline := time.Now().Add(40 * time.Second)
	for len(scrubs(srv.Log())) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	runs := scrubs(srv.Log())
	if len(runs) < 2 {
		t.Fatalf("fewer than two scrubs finished: %v", runs)
	}
	if runs[0][0] != int64(d+p) || runs[0][1] != 0 {
		t.Fatalf("first scrub repaired %d units and lost %d stripes; want %d units repaired", runs[0][0], runs[0][1], d+p)
	}
	if runs[1] != [2]int64{0, 0} {
		t.Fatalf("second scrub repaired %d units and lost %d stripes, want nothing", runs[1][0], runs[1][1])
	}
	in = getInfo(t, rdb, "devices")
	if in.int(t, "scrub_started") <= first && in.int(t, "scrub_ended") == 0 {
		t.Fatalf("INFO shows no scrub after the first:\n%s", in.raw)
	}
	if in.int(t, "scrub_repaired") != 0 || in.int(t, "scrub_lost") != 0 {
		t.Fatalf("a later scrub repairs again:\n%s", in.raw)
	}
	t.Logf("scrubs (repaired, lost): %v", runs)
	readAllOK(t, rdb, ds, ds.keys)
	if n := getInfo(t, rdb, "devices").int(t, "ec_checksum_errors"); n != 0 {
		t.Fatalf("reads after the scrub found %d checksum errors", n)
	}
}
