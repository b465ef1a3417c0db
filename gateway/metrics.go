package gateway

import (
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpucache/gpucache/ec"
	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/resp"
	"github.com/gpucache/gpucache/protocols/s3"
)

// The Prometheus series that explain the cache. Every counter is read at
// scrape time from counters the request paths keep as atomics indexed by
// tier, command or operation; labels are built here, never per request.
// README.md ("Metrics") lists every series with its type, unit and labels.

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// Cache tiers.
var (
	descHits         = newDesc("gpucache_cache_hits_total", "Value reads (RESP GET and the like, S3 GetObject bodies) answered by the tier: dram from resident values, nvme from the metadata store or the blob segments after DRAM missed.", "tier")
	descMisses       = newDesc("gpucache_cache_misses_total", "Value lookups the tier could not answer: dram passed them on to nvme, nvme found no key.", "tier")
	descPromotions   = newDesc("gpucache_cache_promotions_total", "Values read from the NVMe tier and admitted to the DRAM tier.")
	descAdmissions   = newDesc("gpucache_cache_admissions_total", "Values admitted to the tier: dram on write or promotion, nvme blobs written to segments.", "tier")
	descEvictions    = newDesc("gpucache_cache_evictions_total", "Values leaving the tier, by reason: capacity (room was needed), invalidated (key deleted, overwritten or expired; dram), expired (keys removed on expiry; nvme).", "tier", "reason")
	descCapacity     = newDesc("gpucache_cache_capacity_bytes", "Bytes the tier may hold: the DRAM arena; the NVMe tier's bound (nvme-capacity, or used plus the devices' free space).", "tier")
	descUsed         = newDesc("gpucache_cache_used_bytes", "Bytes the tier holds: arena pages in use; segment files on NVMe.", "tier")
	descLive         = newDesc("gpucache_cache_live_bytes", "Bytes of values the tier holds that keys still reference: resident values (dram), values referenced by keys (nvme).", "tier")
	descEntries      = newDesc("gpucache_cache_entries", "Values resident in the DRAM tier, by kind: large (arena pages) or small (inline values).", "kind")
	descArenaWaits   = newDesc("gpucache_dram_arena_waits_total", "Arena allocations that waited for pages (backpressure).")
	descArenaWaitSec = newDesc("gpucache_dram_arena_wait_seconds_total", "Time arena allocations spent waiting for pages.")
	descArenaBusy    = newDesc("gpucache_dram_arena_busy_total", "Arena allocations that gave up waiting (the client got -BUSY or 503).")
	descNVMeBytes    = newDesc("gpucache_nvme_bytes_total", "Value bytes read from and written to the NVMe tier's segments.", "direction")
)

// Devices and erasure coding.
var (
	descECShards      = newDesc("gpucache_ec_shards", "Shards per stripe, by kind (data, parity).", "kind")
	descECDegraded    = newDesc("gpucache_ec_degraded", "1 while the volume is degraded: a device slot is not ok, or a stripe has an unusable shard.")
	descECErrors      = newDesc("gpucache_ec_errors_total", "Erasure-coding errors: read and write (shard I/O errors), checksum (units failing verification), unrecoverable (reads short of shards).", "kind")
	descECRecon       = newDesc("gpucache_ec_reconstructed_stripes_total", "Stripes decoded from parity on read.")
	descECRepaired    = newDesc("gpucache_ec_read_repaired_total", "Corrupt data units rewritten by reads.")
	descDevState      = newDesc("gpucache_device_state", "1 for the device slot's current state (ok, missing, failed, rebuilding), 0 for the others.", "slot", "device", "state")
	descDevErrors     = newDesc("gpucache_device_errors_total", "I/O errors per device, by operation (read, write).", "slot", "device", "op")
	descDevBytes      = newDesc("gpucache_device_bytes_total", "Bytes read from and written to each device.", "slot", "device", "direction")
	descDevCapacity   = newDesc("gpucache_device_capacity_bytes", "Size of the file system holding each device.", "slot", "device")
	descDevFree       = newDesc("gpucache_device_free_bytes", "Bytes free on the file system holding each device.", "slot", "device")
	descRepairRunning = newDesc("gpucache_ec_repair_running", "1 while a scrub or rebuild runs.", "job")
	descRepairFiles   = newDesc("gpucache_ec_repair_files", "Files of the running (or last) scrub or rebuild: total, done.", "job", "state")
	descRepairBytes   = newDesc("gpucache_ec_repair_bytes", "Shard bytes the running (or last) scrub verified or rebuild wrote.", "job")
	descRepairFixed   = newDesc("gpucache_ec_repair_repaired_units", "Units the running (or last) scrub or rebuild rewrote.", "job")
	descRepairLost    = newDesc("gpucache_ec_repair_lost_stripes", "Stripes the running (or last) scrub or rebuild found with more than m shards unusable.", "job")
)

// Front ends.
var (
	descCmdCalls    = newDesc("gpucache_resp_commands_total", "RESP commands run, by command (calls in INFO commandstats).", "command")
	descCmdFailed   = newDesc("gpucache_resp_command_failures_total", "RESP commands that ran and answered an error (failed_calls).", "command")
	descCmdRejected = newDesc("gpucache_resp_command_rejections_total", "RESP requests refused before the command ran: arity, authentication, admin password (rejected_calls).", "command")
	descCmdDuration = newDesc("gpucache_resp_command_duration_seconds", "RESP command run time, from dispatch to the reply queued.", "command")
	descBlocked     = newDesc("gpucache_resp_blocked_clients", "RESP clients blocked in BLPOP and the like.")
	descConnsTotal  = newDesc("gpucache_resp_connections_total", "RESP connections accepted, and refused over maxclients.", "outcome")
	descFEClients   = newDesc("gpucache_clients", "Client connections open, per front end (resp, s3).", "frontend")
	descNetBytes    = newDesc("gpucache_network_bytes_total", "Bytes received from (in) and sent to (out) clients, per front end and transport (tcp, tls, unix, fabric).", "frontend", "transport", "direction")
	descS3InFlight  = newDesc("gpucache_s3_requests_in_flight", "S3 requests being served.")
	descMemWaits    = newDesc("gpucache_resp_client_memory_waits_total", "RESP requests that waited for client buffer memory (maxmemory-clients).")
	descMemWaitSec  = newDesc("gpucache_resp_client_memory_wait_seconds_total", "Time RESP requests waited for client buffer memory.")
	descMemRefused  = newDesc("gpucache_resp_client_memory_refused_total", "RESP requests refused after waiting for client buffer memory (-BUSY).")
)

// cacheCollector exports the engine, the RESP front end, the devices and
// (when serving) the S3 front end.
type cacheCollector struct {
	eng *engine.Engine
	rs  *resp.Server
	s3s *s3.Server // nil: S3 off
}

func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descHits, descMisses, descPromotions, descAdmissions, descEvictions, descCapacity, descUsed,
		descLive, descEntries, descArenaWaits, descArenaWaitSec, descArenaBusy, descNVMeBytes,
		descECShards, descECDegraded, descECErrors, descECRecon, descECRepaired, descDevState,
		descDevErrors, descDevBytes, descDevCapacity, descDevFree, descRepairRunning, descRepairFiles,
		descRepairBytes, descRepairFixed, descRepairLost,
		descCmdCalls, descCmdFailed, descCmdRejected, descCmdDuration, descBlocked, descConnsTotal,
		descFEClients, descNetBytes, descS3InFlight, descMemWaits, descMemWaitSec, descMemRefused,
	} {
		ch <- d
	}
}

func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	m := metricSink{ch}
	c.collectTiers(m, c.eng.Stats())
	c.collectDevices(m, c.eng.Devices())
	c.collectRESP(m)
	c.collectFrontEnds(m)
}

// metricSink sends const metrics.
type metricSink struct{ ch chan<- prometheus.Metric }

func (m metricSink) gauge(d *prometheus.Desc, v float64, labels ...string) {
	m.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (m metricSink) counter(d *prometheus.Desc, v float64, labels ...string) {
	m.ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func (c cacheCollector) collectTiers(m metricSink, s engine.Stats) {
	m.counter(descHits, float64(s.LookupDRAMHits), "dram")
	m.counter(descMisses, float64(s.LookupNVMeHits+s.LookupMisses), "dram")
	m.counter(descHits, float64(s.LookupNVMeHits), "nvme")
	m.counter(descMisses, float64(s.LookupMisses), "nvme")
	m.counter(descPromotions, float64(s.DRAMPromotions))
	m.counter(descAdmissions, float64(s.DRAMAdmissions), "dram")
	m.counter(descAdmissions, float64(s.NVMeWrites), "nvme")
	m.counter(descEvictions, float64(s.DRAMEvictions), "dram", "capacity")
	m.counter(descEvictions, float64(s.DRAMInvalidations), "dram", "invalidated")
	m.counter(descEvictions, float64(s.NVMeKeysEvicted), "nvme", "capacity")
	m.counter(descEvictions, float64(s.ExpiredKeys), "nvme", "expired")
	m.gauge(descCapacity, float64(s.DRAMCapacity), "dram")
	m.gauge(descCapacity, float64(s.NVMeLimit), "nvme")
	m.gauge(descUsed, float64(s.DRAMUsed), "dram")
	m.gauge(descUsed, float64(s.NVMeUsed), "nvme")
	m.gauge(descLive, float64(s.DRAMResident+s.SmallBytes), "dram")
	m.gauge(descLive, float64(s.NVMeLive), "nvme")
	m.gauge(descEntries, float64(s.DRAMEntries), "large")
	m.gauge(descEntries, float64(s.SmallEntries), "small")
	m.counter(descArenaWaits, float64(s.DRAMArenaWaits))
	m.counter(descArenaWaitSec, s.DRAMArenaWaitTime.Seconds())
	m.counter(descArenaBusy, float64(s.DRAMArenaBusy))
	m.counter(descNVMeBytes, float64(s.NVMeBytesRead), "read")
	m.counter(descNVMeBytes, float64(s.NVMeBytesWritten), "write")
}

// collectDevices exports the erasure-coded volume's health; without one
// (a single device directory, no parity) there is none.
func (c cacheCollector) collectDevices(m metricSink, st *ec.Status) {
	if st == nil {
		return
	}
	m.gauge(descECShards, float64(st.K), "data")
	m.gauge(descECShards, float64(st.M), "parity")
	m.gauge(descECDegraded, b2f(st.Degraded))
	m.counter(descECErrors, float64(st.ReadErrors), "read")
	m.counter(descECErrors, float64(st.WriteErrors), "write")
	m.counter(descECErrors, float64(st.ChecksumErrors), "checksum")
	m.counter(descECErrors, float64(st.Unrecoverable), "unrecoverable")
	m.counter(descECRecon, float64(st.Reconstructed))
	m.counter(descECRepaired, float64(st.ReadRepaired))
	for _, d := range st.Devices {
		slot := strconv.Itoa(d.Slot)
		for s := ec.DeviceOK; s <= ec.DeviceRebuilding; s++ {
			m.gauge(descDevState, b2f(d.State == s), slot, d.Name, s.String())
		}
		m.counter(descDevErrors, float64(d.Health.ReadErrors), slot, d.Name, "read")
		m.counter(descDevErrors, float64(d.Health.WriteErrors), slot, d.Name, "write")
		m.counter(descDevBytes, float64(d.Health.BytesRead), slot, d.Name, "read")
		m.counter(descDevBytes, float64(d.Health.BytesWritten), slot, d.Name, "write")
		var fs syscall.Statfs_t
		if d.Name != "" && filepath.IsAbs(d.Name) && syscall.Statfs(d.Name, &fs) == nil {
			bs := float64(fs.Bsize)
			m.gauge(descDevCapacity, float64(fs.Blocks)*bs, slot, d.Name)
			m.gauge(descDevFree, float64(fs.Bavail)*bs, slot, d.Name)
		}
	}
	for _, j := range []struct {
		job string
		p   ec.Progress
	}{{"scrub", st.Scrub}, {"rebuild", st.Rebuild}} {
		m.gauge(descRepairRunning, b2f(j.p.Running), j.job)
		m.gauge(descRepairFiles, float64(j.p.Files), j.job, "total")
		m.gauge(descRepairFiles, float64(j.p.FilesDone), j.job, "done")
		m.gauge(descRepairBytes, float64(j.p.Bytes), j.job)
		m.gauge(descRepairFixed, float64(j.p.Repaired), j.job)
		m.gauge(descRepairLost, float64(j.p.Lost), j.job)
	}
}

func (c cacheCollector) collectRESP(m metricSink) {
	for _, cs := range c.rs.CommandStats() {
		m.counter(descCmdCalls, float64(cs.Calls), cs.Name)
		m.counter(descCmdFailed, float64(cs.Failed), cs.Name)
		m.counter(descCmdRejected, float64(cs.Reject), cs.Name)
		if cs.Calls == 0 {
			continue
		}
		buckets := make(map[float64]uint64, len(cs.Buckets))
		for i, n := range cs.Buckets {
			buckets[resp.LatencyBounds[i]] = n
		}
		m.ch <- prometheus.MustNewConstHistogram(descCmdDuration, cs.Calls, cs.Time.Seconds(), buckets, cs.Name)
	}
	m.gauge(descBlocked, float64(c.rs.BlockedClients()))
	waits, waited, refused := c.rs.ClientMemoryWaits()
	m.counter(descMemWaits, float64(waits))
	m.counter(descMemWaitSec, waited.Seconds())
	m.counter(descMemRefused, float64(refused))
	received, rejected := c.rs.ConnectionCounts()
	m.counter(descConnsTotal, float64(received), "accepted")
	m.counter(descConnsTotal, float64(rejected), "rejected")
}

func (c cacheCollector) collectFrontEnds(m metricSink) {
	m.gauge(descFEClients, float64(c.rs.NumClients()), "resp")
	for _, t := range c.rs.TransportBytes() {
		m.counter(descNetBytes, float64(t.In), "resp", t.Transport, "in")
		m.counter(descNetBytes, float64(t.Out), "resp", t.Transport, "out")
	}
	if fp := c.rs.FastPath(); fp != nil {
		// BLOB.GET writes to the client's memory, BLOB.SET reads from it.
		st := fp.Stats()
		m.counter(descNetBytes, float64(st.ReadBytes.Load()), "resp", "fabric", "in")
		m.counter(descNetBytes, float64(st.WriteBytes.Load()), "resp", "fabric", "out")
	}
	if c.s3s == nil {
		return
	}
	tr := "tcp"
	if c.s3s.TLS() {
		tr = "tls"
	}
	st := c.s3s.Stats()
	m.counter(descNetBytes, float64(st.BytesIn), "s3", tr, "in")
	m.counter(descNetBytes, float64(st.BytesOut), "s3", tr, "out")
	m.gauge(descFEClients, float64(c.s3s.Connections()), "s3")
	reqs, _ := c.s3s.InFlight()
	m.gauge(descS3InFlight, float64(reqs))
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}
