package gateway

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/resp"
	"github.com/gpucache/gpucache/protocols/s3"
)

// adminOptions are the admin port's settings.
type adminOptions struct {
	// pprof serves /debug/pprof (admin-pprof yes), to clients that give
	// the admin password.
	pprof bool
	// password returns the admin password (requirepass) in force.
	password func() string
	// optional: admin-port was not configured, so the listener is on the
	// default port (DefaultAdminPort) on 127.0.0.1, and a port that cannot
	// be bound (a second instance on the host has it) costs a warning
	// instead of the start.
	optional bool
}

// DefaultAdminPort is the admin HTTP port when the configuration names
// none: on 127.0.0.1 only, clear of the RESP (6666) and S3 (9000) ports.
const DefaultAdminPort = 9190

// startAdmin serves /healthz, /metrics (Prometheus) and, when enabled,
// /debug/pprof on addr. s3s, when not nil, adds the S3 request metrics.
// The returned stop shuts the server and the health check down. With
// opts.optional the listener is on 127.0.0.1 whatever addr's host, and
// failing to listen is logged and leaves stop a no-op.
func startAdmin(addr string, eng *engine.Engine, rs *resp.Server, s3s *s3.Server, opts adminOptions, logf func(string, ...any), errc chan<- error) (stop func(), err error) {
	if opts.optional {
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if opts.optional {
			logf("warning: admin HTTP (/metrics, /healthz) off: cannot listen on the default %s: %v (set admin-port to choose a port, 0 to turn it off)", addr, err)
			return func() {}, nil
		}
		return nil, fmt.Errorf("cannot listen for admin HTTP: %w", err)
	}
	// NB: the health check syncs the metadata log and reads the devices'
	// state in the background; probes read its last result.
	health := newHealthMonitor(func() error { return engineHealth(eng) }, healthInterval)
	health.start()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(engineCollector{eng: eng, rs: rs})
	reg.MustRegister(cacheCollector{eng: eng, rs: rs, s3s: s3s})
	reg.MustRegister(fastpathCollector{rs.FastPath()})
	if s3s != nil {
		reg.MustRegister(s3Collector{s3s})
	}
	mux := adminMux(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), health, opts)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	what := "/metrics, /healthz"
	if opts.pprof {
		what += ", /debug/pprof behind the admin password"
	}
	logf("admin HTTP (%s) on %s", what, ln.Addr())
	go func() { errc <- serveErr(srv.Serve(ln), http.ErrServerClosed) }()
	return func() {
		srv.Shutdown(context.Background())
		health.close()
	}, nil
}

// engineHealth is the background health check: the metadata log syncs.
func engineHealth(eng *engine.Engine) error {
	// NB: a degraded erasure-coded volume still serves every value, so it
	// is healthy here (INFO devices and the metrics tell it apart).
	if err := eng.Sync(); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// adminMux routes the admin port. /healthz answers from the last
// background check (200 "ok", or 503 with the reason), never doing I/O
// itself. /debug/pprof exists only when enabled, and then answers only
// requests that carry the admin password, as HTTP basic auth (any user
// name) or as a bearer token.
func adminMux(metrics http.Handler, health *healthMonitor, opts adminOptions) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		at, err := health.state()
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok (checked %s)\n", at.UTC().Format(time.RFC3339))
	})
	if opts.pprof {
		guard := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if !adminAuthorized(r, opts.password()) {
					w.Header().Set("WWW-Authenticate", `Basic realm="gpucache admin"`)
					http.Error(w, "admin password required", http.StatusUnauthorized)
					return
				}
				h(w, r)
			}
		}
		mux.HandleFunc("/debug/pprof/", guard(pprof.Index))
		mux.HandleFunc("/debug/pprof/cmdline", guard(pprof.Cmdline))
		mux.HandleFunc("/debug/pprof/profile", guard(pprof.Profile))
		mux.HandleFunc("/debug/pprof/symbol", guard(pprof.Symbol))
		mux.HandleFunc("/debug/pprof/trace", guard(pprof.Trace))
	}
	return mux
}

// adminAuthorized reports whether r carries the admin password, as basic
// auth or a bearer token. An empty password authorizes nobody (Run
// refuses admin-pprof without requirepass).
func adminAuthorized(r *http.Request, password string) bool {
	if password == "" {
		return false
	}
	given := ""
	if _, p, ok := r.BasicAuth(); ok {
		given = p
	} else if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given = tok
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(password)) == 1
}

// engineCollector exports the engine's tier figures.
type engineCollector struct {
	eng *engine.Engine
	rs  *resp.Server
}

var (
	descTierBytes = prometheus.NewDesc("gpucache_tier_bytes", "Bytes held per tier and kind.", []string{"tier", "kind"}, nil)
	descTierOps   = prometheus.NewDesc("gpucache_tier_ops_total", "Tier events.", []string{"tier", "event"}, nil)
	descSentByRef = prometheus.NewDesc("gpucache_dram_sent_by_reference_bytes_total", "Bytes sent to sockets as DRAM tier pages, not copied (dram-send-by-reference).", nil, nil)
	descKeys      = prometheus.NewDesc("gpucache_keys", "Keys per keyspace.", []string{"keyspace"}, nil)
	descClients   = prometheus.NewDesc("gpucache_resp_clients", "Connected RESP clients.", nil, nil)
)

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTierBytes
	ch <- descTierOps
	ch <- descSentByRef
	ch <- descKeys
	ch <- descClients
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.eng.Stats()
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ct := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	g(descTierBytes, float64(s.DRAMCapacity), "dram", "capacity")
	g(descTierBytes, float64(s.DRAMUsed), "dram", "used")
	g(descTierBytes, float64(s.DRAMResident), "dram", "resident")
	g(descTierBytes, float64(s.NVMeCapacity), "nvme", "capacity")
	g(descTierBytes, float64(s.NVMeLimit), "nvme", "limit")
	g(descTierBytes, float64(s.NVMeUsed), "nvme", "used")
	g(descTierBytes, float64(s.NVMeLive), "nvme", "live")
	ct(descTierOps, float64(s.DRAMHits), "dram", "hit")
	ct(descTierOps, float64(s.DRAMMisses), "dram", "miss")
	ct(descTierOps, float64(s.DRAMEvictions), "dram", "eviction")
	ct(descTierOps, float64(s.DRAMPagesRenewed), "dram", "page_renewal")
	ct(descSentByRef, float64(s.DRAMBytesSentByRef))
	ct(descTierOps, float64(s.NVMeReads), "nvme", "read")
	ct(descTierOps, float64(s.NVMeWrites), "nvme", "write")
	ct(descTierOps, float64(s.NVMeSegmentsEvicted), "nvme", "segment_eviction")
	ct(descTierOps, float64(s.NVMeKeysEvicted), "nvme", "key_eviction")
	ct(descTierOps, float64(s.NVMeCorruptReads), "nvme", "corrupt_read")
	for _, ks := range s.KeyspaceNames() {
		g(descKeys, float64(s.Keys[ks]), ks)
	}
	g(descClients, float64(c.rs.NumClients()))
}

// s3Collector exports the S3 front end's request metrics.
type s3Collector struct{ s *s3.Server }

var (
	descS3Requests = prometheus.NewDesc("gpucache_s3_requests_total", "S3 requests by operation and outcome (OK, or the S3 error code).", []string{"operation", "outcome"}, nil)
	descS3Duration = prometheus.NewDesc("gpucache_s3_request_duration_seconds", "S3 request handling time by operation.", []string{"operation"}, nil)
	descS3Bytes    = prometheus.NewDesc("gpucache_s3_body_bytes_total", "S3 body bytes: request bodies read (in), object bytes sent (out).", []string{"direction"}, nil)
)

func (c s3Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descS3Requests
	ch <- descS3Duration
	ch <- descS3Bytes
}

func (c s3Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	for _, o := range st.Operations {
		ch <- prometheus.MustNewConstMetric(descS3Requests, prometheus.CounterValue, float64(o.OK), o.Name, "OK")
		for code, n := range o.Errors {
			ch <- prometheus.MustNewConstMetric(descS3Requests, prometheus.CounterValue, float64(n), o.Name, code)
		}
		buckets := make(map[float64]uint64, len(o.Buckets))
		for i, n := range o.Buckets {
			buckets[s3.LatencyBounds[i]] = n
		}
		ch <- prometheus.MustNewConstHistogram(descS3Duration, o.Count, o.Sum.Seconds(), buckets, o.Name)
	}
	ch <- prometheus.MustNewConstMetric(descS3Bytes, prometheus.CounterValue, float64(st.BytesIn), "in")
	ch <- prometheus.MustNewConstMetric(descS3Bytes, prometheus.CounterValue, float64(st.BytesOut), "out")
}
