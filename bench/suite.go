package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Workload names.
const (
	WorkloadLMCache = "lmcache"
	WorkloadSmall   = "small"
	WorkloadS3      = "s3"
)

// Suite is what a run measures. Every target gets exactly the same work.
type Suite struct {
	// Workloads to run, in order: lmcache, small, s3.
	Workloads []string
	// Sizes are the value sizes of the lmcache and s3 workloads.
	Sizes []int
	// LMCache holds one configuration per lmcache client mode measured.
	LMCache []LMCacheConfig
	// S3 configures the s3 workload (Mode and Batch are ignored).
	S3 LMCacheConfig
	// S3Modes are the S3 clients the s3 workload runs, each a cell:
	// S3ModeCRT, S3ModeMinio.
	S3Modes []string
	// Small configures the small workload.
	Small SmallConfig
	// Rounds is the number of times every cell runs against every target,
	// alternating targets within a round.
	Rounds int
	// Verify selects how values read back are checked.
	Verify VerifyMode
	// Timeout bounds one batch on one connection.
	Timeout time.Duration
	// Seed makes keys unique to a run; Model and WorldSize shape them.
	Seed      uint64
	Model     string
	WorldSize int
}

// QuickSuite is the --quick preset: every workload and size, small working
// sets, two rounds; a comparison of three targets takes well under a minute
// on a 2-core machine (plus the first build of gpucache).
func QuickSuite() Suite {
	lm := func(mode string, batch int) LMCacheConfig {
		return LMCacheConfig{Mode: mode, Batch: batch, Concurrency: 4, WorkingSet: 128 << 20, GetPasses: 2, PrefixChunks: 8, HitRatio: 0.75}
	}
	return Suite{
		Workloads: []string{WorkloadLMCache, WorkloadSmall},
		Sizes:     []int{4 << 20, 32 << 20, 80 << 20},
		LMCache:   []LMCacheConfig{lm(ModePython, 1), lm(ModeNative, 8)},
		S3:        lm(ModeNative, 1),
		S3Modes:   []string{S3ModeCRT, S3ModeMinio},
		Small:     SmallConfig{Clients: 32, Depth: 16, Keys: 5000, Ops: 100000, SetRatio: 0.2, MinSize: 64, MaxSize: 4096},
		Rounds:    2,
		Timeout:   60 * time.Second,
		Model:     "meta-llama/Llama-3.1-8B-Instruct",
		WorldSize: 8,
	}
}

// FullSuite is the default preset: all three lmcache client modes, 1 GiB of
// chunks per size, more reads and more rounds.
func FullSuite() Suite {
	s := QuickSuite()
	lm := func(mode string, batch int) LMCacheConfig {
		return LMCacheConfig{Mode: mode, Batch: batch, Concurrency: 8, WorkingSet: 1 << 30, GetPasses: 4, PrefixChunks: 8, HitRatio: 0.75}
	}
	s.LMCache = []LMCacheConfig{lm(ModePython, 1), lm(ModeNative, 1), lm(ModeNative, 8)}
	s.S3 = lm(ModeNative, 1)
	s.Small.Ops = 2000000
	s.Small.Keys = 100000
	s.Rounds = 3
	return s
}

func (s *Suite) maxValueSize() int {
	m := s.Small.MaxSize
	for _, n := range s.Sizes {
		m = max(m, n)
	}
	return max(m, MinValueSize)
}

func (s *Suite) validate() error {
	if s.Rounds < 1 {
		s.Rounds = 1
	}
	for _, w := range s.Workloads {
		switch w {
		case WorkloadLMCache, WorkloadSmall, WorkloadS3:
		default:
			return fmt.Errorf("cannot run workload %q: want lmcache, small or s3", w)
		}
	}
	for _, m := range s.S3Modes {
		if m != S3ModeCRT && m != S3ModeMinio {
			return fmt.Errorf("cannot run the s3 workload with client %q: want %s or %s", m, S3ModeCRT, S3ModeMinio)
		}
	}
	for _, n := range s.Sizes {
		if n < MinValueSize || n > maxBulk {
			return fmt.Errorf("cannot use value size %d: want %d..%d", n, MinValueSize, maxBulk)
		}
	}
	return nil
}

// cell is one workload configuration at one value size: the unit that
// alternates between targets.
type cell struct {
	workload string
	lm       LMCacheConfig
	size     int
}

func (s *Suite) cells() []cell {
	var cs []cell
	for _, w := range s.Workloads {
		switch w {
		case WorkloadLMCache:
			for _, cfg := range s.LMCache {
				for _, size := range s.Sizes {
					cs = append(cs, cell{workload: w, lm: cfg, size: size})
				}
			}
		case WorkloadS3:
			for _, mode := range s.S3Modes {
				for _, size := range s.Sizes {
					lm := s.S3
					lm.Mode = mode
					cs = append(cs, cell{workload: w, lm: lm, size: size})
				}
			}
		case WorkloadSmall:
			cs = append(cs, cell{workload: w})
		}
	}
	return cs
}

// runCell runs one cell against one target. The s3 cell against the raw
// probe moves the same bytes with the same pattern (one chunk per round
// trip) so that S3 gets a raw-limit ratio too.
func (s *Suite) runCell(ctx context.Context, env *Env, t *Target, c cell) ([]*PhaseResult, error) {
	switch c.workload {
	case WorkloadSmall:
		return RunSmall(ctx, env, t, s.Small)
	case WorkloadS3:
		if t.Kind == TargetRaw {
			cfg := c.lm
			cfg.Mode, cfg.Batch = ModeNative, 1
			res, err := RunLMCache(ctx, env, t, cfg, c.size)
			for i, r := range res {
				r.Workload, r.Mode, r.Phase = WorkloadS3, c.lm.Mode, [...]string{"put", "get"}[i]
			}
			return res, err
		}
		return RunS3(ctx, env, t, c.lm, c.size)
	default:
		return RunLMCache(ctx, env, t, c.lm, c.size)
	}
}

// HostInfo describes where a run happened.
type HostInfo struct {
	Hostname  string `json:"hostname"`
	CPUs      int    `json:"cpus"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	GoVersion string `json:"go_version"`
	Kernel    string `json:"kernel"`
	// LoadStart and LoadEnd are /proc/loadavg's 1-minute figures: other
	// work on the host shows in every number.
	LoadStart string `json:"load_avg_start"`
	LoadEnd   string `json:"load_avg_end"`
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func hostInfo() HostInfo {
	h, _ := os.Hostname()
	k, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return HostInfo{Hostname: h, CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		GoVersion: runtime.Version(), Kernel: strings.TrimSpace(string(k)), LoadStart: loadAvg()}
}

// RunSuite runs every cell of the suite against every target, round by
// round, alternating targets inside each round so that slow drifts of the
// machine (page cache, thermal, neighbours) spread over all of them. The
// first target is the subject: its rows carry throughput ratios against
// each of the others.
func RunSuite(ctx context.Context, s Suite, targets []*Target, prog *Progress) (*Report, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New("bench: no targets")
	}
	if s.Seed == 0 {
		s.Seed = uint64(time.Now().UnixNano())
	}
	env := &Env{
		Payload:  NewPayload(s.maxValueSize()),
		Keys:     NewKeySpace(s.Seed, s.Model, s.WorldSize),
		Verify:   s.Verify,
		Timeout:  s.Timeout,
		Progress: prog,
	}
	samplers := make(map[string]*RSSSampler)
	for _, t := range targets {
		if t.PID != 0 {
			samplers[t.Name] = NewRSSSampler(t.PID, 50*time.Millisecond)
			defer samplers[t.Name].Close()
		}
	}
	rep := &Report{Started: time.Now(), Host: hostInfo(), Subject: targets[0].Name, Rounds: s.Rounds, Verify: s.Verify.String()}
	skipped := make(map[string]bool) // target/workload pairs found unreachable
	merged := make(map[[3]int]*Row)  // cell, phase, target
	cells := s.cells()
	for round := 1; round <= s.Rounds; round++ {
		for ci, c := range cells {
			for ti, t := range targets {
				if err := ctx.Err(); err != nil {
					return rep.finish(merged), err
				}
				if c.workload == WorkloadS3 && t.Kind != TargetRaw && t.S3 == nil {
					continue // no S3 front end: n/a
				}
				if c.workload != WorkloadS3 && t.Kind == TargetS3Only {
					continue // S3 only: n/a
				}
				if skipped[t.Name+"/"+c.workload] {
					continue
				}
				prog.setRound(round, s.Rounds)
				if sm := samplers[t.Name]; sm != nil {
					sm.Begin()
				}
				env.ServerPID = t.PID
				res, err := s.runCell(ctx, env, t, c)
				var peak int64
				if sm := samplers[t.Name]; sm != nil {
					peak = sm.End()
				}
				if errors.Is(err, ErrUnreachable) && c.workload == WorkloadS3 {
					skipped[t.Name+"/"+c.workload] = true
					msg := fmt.Sprintf("skipping s3 on %s: %v", t.Name, err)
					rep.Skipped = append(rep.Skipped, msg)
					prog.Printf("%s", msg)
					continue
				}
				if err != nil && len(res) == 0 {
					if errors.Is(err, context.Canceled) {
						return rep.finish(merged), err
					}
					// The whole cell failed (for example the server died):
					// report it in the table instead of stopping the run.
					res = []*PhaseResult{{Workload: c.workload, Mode: c.modeLabel(s), Phase: "-", Size: c.size, Target: t.Name,
						Hist: NewHistogram(), Errors: 1, FirstErr: err}}
					prog.Printf("%s %s: %v", t.Name, c.workload, err)
				}
				for pi, r := range res {
					k := [3]int{ci, pi, ti}
					if row := merged[k]; row != nil {
						row.res.Merge(r)
						row.PeakRSS = max(row.PeakRSS, peak)
					} else {
						merged[k] = &Row{res: r, PeakRSS: peak, order: [3]int{ci, pi, ti}}
					}
				}
			}
		}
	}
	rep.Host.LoadEnd = loadAvg()
	for _, t := range targets {
		if sm := samplers[t.Name]; sm != nil {
			rep.ServerHWM = append(rep.ServerHWM, ServerMem{Target: t.Name, HWM: sm.HWM()})
		}
	}
	return rep.finish(merged), nil
}

func (c cell) modeLabel(s Suite) string {
	switch c.workload {
	case WorkloadSmall:
		return fmt.Sprintf("d%d", s.Small.Depth)
	case WorkloadS3:
		return c.lm.Mode
	}
	return c.lm.ModeLabel()
}
