package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// keyDef describes one configuration key.
type keyDef struct {
	name    string
	def     string
	mutable bool                 // CONFIG SET may change it at run time
	check   func(v string) error // nil: any value
	doc     string
}

// keyDefs are the keys with a meaning here: KVRocks's own (same names and
// defaults, except port) and gpucache's additions.
var keyDefs = []keyDef{
	{name: "bind", def: "127.0.0.1", doc: "addresses the RESP listener binds, space separated"},
	{name: "port", def: "6379", check: checkPort, doc: "RESP port"},
	{name: "unixsocket", def: "", doc: "also listen on this unix socket"},
	{name: "unixsocketperm", def: "777"},
	{name: "dir", def: "./gpucache-data", doc: "working directory: metadata store and default device"},
	{name: "log-dir", def: "stdout", doc: "log directory (log file kvrocks.INFO), or stdout/stderr"},
	{name: "log-level", def: "info", mutable: true, check: checkLogLevel, doc: "debug | info | warning | error | fatal; CONFIG SET changes it at run time"},
	{name: "pidfile", def: ""},
	{name: "requirepass", def: "", mutable: true, doc: "password clients must AUTH with"},
	{name: "slaveof", def: "", check: checkNoReplication, doc: "refused: replication is not supported"},
	{name: "replicaof", def: "", check: checkNoReplication, doc: "refused: replication is not supported"},
	{name: "maxclients", def: "10240", mutable: true, check: checkInt(1, 1<<20)},
	{name: "timeout", def: "0", mutable: true, check: checkInt(0, 1<<31), doc: "close idle clients after N seconds (0: never)"},
	{name: "workers", def: "8", check: checkInt(1, 256), doc: "accepted from the file: every connection has its own goroutine, so there is no worker pool to size (CONFIG SET refuses it rather than pretend to resize one)"},
	{name: "proto-max-bulk-len", def: "536870912", mutable: true, check: checkBytes, doc: "largest bulk string accepted"},
	{name: "resp3-enabled", def: "yes", mutable: true, check: checkBool},
	{name: "redis-cursor-compatible", def: "yes", check: checkCursorCompatible},
	{name: "cluster-enabled", def: "no", check: checkBool, doc: "yes: a node of a Redis Cluster managed as KVRocks's (kvrocks-controller, CLUSTERX); keyed requests for slots served elsewhere answer MOVED"},
	{name: "persist-cluster-nodes-enabled", def: "yes", check: checkBool, doc: "keep the cluster topology in <dir>/nodes.conf across restarts"},
	{name: "db-name", def: "change.me.db"},
	{name: "lua-time-limit", def: "5000", mutable: true, check: checkInt(0, 1<<31-1), doc: "milliseconds a script runs before other clients get -BUSY and SCRIPT KILL may stop it"},
	{name: "busy-reply-threshold", def: "5000", mutable: true, check: checkInt(0, 1<<31-1), doc: "Redis 7's name for lua-time-limit"},
	{name: "slowlog-log-slower-than", def: "200000", mutable: true, check: checkInt(-1, 1<<31-1), doc: "log commands slower than this many microseconds for SLOWLOG GET (-1: off, 0: every command)"},
	{name: "slowlog-max-len", def: "128", mutable: true, check: checkInt(0, 1<<31), doc: "entries SLOWLOG keeps"},
	{name: "profiling-sample-ratio", def: "0", mutable: true, check: checkInt(0, 100), doc: "percent of the profiling-sample-commands recorded for PERFLOG (0: off)"},
	{name: "profiling-sample-commands", def: "", mutable: true, doc: "commands PERFLOG samples, comma separated (*: all)"},
	{name: "profiling-sample-record-threshold-ms", def: "100", mutable: true, check: checkInt(0, 1<<31-1), doc: "PERFLOG records sampled commands that ran at least this many milliseconds"},
	{name: "profiling-sample-record-max-len", def: "256", mutable: true, check: checkInt(0, 1<<31-1), doc: "entries PERFLOG keeps"},
	{name: "bgsave-cron", def: "", mutable: true, check: checkCron, doc: "BGSAVE on this schedule: minute hour day month weekday (*, n, a-b, */n, lists), local time"},
	{name: "compact-cron", def: "", mutable: true, check: checkCron, doc: "COMPACT on this schedule, as bgsave-cron"},
	{name: "backup-dir", def: "", mutable: true, doc: "where BGSAVE writes its copy of the store, a data directory gpucache starts on (empty: <dir>/backup)"},
	{name: "log-retention-days", def: "-1", check: checkInt(-1, 1<<31-1), doc: "days of rotated log files (kvrocks.INFO.<date>) kept in log-dir (-1: all; 0: none)"},
	{name: "rocksdb.block_cache_size", def: "256", check: checkInt(0, 400*1024), doc: "metadata store block cache, MiB"},
	{name: "rocksdb.write_options.sync", def: "no", check: checkBool, doc: "yes: acknowledge a write once it is on stable storage (survives power loss); no: once it reached the operating system (survives kill -9; a power cut loses at most sync-interval-ms)"},
	{name: "sync-interval-ms", def: "1000", check: checkInt(1, 3600*1000), doc: "milliseconds between background syncs of blob segments and the metadata log"},

	{name: "dram-cache-size", def: "1gb", check: checkBytes, doc: "DRAM tier size (arena for resident and in-flight values)"},
	{name: "dram-send-by-reference", def: "auto", check: checkSendByReference, doc: "send resident values to plain-TCP and Unix sockets from the DRAM tier as pages (vmsplice, splice), not by copy; reusing a sent page then costs a fresh zeroed page; auto: measure both on this host at the first start and pick"},
	{name: "nvme-capacity", def: "0", check: checkBytes, doc: "bound on NVMe tier bytes (0: device free space)"},
	{name: "maxmemory-policy", def: "noeviction", check: checkPolicy, doc: "noeviction | allkeys-lru (and the other Redis names)"},
	{name: "devices", def: "", doc: "comma-separated device directories (default: <dir>/blobs)"},
	{name: "ec", def: "1+0", check: checkEC, doc: "erasure coding K+M over devices"},
	{name: "ec-scrub-interval", def: "86400", check: checkInt(0, 1<<31), doc: "seconds between scrubs of every shard (0: never)"},
	{name: "ec-rebuild-rate", def: "256mb", check: checkBytes, doc: "bytes per second written when rebuilding a replacement device"},
	{name: "query-buffer-limit", def: "1gb", mutable: true, check: checkBytes},
	{name: "output-buffer-limit", def: "1gb", mutable: true, check: checkOutputLimit, doc: "disconnect a client whose queued replies exceed <hard>, or that does not take <soft> bytes of them within <soft-seconds>: <hard> [<soft> <soft-seconds>], or Redis's client-output-buffer-limit classes"},
	{name: "maxmemory-clients", def: "1gb", mutable: true, check: checkBytes, doc: "bound on the memory of all client buffers together (0: none); a client that needs more waits, then gets -BUSY"},
	{name: "fabric-provider", def: "", check: checkFabricProvider, doc: "BLOB.* fast path over libfabric: verbs;ofi_rxm | efa | tcp;ofi_rxm | tcp | shm (empty: off; needs a build with -tags fabric)"},
	{name: "fabric-interfaces", def: "", doc: "fabric domains to open, comma-separated (tcp: interface names such as lo; empty: the one holding the first bind address)"},
	{name: "fabric-max-sessions", def: "1024", check: checkInt(1, 1<<20), doc: "BLOB.HELLO sessions at once"},
	{name: "fabric-max-transfers", def: "64", check: checkInt(1, 4096), doc: "BLOB.GET/SET fabric transfers in flight; more wait (backpressure)"},
	{name: "fabric-transfer-timeout", def: "30000", check: checkInt(1, 1<<31), doc: "milliseconds one BLOB.GET/SET transfer may take before it fails"},
	{name: "tls-port", def: "0", check: checkPort, doc: "RESP over TLS port (0: off)"},
	{name: "tls-cert-file", def: "", mutable: true, doc: "server certificate (PEM), with its chain"},
	{name: "tls-key-file", def: "", mutable: true, doc: "server private key (PEM)"},
	{name: "tls-key-file-pass", def: "", mutable: true, doc: "password of an encrypted tls-key-file"},
	{name: "tls-ca-cert-file", def: "", mutable: true, doc: "CA certificates that verify client certificates"},
	{name: "tls-ca-cert-dir", def: "", mutable: true, doc: "directory of CA certificates (*.pem, *.crt)"},
	{name: "tls-auth-clients", def: "yes", mutable: true, check: checkTLSAuthClients, doc: "yes: clients must present a certificate the CA signed; optional: verified if given; no"},
	{name: "tls-protocols", def: "", mutable: true, doc: "TLSv1.2 and/or TLSv1.3, space separated (empty: both)"},
	{name: "tls-ciphers", def: "", mutable: true, doc: "TLS 1.2 cipher suites, OpenSSL or IANA names separated by colons (empty: defaults)"},
	{name: "tls-ciphersuites", def: "", mutable: true, doc: "TLS 1.3 suites: all three or empty (Go enables all three)"},
	{name: "tls-prefer-server-ciphers", def: "yes", mutable: true, check: checkOnly("yes", "only yes: the server always picks the suite from its own preference order"), doc: "always yes"},
	{name: "tls-session-caching", def: "yes", mutable: true, check: checkBool, doc: "resume TLS sessions with session tickets"},
	{name: "tls-session-cache-size", def: "20480", check: checkOnly("20480", "session tickets are stateless: there is no server cache to size; leave tls-session-cache-size unset")},
	{name: "tls-session-cache-timeout", def: "300", check: checkOnly("300", "the session ticket lifetime is not configurable here; leave tls-session-cache-timeout unset")},
	{name: "tls-replication", def: "no", check: checkOnly("no", "replication is not supported")},
	{name: "admin-port", def: "9190", check: checkPort, doc: "HTTP /metrics and /healthz port (0: off); unset, 9190 on 127.0.0.1 only, skipped with a warning when taken"},
	{name: "admin-pprof", def: "no", check: checkBool, doc: "serve /debug/pprof on the admin port, to requests with the admin password (requirepass) as basic auth or bearer token"},
	{name: "s3-port", def: "9000", check: checkPort, doc: "S3 port (0: off); S3 is served only when an s3-* key is configured"},
	{name: "s3-bind", def: "127.0.0.1"},
	{name: "s3-domain", def: "", doc: "enables virtual-host-style bucket.domain addressing"},
	{name: "s3-access-key", def: "", doc: "S3 access key (default: documented development key)"},
	{name: "s3-secret-key", def: ""},
	{name: "s3-credentials", def: "", doc: "more key pairs: key:secret,key:secret"},
	{name: "s3-users-file", def: "", doc: "accounts added through the S3 admin API (default: s3-users.json in dir)"},
	{name: "s3-region", def: "us-east-1"},
	{name: "s3-tls-cert-file", def: ""},
	{name: "s3-tls-key-file", def: ""},
	{name: "s3-tls-http2", def: "yes", check: checkBool, doc: "offer HTTP/2 over TLS (no: HTTP/1.1 only, which moves large bodies faster)"},
	{name: "s3-resp-bucket", def: "", doc: "bucket name mapped onto the RESP default keyspace"},
	{name: "s3-fast-etag", def: "no", check: checkBool, doc: "ETags from a fast 128-bit hash instead of MD5 (for clients that do not compare ETags with MD5)"},
	{name: "s3-max-requests", def: "1024", check: checkInt(0, 1<<20), doc: "S3 requests served at once; more are answered 503 SlowDown (0: no limit)"},
	{name: "s3-max-body-bytes", def: "0", check: checkBytes, doc: "S3 request body bytes admitted at once; more are answered 503 SlowDown (0: dram-cache-size)"},
}

// kvrocksKeys are KVRocks keys accepted in the file and on the command line
// for compatibility that have no effect here (replication tuning, backup,
// compaction scheduling, ...); CONFIG SET refuses them as immutable.
// slaveof/replicaof are not among them: a replica's configuration must not
// start a writable master (checkNoReplication).
var kvrocksKeys = map[string]bool{
	"daemonize": true, "repl-namespace-enabled": true,
	"slave-read-only": true, "slave-priority": true,
	"tcp-backlog": true, "master-use-repl-port": true, "use-rsid-psync": true,
	"masterauth": true, "slave-serve-stale-data": true, "slave-empty-db-before-fullsync": true,
	"replica-announce-ip": true, "replica-announce-port": true, "purge-backup-on-fullsync": true,
	"max-replication-mb": true, "max-io-mb": true, "max-db-size": true,
	"max-backup-to-keep": true, "max-backup-keep-hours": true, "max-bitmap-to-string-mb": true,
	"json-max-nesting-depth": true, "json-storage-format": true, "supervised": true,
	"compaction-checker-range": true, "force-compact-file-age": true,
	"force-compact-file-min-deleted-percentage": true, "dbsize-scan-cron": true, "rename-command": true,
	"txn-context-enabled": true, "lua-strict-key-accessing": true, "histogram-bucket-boundaries": true,
	"skip-block-cache-deallocation-on-close": true, "replication-connect-timeout-ms": true,
	"replication-recv-timeout-ms": true, "replication-no-slowdown": true, "replication-delay-bytes": true,
	"replication-delay-updates": true, "worker-threads": true, "cluster-node-id": true,
}

// kvrocksMutableKeys are the KVRocks keys of kvrocksKeys (and
// kvrocksPrefixes) that KVRocks lets CONFIG SET change at run time: backup,
// compaction and profiling schedules and RocksDB tuning. They have no
// effect here; CONFIG SET accepts them (and logs so), so tools that tune a
// KVRocks node keep working. Replication and cluster keys are not among
// them (there is neither here), and every other key is refused as KVRocks
// refuses a read-only one.
var kvrocksMutableKeys = map[string]bool{
	"max-backup-to-keep": true, "max-backup-keep-hours": true, "dbsize-scan-cron": true, "compaction-checker-range": true,
	"compaction-checker-cron": true, "force-compact-file-age": true,
	"force-compact-file-min-deleted-percentage": true, "max-io-mb": true,
	"max-bitmap-to-string-mb": true, "max-db-size": true, "slowlog-dump-logfile-level": true,
	"json-max-nesting-depth": true, "json-storage-format": true,
	"skip-block-cache-deallocation-on-close": true, "lua-strict-key-accessing": true,
	"rocksdb.compression": true, "rocksdb.compression_start_level": true, "rocksdb.max_open_files": true,
	"rocksdb.write_buffer_size": true, "rocksdb.max_write_buffer_number": true,
	"rocksdb.min_write_buffer_number_to_merge": true, "rocksdb.target_file_size_base": true,
	"rocksdb.max_background_compactions": true, "rocksdb.max_subcompactions": true,
	"rocksdb.delayed_write_rate": true, "rocksdb.max_total_wal_size": true,
	"rocksdb.disable_auto_compactions": true, "rocksdb.stats_dump_period_sec": true,
	"rocksdb.compaction_readahead_size": true, "rocksdb.level0_slowdown_writes_trigger": true,
	"rocksdb.level0_stop_writes_trigger": true, "rocksdb.level0_file_num_compaction_trigger": true,
	"rocksdb.enable_blob_files": true, "rocksdb.min_blob_size": true, "rocksdb.blob_file_size": true,
	"rocksdb.enable_blob_garbage_collection": true, "rocksdb.blob_garbage_collection_age_cutoff": true,
	"rocksdb.max_bytes_for_level_base": true, "rocksdb.max_bytes_for_level_multiplier": true,
	"rocksdb.level_compaction_dynamic_level_bytes": true, "rocksdb.max_background_jobs": true,
	"rocksdb.max_compaction_bytes": true, "rocksdb.sst_file_delete_rate_bytes_per_sec": true,
	"rocksdb.periodic_compaction_seconds": true, "rocksdb.ttl": true,
	"rocksdb.daily_offpeak_time_utc": true, "rocksdb.write_options.write_batch_max_bytes": true,
	"rocksdb.read_options.async_io": true,
}

func kvrocksMutable(key string) bool { return kvrocksMutableKeys[key] }

// kvrocksPrefixes are KVRocks key families accepted as a whole.
var kvrocksPrefixes = []string{"rocksdb.", "migrate-"}

// Config is the server configuration: KVRocks's file format (one
// `key value` per line, `#` comments) and keys, plus gpucache's. Safe for
// concurrent use; CONFIG SET goes through Set.
type Config struct {
	mu        sync.RWMutex
	rewriteMu sync.Mutex        // one REWRITE at a time
	values    map[string]string // every key set (known, KVRocks-only or namespace.*)
	given     map[string]bool   // keys the file or the command line named
	renames   [][2]string       // rename-command lines: from, to ("" disables)
	file      string            // "" when there is no file to rewrite
	lines     []string          // the file as read (or last rewritten), for REWRITE
	warn      func(format string, args ...any)
	// appliers put a mutable key's new value into effect (OnSet); setMu
	// orders apply-and-store of concurrent CONFIG SETs.
	setMu    sync.Mutex
	appliers map[string]func(v string) error
}

var defsByName = func() map[string]*keyDef {
	m := make(map[string]*keyDef, len(keyDefs))
	for i := range keyDefs {
		m[keyDefs[i].name] = &keyDefs[i]
	}
	return m
}()

// NewConfig returns the embedded default configuration.
func NewConfig(warn func(string, ...any)) *Config {
	if warn == nil {
		warn = func(string, ...any) {}
	}
	c := &Config{values: make(map[string]string), given: make(map[string]bool), warn: warn}
	for _, d := range keyDefs {
		c.values[d.name] = d.def
	}
	return c
}

// errUnknownKey marks a key that is neither gpucache's nor KVRocks's.
var errUnknownKey = errors.New("unknown config key")

func known(key string) bool {
	if defsByName[key] != nil || kvrocksKeys[key] || strings.HasPrefix(key, "namespace.") {
		return true
	}
	for _, p := range kvrocksPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// Load reads a configuration file ("-" is stdin). Unknown keys warn with
// the key and line number and are otherwise ignored; invalid values of
// known keys are errors.
func (c *Config) Load(name string) error {
	var r io.Reader
	if name == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("cannot open config file: %w", err)
		}
		defer f.Close()
		r = f
		c.file = name
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		c.lines = append(c.lines, line)
		key, val, ok := parseLine(line)
		if !ok {
			continue
		}
		if !known(key) {
			c.warn("config file %s line %d: unknown key %q ignored", name, lineNo, key)
			continue
		}
		if err := c.set(key, val, false); err != nil {
			return fmt.Errorf("config file %s line %d: %w", name, lineNo, err)
		}
		if key == "rename-command" {
			if err := c.addRename(val); err != nil {
				return fmt.Errorf("config file %s line %d: %w", name, lineNo, err)
			}
		}
	}
	return sc.Err()
}

// parseLine splits a `key value` line; comments and blank lines give !ok.
// Values may be double-quoted ("" is the empty string).
func parseLine(line string) (key, val string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", false
	}
	key, val, _ = strings.Cut(line, " ")
	key = strings.ToLower(strings.TrimSpace(key))
	val = strings.TrimSpace(val)
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		if u, err := strconv.Unquote(val); err == nil {
			val = u
		} else {
			val = val[1 : len(val)-1]
		}
	}
	return key, val, true
}

// Override sets a key from the command line (--key value).
func (c *Config) Override(key, val string) error {
	key = strings.ToLower(key)
	if !known(key) {
		return fmt.Errorf("%w %q", errUnknownKey, key)
	}
	if err := c.set(key, val, false); err != nil {
		return err
	}
	if key == "rename-command" {
		return c.addRename(val)
	}
	return nil
}

// addRename records one rename-command value: `<command> <new-name>`, or
// `<command> ""` to disable the command.
func (c *Config) addRename(v string) error {
	f := strings.Fields(v)
	if len(f) != 2 {
		return errors.New("Invalid rename-command format")
	}
	to := f[1]
	if to == `""` {
		to = ""
	}
	c.mu.Lock()
	c.renames = append(c.renames, [2]string{f[0], to})
	c.mu.Unlock()
	return nil
}

// Renames returns the rename-command lines in order: command, new name
// ("" disables it).
func (c *Config) Renames() [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([][2]string(nil), c.renames...)
}

// OnSet registers fn to put key's value into effect when CONFIG SET
// changes it (the value is validated first). If fn fails, CONFIG SET fails
// and the old value stays. The gateway calls it for the keys it applies
// itself; the RESP front end applies its own after Set.
func (c *Config) OnSet(key string, fn func(v string) error) {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	if c.appliers == nil {
		c.appliers = make(map[string]func(string) error)
	}
	c.appliers[key] = fn
}

func (c *Config) set(key, val string, runtime bool) error {
	if d := defsByName[key]; d != nil {
		if runtime && !d.mutable {
			return fmt.Errorf("Unsupported CONFIG parameter: %s", key)
		}
		if d.check != nil {
			if err := d.check(val); err != nil {
				return fmt.Errorf("invalid value %q for %q: %w", val, key, err)
			}
		}
	} else if runtime {
		if !strings.HasPrefix(key, "namespace.") && !kvrocksMutable(key) {
			return fmt.Errorf("Unsupported CONFIG parameter: %s", key)
		}
		if kvrocksMutable(key) {
			c.warn("CONFIG SET %s: accepted for compatibility; it has no effect here", key)
		}
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	if fn := c.appliers[key]; runtime && fn != nil {
		if err := fn(val); err != nil {
			return fmt.Errorf("invalid value %q for %q: %w", val, key, err)
		}
	}
	c.mu.Lock()
	c.values[key] = val
	if !runtime {
		c.given[key] = true
	}
	c.mu.Unlock()
	return nil
}

// Given reports whether the configuration file or the command line named
// key (a default is not given).
func (c *Config) Given(key string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.given[key]
}

// givenPrefix reports whether any key with the prefix was given.
func (c *Config) givenPrefix(prefix string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for k := range c.given {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// Get returns a key's value.
func (c *Config) Get(key string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.values[key]
}

// Int returns an integer key (validated on set).
func (c *Config) Int(key string) int64 {
	n, _ := strconv.ParseInt(c.Get(key), 10, 64)
	return n
}

// Bytes returns a size key (validated on set).
func (c *Config) Bytes(key string) int64 {
	n, _ := ParseBytes(c.Get(key))
	return n
}

// Bool returns a yes/no key.
func (c *Config) Bool(key string) bool { return c.Get(key) == "yes" }

// Namespaces returns the namespace.<name> tokens.
func (c *Config) Namespaces() map[string]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]string)
	for k, v := range c.values {
		if name, ok := strings.CutPrefix(k, "namespace."); ok {
			out[name] = v
		}
	}
	return out
}

// Match returns the key/value pairs whose key matches the glob pattern,
// sorted by key (CONFIG GET).
func (c *Config) Match(pattern string) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	pattern = strings.ToLower(pattern)
	var out [][2]string
	for k, v := range c.values {
		if ok, _ := path.Match(pattern, k); ok || pattern == k {
			if k == "rename-command" {
				continue // one pair per line, below
			}
			out = append(out, [2]string{k, v})
		}
	}
	if ok, _ := path.Match(pattern, "rename-command"); ok || pattern == "rename-command" {
		// NB: as KVRocks answers a key given on several lines: the key once
		// per line, in file order.
		for _, r := range c.renames {
			to := r[1]
			if to == "" {
				to = `""`
			}
			out = append(out, [2]string{"rename-command", r[0] + " " + to})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// SetRuntime is CONFIG SET: only mutable keys.
func (c *Config) SetRuntime(key, val string) error {
	return c.set(strings.ToLower(key), val, true)
}

// quoteValue writes v so that parseLine reads it back: quoted when it is
// empty, holds a blank, '#', a quote, or anything unprintable (a newline
// set by CONFIG SET would otherwise end the line).
func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t#\"") || strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(v)
	}
	return v
}
