package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of RunSuite: one Row per workload cell, phase and
// target, merged over all rounds.
type Report struct {
	Started time.Time `json:"started"`
	Host    HostInfo  `json:"host"`
	// Subject is the target whose rows carry ratios (the first target).
	Subject string `json:"subject"`
	Rounds  int    `json:"rounds"`
	Verify  string `json:"verify"`
	Rows    []*Row `json:"rows"`
	// ServerHWM is each server's VmHWM (peak RSS since start) at the end.
	ServerHWM []ServerMem `json:"server_hwm,omitempty"`
	// Skipped lists workloads skipped because an endpoint did not answer.
	Skipped []string `json:"skipped,omitempty"`
}

// ServerMem is a server's peak resident set size.
type ServerMem struct {
	Target string `json:"target"`
	HWM    int64  `json:"vm_hwm_bytes"`
}

// Row is one line of the table.
type Row struct {
	Workload string `json:"workload"`
	Mode     string `json:"mode"`
	Phase    string `json:"op"`
	// Size is the value size in bytes, 0 for a range (SizeLabel says which).
	Size      int     `json:"value_bytes"`
	SizeLabel string  `json:"value_size"`
	Target    string  `json:"target"`
	GBps      float64 `json:"gb_per_s"`
	OpsPerSec float64 `json:"ops_per_s"`
	// Latencies in microseconds.
	P50us  float64 `json:"p50_us"`
	P99us  float64 `json:"p99_us"`
	P999us float64 `json:"p999_us"`
	MeanUs float64 `json:"mean_us"`
	MaxUs  float64 `json:"max_us"`
	Ops    int64   `json:"ops"`
	Bytes  int64   `json:"bytes"`
	// ElapsedSec is the measured time summed over rounds.
	ElapsedSec float64 `json:"elapsed_s"`
	// HitRate is the fraction of reads that found their key (-1: no reads).
	HitRate    float64 `json:"hit_rate"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	// PeakRSS is the largest server RSS sampled while this row's cell ran
	// (0: not sampled, e.g. the in-process raw probe).
	PeakRSS int64 `json:"peak_rss_bytes"`
	// ServerCPUSec is the server's user + system CPU time over the row's
	// phases (0: not measured).
	ServerCPUSec float64   `json:"server_cpu_s"`
	RoundGBps    []float64 `json:"round_gb_per_s"`
	RoundOps     []float64 `json:"round_ops_per_s"`
	// Ratios holds, on the subject's rows, the subject's throughput divided
	// by each other target's throughput in the same cell and phase.
	Ratios map[string]float64 `json:"ratios,omitempty"`

	res   *PhaseResult
	order [3]int
}

// Result returns the merged measurement behind the row.
func (r *Row) Result() *PhaseResult { return r.res }

func (r *Row) throughput() float64 {
	if r.Bytes > 0 {
		return r.GBps
	}
	return r.OpsPerSec
}

// spread is half the range of the per-round throughputs, in percent of
// their mean: how far apart the rounds were.
func (r *Row) spread() string {
	xs := r.RoundGBps
	if r.Bytes == 0 {
		xs = r.RoundOps
	}
	if len(xs) < 2 {
		return "-"
	}
	lo, hi, sum := xs[0], xs[0], 0.0
	for _, x := range xs {
		lo, hi, sum = min(lo, x), max(hi, x), sum+x
	}
	if sum == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", 100*(hi-lo)/2/(sum/float64(len(xs))))
}

func (rep *Report) finish(merged map[[3]int]*Row) *Report {
	rep.Rows = rep.Rows[:0]
	for _, row := range merged {
		r := row.res
		us := func(ns int64) float64 { return float64(ns) / 1e3 }
		row.Workload, row.Mode, row.Phase, row.Size, row.Target = r.Workload, r.Mode, r.Phase, r.Size, r.Target
		row.SizeLabel = FormatSize(int64(r.Size))
		row.GBps, row.OpsPerSec = r.GBps(), r.OpsPerSec()
		row.P50us, row.P99us, row.P999us = us(r.Hist.Percentile(50)), us(r.Hist.Percentile(99)), us(r.Hist.Percentile(99.9))
		row.MeanUs, row.MaxUs = r.Hist.Mean()/1e3, us(r.Hist.Max())
		row.Ops, row.Bytes, row.ElapsedSec = r.Ops, r.Bytes, r.Elapsed.Seconds()
		row.HitRate, row.Errors = r.HitRate(), r.Errors
		if r.FirstErr != nil {
			row.FirstError = r.FirstErr.Error()
		}
		row.RoundGBps, row.RoundOps = r.RoundGBps, r.RoundOps
		row.ServerCPUSec = r.ServerCPU.Seconds()
		rep.Rows = append(rep.Rows, row)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i].order, rep.Rows[j].order
		for k := range a {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return false
	})
	// Ratios: the subject (target 0) against every other target of the same
	// cell and phase.
	for _, subj := range rep.Rows {
		if subj.order[2] != 0 || subj.Errors > 0 && subj.Ops == 0 {
			continue
		}
		for _, o := range rep.Rows {
			if o.order[0] == subj.order[0] && o.order[1] == subj.order[1] && o.order[2] != 0 && o.throughput() > 0 {
				if subj.Ratios == nil {
					subj.Ratios = make(map[string]float64)
				}
				subj.Ratios[o.Target] = subj.throughput() / o.throughput()
			}
		}
	}
	return rep
}

// serverCPU prints the server's CPU time per GB moved (per operation for
// a row that moves no bytes), "-" when it was not measured.
func (r *Row) serverCPU() string {
	switch {
	case r.ServerCPUSec <= 0:
		return "-"
	case r.Bytes > 0:
		return fmt.Sprintf("%.0fms/GB", 1e3*r.ServerCPUSec/(float64(r.Bytes)/1e9))
	case r.Ops > 0:
		return FormatDuration(1e6*r.ServerCPUSec/float64(r.Ops)) + "/op"
	}
	return "-"
}

// others returns the target names other than the subject, in table order.
func (rep *Report) others() []string {
	var names []string
	seen := map[string]bool{rep.Subject: true}
	for _, r := range rep.Rows {
		if !seen[r.Target] {
			seen[r.Target] = true
			names = append(names, r.Target)
		}
	}
	return names
}

// FormatDuration prints a latency in µs with three significant digits, in
// the unit that keeps it short.
func FormatDuration(us float64) string {
	switch {
	case us <= 0:
		return "-"
	case us < 1000:
		return fmt.Sprintf("%.3gµs", us)
	case us < 1e6:
		return fmt.Sprintf("%.3gms", us/1e3)
	}
	return fmt.Sprintf("%.3gs", us/1e6)
}

// WriteTable prints the report as one aligned table plus notes.
func (rep *Report) WriteTable(w io.Writer) error {
	others := rep.others()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := []string{"workload", "mode", "op", "size", "target", "GB/s", "±%", "ops/s", "p50", "p99", "p99.9", "hit%", "errors", "peak RSS", "srv CPU"}
	for _, o := range others {
		hdr = append(hdr, rep.Subject+"/"+o)
	}
	fmt.Fprintln(tw, strings.Join(hdr, "\t")+"\t")
	var prev [2]int
	for i, r := range rep.Rows {
		if i > 0 && (r.order[0] != prev[0] || r.order[1] != prev[1]) && len(others) > 0 {
			fmt.Fprintln(tw, strings.Repeat("\t", len(hdr)))
		}
		prev = [2]int{r.order[0], r.order[1]}
		size := r.SizeLabel
		if r.Size == 0 {
			size = "64B-4KiB"
			if r.Workload != WorkloadSmall {
				size = "-"
			}
		}
		hit := "-"
		if r.HitRate >= 0 {
			hit = fmt.Sprintf("%.0f", 100*r.HitRate)
		}
		rss := "-"
		if r.PeakRSS > 0 {
			rss = FormatSize(r.PeakRSS)
		}
		f := []string{r.Workload, r.Mode, r.Phase, size, r.Target,
			fmt.Sprintf("%.3f", r.GBps), r.spread(), fmt.Sprintf("%.0f", r.OpsPerSec),
			FormatDuration(r.P50us), FormatDuration(r.P99us), FormatDuration(r.P999us),
			hit, fmt.Sprint(r.Errors), rss, r.serverCPU()}
		for _, o := range others {
			if x, ok := r.Ratios[o]; ok {
				f = append(f, fmt.Sprintf("%.2fx", x))
			} else {
				f = append(f, "")
			}
		}
		fmt.Fprintln(tw, strings.Join(f, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nGB/s = 10^9 value bytes/s; latency per operation (per chunk) from request write to full reply; "+
		"%d round(s), targets alternating; ratios = %s throughput / other target's; verify=%s.\n", rep.Rounds, rep.Subject, rep.Verify)
	fmt.Fprintf(w, "±%% = half the range of per-round throughput, in %% of the mean; srv CPU = the server process's user + system CPU time per GB moved (per op for small values).\n")
	fmt.Fprintf(w, "Host: %d CPUs, %s/%s, load average %s at start, %s at end.\n",
		rep.Host.CPUs, rep.Host.GOOS, rep.Host.GOARCH, rep.Host.LoadStart, rep.Host.LoadEnd)
	for _, m := range rep.ServerHWM {
		fmt.Fprintf(w, "VmHWM at end: %s %s\n", m.Target, FormatSize(m.HWM))
	}
	for _, s := range rep.Skipped {
		fmt.Fprintln(w, s)
	}
	for _, r := range rep.Rows {
		if r.Errors > 0 {
			fmt.Fprintf(w, "ERRORS %s %s %s %s on %s: %d, first: %s\n", r.Workload, r.Mode, r.Phase, r.SizeLabel, r.Target, r.Errors, r.FirstError)
		}
	}
	return nil
}

// Errors returns the number of failed operations over all rows.
func (rep *Report) Errors() int64 {
	var n int64
	for _, r := range rep.Rows {
		n += r.Errors
	}
	return n
}

// WriteJSON writes the report as indented JSON to path.
func (rep *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
