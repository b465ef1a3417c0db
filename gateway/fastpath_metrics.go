package gateway

import (
	"github.com/gpucache/gpucache/protocols/fastpath"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descFabric         = prometheus.NewDesc("gpucache_fastpath_enabled", "1 when the BLOB.* fabric is up, by provider (0 with provider \"\" when it is not).", []string{"provider"}, nil)
	descFabricSessions = prometheus.NewDesc("gpucache_fastpath_sessions", "Open BLOB.HELLO sessions.", nil, nil)
	descFabricOps      = prometheus.NewDesc("gpucache_fastpath_transfers_total", "RMA operations by direction (write: BLOB.GET to the client, read: BLOB.SET from it).", []string{"direction"}, nil)
	descFabricBytes    = prometheus.NewDesc("gpucache_fastpath_bytes_total", "Bytes moved by successful transfers, by direction.", []string{"direction"}, nil)
	descFabricErrors   = prometheus.NewDesc("gpucache_fastpath_errors_total", "Failed transfers (commands), by direction.", []string{"direction"}, nil)
	descFabricHeld     = prometheus.NewDesc("gpucache_fastpath_held_bytes", "Arena bytes held by timed-out transfers until the provider ends them.", nil, nil)
)

// fastpathCollector exports the fast path's state and counters.
type fastpathCollector struct{ fp *fastpath.Server }

func (c fastpathCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFabric, descFabricSessions, descFabricOps, descFabricBytes, descFabricErrors, descFabricHeld} {
		ch <- d
	}
}

func (c fastpathCollector) Collect(ch chan<- prometheus.Metric) {
	up := 0.0
	if c.fp.Available() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descFabric, prometheus.GaugeValue, up, c.fp.Provider())
	if c.fp == nil {
		return
	}
	st := c.fp.Stats()
	ch <- prometheus.MustNewConstMetric(descFabricSessions, prometheus.GaugeValue, float64(st.Sessions.Load()))
	ch <- prometheus.MustNewConstMetric(descFabricHeld, prometheus.GaugeValue, float64(st.HeldBytes.Load()))
	for _, d := range []struct {
		dir              string
		ops, bytes, errs int64
	}{
		{"write", st.Writes.Load(), st.WriteBytes.Load(), st.WriteErrors.Load()},
		{"read", st.Reads.Load(), st.ReadBytes.Load(), st.ReadErrors.Load()},
	} {
		ch <- prometheus.MustNewConstMetric(descFabricOps, prometheus.CounterValue, float64(d.ops), d.dir)
		ch <- prometheus.MustNewConstMetric(descFabricBytes, prometheus.CounterValue, float64(d.bytes), d.dir)
		ch <- prometheus.MustNewConstMetric(descFabricErrors, prometheus.CounterValue, float64(d.errs), d.dir)
	}
}
