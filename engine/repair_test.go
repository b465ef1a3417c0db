package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestErrorsDegradeUntilScrubbed corrupts one device's shard files under
// a closed engine: reads reconstruct (and repair the data units they
// read), the volume reports degraded although every device is present,
// and a scrub started by the errors repairs the rest and clears it.
func TestErrorsDegradeUntilScrubbed(t *testing.T) {
	root := t.TempDir()
	var devs []string
	for i := range 3 {
		devs = append(devs, filepath.Join(root, fmt.Sprint("d", i)))
	}
	mod := func(o *Options) { o.Devices, o.ECData, o.ECParity = devs, 2, 1 }
	e := openTest(t, filepath.Join(root, "dir"), mod)
	for i := range 12 {
		mustPut(t, e, "", fmt.Sprint("k", i), pattern(uint64(i), 2<<20+i), PutOptions{})
	}
	if st := e.Devices(); st.Degraded {
		t.Fatalf("healthy volume degraded: %+v", st)
	}
	e.Close()
	// Flip bytes in every 8th unit of every shard on one device: data
	// units (reads repair those) and parity units (only a scrub does).
	names, _ := filepath.Glob(filepath.Join(devs[1], "*.s[0-9]*"))
	n := 0
	for _, p := range names {
		if strings.HasSuffix(p, ".crc") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for off := 100; off < len(b); off += 8 * 4096 {
			if b[off] != 0 || b[off+1] != 0 {
				b[off] ^= 0xff
				n++
			}
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("nothing corrupted")
	}
	e = openTest(t, filepath.Join(root, "dir"), mod)
	defer e.Close()
	if st := e.Devices(); st.Degraded {
		t.Fatalf("degraded before any error was seen: %+v", st)
	}
	for i := range 12 {
		if !bytes.Equal(mustGet(t, e, "", fmt.Sprint("k", i)), pattern(uint64(i), 2<<20+i)) {
			t.Fatalf("k%d wrong over a corrupt shard", i)
		}
	}
	st := e.Devices()
	if ioErrors(st) == 0 || !st.Degraded {
		t.Fatalf("reads over corrupt shards: %d errors, degraded %v", ioErrors(st), st.Degraded)
	}
	for _, d := range st.Devices {
		if d.State.String() != "ok" {
			t.Fatalf("device %s: %v", d.Name, d.State)
		}
	}
	deadline := time.Now().Add(3 * repairCheckInterval)
	for st.Degraded || st.Scrub.Running {
		if time.Now().After(deadline) {
			t.Fatalf("no scrub cleared the errors: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
		st = e.Devices()
	}
	if st.Scrub.Repaired == 0 || st.Scrub.Lost != 0 {
		t.Fatalf("scrub after errors: %+v", st.Scrub)
	}
	// The corrupt device is whole again: the next reads meet no errors.
	before := ioErrors(st)
	for i := range 12 {
		mustGet(t, e, "", fmt.Sprint("k", i))
	}
	if st = e.Devices(); ioErrors(st) != before || st.Degraded {
		t.Fatalf("after the scrub: %d errors (was %d), degraded %v", ioErrors(st), before, st.Degraded)
	}
}
