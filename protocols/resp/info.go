package resp

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
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
	{"cluster", (*conn).infoCluster},
	{"keyspace", (*conn).infoKeyspace},
	{"tiers", (*conn).infoTiers},
	{"devices", (*conn).infoDevices},
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
	b = appendField(b, "blocked_clients", 0)
	return b
}

func (c *conn) infoMemory(b []byte) []byte {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := residentBytes()
	b = append(b, "# Memory\r\n"...)
	b = appendField(b, "used_memory_rss", rss)
	b = appendField(b, "used_memory_rss_human", humanBytes(rss))
	b = appendField(b, "used_memory_lua", 0)
	b = appendField(b, "used_memory_lua_human", "0B")
	b = appendField(b, "used_memory_startup", 0)
	b = appendField(b, "used_memory_go_heap", int64(ms.HeapAlloc))
	b = appendField(b, "used_memory_go_heap_human", humanBytes(int64(ms.HeapAlloc)))
	b = appendField(b, "used_memory_go_sys", int64(ms.Sys))
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
	b = appendField(b, "bgsave_in_progress", 0)
	b = appendField(b, "last_bgsave_time", c.s.start.Unix())
	b = appendField(b, "last_bgsave_status", "ok")
	b = appendField(b, "last_bgsave_time_sec", -1)
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
	b = append(b, "# Stats\r\n"...)
	b = appendField(b, "total_connections_received", s.stats.received.Load())
	b = appendField(b, "rejected_connections", s.stats.rejected.Load())
	b = appendField(b, "total_commands_processed", cmds)
	b = appendField(b, "instantaneous_ops_per_sec", 0)
	b = appendField(b, "total_net_input_bytes", in)
	b = appendField(b, "total_net_output_bytes", out)
	b = appendField(b, "instantaneous_input_kbps", 0.0)
	b = appendField(b, "instantaneous_output_kbps", 0.0)
	b = appendField(b, "sync_full", 0)
	b = appendField(b, "sync_partial_ok", 0)
	b = appendField(b, "sync_partial_err", 0)
	b = appendField(b, "keyspace_hits", hits)
	b = appendField(b, "keyspace_misses", misses)
	b = appendField(b, "pubsub_channels", 0)
	b = appendField(b, "pubsub_patterns", 0)
	return b
}

func (c *conn) infoReplication(b []byte) []byte {
	b = append(b, "# Replication\r\n"...)
	b = appendField(b, "role", "master")
	b = appendField(b, "connected_slaves", 0)
	b = appendField(b, "master_repl_offset", c.sequence())
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

func (c *conn) infoKeyspace(b []byte) []byte {
	n := c.eng.DBSize(c.keyspace())
	b = append(b, "# Keyspace\r\n"...)
	b = append(b, "# Last DBSIZE SCAN time: "...)
	b = append(b, time.Now().Format("Mon Jan _2 15:04:05 2006")...)
	b = append(b, "\r\n"...)
	b = append(b, "db0:keys="...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, ",expires=0,avg_ttl=0,expired="...)
	b = strconv.AppendInt(b, c.statField("ExpiredKeys"), 10)
	b = append(b, "\r\n"...)
	b = appendField(b, "sequence", c.sequence())
	b = appendField(b, "used_db_size", c.statField("NVMeUsed"))
	b = appendField(b, "max_db_size", c.statField("NVMeCapacity"))
	b = append(b, "used_percent: 0%\r\n"...)
	return b
}

// sequence is the engine's write sequence if it reports one.
func (c *conn) sequence() int64 {
	for _, name := range []string{"Sequence", "LastVersion", "Version"} {
		if v := c.statField(name); v != 0 {
			return v
		}
	}
	return 0
}

// statField reads a numeric field of the engine's Stats by name (0 if the
// engine does not report it).
func (c *conn) statField(name string) int64 {
	v := reflect.ValueOf(c.eng.Stats())
	if v.Kind() != reflect.Struct {
		return 0
	}
	f := v.FieldByName(name)
	if !f.IsValid() {
		return 0
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return f.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(f.Uint())
	}
	return 0
}

// infoTiers prints every field of the engine's Stats as snake_case
// name:value, flattening nested structs and slices (per-device figures).
func (c *conn) infoTiers(b []byte) []byte {
	b = append(b, "# Tiers\r\n"...)
	b = appendStats(b, "", reflect.ValueOf(c.eng.Stats()))
	return c.infoSendProbe(b)
}

func appendStats(b []byte, prefix string, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			b = appendStats(b, prefix+snake(f.Name), v.Field(i))
		}
		return b
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			b = appendStats(b, prefix+strconv.Itoa(i)+"_", v.Index(i))
		}
		return b
	case reflect.Pointer:
		if v.IsNil() {
			return b
		}
		return appendStats(b, prefix, v.Elem())
	case reflect.Map, reflect.Func, reflect.Chan, reflect.Interface:
		return b
	}
	name := strings.TrimSuffix(prefix, "_")
	switch x := v.Interface().(type) {
	case time.Duration:
		return appendField(b, name, x.Seconds())
	case time.Time:
		return appendField(b, name, x.Unix())
	case bool:
		n := 0
		if x {
			n = 1
		}
		return appendField(b, name, n)
	case fmt.Stringer:
		return appendField(b, name, x.String()) // enums by name: policy:noeviction
	}
	return appendField(b, name, v.Interface())
}

// snake turns a Go field name into a snake_case prefix ending in "_":
// DRAMHits -> dram_hits_, NVMeBytes -> nvme_bytes_.
func snake(s string) string {
	// NB: "NVMe" is one word although its case says otherwise.
	rs := []rune(strings.ReplaceAll(s, "NVMe", "Nvme"))
	var sb strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				sb.WriteByte('_')
			}
		}
		sb.WriteRune(unicode.ToLower(r))
	}
	sb.WriteByte('_')
	return sb.String()
}
