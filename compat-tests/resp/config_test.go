package resp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// kvrocksConf is an excerpt of a stock kvrocks.conf, with keys that have
// no meaning here and one that no version knows.
const kvrocksConf = `################################ GENERAL #####################################

# By default kvrocks listens for connections from localhost interface.
bind 127.0.0.1

# The number of worker's threads, increase or decrease would affect the performance.
workers 8

# By default, kvrocks does not run as a daemon.
daemonize no

# Kvrocks implements the cluster solution that is similar to the Redis cluster solution.
cluster-enabled no

# Set the max number of connected clients at the same time.
maxclients 10000

# Require clients to issue AUTH <PASSWORD> before processing any other commands.
requirepass conf-pass

# The db-name
db-name change.me.db

# The rocksdb options
rocksdb.block_cache_size 4096
rocksdb.max_open_files 8096
rocksdb.compression snappy

compact-cron 0 3 * * *
timeout 0
resp3-enabled yes
no-such-key-anywhere 42
`

// TestKVRocksConfigFile starts from a kvrocks.conf (-c): known keys apply,
// KVRocks-only keys are accepted, an unknown key is warned about by name
// and line; CONFIG GET/SET/REWRITE work on the same file.
func TestKVRocksConfigFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "kvrocks.conf")
	if err := os.WriteFile(conf, []byte(kvrocksConf), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := internal.Start(t, internal.Options{Password: "conf-pass", Args: []string{"-c", conf}})
	if log := srv.Log(); !strings.Contains(log, "no-such-key-anywhere") || !strings.Contains(log, "line 32") {
		t.Errorf("no warning naming the unknown key and its line in the log:\n%s", log)
	}
	c := dialRaw(t, srv.Addr())
	c.send("GET", "k")
	c.expect("-NOAUTH Authentication required.\r\n")
	c.send("AUTH", "conf-pass")
	c.expect("+OK\r\n")
	c.send("CONFIG", "GET", "workers")
	c.expect("*2\r\n$7\r\nworkers\r\n$1\r\n8\r\n")
	c.send("CONFIG", "GET", "db-name")
	c.expect("*2\r\n$7\r\ndb-name\r\n$12\r\nchange.me.db\r\n")
	c.send("CONFIG", "SET", "maxclients", "200")
	c.expect("+OK\r\n")
	c.send("CONFIG", "GET", "maxclients")
	c.expect("*2\r\n$10\r\nmaxclients\r\n$3\r\n200\r\n")
	c.send("CONFIG", "SET", "workers", "2")
	if line := c.readLine(); !strings.HasPrefix(line, "-ERR") {
		t.Fatalf("CONFIG SET of an immutable key: %q, want an error", line)
	}
	c.send("CONFIG", "REWRITE")
	c.expect("+OK\r\n")
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		"maxclients 200\n",
		"# Set the max number of connected clients at the same time.\n", // comments kept
		"rocksdb.max_open_files 8096\n",
		"workers 8\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("rewritten config lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "maxclients 10000") {
		t.Errorf("rewritten config still has the old maxclients")
	}
	// The rewritten file starts the server again.
	srv.Stop(t)
	srv.Restart(t)
	c = dialRaw(t, srv.Addr())
	c.send("AUTH", "conf-pass")
	c.expect("+OK\r\n")
	c.send("CONFIG", "GET", "maxclients")
	c.expect("*2\r\n$10\r\nmaxclients\r\n$3\r\n200\r\n")
}

// TestKVRocksLogFile: with log-dir set to the data dir, the log is
// <dir>/kvrocks.INFO as KVRocks writes it, which ops tooling reads.
func TestKVRocksLogFile(t *testing.T) {
	dir := t.TempDir()
	internal.Start(t, internal.Options{Dir: dir, Args: []string{"--log-dir", dir}})
	waitFor(t, 5*time.Second, "kvrocks.INFO says ready", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "kvrocks.INFO"))
		return err == nil && strings.Contains(string(b), "ready to accept connections")
	})
}
