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
	{name: "log-level", def: "info", mutable: true},
	{name: "pidfile", def: ""},
	{name: "requirepass", def: "", mutable: true, doc: "password clients must AUTH with"},
	{name: "masterauth", def: "", mutable: true},
	{name: "maxclients", def: "10000", mutable: true, check: checkInt(1, 1<<20)},
	{name: "timeout", def: "0", mutable: true, check: checkInt(0, 1<<31), doc: "close idle clients after N seconds (0: never)"},
	{name: "workers", def: "8", check: checkInt(1, 1024)},
	{name: "proto-max-bulk-len", def: "536870912", mutable: true, check: checkBytes, doc: "largest bulk string accepted"},
	{name: "resp3-enabled", def: "yes", mutable: true, check: checkBool},
	{name: "redis-cursor-compatible", def: "yes", check: checkBool},
	{name: "cluster-enabled", def: "no", check: checkBool},
	{name: "db-name", def: "change.me.db"},
	{name: "slowlog-log-slower-than", def: "100000", mutable: true, check: checkInt(-1, 1<<62)},
	{name: "slowlog-max-len", def: "128", mutable: true, check: checkInt(0, 1<<31)},
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
	{name: "output-buffer-limit", def: "1gb", mutable: true, check: checkBytes},
	{name: "admin-port", def: "0", check: checkPort, doc: "HTTP /metrics and /healthz port (0: off)"},
	{name: "s3-port", def: "9000", check: checkPort, doc: "S3 port (0: off)"},
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
}

// kvrocksKeys are KVRocks keys accepted for compatibility that have no
// effect here (replication, backup, compaction scheduling, ...).
var kvrocksKeys = map[string]bool{
	"daemonize": true, "repl-namespace-enabled": true, "persist-cluster-nodes-enabled": true,
	"log-retention-days": true, "slave-read-only": true, "slave-priority": true,
	"tcp-backlog": true, "master-use-repl-port": true, "use-rsid-psync": true,
	"slaveof": true, "slave-serve-stale-data": true, "slave-empty-db-before-fullsync": true,
	"replica-announce-ip": true, "replica-announce-port": true, "purge-backup-on-fullsync": true,
	"max-replication-mb": true, "max-io-mb": true, "max-db-size": true,
	"max-backup-to-keep": true, "max-backup-keep-hours": true, "max-bitmap-to-string-mb": true,
	"json-max-nesting-depth": true, "json-storage-format": true, "supervised": true,
	"compact-cron": true, "compaction-checker-range": true, "force-compact-file-age": true,
	"force-compact-file-min-deleted-percentage": true, "bgsave-cron": true,
	"dbsize-scan-cron": true, "rename-command": true, "backup-dir": true,
	"txn-context-enabled": true, "lua-strict-key-accessing": true, "histogram-bucket-boundaries": true,
	"skip-block-cache-deallocation-on-close": true, "replication-connect-timeout-ms": true,
	"replication-recv-timeout-ms": true, "replication-no-slowdown": true, "replication-delay-bytes": true,
	"replication-delay-updates": true, "worker-threads": true, "cluster-node-id": true,
}

// kvrocksPrefixes are KVRocks key families accepted as a whole.
var kvrocksPrefixes = []string{"rocksdb.", "tls-", "migrate-", "profiling-sample-"}

// Config is the server configuration: KVRocks's file format (one
// `key value` per line, `#` comments) and keys, plus gpucache's. Safe for
// concurrent use; CONFIG SET goes through Set.
type Config struct {
	mu     sync.RWMutex
	values map[string]string // every key set (known, KVRocks-only or namespace.*)
	file   string            // "" when there is no file to rewrite
	lines  []string          // the file as read, for REWRITE
	warn   func(format string, args ...any)
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
	c := &Config{values: make(map[string]string), warn: warn}
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
	return c.set(key, val, false)
}

func (c *Config) set(key, val string, runtime bool) error {
	if d := defsByName[key]; d != nil {
		if runtime && !d.mutable {
			return fmt.Errorf("can't set immutable config %q", key)
		}
		if d.check != nil {
			if err := d.check(val); err != nil {
				return fmt.Errorf("invalid value %q for %q: %w", val, key, err)
			}
		}
	} else if runtime {
		if !known(key) {
			return fmt.Errorf("%w %q", errUnknownKey, key)
		}
		if !strings.HasPrefix(key, "namespace.") {
			return fmt.Errorf("can't set immutable config %q", key)
		}
	}
	c.mu.Lock()
	c.values[key] = val
	c.mu.Unlock()
	return nil
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
			out = append(out, [2]string{k, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// SetRuntime is CONFIG SET: only mutable keys.
func (c *Config) SetRuntime(key, val string) error {
	return c.set(strings.ToLower(key), val, true)
}

// Rewrite is CONFIG REWRITE: the file keeps its comments and order, lines
// of known keys get their current value, keys set since are appended.
func (c *Config) Rewrite() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.file == "" {
		return errors.New("The server is running without a config file")
	}
	written := make(map[string]bool)
	var b strings.Builder
	for _, line := range c.lines {
		key, _, ok := parseLine(line)
		if ok {
			if v, set := c.values[key]; set && !written[key] {
				written[key] = true
				fmt.Fprintf(&b, "%s %s\n", key, quoteValue(v))
				continue
			}
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if written[k] {
			continue
		}
		if d := defsByName[k]; d != nil && d.def == c.values[k] {
			continue // still the default: leave it out
		}
		fmt.Fprintf(&b, "%s %s\n", k, quoteValue(c.values[k]))
	}
	tmp := c.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.file)
}

func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t#\"") {
		return strconv.Quote(v)
	}
	return v
}
