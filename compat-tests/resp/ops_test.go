package resp_test

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestOpsCommandIntrospection drives COMMAND through go-redis's own
// parsers (COMMAND, COMMAND LIST, GETKEYS, GETKEYSANDFLAGS) in RESP2 and
// RESP3, and COMMAND DOCS through redis-cli.
func TestOpsCommandIntrospection(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			infos, err := rdb.Command(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			n, err := rdb.Do(ctx, "COMMAND", "COUNT").Int()
			if err != nil || n != len(infos) {
				t.Fatalf("COMMAND COUNT = %d, %v; COMMAND lists %d", n, err, len(infos))
			}
			get := infos["get"]
			if get == nil || get.Arity != 2 || get.FirstKeyPos != 1 || !get.ReadOnly || !slices.Contains(get.ACLFlags, "@read") {
				t.Errorf("COMMAND: get = %+v", get)
			}
			if bg := infos["bgsave"]; bg == nil || !slices.Contains(bg.Flags, "admin") {
				t.Errorf("COMMAND: bgsave = %+v", bg)
			}
			keys, err := rdb.CommandGetKeys(ctx, "ZUNIONSTORE", "dst", 2, "a", "b", "WEIGHTS", 1, 2).Result()
			if err != nil || !slices.Equal(keys, []string{"dst", "a", "b"}) {
				t.Errorf("COMMAND GETKEYS ZUNIONSTORE = %v, %v", keys, err)
			}
			kf, err := rdb.CommandGetKeysAndFlags(ctx, "SET", "k", "v", "GET").Result()
			if err != nil || len(kf) != 1 || kf[0].Key != "k" || !slices.Equal(kf[0].Flags, []string{"RW", "access", "update"}) {
				t.Errorf("COMMAND GETKEYSANDFLAGS SET k v GET = %+v, %v", kf, err)
			}
			list, err := rdb.CommandList(ctx, &redis.FilterBy{Pattern: "z*store"}).Result()
			slices.Sort(list)
			if err != nil || !slices.Equal(list, []string{"zdiffstore", "zinterstore", "zrangestore", "zunionstore"}) {
				t.Errorf("COMMAND LIST FILTERBY PATTERN z*store = %v, %v", list, err)
			}
		})
	}
	out, err := internal.Command(ctx, nil, internal.RequireTool(t, "redis-cli"), "-p", strconv.Itoa(portOf(srv.Addr())), "COMMAND", "DOCS", "get", "namespace")
	if err != nil || !strings.Contains(string(out), "Get the value of a key") || !strings.Contains(string(out), "Manages namespaces") {
		t.Errorf("redis-cli COMMAND DOCS get namespace = %s, %v", out, err)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

func portOf(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	n, _ := strconv.Atoi(p)
	return n
}

// TestOpsDebugProtocol reads every DEBUG PROTOCOL type with go-redis's
// RESP3 parser, and checks that DEBUG SLEEP holds only its own connection.
func TestOpsDebugProtocol(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	bignum, _ := new(big.Int).SetString("1234567999999999999999999999999999999", 10)
	for _, tc := range []struct {
		typ  string
		want any
	}{
		{"string", "Hello World"}, {"integer", int64(12345)}, {"double", 3.141},
		{"array", []any{int64(0), int64(1), int64(2)}}, {"set", []any{int64(0), int64(1), int64(2)}},
		{"map", map[any]any{int64(0): false, int64(1): true, int64(2): false}},
		{"bignum", bignum}, {"true", true}, {"false", false}, {"verbatim", "verbatim string"},
		{"attrib", "Some real reply following the attribute"},
	} {
		got, err := rdb.Do(ctx, "DEBUG", "PROTOCOL", tc.typ).Result()
		if err != nil {
			t.Errorf("DEBUG PROTOCOL %s: %v", tc.typ, err)
			continue
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
			t.Errorf("DEBUG PROTOCOL %s = %#v, want %#v", tc.typ, got, tc.want)
		}
	}
	if err := rdb.Do(ctx, "DEBUG", "PROTOCOL", "null").Err(); err != redis.Nil {
		t.Errorf("DEBUG PROTOCOL null: %v, want nil", err)
	}

	// DEBUG SLEEP on one connection; another is served meanwhile.
	sleeper := newGoRedis(t, srv.Addr(), 2, "")
	slept := make(chan error, 1)
	go func() { slept <- sleeper.Do(ctx, "DEBUG", "SLEEP", "2").Err() }()
	other := newGoRedis(t, srv.Addr(), 2, "")
	// Wait until the server runs the sleep (CLIENT LIST shows its command).
	waitFor(t, 30*time.Second, "DEBUG SLEEP to run", func() bool {
		list, err := other.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(list, "cmd=debug")
	})
	if err := other.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-slept:
		t.Fatalf("DEBUG SLEEP 2 answered (%v) before another client's PING", err)
	default:
	}
	if err := <-slept; err != nil {
		t.Fatal(err)
	}

	// A sleeping connection does not hold a shutdown: SIGTERM during
	// DEBUG SLEEP 3600 exits cleanly (Stop fails the test after 30 s).
	long := newGoRedis(t, srv.Addr(), 2, "")
	id, err := long.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	go long.Do(context.Background(), "DEBUG", "SLEEP", "3600")
	for {
		list, err := other.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(list, fmt.Sprintf("id=%d ", id)) && regexpMatch(fmt.Sprintf(`(?m)^id=%d .* cmd=debug `, id), list) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Stop(t)
}

// TestOpsRenameAndConfigSet: rename-command lines of a kvrocks.conf rename
// and disable commands; CONFIG SET takes KVRocks's run-time keys (slow log
// thresholds in effect at once, backup-dir used by the next BGSAVE) and
// refuses the others with KVRocks's error.
func TestOpsRenameAndConfigSet(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "kvrocks.conf")
	os.WriteFile(conf, []byte("rename-command KEYS \"\"\nrename-command FLUSHALL WIPEALL\nslowlog-log-slower-than -1\n"), 0o600)
	srv := internal.Start(t, internal.Options{Args: []string{"-c", conf}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	rdb.Set(ctx, "k", "v", 0)
	if err := rdb.Keys(ctx, "*").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command `keys`") {
		t.Errorf("KEYS after rename-command KEYS \"\": %v", err)
	}
	if err := rdb.FlushAll(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command `flushall`") {
		t.Errorf("FLUSHALL after renaming it: %v", err)
	}
	if err := rdb.Do(ctx, "WIPEALL").Err(); err != nil {
		t.Errorf("WIPEALL: %v", err)
	}
	if n, _ := rdb.DBSize(ctx).Result(); n != 0 {
		t.Errorf("DBSIZE after WIPEALL = %d", n)
	}

	// The slow log: off from the file, on at once by CONFIG SET.
	rdb.Do(ctx, "SLOWLOG", "RESET")
	rdb.Do(ctx, "DEBUG", "SLEEP", "0.05")
	if n, _ := rdb.Do(ctx, "SLOWLOG", "LEN").Int(); n != 0 {
		t.Errorf("SLOWLOG LEN = %d with slowlog-log-slower-than -1", n)
	}
	if err := rdb.ConfigSet(ctx, "slowlog-log-slower-than", "20000").Err(); err != nil {
		t.Fatal(err)
	}
	rdb.Do(ctx, "DEBUG", "SLEEP", "0.05")
	rdb.Ping(ctx) // well under 20 ms
	entries, err := rdb.SlowLogGet(ctx, -1).Result()
	if err != nil || len(entries) != 1 || !slices.Equal(entries[0].Args, []string{"DEBUG", "SLEEP", "0.05"}) || entries[0].Duration < 50*time.Millisecond {
		t.Errorf("SLOWLOG GET = %+v, %v; want the one DEBUG SLEEP", entries, err)
	}
	if err := rdb.ConfigSet(ctx, "slowlog-max-len", "1").Err(); err != nil {
		t.Fatal(err)
	}
	rdb.ConfigSet(ctx, "slowlog-log-slower-than", "0")
	for range 5 {
		rdb.Ping(ctx)
	}
	if n, _ := rdb.Do(ctx, "SLOWLOG", "LEN").Int(); n != 1 {
		t.Errorf("SLOWLOG LEN = %d with slowlog-max-len 1", n)
	}

	// KVRocks's run-time keys without an effect here are accepted (and
	// logged); read-only and unknown keys are refused as KVRocks does.
	if err := rdb.ConfigSet(ctx, "compact-cron", "0 3 * * *").Err(); err != nil {
		t.Errorf("CONFIG SET compact-cron: %v", err)
	}
	for _, key := range []string{"port", "dir", "no-such-key"} {
		want := "ERR CONFIG SET '" + key + "' error: Unsupported CONFIG parameter: " + key
		if err := rdb.ConfigSet(ctx, key, "1").Err(); err == nil || err.Error() != want {
			t.Errorf("CONFIG SET %s = %v, want %q", key, err, want)
		}
	}

	// backup-dir set at run time is where the next BGSAVE goes.
	dir := filepath.Join(t.TempDir(), "b")
	if err := rdb.ConfigSet(ctx, "backup-dir", dir).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "BGSAVE to finish", func() bool { return srv.InfoInt(t, "bgsave_in_progress") == 0 })
	if _, err := os.Stat(filepath.Join(dir, "meta")); err != nil {
		t.Errorf("no backup in the backup-dir set at run time: %v", err)
	}
	if err := rdb.Do(ctx, "FLUSHBACKUP").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("FLUSHBACKUP left %s: %v", dir, err)
	}
}

// TestOpsBadRenameCommand: a rename-command naming no command stops the
// server at start-up with KVRocks's error.
func TestOpsBadRenameCommand(t *testing.T) {
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "kvrocks.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("port %d\ndir %s\nrename-command NOSUCH x\n", internal.FreePort(t), t.TempDir())), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-c", conf).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "No such command in rename-command") {
		t.Errorf("gpucache with rename-command NOSUCH: %v\n%s", err, out)
	}
}

// TestOpsUsageAndInfo: DISK USAGE and MEMORY USAGE count a key's bytes;
// COMPACT runs; INFO has the fields kvrocks_exporter and redis_exporter
// read, with values.
func TestOpsUsageAndInfo(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	rdb.Set(ctx, "big", randomBytes(1, 1<<20), 0)
	rdb.HSet(ctx, "h", "f1", "v1", "f2", "v2")
	for _, sub := range []string{"DISK", "MEMORY"} {
		n, err := rdb.Do(ctx, sub, "USAGE", "big").Int64()
		if err != nil || n < 1<<20 || n > 1<<20+4096 {
			t.Errorf("%s USAGE big = %d, %v", sub, n, err)
		}
		if err := rdb.Do(ctx, sub, "USAGE", "nosuch").Err(); err != redis.Nil {
			t.Errorf("%s USAGE nosuch = %v, want nil", sub, err)
		}
	}
	if n, err := rdb.Do(ctx, "DISK", "USAGE", "h").Int64(); err != nil || n < int64(len("f1v1f2v2")) {
		t.Errorf("DISK USAGE h = %d, %v", n, err)
	}
	if err := rdb.Do(ctx, "COMPACT").Err(); err != nil {
		t.Fatal(err)
	}
	info, err := rdb.Info(ctx, "everything").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{
		"uptime_in_seconds", "process_id", "connected_clients", "blocked_clients", "used_memory", "used_memory_rss",
		"loading", "total_connections_received", "total_commands_processed", "total_net_input_bytes", "used_cpu_sys",
		"sequence", "used_db_size", "max_db_size", "disk_capacity", "used_disk_size", "total_system_memory",
		"instantaneous_ops_per_sec", "is_bgsaving", "is_compacting", "compaction_count", "flush_count",
		"block_cache_usage", "num_running_compactions", "last_bgsave_status", "role", "tcp_port",
	} {
		line := ""
		for _, l := range strings.Split(info, "\r\n") {
			if strings.HasPrefix(l, f+":") {
				line = l
			}
		}
		if line == "" || strings.TrimPrefix(line, f+":") == "" {
			t.Errorf("INFO has no value for %s", f)
		}
	}
	if !strings.Contains(info, "# RocksDB\r\n") {
		t.Error("INFO has no # RocksDB section")
	}
}
