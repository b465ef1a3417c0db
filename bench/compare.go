package bench

import (
	"context"
	"fmt"
)

// Target names used by Compare.
const (
	TargetGpucache = "gpucache"
	TargetRedis    = "redis"
	TargetRawName  = "raw"
	TargetMinio    = "minio"
)

// CompareOptions configures Compare.
type CompareOptions struct {
	// Targets to start and measure, in order; the first is the subject of
	// the ratios. Default: gpucache, redis, raw.
	Targets []string
	// Gpucache configures the gpucache process.
	Gpucache GpucacheOptions
	// RedisBin is the redis-server binary (default: redis-server on PATH);
	// RedisArgs are appended to its command line.
	RedisBin  string
	RedisArgs []string
	// RawCommand starts the raw probe as its own process (argv, to which
	// --listen and --max-size are appended), e.g. this program's
	// "raw-server". Empty: the probe runs inside this process.
	RawCommand []string
	// S3 is the S3 endpoint template for gpucache and MinIO when the suite
	// has the s3 workload (Endpoint is filled in with the server's port).
	S3 S3Endpoint
	// MinioBin is the MinIO server binary of the "minio" target (default:
	// minio on PATH). MinIO runs single-drive on a fresh directory next to
	// gpucache's, with the S3 credentials above.
	MinioBin string
}

// Compare starts each target on free loopback ports (gpucache and
// redis-server as child processes, the raw probe in this process), runs the
// suite against all of them with RunSuite, and stops them.
func Compare(ctx context.Context, s Suite, opts CompareOptions, prog *Progress) (*Report, error) {
	if len(opts.Targets) == 0 {
		opts.Targets = []string{TargetGpucache, TargetRedis, TargetRawName}
	}
	wantS3 := false
	for _, w := range s.Workloads {
		wantS3 = wantS3 || w == WorkloadS3
	}
	var targets []*Target
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	for _, name := range opts.Targets {
		switch name {
		case TargetGpucache:
			prog.Printf("starting gpucache%s", map[bool]string{true: " (building ./cmd/gpucache)", false: ""}[opts.Gpucache.Bin == ""])
			g := opts.Gpucache
			g.S3, g.S3AccessKey, g.S3SecretKey = wantS3, opts.S3.AccessKey, opts.S3.SecretKey
			srv, err := StartGpucache(ctx, g)
			if err != nil {
				return nil, err
			}
			stops = append(stops, func() { srv.Stop() })
			t := &Target{Name: TargetGpucache, Addr: srv.Addr, PID: srv.PID()}
			if srv.S3Addr != "" {
				ep := opts.S3
				ep.Endpoint = srv.S3Addr
				t.S3 = &ep
			}
			targets = append(targets, t)
		case TargetRedis:
			srv, err := StartRedis(ctx, opts.RedisBin, opts.RedisArgs)
			if err != nil {
				return nil, err
			}
			stops = append(stops, func() { srv.Stop() })
			targets = append(targets, &Target{Name: TargetRedis, Addr: srv.Addr, PID: srv.PID()})
		case TargetRawName:
			if len(opts.RawCommand) > 0 {
				srv, err := StartRawProcess(ctx, opts.RawCommand, s.maxValueSize())
				if err != nil {
					return nil, err
				}
				stops = append(stops, func() { srv.Stop() })
				targets = append(targets, &Target{Name: TargetRawName, Kind: TargetRaw, Addr: srv.Addr, PID: srv.PID()})
				continue
			}
			raw, err := StartRawServer("127.0.0.1:0", NewPayload(s.maxValueSize()))
			if err != nil {
				return nil, err
			}
			stops = append(stops, func() { raw.Close() })
			targets = append(targets, &Target{Name: TargetRawName, Kind: TargetRaw, Addr: raw.Addr()})
		case TargetMinio:
			srv, err := StartMinio(ctx, opts.MinioBin, opts.S3.AccessKey, opts.S3.SecretKey)
			if err != nil {
				return nil, err
			}
			stops = append(stops, func() { srv.Stop() })
			ep := opts.S3
			ep.Endpoint = srv.S3Addr
			targets = append(targets, &Target{Name: TargetMinio, Kind: TargetS3Only, S3: &ep, PID: srv.PID()})
		default:
			return nil, fmt.Errorf("cannot compare target %q: want gpucache, redis, minio or raw", name)
		}
	}
	return RunSuite(ctx, s, targets, prog)
}

// Run measures one existing endpoint t, followed by the in-process raw
// probe when withRaw is set (so that the table shows t against the limit).
func Run(ctx context.Context, s Suite, t *Target, withRaw bool, prog *Progress) (*Report, error) {
	targets := []*Target{t}
	if withRaw {
		raw, err := StartRawServer("127.0.0.1:0", NewPayload(s.maxValueSize()))
		if err != nil {
			return nil, err
		}
		defer raw.Close()
		targets = append(targets, &Target{Name: TargetRawName, Kind: TargetRaw, Addr: raw.Addr()})
	}
	return RunSuite(ctx, s, targets, prog)
}
