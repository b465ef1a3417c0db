package ec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpucache/gpucache/nvme"
)

// truncateShardsOn cuts every shard file (not checksum files) on device dir
// d to half its length.
func truncateShardsOn(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if i := strings.LastIndex(name, ".s"); i < 0 || strings.HasSuffix(name, ".crc") || name == "ec.label" {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, fi.Size()/2/unit*unit); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// TestTruncatedShards: a device whose shard files were cut short (a torn
// file system, say) is one faulty device of six. Reads must reconstruct
// whether the cut happened before the volume opened or under it, and scrub
// must restore the shards, after which nothing is degraded.
func TestTruncatedShards(t *testing.T) {
	for _, underIO := range []bool{false, true} {
		t.Run(fmt.Sprintf("open=%v", underIO), func(t *testing.T) {
			root := t.TempDir()
			devs := make([]nvme.Device, 6)
			for i := range devs {
				d, err := nvme.OpenDir(fmt.Sprintf("%s/nvme%d", root, i), nvme.WithDirect(false))
				if err != nil {
					t.Fatal(err)
				}
				devs[i] = d
			}
			v := mustOpen(t, devs, 4, 2)
			want := map[string][]byte{}
			for i := 0; i < 3; i++ {
				name := fmt.Sprintf("f%d", i)
				want[name] = writeFile(t, v, name, 200, uint64(40+i))
			}
			if !underIO {
				v.Close()
			}
			if truncateShardsOn(t, fmt.Sprintf("%s/nvme%d", root, 2)) == 0 {
				t.Fatal("no shard files on the device")
			}
			if !underIO {
				v = mustOpen(t, devs, 4, 2)
			}
			defer v.Close()
			for name, w := range want {
				checkFile(t, v, name, w)
			}
			if err := v.Scrub(context.Background()); err != nil {
				t.Fatalf("scrub: %v", err)
			}
			if sp := v.Status().Scrub; sp.Repaired == 0 {
				t.Fatalf("scrub repaired nothing: %+v", sp)
			}
			if err := v.Scrub(context.Background()); err != nil {
				t.Fatalf("second scrub: %v", err)
			}
			if sp := v.Status().Scrub; sp.Repaired != 0 {
				t.Fatalf("second scrub repaired %d units", sp.Repaired)
			}
			for name, w := range want {
				checkFile(t, v, name, w)
			}
		})
	}
}
