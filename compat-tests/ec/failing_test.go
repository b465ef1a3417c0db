package ec_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDevicesFailWhileServing breaks three devices under a running server:
// two start returning garbage (every other unit of their shard files
// overwritten: the even units of a device holding data of the largest
// segment, the odd units of one holding its parity, so no stripe loses more
// than one unit to garbage), a third device's directory is deleted. Reads
// get no error and the right bytes, new writes succeed, INFO says degraded;
// after the scrub started by the errors the garbage is gone (the parity
// units, which no read of healthy data touches, are repaired by the scrub
// alone), and after a restart everything, old and new, reads back identical.
func TestDevicesFailWhileServing(t *testing.T) {
	ds := data()
	v := populated(t)
	h := shardHolders(t, v)
	bad, badParity, deleted := h[0], h[ecK], h[1]
	srv := v.start(t, v.devs)
	rdb := client(t, srv.Addr())

	n := garble(t, v, bad, 0)
	np := garble(t, v, badParity, 1)
	removeDevices(t, v, deleted)
	t.Logf("overwrote %d units with garbage on %s and %d on %s, deleted %s",
		n, v.devs[bad], np, v.devs[badParity], v.devs[deleted])

	readAllOK(t, rdb, ds, ds.keys)
	in := getInfo(t, rdb, "devices")
	if in.fields["ec_degraded"] != "yes" {
		t.Errorf("INFO after reads over a failing device says ec_degraded:%s:\n%s", in.fields["ec_degraded"], in.raw)
	}
	if in.int(t, "ec_reconstructed") == 0 {
		t.Errorf("no reconstructed stripes after reads over garbage:\n%s", in.raw)
	}
	t.Logf("device states %v; read errors %s, checksum errors %s, reconstructed %s", in.devices,
		in.fields["ec_read_errors"], in.fields["ec_checksum_errors"], in.fields["ec_reconstructed"])

	// Writes go on with two devices failing.
	more := &dataset{vals: make(map[string][]byte)}
	for i := range 50 {
		k := fmt.Sprintf("small:after:%02d", i)
		more.keys = append(more.keys, k)
		more.vals[k] = valueFor(k, 100+i*50)
	}
	for i := range 2 {
		k := fmt.Sprintf("large:after:%d", i)
		more.keys = append(more.keys, k)
		more.vals[k] = valueFor(k, 32<<20)
	}
	writeAll(t, rdb, more, more.keys)
	readAllOK(t, rdb, more, more.keys)
	if in := getInfo(t, rdb, "devices"); in.fields["ec_degraded"] != "yes" {
		t.Errorf("INFO after writes over failing devices says ec_degraded:%s:\n%s", in.fields["ec_degraded"], in.raw)
	}
	// The errors start a scrub within seconds; it rewrites the garbled
	// units (parity included): reads then meet no more checksum errors.
	// The volume stays degraded: the deleted directory got no shards of
	// the segment the new values went to.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(srv.Log(), "(after I/O errors)") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	// Reads rewrite the garbled data units they meet; the scrub rewrites
	// the rest, parity among them. Which units reads meet depends on where
	// the segments' shards landed, so only the sum is fixed.
	runs := scrubs(srv.Log())
	if len(runs) == 0 || runs[0][0] == 0 || runs[0][1] != 0 {
		t.Fatalf("no scrub after the errors repaired the garbled units: %v", runs)
	}
	in = getInfo(t, rdb, "devices")
	before := in.int(t, "ec_checksum_errors")
	byReads := in.int(t, "ec_read_repaired")
	t.Logf("scrub after errors: %d units repaired, reads repaired %d; INFO ec_degraded:%s", runs[0][0], byReads, in.fields["ec_degraded"])
	if got := byReads + runs[0][0]; got < int64(n+np) {
		t.Fatalf("reads and the scrub repaired %d units, %d were garbled", got, n+np)
	}
	readAllOK(t, rdb, ds, ds.keys)
	in = getInfo(t, rdb, "devices")
	if n := in.int(t, "ec_checksum_errors"); n != before {
		t.Fatalf("reads after the scrub met %d more checksum errors", n-before)
	}
	if in.fields["ec_degraded"] != "yes" {
		t.Fatalf("a device directory is gone, INFO says ec_degraded:%s", in.fields["ec_degraded"])
	}
	srv.Stop(t)

	srv = v.start(t, v.devs, "--ec-rebuild-rate", "1mb")
	rdb = client(t, srv.Addr())
	readAllOK(t, rdb, ds, ds.keys)
	readAllOK(t, rdb, more, more.keys)
	if in := getInfo(t, rdb, "devices"); in.fields["ec_degraded"] != "yes" {
		t.Errorf("INFO after restart says ec_degraded:%s:\n%s", in.fields["ec_degraded"], in.raw)
	}
}

// garble overwrites every other written unit of device d's shard files,
// starting with unit first (0 or 1), with random bytes and returns how many
// units it overwrote.
func garble(t testing.TB, v volume, d, first int) int {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(v.devs[d], "*.s[0-9]*"))
	r := rand.New(rand.NewPCG(uint64(d), 9))
	unit := make([]byte, unitSize)
	n := 0
	for _, p := range names {
		if strings.HasSuffix(p, ".crc") {
			continue
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(first) * unitSize; ; off += 2 * unitSize {
			if _, err := f.ReadAt(unit, off); err != nil {
				break
			}
			if bytes.Count(unit, []byte{0}) == unitSize {
				continue // not written
			}
			for i := range unit {
				unit[i] = byte(r.Uint32())
			}
			if _, err := f.WriteAt(unit, off); err != nil {
				t.Fatal(err)
			}
			n++
		}
		f.Close()
	}
	return n
}
