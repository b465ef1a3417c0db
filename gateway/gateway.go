package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/resp"
)

// Run serves until ctx is done, then shuts down: listeners first, then the
// engine (which syncs its state). It returns the first fatal error.
func Run(ctx context.Context, cfg *Config, version string) error {
	// NB: as KVRocks refuses it: a namespace token without requirepass
	// would let a client without a password into the default namespace.
	if len(cfg.Namespaces()) > 0 && cfg.Get("requirepass") == "" {
		return errors.New("requirepass empty wasn't allowed while the namespace exists")
	}
	dir := cfg.Get("dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create dir %s: %w", dir, err)
	}
	out, logCloser, err := openLog(cfg.Get("log-dir"), dir, cfg.Int("log-retention-days"))
	if err != nil {
		return err
	}
	defer logCloser.Close()
	level, _ := parseLogLevel(cfg.Get("log-level")) // validated on set
	lg := newLeveledLog(out, level)
	logf := lg.Infof
	cfg.warn = lg.Warnf
	logf("gpucache %s starting, pid %d, dir %s", version, os.Getpid(), dir)

	if pf := cfg.Get("pidfile"); pf != "" {
		if err := os.WriteFile(pf, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return fmt.Errorf("cannot write pidfile: %w", err)
		}
		defer os.Remove(pf)
	}

	eopts, err := engineOptions(cfg, logf)
	if err != nil {
		return err
	}
	eopts.SendProbe = sendProbe(cfg, logf)
	start := time.Now()
	eng, err := engine.Open(eopts)
	if err != nil {
		return err
	}
	st := eng.Stats()
	var keys int64
	for _, n := range st.Keys {
		keys += n
	}
	logf("engine open in %v: %d keys, %d segments, %d MiB on NVMe, DRAM tier %d MiB, policy %s",
		time.Since(start).Round(time.Millisecond), keys, st.NVMeSegments, st.NVMeUsed>>20,
		st.DRAMCapacity>>20, cfg.Get("maxmemory-policy"))
	logf("durability: %s", eng.Durability().Promise())
	switch {
	case eng.SendsByReference():
		logf("DRAM tier sends resident values to plain-TCP and Unix sockets by reference (dram-send-by-reference)")
	case eopts.SendByReference:
		logf("dram-send-by-reference: the kernel takes no page references through pipes (vmsplice); values are copied to sockets")
	}

	fp := startFastPath(cfg, eng, logf)
	port := int(cfg.Int("port"))
	rs := resp.NewServer(eng, resp.Config{
		RequirePass: cfg.Get("requirepass"),
		Namespaces:  cfg.Namespaces(),
		MaxClients:  fileLimitClients(int(cfg.Int("maxclients")), logf),
		Timeout:     time.Duration(cfg.Int("timeout")) * time.Second,
		Limits: resp.Limits{
			MaxBulkLen:  cfg.Bytes("proto-max-bulk-len"),
			MaxQueryBuf: int(min(cfg.Bytes("query-buffer-limit"), 1<<30)),
		},
		OutputLimit:      outputLimit(cfg.Get("output-buffer-limit")),
		MaxClientMemory:  cfg.Bytes("maxmemory-clients"),
		DisableRESP3:     !cfg.Bool("resp3-enabled"),
		ClusterEnabled:   cfg.Bool("cluster-enabled"),
		Bind:             strings.Fields(cfg.Get("bind")),
		ClusterNodesFile: clusterNodesFile(cfg, dir),
		Version:          version,
		Port:             port,
		Dir:              dir,
	}, resp.WithConfigStore(configStore{cfg}), resp.WithLogf(logf), resp.WithFastPath(fp))
	if err := loadClusterNodes(rs, clusterNodesFile(cfg, dir), logf); err != nil {
		rs.Close()
		eng.Close()
		return err
	}
	applyRuntime(cfg, rs, lg)
	for _, r := range cfg.Renames() {
		if err := rs.RenameCommand(r[0], r[1]); err != nil {
			rs.Close()
			eng.Close()
			return fmt.Errorf("rename-command %s %q: %v", r[0], r[1], err)
		}
		if r[1] == "" {
			logf("rename-command: %s disabled", r[0])
		} else {
			logf("rename-command: %s answers to %s", r[0], r[1])
		}
	}

	errc := make(chan error, 8)
	var closers []func()
	for _, host := range strings.Fields(cfg.Get("bind")) {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			rs.Close()
			eng.Close()
			return fmt.Errorf("cannot listen for RESP: %w", err)
		}
		logf("RESP listening on %s", ln.Addr())
		go func() { errc <- serveErr(rs.Serve(ln), resp.ErrServerClosed) }()
	}
	if tp := cfg.Int("tls-port"); tp != 0 {
		var ts tlsState
		if err := applyTLS(cfg, &ts); err != nil {
			rs.Close()
			eng.Close()
			return err
		}
		for _, host := range strings.Fields(cfg.Get("bind")) {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.FormatInt(tp, 10)))
			if err != nil {
				rs.Close()
				eng.Close()
				return fmt.Errorf("cannot listen for RESP over TLS: %w", err)
			}
			// NB: a TLS connection is not a syscall.Conn, so its values
			// are copied to it, never sent by reference.
			logf("RESP over TLS listening on %s (tls-auth-clients %s)", ln.Addr(), cfg.Get("tls-auth-clients"))
			go func() { errc <- serveErr(rs.Serve(tls.NewListener(ln, ts.listenerConfig())), resp.ErrServerClosed) }()
		}
	}
	if sock := cfg.Get("unixsocket"); sock != "" {
		os.Remove(sock)
		ln, err := net.Listen("unix", sock)
		if err != nil {
			rs.Close()
			eng.Close()
			return fmt.Errorf("cannot listen on unix socket: %w", err)
		}
		if perm, err := strconv.ParseUint(cfg.Get("unixsocketperm"), 8, 32); err == nil {
			os.Chmod(sock, os.FileMode(perm))
		}
		logf("RESP listening on %s", sock)
		go func() { errc <- serveErr(rs.Serve(ln), resp.ErrServerClosed) }()
	}
	closers = append(closers, fp.Close) // after the connections, whose sessions it holds
	closers = append(closers, func() { rs.Close() })
	closers = append(closers, startCron(cfg, rs, logf)) // stopped before the server closes

	s3srv, s3close, err := startS3(cfg, eng, logf, errc, s3ClusterOptions(cfg, rs, logf)...)
	if err != nil {
		rs.Close()
		eng.Close()
		return err
	} else if s3close != nil {
		closers = append(closers, s3close)
	}

	if ap := cfg.Int("admin-port"); ap != 0 {
		if cfg.Bool("admin-pprof") && cfg.Get("requirepass") == "" {
			for _, c := range closers {
				c()
			}
			eng.Close()
			return errors.New("admin-pprof yes needs requirepass: /debug/pprof is served only to requests with the admin password")
		}
		aopts := adminOptions{pprof: cfg.Bool("admin-pprof"), password: func() string { return cfg.Get("requirepass") }, optional: !cfg.Given("admin-port")}
		stopAdmin, err := startAdmin(net.JoinHostPort(strings.Fields(cfg.Get("bind") + " 127.0.0.1")[0], strconv.FormatInt(ap, 10)), eng, rs, s3srv, aopts, logf, errc)
		if err != nil {
			for _, c := range closers {
				c()
			}
			eng.Close()
			return err
		}
		closers = append(closers, stopAdmin)
	}
	logf("ready to accept connections")

	var runErr error
	select {
	case <-ctx.Done():
		logf("shutting down")
	case <-rs.ShutdownRequested():
		logf("shutting down (SHUTDOWN)")
	case runErr = <-errc:
		if runErr != nil {
			lg.Errorf("fatal: %v", runErr)
		}
	}
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	if err := eng.Close(); err != nil && runErr == nil {
		runErr = err
	}
	logf("bye")
	return runErr
}

func serveErr(err, closed error) error {
	if errors.Is(err, closed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// engineOptions maps configuration keys onto the engine's options.
func engineOptions(cfg *Config, logf func(string, ...any)) (engine.Options, error) {
	k, m, err := ParseEC(cfg.Get("ec"))
	if err != nil {
		return engine.Options{}, err
	}
	policy, _ := engine.ParsePolicy(cfg.Get("maxmemory-policy"))
	var devices []string
	for _, d := range strings.Split(cfg.Get("devices"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			devices = append(devices, d)
		}
	}
	if len(devices) > 0 && len(devices) < k+m {
		return engine.Options{}, fmt.Errorf("ec %d+%d needs at least %d devices, %d given", k, m, k+m, len(devices))
	}
	if len(devices) == 0 && k+m > 1 {
		return engine.Options{}, fmt.Errorf("ec %d+%d needs devices", k, m)
	}
	return engine.Options{
		Dir:             cfg.Get("dir"),
		Devices:         devices,
		ECData:          k,
		ECParity:        m,
		DRAMCacheSize:   cfg.Bytes("dram-cache-size"),
		SendByReference: cfg.Bool("dram-send-by-reference"),
		// KVRocks gives rocksdb.block_cache_size in MiB.
		MetadataCacheSize: cfg.Int("rocksdb.block_cache_size") << 20,
		NVMeCapacity:      cfg.Bytes("nvme-capacity"),
		Policy:            policy,
		ScrubInterval:     time.Duration(cfg.Int("ec-scrub-interval")) * time.Second,
		RebuildRate:       cfg.Bytes("ec-rebuild-rate"),
		SyncWrites:        cfg.Bool("rocksdb.write_options.sync"),
		SyncInterval:      time.Duration(cfg.Int("sync-interval-ms")) * time.Millisecond,
		Logf:              logf,
	}, nil
}

// sendProbe decides dram-send-by-reference auto: it measures copying and
// sending by reference on this host (once; later starts reuse the record
// in dir) and logs what it found. It returns nil unless the key is auto.
func sendProbe(cfg *Config, logf func(string, ...any)) *engine.SendProbe {
	if cfg.Get("dram-send-by-reference") != "auto" {
		return nil
	}
	// The host decides, so a record in the user's cache directory serves
	// every data directory on it.
	dirs := []string{cfg.Get("dir")}
	if d, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(d, "gpucache"))
	}
	p, cached := engine.ProbeSendCached(dirs...)
	how := "measured now"
	if cached {
		how = "measured at an earlier start on this kernel"
	}
	choice := "copying"
	if p.ByReference() {
		choice = "by reference"
	}
	logf("dram-send-by-reference auto: sending %s (%s: %s)", choice, how, p)
	return &p
}

// configStore adapts Config to the RESP front end's CONFIG commands.
type configStore struct{ c *Config }

func (s configStore) Get(pattern string) [][2]string { return s.c.Match(pattern) }
func (s configStore) Set(key, value string) error    { return s.c.SetRuntime(key, value) }
func (s configStore) Rewrite() error                 { return s.c.Rewrite() }
