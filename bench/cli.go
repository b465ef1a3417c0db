package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const usage = `gpucache-bench: load generator for gpucache and other RESP/S3 endpoints.

Usage:
  gpucache-bench compare [flags]   start gpucache, redis-server and the raw probe; run the
                                   suite against each in alternation; print one table
  gpucache-bench run --addr H:P    run the suite against a running RESP endpoint (and the
                                   raw probe, for the limit; --with-raw=false to skip it)
  gpucache-bench run --target raw  measure only the raw loopback probe
  gpucache-bench raw-server --listen H:P
                                   serve the raw probe for a client on another host
  gpucache-bench blob --gpucache-bin B
                                   BLOB.SET/GET over each libfabric provider beside RESP
                                   SET/GET of the same values (build B and this tool with
                                   -tags fabric); gpucache-bench blob -h for its flags
  gpucache-bench plot --json R.json --out P.svg
                                   draw the SVG plot of a saved JSON report

  --quick runs a reduced suite (well under a minute for a three-way compare);
  without it the full suite runs. Any flag below overrides the preset.
  See bench/README.md for what each column means.

Flags:
`

// Main is the gpucache-bench command. It returns the process exit code:
// 0 on success, 1 when the run failed or any operation failed, 2 on a
// usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		newFlags("compare", stderr).fs.PrintDefaults()
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "raw-server":
		return rawServerMain(args, stderr)
	case "plot":
		return plotMain(args, stderr)
	case "blob":
		return blobMain(args, stdout, stderr)
	}
	if cmd != "compare" && cmd != "run" {
		fmt.Fprintf(stderr, "gpucache-bench: unknown command %q (want compare, run or raw-server)\n", cmd)
		return 2
	}
	f := newFlags(cmd, stderr)
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	suite, err := f.suite()
	if err != nil {
		fmt.Fprintln(stderr, "gpucache-bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var prog *Progress
	if !f.noProgress {
		prog = NewProgress(stderr)
	}
	var rep *Report
	if cmd == "compare" {
		opts := CompareOptions{
			Gpucache:  GpucacheOptions{Bin: f.gpucacheBin, DRAMCacheSize: f.dramCacheSize, Extra: strings.Fields(f.gpucacheArgs)},
			RedisBin:  f.redisBin,
			RedisArgs: strings.Fields(f.redisArgs),
			S3:        f.s3Endpoint(""),
			MinioBin:  f.minioBin,
		}
		if exe, err := os.Executable(); err == nil && !f.rawInProcess {
			opts.RawCommand = []string{exe, "raw-server"}
		}
		if f.targets != "" {
			opts.Targets = splitList(f.targets)
		}
		rep, err = Compare(ctx, suite, opts, prog)
	} else {
		t := &Target{Name: f.name, Addr: f.addr, User: f.user, Password: f.password}
		if f.s3Addr != "" {
			ep := f.s3Endpoint(f.s3Addr)
			t.S3 = &ep
		}
		switch f.target {
		case "raw":
			raw, err := StartRawServer("127.0.0.1:0", NewPayload(suite.maxValueSize()))
			if err != nil {
				fmt.Fprintln(stderr, "gpucache-bench:", err)
				return 1
			}
			defer raw.Close()
			t = &Target{Name: TargetRawName, Kind: TargetRaw, Addr: raw.Addr()}
			f.withRaw = false
		case "resp":
		default:
			fmt.Fprintf(stderr, "gpucache-bench: unknown --target %q (want resp or raw)\n", f.target)
			return 2
		}
		rep, err = Run(ctx, suite, t, f.withRaw, prog)
	}
	prog.Close()
	if rep != nil && len(rep.Rows) > 0 {
		rep.WriteTable(stdout)
		if f.jsonPath != "" {
			if err := rep.WriteJSON(f.jsonPath); err != nil {
				fmt.Fprintln(stderr, "gpucache-bench:", err)
			}
		}
		if f.plotPath != "" {
			if err := rep.WritePlotFile(f.plotPath); err != nil {
				fmt.Fprintln(stderr, "gpucache-bench:", err)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "gpucache-bench:", err)
		return 1
	}
	if rep.Errors() > 0 {
		fmt.Fprintf(stderr, "gpucache-bench: %d operations failed\n", rep.Errors())
		return 1
	}
	return 0
}

func rawServerMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("raw-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:7379", "listen address")
	maxSize := fs.String("max-size", "80MiB", "largest value served")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	n, err := ParseSize(*maxSize)
	if err != nil {
		fmt.Fprintln(stderr, "gpucache-bench:", err)
		return 2
	}
	s, err := StartRawServer(*listen, NewPayload(int(n)))
	if err != nil {
		fmt.Fprintln(stderr, "gpucache-bench:", err)
		return 1
	}
	fmt.Fprintf(stderr, "raw probe listening on %s\n", s.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	s.Close()
	return 0
}

func plotMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("json", "", "JSON report written by --json")
	out := fs.String("out", "", "SVG file to write")
	if err := fs.Parse(args); err != nil || *in == "" || *out == "" {
		fmt.Fprintln(stderr, "usage: gpucache-bench plot --json R.json --out P.svg")
		return 2
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintln(stderr, "gpucache-bench:", err)
		return 1
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		fmt.Fprintf(stderr, "gpucache-bench: cannot parse %s: %v\n", *in, err)
		return 1
	}
	if err := rep.WritePlotFile(*out); err != nil {
		fmt.Fprintln(stderr, "gpucache-bench:", err)
		return 1
	}
	return 0
}

// cliFlags holds every flag; suite() applies the ones given on top of the
// preset.
type cliFlags struct {
	fs  *flag.FlagSet
	set map[string]bool

	quick, noProgress                                  bool
	workloads, sizes, modes, verify, model             string
	concurrency, prefixChunks, rounds, worldSize       int
	workingSet                                         string
	getPasses, hitRatio                                float64
	smallClients, smallDepth, smallKeys, smallOps      int
	smallSetRatio                                      float64
	smallSizes                                         string
	timeout                                            time.Duration
	seed                                               uint64
	jsonPath, plotPath                                 string
	s3Access, s3Secret, s3Bucket, s3Region, s3PartSize string
	minioBin, s3Clients                                string

	// compare
	targets, gpucacheBin, gpucacheArgs, dramCacheSize, redisBin, redisArgs string
	rawInProcess                                                           bool
	// run
	addr, user, password, name, target, s3Addr string
	withRaw                                    bool
}

func newFlags(cmd string, stderr io.Writer) *cliFlags {
	f := &cliFlags{fs: flag.NewFlagSet(cmd, flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(stderr)
	q := QuickSuite()
	fs.BoolVar(&f.quick, "quick", false, "run the quick preset (under a minute for a three-way compare) instead of the full one")
	fs.BoolVar(&f.noProgress, "no-progress", false, "do not print the live progress line on stderr")
	fs.StringVar(&f.workloads, "workloads", "lmcache,small", "workloads to run: lmcache, small, s3 (comma-separated, or all)")
	fs.StringVar(&f.sizes, "sizes", "4MiB,32MiB,80MiB", "value sizes of the lmcache and s3 workloads")
	fs.StringVar(&f.modes, "modes", "python,native,native-b8", "lmcache client modes: python, native, native-bN (N chunks per pipelined batch); quick: python,native-b8")
	fs.IntVar(&f.concurrency, "concurrency", 8, "lmcache/s3 connections (quick: 4)")
	fs.StringVar(&f.workingSet, "working-set", "1GiB", "lmcache/s3 bytes stored per value size (quick: 128MiB)")
	fs.Float64Var(&f.getPasses, "get-passes", 4, "chunk reads in the get phase, as a multiple of the chunks stored (quick: 2)")
	fs.IntVar(&f.prefixChunks, "prefix-chunks", q.LMCache[0].PrefixChunks, "chunks per retrieval request")
	fs.Float64Var(&f.hitRatio, "hit-ratio", q.LMCache[0].HitRatio, "expected fraction of a request's chunks that were stored (a stored prefix, then misses)")
	fs.IntVar(&f.smallClients, "small-clients", q.Small.Clients, "small: connections")
	fs.IntVar(&f.smallDepth, "small-depth", q.Small.Depth, "small: pipelining depth")
	fs.IntVar(&f.smallKeys, "small-keys", 100000, "small: distinct keys (quick: 5000)")
	fs.IntVar(&f.smallOps, "small-ops", 2000000, "small: operations in the mix phase (quick: 100000)")
	fs.Float64Var(&f.smallSetRatio, "small-set-ratio", q.Small.SetRatio, "small: fraction of SETs in the mix")
	fs.StringVar(&f.smallSizes, "small-sizes", "64,4KiB", "small: min,max value size (log-uniform per key)")
	fs.IntVar(&f.rounds, "rounds", 3, "rounds; each runs every cell against every target in turn (quick: 2)")
	fs.StringVar(&f.verify, "verify", "cheap", "check of values read back: cheap (length + per-key stamps at both ends), full (every byte), none")
	fs.DurationVar(&f.timeout, "timeout", q.Timeout, "time limit of one batch on one connection")
	fs.Uint64Var(&f.seed, "seed", 0, "key seed (0: from the clock); the same seed replays the same keys and requests")
	fs.StringVar(&f.model, "model", q.Model, "model name in LMCache keys")
	fs.IntVar(&f.worldSize, "world-size", q.WorldSize, "world size in LMCache keys (ranks cycle over it)")
	fs.StringVar(&f.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&f.plotPath, "plot", "", "also write an SVG plot (throughput and latency by value size) to this file")
	fs.StringVar(&f.s3Access, "s3-access-key", "gpucacheadmin", "S3 access key")
	fs.StringVar(&f.s3Secret, "s3-secret-key", "gpucacheadmin", "S3 secret key")
	fs.StringVar(&f.s3Bucket, "s3-bucket", "gpucache-bench", "S3 bucket (created when missing)")
	fs.StringVar(&f.s3Region, "s3-region", "us-east-1", "S3 region")
	fs.StringVar(&f.s3PartSize, "s3-part-size", "8MiB", "S3 multipart part size (LMCache's CRT client: 8MiB)")
	fs.StringVar(&f.s3Clients, "s3-clients", "crt,minio", "S3 clients of the s3 workload: crt (what LMCache's CRT client sends, lean) and minio (minio-go)")
	if cmd == "compare" {
		fs.StringVar(&f.targets, "targets", "gpucache,redis,raw", "targets in order (gpucache, redis, minio, raw); the first is the subject of the ratios")
		fs.StringVar(&f.gpucacheBin, "gpucache-bin", "", "gpucache binary (default: go build ./cmd/gpucache into a temp dir)")
		fs.StringVar(&f.gpucacheArgs, "gpucache-args", "", "extra gpucache arguments, space-separated")
		fs.StringVar(&f.dramCacheSize, "dram-cache-size", "2gb", "gpucache --dram-cache-size")
		fs.StringVar(&f.redisBin, "redis-bin", "redis-server", "redis-server binary")
		fs.StringVar(&f.redisArgs, "redis-args", "", "extra redis-server arguments, space-separated")
		fs.StringVar(&f.minioBin, "minio-bin", "minio", "MinIO server binary of the minio target (add minio to --targets)")
		fs.BoolVar(&f.rawInProcess, "raw-in-process", false, "run the raw probe inside this process instead of as a child process")
	} else {
		fs.StringVar(&f.addr, "addr", "127.0.0.1:6379", "RESP endpoint host:port")
		fs.StringVar(&f.user, "user", "", "AUTH user (with --password)")
		fs.StringVar(&f.password, "password", "", "AUTH password")
		fs.StringVar(&f.name, "name", "target", "name of the endpoint in the table")
		fs.StringVar(&f.target, "target", "resp", "resp (the endpoint at --addr) or raw (the built-in probe only)")
		fs.StringVar(&f.s3Addr, "s3-endpoint", "127.0.0.1:9000", "S3 endpoint host:port for the s3 workload")
		fs.BoolVar(&f.withRaw, "with-raw", true, "also run the raw loopback probe, for the ratio to the limit")
	}
	return f
}

func (f *cliFlags) s3Endpoint(addr string) S3Endpoint {
	ps, _ := ParseSize(f.s3PartSize)
	return S3Endpoint{Endpoint: addr, AccessKey: f.s3Access, SecretKey: f.s3Secret, Bucket: f.s3Bucket, Region: f.s3Region, PartSize: uint64(ps)}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseMode parses "python", "native" or "native-bN".
func parseMode(s string) (string, int, error) {
	switch {
	case s == ModePython:
		return ModePython, 1, nil
	case s == ModeNative:
		return ModeNative, 1, nil
	case strings.HasPrefix(s, "native-b"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "native-b"))
		if err == nil && n >= 1 {
			return ModeNative, n, nil
		}
	}
	return "", 0, fmt.Errorf("cannot parse lmcache mode %q: want python, native or native-bN", s)
}

// suite builds the preset and applies the flags given explicitly.
func (f *cliFlags) suite() (Suite, error) {
	f.set = make(map[string]bool)
	f.fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	s := FullSuite()
	if f.quick {
		s = QuickSuite()
	}
	if f.set["workloads"] {
		s.Workloads = splitList(f.workloads)
		if f.workloads == "all" {
			s.Workloads = []string{WorkloadLMCache, WorkloadSmall, WorkloadS3}
		}
	}
	if f.set["sizes"] {
		sizes, err := ParseSizes(f.sizes)
		if err != nil {
			return s, err
		}
		s.Sizes = sizes
	}
	lm := s.LMCache[0]
	if f.set["modes"] {
		s.LMCache = nil
		for _, m := range splitList(f.modes) {
			mode, batch, err := parseMode(m)
			if err != nil {
				return s, err
			}
			c := lm
			c.Mode, c.Batch = mode, batch
			s.LMCache = append(s.LMCache, c)
		}
	}
	apply := func(c *LMCacheConfig) error {
		if f.set["concurrency"] {
			c.Concurrency = f.concurrency
		}
		if f.set["working-set"] {
			n, err := ParseSize(f.workingSet)
			if err != nil {
				return err
			}
			c.WorkingSet = n
		}
		if f.set["get-passes"] {
			c.GetPasses = f.getPasses
		}
		if f.set["prefix-chunks"] {
			c.PrefixChunks = f.prefixChunks
		}
		if f.set["hit-ratio"] {
			c.HitRatio = f.hitRatio
		}
		return nil
	}
	for i := range s.LMCache {
		if err := apply(&s.LMCache[i]); err != nil {
			return s, err
		}
	}
	if err := apply(&s.S3); err != nil {
		return s, err
	}
	if f.set["s3-clients"] {
		s.S3Modes = splitList(f.s3Clients)
	}
	for _, p := range []struct {
		name     string
		src, dst *int
	}{
		{"small-clients", &f.smallClients, &s.Small.Clients},
		{"small-depth", &f.smallDepth, &s.Small.Depth},
		{"small-keys", &f.smallKeys, &s.Small.Keys},
		{"small-ops", &f.smallOps, &s.Small.Ops},
		{"rounds", &f.rounds, &s.Rounds},
		{"world-size", &f.worldSize, &s.WorldSize},
	} {
		if f.set[p.name] {
			*p.dst = *p.src
		}
	}
	if f.set["small-set-ratio"] {
		s.Small.SetRatio = f.smallSetRatio
	}
	if f.set["small-sizes"] {
		sz, err := ParseSizes(f.smallSizes)
		if err != nil || len(sz) != 2 {
			return s, errors.New("cannot parse --small-sizes: want min,max")
		}
		s.Small.MinSize, s.Small.MaxSize = sz[0], sz[1]
	}
	v, err := ParseVerifyMode(f.verify)
	if err != nil {
		return s, err
	}
	s.Verify, s.Timeout, s.Seed, s.Model = v, f.timeout, f.seed, f.model
	return s, s.validate()
}
