package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/resp"
)

// startAdmin serves /healthz, /metrics (Prometheus) and /debug/pprof on addr.
func startAdmin(addr string, eng *engine.Engine, rs *resp.Server, logf func(string, ...any), errc chan<- error) (*http.Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(engineCollector{eng: eng, rs: rs})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := eng.Sync(); err != nil {
			http.Error(w, "engine: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen for admin HTTP: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logf("admin HTTP (/metrics, /healthz) on %s", ln.Addr())
	go func() { errc <- serveErr(srv.Serve(ln), http.ErrServerClosed) }()
	return srv, nil
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
