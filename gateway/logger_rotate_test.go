package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for dailyLog.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestDailyLogRotatesAndRetains: lines of one day stay in kvrocks.INFO
// until the date changes; then the file becomes kvrocks.INFO.<day>, and
// rotated files older than log-retention-days are removed.
func TestDailyLogRotatesAndRetains(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 3, 1, 23, 59, 0, 0, time.Local)}
	// An old rotated file, last written 10 days ago.
	old := filepath.Join(dir, "kvrocks.INFO.20260219")
	os.WriteFile(old, []byte("old\n"), 0o644)
	os.Chtimes(old, clk.now().AddDate(0, 0, -10), clk.now().AddDate(0, 0, -10))

	d, err := openDailyLog(dir, 7, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("a rotated file older than log-retention-days survived the start: %v", err)
	}
	d.Write([]byte("day one\n"))
	clk.set(clk.now().Add(2 * time.Minute)) // past midnight
	d.Write([]byte("day two\n"))

	b1, err := os.ReadFile(filepath.Join(dir, "kvrocks.INFO.20260301"))
	if err != nil || string(b1) != "day one\n" {
		t.Fatalf("rotated file: %q, %v", b1, err)
	}
	b2, _ := os.ReadFile(filepath.Join(dir, "kvrocks.INFO"))
	if string(b2) != "day two\n" {
		t.Fatalf("kvrocks.INFO after rotation: %q", b2)
	}
}

// TestDailyLogRetentionZeroAndAll: 0 keeps no rotated file, -1 all; a
// kvrocks.INFO left from an earlier day is rotated at start.
func TestDailyLogRetentionZeroAndAll(t *testing.T) {
	for _, tc := range []struct {
		retention int64
		kept      bool
	}{{0, false}, {-1, true}} {
		dir := t.TempDir()
		clk := &fakeClock{t: time.Date(2026, 3, 5, 12, 0, 0, 0, time.Local)}
		live := filepath.Join(dir, "kvrocks.INFO")
		os.WriteFile(live, []byte("yesterday\n"), 0o644)
		y := clk.now().AddDate(0, 0, -1)
		os.Chtimes(live, y, y)
		d, err := openDailyLog(dir, tc.retention, clk.now)
		if err != nil {
			t.Fatal(err)
		}
		d.Write([]byte("today\n"))
		d.Close()
		_, err = os.Stat(filepath.Join(dir, "kvrocks.INFO.20260304"))
		if kept := err == nil; kept != tc.kept {
			t.Errorf("retention %d: yesterday's log kept = %v, want %v", tc.retention, kept, tc.kept)
		}
		b, _ := os.ReadFile(live)
		if !strings.HasPrefix(string(b), "today") {
			t.Errorf("retention %d: kvrocks.INFO = %q", tc.retention, b)
		}
	}
}
