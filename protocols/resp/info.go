package resp

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// infoSections are INFO's sections in KVRocks's order, plus "tiers" with
// the engine's DRAM and NVMe figures and "devices" with the erasure-coded
// volume's health (info_devices.go).
var infoSections = []struct {
	name  string
	write func(c *conn, b []byte) []byte
}{
	{"server", (*conn).infoServer},
	{"clients", (*conn).infoClients},
	{"memory", (*conn).infoMemory},
	{"persistence", (*conn).infoPersistence},
	{"stats", (*conn).infoStats},
	{"replication", (*conn).infoReplication},
	{"cpu", (*conn).infoCPU},
	{"commandstats", (*conn).infoCommandstats},
	{"latencystats", (*conn).infoLatencystats},
	{"cluster", (*conn).infoCluster},
	{"keyspace", (*conn).infoKeyspace},
	{"rocksdb", (*conn).infoRocksDB},
	{"tiers", (*conn).infoTiers},
	{"devices", (*conn).infoDevices},
	{"fastpath", (*conn).infoFastpath},
}

// INFO [section ...]: no section, "all", "default" or "everything" mean all.
func (c *conn) cmdInfo(cmd *Command) {
	all := len(cmd.Args) == 1
	for _, a := range cmd.Args[1:] {
		if eqFold(a, "all") || eqFold(a, "default") || eqFold(a, "everything") {
			all = true
		}
	}
	b := c.scratch[:0]
	n := 0
	for _, s := range infoSections {
		want := all
		for _, a := range cmd.Args[1:] {
			want = want || eqFold(a, s.name)
		}
		if !want {
			continue
		}
		if n > 0 {
			b = append(b, "\r\n"...)
		}
		n++
		b = s.write(c, b)
	}
	c.scratch = b
	c.wr.Verbatim("txt", b)
}

func appendField(b []byte, name string, v any) []byte {
	b = append(b, name...)
	b = append(b, ':')
	switch x := v.(type) {
	case int64:
		b = strconv.AppendInt(b, x, 10)
	case int:
		b = strconv.AppendInt(b, int64(x), 10)
	case uint64:
		b = strconv.AppendUint(b, x, 10)
	case string:
		b = append(b, x...)
	case float64:
		b = strconv.AppendFloat(b, x, 'f', 2, 64)
	default:
		b = fmt.Append(b, x)
	}
	return append(b, "\r\n"...)
}

func (c *conn) infoServer(b []byte) []byte {
	s := c.s
	var uts syscall.Utsname
	osName := runtime.GOOS + " " + runtime.GOARCH
	if syscall.Uname(&uts) == nil {
		osName = utsString(uts.Sysname[:]) + " " + utsString(uts.Release[:]) + " " + utsString(uts.Machine[:])
	}
	mode := "standalone"
	if s.cfg.ClusterEnabled {
		mode = "cluster"
	}
	up := int64(time.Since(s.start) / time.Second)
	b = append(b, "# Server\r\n"...)
	b = appendField(b, "version", s.cfg.Version)
	b = appendField(b, "kvrocks_version", s.cfg.Version)
	b = appendField(b, "gpucache_version", s.cfg.Version)
	b = appendField(b, "redis_version", redisVersion)
	b = appendField(b, "git_sha1", "")
	b = appendField(b, "kvrocks_git_sha1", "")
	b = appendField(b, "redis_mode", mode)
	b = appendField(b, "kvrocks_mode", mode)
	b = appendField(b, "os", osName)
	b = appendField(b, "go_version", runtime.Version())
	b = appendField(b, "arch_bits", strconv.IntSize)
	b = appendField(b, "process_id", os.Getpid())
	b = appendField(b, "tcp_port", s.cfg.Port)
	b = appendField(b, "server_time_usec", time.Now().UnixMicro())
	b = appendField(b, "uptime_in_seconds", up)
	b = appendField(b, "uptime_in_days", up/86400)
	return b
}

func utsString[T int8 | uint8](a []T) string {
	var sb strings.Builder
	for _, ch := range a {
		if ch == 0 {
			break
		}
		sb.WriteByte(byte(ch))
	}
	return sb.String()
}

func (c *conn) infoClients(b []byte) []byte {
	b = append(b, "# Clients\r\n"...)
	b = appendField(b, "maxclients", c.s.live.Load().maxClients)
	b = appendField(b, "connected_clients", c.s.NumClients())
	b = appendField(b, "monitor_clients", 0)
	b = appendField(b, "blocked_clients", c.s.blocked.waiting.Load())
	b = appendField(b, "client_recent_max_output_buffer", c.s.maxOutputPending())
	b = appendField(b, "mem_clients_normal", c.s.budget.used.Load())
	b = appendField(b, "maxmemory_clients", c.s.budget.max.Load())
	b = appendField(b, "clients_waiting_for_memory", c.s.budget.waiting.Load())
	b = appendField(b, "goroutines", runtime.NumGoroutine())
	return b
}

// infoMemory reports, as used_memory and maxmemory, the tier a client
// fills: the NVMe tier, where every value is stored (the DRAM tier is a
// cache over it and makes room by itself). maxmemory - used_memory is what
// may still be stored before the maxmemory-policy acts (noeviction: writes
// fail with OOM), which is how LMCache's valkey adapter reads them. The
// process's own memory follows (rss, Go heap), and the DRAM tier's.
func (c *conn) infoMemory(b []byte) []byte {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := residentBytes()
	st := c.eng.Stats()
	b = append(b, "# Memory\r\n"...)
	b = appendField(b, "used_memory", st.NVMeUsed)
	b = appendField(b, "used_memory_human", humanBytes(st.NVMeUsed))
	b = appendField(b, "used_memory_dataset", st.NVMeLive)
	b = appendField(b, "maxmemory", st.NVMeLimit)
	b = appendField(b, "maxmemory_human", humanBytes(st.NVMeLimit))
	b = appendField(b, "maxmemory_policy", st.Policy.String())
	b = appendField(b, "used_memory_dram", st.DRAMUsed)
	b = appendField(b, "maxmemory_dram", st.DRAMCapacity)
	b = appendField(b, "used_memory_rss", rss)
	b = appendField(b, "used_memory_rss_human", humanBytes(rss))
	b = appendField(b, "used_memory_lua", 0)
	b = appendField(b, "used_memory_lua_human", "0B")
	b = appendField(b, "used_memory_startup", 0)
	b = appendField(b, "used_memory_go_heap", int64(ms.HeapAlloc))
	b = appendField(b, "used_memory_go_heap_human", humanBytes(int64(ms.HeapAlloc)))
	b = appendField(b, "used_memory_go_sys", int64(ms.Sys))
	if n := totalSystemMemory(); n > 0 {
		b = appendField(b, "total_system_memory", n)
	}
	return b
}

// residentBytes reads the process's resident set size.
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 2, 64) + "G"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 2, 64) + "M"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 2, 64) + "K"
	}
	return strconv.FormatInt(n, 10) + "B"
}

func (c *conn) infoPersistence(b []byte) []byte {
	b = append(b, "# Persistence\r\n"...)
	b = appendField(b, "loading", 0)
	o := &c.s.ops
	b = appendField(b, "bgsave_in_progress", boolInt(o.saving.Load()))
	b = appendField(b, "last_bgsave_time", c.s.lastSaveTime())
	status := "ok"
	if o.lastSaveErr.Load() {
		status = "err"
	}
	b = appendField(b, "last_bgsave_status", status)
	sec := int64(-1)
	if o.lastSave.Load() != 0 || o.lastSaveErr.Load() {
		sec = o.lastSaveSec.Load()
	}
	b = appendField(b, "last_bgsave_time_sec", sec)
	return c.infoDurability(b)
}

// totals adds the live connections' counters to the closed ones'.
func (s *Server) totals() (cmds, in, out, hits, misses int64) {
	st := &s.stats
	cmds, in, out = st.cmds.Load(), st.inBytes.Load(), st.outBytes.Load()
	hits, misses = st.hits.Load(), st.misses.Load()
	s.mu.Lock()
	for _, c := range s.conns {
		cmds += c.cmds.Load()
		in += c.inBytes.Load()
		out += c.outBytes.Load()
		hits += c.hits.Load()
		misses += c.misses.Load()
	}
	s.mu.Unlock()
	return
}

func (c *conn) infoStats(b []byte) []byte {
	s := c.s
	cmds, in, out, hits, misses := s.totals()
	ops, inKBps, outKBps := s.rates.rates()
	b = append(b, "# Stats\r\n"...)
	b = appendField(b, "total_connections_received", s.stats.received.Load())
	b = appendField(b, "rejected_connections", s.stats.rejected.Load())
	b = appendField(b, "total_commands_processed", cmds)
	b = appendField(b, "instantaneous_ops_per_sec", ops)
	b = appendField(b, "total_net_input_bytes", in)
	b = appendField(b, "total_net_output_bytes", out)
	b = appendField(b, "instantaneous_input_kbps", inKBps)
	b = appendField(b, "instantaneous_output_kbps", outKBps)
	b = appendField(b, "sync_full", 0)
	b = appendField(b, "sync_partial_ok", 0)
	b = appendField(b, "sync_partial_err", 0)
	b = appendField(b, "keyspace_hits", hits)
	b = appendField(b, "keyspace_misses", misses)
	b = appendField(b, "pubsub_channels", s.pubsub.counts[subChannel].Load())
	b = appendField(b, "pubsub_patterns", s.pubsub.counts[subPattern].Load())
	b = appendField(b, "pubsubshard_channels", s.pubsub.counts[subShard].Load())
	return b
}

func (c *conn) infoReplication(b []byte) []byte {
	b = append(b, "# Replication\r\n"...)
	b = appendField(b, "role", "master")
	b = appendField(b, "connected_slaves", 0)
	b = appendField(b, "master_repl_offset", c.eng.Stats().Sequence)
	return b
}

func (c *conn) infoCPU(b []byte) []byte {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b = append(b, "# CPU\r\n"...)
	b = appendField(b, "used_cpu_sys", float64(ru.Stime.Sec)+float64(ru.Stime.Usec)/1e6)
	b = appendField(b, "used_cpu_user", float64(ru.Utime.Sec)+float64(ru.Utime.Usec)/1e6)
	return b
}

func (c *conn) infoCluster(b []byte) []byte {
	b = append(b, "# Cluster\r\n"...)
	enabled := 0
	if c.s.cfg.ClusterEnabled {
		enabled = 1
	}
	return appendField(b, "cluster_enabled", enabled)
}

// infoKeyspace reports the connection's namespace as KVRocks does, with
// live figures: exact key and expiry counts (not those of a past DBSIZE
// SCAN, so there is no scan time to report), and the NVMe tier's use.
func (c *conn) infoKeyspace(b []byte) []byte {
	n := c.eng.DBSize(c.keyspace())
	exp, _ := c.eng.Expiry(c.keyspace())
	st := c.eng.Stats()
	b = append(b, "# Keyspace\r\n"...)
	b = append(b, "db0:keys="...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, ",expires="...)
	b = strconv.AppendInt(b, exp.Keys, 10)
	b = append(b, ",avg_ttl="...)
	b = strconv.AppendInt(b, exp.AvgTTL.Milliseconds(), 10)
	b = append(b, ",expired="...)
	b = strconv.AppendInt(b, st.ExpiredKeys, 10)
	b = append(b, "\r\n"...)
	b = appendField(b, "sequence", st.Sequence)
	b = appendField(b, "used_db_size", st.NVMeUsed)
	b = appendField(b, "max_db_size", st.NVMeLimit)
	pct := 0.0
	if st.NVMeLimit > 0 {
		pct = 100 * float64(st.NVMeUsed) / float64(st.NVMeLimit)
	}
	b = append(b, "used_percent: "...)
	b = strconv.AppendFloat(b, pct, 'f', 2, 64)
	b = append(b, "%\r\n"...)
	return c.appendDiskUsage(b)
}

// infoTiers reports the engine's DRAM and NVMe tier figures (engine.Stats).
func (c *conn) infoTiers(b []byte) []byte {
	st := c.eng.Stats()
	b = append(b, "# Tiers\r\n"...)
	b = appendField(b, "dram_capacity", st.DRAMCapacity)
	b = appendField(b, "dram_used", st.DRAMUsed)
	b = appendField(b, "dram_resident", st.DRAMResident)
	b = appendField(b, "dram_entries", st.DRAMEntries)
	b = appendField(b, "dram_hits", st.DRAMHits)
	b = appendField(b, "dram_misses", st.DRAMMisses)
	b = appendField(b, "dram_evictions", st.DRAMEvictions)
	b = appendField(b, "dram_admissions", st.DRAMAdmissions)
	b = appendField(b, "dram_bytes_sent_by_ref", st.DRAMBytesSentByRef)
	b = appendField(b, "dram_pages_renewed", st.DRAMPagesRenewed)
	b = appendField(b, "small_entries", st.SmallEntries)
	b = appendField(b, "small_bytes", st.SmallBytes)
	b = appendField(b, "small_hits", st.SmallHits)
	b = appendField(b, "small_misses", st.SmallMisses)
	b = appendField(b, "nvme_capacity", st.NVMeCapacity)
	b = appendField(b, "nvme_limit", st.NVMeLimit)
	b = appendField(b, "nvme_used", st.NVMeUsed)
	b = appendField(b, "nvme_live", st.NVMeLive)
	b = appendField(b, "nvme_segments", st.NVMeSegments)
	b = appendField(b, "nvme_reads", st.NVMeReads)
	b = appendField(b, "nvme_writes", st.NVMeWrites)
	b = appendField(b, "nvme_bytes_read", st.NVMeBytesRead)
	b = appendField(b, "nvme_bytes_written", st.NVMeBytesWritten)
	b = appendField(b, "nvme_segments_evicted", st.NVMeSegmentsEvicted)
	b = appendField(b, "nvme_keys_evicted", st.NVMeKeysEvicted)
	b = appendField(b, "nvme_corrupt_reads", st.NVMeCorruptReads)
	b = appendField(b, "nvme_no_space_errors", st.NVMeNoSpaceErrors)
	b = appendField(b, "nvme_compactions", st.NVMeCompactions)
	b = appendField(b, "nvme_moved_from_dram", st.NVMeMovedFromDRAM)
	b = appendField(b, "sequence", st.Sequence)
	b = appendField(b, "expired_keys", st.ExpiredKeys)
	b = appendField(b, "policy", st.Policy.String())
	return c.infoSendProbe(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
