package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/protocols/resp"
)

func TestParseCron(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		spec string
		t    string
		want bool
	}{
		{"0 3 * * *", "2026-12-07 03:00", true},
		{"0 3 * * *", "2026-12-07 03:01", false},
		{"*/15 * * * *", "2026-12-07 10:45", true},
		{"*/15 * * * *", "2026-12-07 10:46", false},
		{"0 0-6/2 * * *", "2026-12-07 04:00", true},
		{"0 0-6/2 * * *", "2026-12-07 05:00", false},
		{"30 1 1,15 * *", "2026-12-15 01:30", true},
		{"0 0 * * 0", "2026-12-06 00:00", true}, // a Sunday
		{"0 0 * * 0", "2026-12-07 00:00", false},
		{"0 3 * * * 30 4 * * *", "2026-12-07 04:30", true}, // two schedules
		{"", "2026-12-07 03:00", false},
	} {
		spec, err := parseCron(tc.spec)
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		if got := spec.matches(at(tc.t)); got != tc.want {
			t.Errorf("%q at %s: %v, want %v", tc.spec, tc.t, got, tc.want)
		}
	}
	for _, bad := range []string{"0 3 * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7", "5-1 * * * *", "*/0 * * * *", "x * * * *", "1-x * * * *"} {
		if _, err := parseCron(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestCronFires: at a scheduled minute the scheduler starts BGSAVE and
// COMPACT (here refused by a server without a backup-dir or engine, which
// it logs); CONFIG SET changes the schedule.
func TestCronFires(t *testing.T) {
	cfg := NewConfig(nil)
	rs := resp.NewServer(nil, resp.Config{})
	defer rs.Close()
	var logged []string
	logf := func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
	j := &cronJobs{}
	empty := cronSpec{}
	j.bgsave.Store(&empty)
	j.compact.Store(&empty)
	spec, _ := parseCron("0 3 * * *")
	j.bgsave.Store(&spec)
	j.fire(time.Date(2026, 12, 7, 3, 0, 0, 0, time.Local), rs, logf)
	j.fire(time.Date(2026, 12, 7, 3, 1, 0, 0, time.Local), rs, logf)
	if len(logged) != 1 || !strings.Contains(logged[0], "bgsave-cron: BGSAVE not started: backup-dir is not set") {
		t.Fatalf("logged %q", logged)
	}
	stop := startCron(cfg, rs, logf)
	defer stop()
	if err := cfg.SetRuntime("compact-cron", "61 * * * *"); err == nil {
		t.Fatal("a bad compact-cron accepted")
	}
	if err := cfg.SetRuntime("bgsave-cron", "*/5 * * * *"); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 3 * * *", "*/15 0-6/2 1,15 * 0", "1-2,3-4/1 * * * * 0 0 1 1 0", "*/99 * * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := parseCron(s)
		if err != nil {
			return
		}
		spec.matches(time.Now()) // must not panic
	})
}
