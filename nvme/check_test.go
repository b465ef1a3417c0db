package nvme

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDirDeviceCheck(t *testing.T) {
	for _, how := range []string{"removed", "replaced"} {
		t.Run(how, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dev")
			d, err := OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := d.Check(); err != nil {
				t.Fatalf("healthy device: %v", err)
			}
			os.RemoveAll(dir)
			if how == "replaced" {
				os.MkdirAll(dir, 0o755)
			}
			if err := d.Check(); !errors.Is(err, ErrFailed) {
				t.Fatalf("Check after the directory was %s: %v", how, err)
			}
			if !d.Health().Failed() {
				t.Fatal("device not marked failed")
			}
		})
	}
}
