package gateway

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gpucache/gpucache/protocols/resp"
)

// cronSpec is a KVRocks cron schedule (bgsave-cron, compact-cron): five
// fields, minute hour day-of-month month day-of-week, each "*", a number, a
// range "a-b", a step "*/n" or "a-b/n", or a comma-separated list of them.
// Several schedules may be given one after the other (five fields each).
// The zero value never fires.
type cronSpec struct {
	entries []cronEntry
}

type cronEntry struct {
	minute, hour, dom, month, dow uint64 // bit sets
}

var cronFieldRanges = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}

// parseCron parses a schedule; "" is no schedule.
func parseCron(s string) (cronSpec, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return cronSpec{}, nil
	}
	if len(fields)%5 != 0 {
		return cronSpec{}, errors.New("want five fields per schedule: minute hour day month weekday")
	}
	var spec cronSpec
	for i := 0; i < len(fields); i += 5 {
		var sets [5]uint64
		for j := range 5 {
			set, err := parseCronField(fields[i+j], cronFieldRanges[j][0], cronFieldRanges[j][1])
			if err != nil {
				return cronSpec{}, err
			}
			sets[j] = set
		}
		spec.entries = append(spec.entries, cronEntry{sets[0], sets[1], sets[2], sets[3], sets[4]})
	}
	return spec, nil
}

func parseCronField(f string, lo, hi int) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(f, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 || n > hi {
				return 0, errors.New("bad step in cron field " + strconv.Quote(f))
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err1, err2 error
			a, err1 = strconv.Atoi(x)
			b, err2 = strconv.Atoi(y)
			if err1 != nil || err2 != nil || a > b {
				return 0, errors.New("bad range in cron field " + strconv.Quote(f))
			}
		default:
			n, err := strconv.Atoi(rng)
			if err != nil {
				return 0, errors.New("bad cron field " + strconv.Quote(f))
			}
			a, b = n, n
			if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi {
			return 0, errors.New("cron field " + strconv.Quote(f) + " out of range")
		}
		for v := a; v <= b; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

// matches reports whether t's minute is scheduled.
func (s cronSpec) matches(t time.Time) bool {
	for _, e := range s.entries {
		if e.minute&(1<<uint(t.Minute())) != 0 && e.hour&(1<<uint(t.Hour())) != 0 &&
			e.dom&(1<<uint(t.Day())) != 0 && e.month&(1<<uint(t.Month())) != 0 &&
			e.dow&(1<<uint(t.Weekday())) != 0 {
			return true
		}
	}
	return false
}

func checkCron(v string) error { _, err := parseCron(v); return err }

// cronJobs runs BGSAVE on bgsave-cron and COMPACT on compact-cron, at the
// start of each scheduled minute (local time, as KVRocks's cron). CONFIG
// SET of either key changes the schedule at once.
type cronJobs struct {
	bgsave, compact atomic.Pointer[cronSpec]
	stop            chan struct{}
	done            chan struct{}
}

// startCron starts the scheduler; the returned function stops it.
func startCron(cfg *Config, rs *resp.Server, logf func(string, ...any)) func() {
	j := &cronJobs{stop: make(chan struct{}), done: make(chan struct{})}
	for _, k := range []struct {
		key string
		p   *atomic.Pointer[cronSpec]
	}{{"bgsave-cron", &j.bgsave}, {"compact-cron", &j.compact}} {
		spec, _ := parseCron(cfg.Get(k.key)) // validated on set
		k.p.Store(&spec)
		cfg.OnSet(k.key, func(v string) error {
			spec, err := parseCron(v)
			if err == nil {
				k.p.Store(&spec)
			}
			return err
		})
	}
	go j.run(rs, logf)
	return func() {
		close(j.stop)
		<-j.done
	}
}

func (j *cronJobs) run(rs *resp.Server, logf func(string, ...any)) {
	defer close(j.done)
	for {
		next := time.Now().Truncate(time.Minute).Add(time.Minute)
		t := time.NewTimer(time.Until(next))
		select {
		case <-j.stop:
			t.Stop()
			return
		case <-t.C:
		}
		j.fire(next, rs, logf)
	}
}

// fire starts the jobs scheduled for the minute at t.
func (j *cronJobs) fire(t time.Time, rs *resp.Server, logf func(string, ...any)) {
	if j.bgsave.Load().matches(t) {
		if err := rs.BGSave(); err != nil {
			logf("bgsave-cron: BGSAVE not started: %v", err)
		} else {
			logf("bgsave-cron: BGSAVE started")
		}
	}
	if j.compact.Load().matches(t) {
		if err := rs.Compact(); err != nil {
			logf("compact-cron: COMPACT not started: %v", err)
		} else {
			logf("compact-cron: COMPACT started")
		}
	}
}
