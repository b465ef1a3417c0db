package resp_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zeebo/xxh3"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestDigestDelexMSetEx drives DIGEST, DELEX and MSETEX through go-redis:
// digests match the XXH3 the client computes (for a small value and one
// large enough for the NVMe tier), DELEX IFDEQ deletes with it, and
// MSETEX's NX is atomic against concurrent writers.
func TestDigestDelexMSetEx(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	for i, v := range [][]byte{[]byte("Hello world"), randomBytes(7, 3<<20)} {
		key := fmt.Sprintf("d%d", i)
		if err := rdb.Set(ctx, key, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%016x", xxh3.Hash(v))
		got, err := rdb.Do(ctx, "DIGEST", key).Text()
		if err != nil || got != want {
			t.Fatalf("DIGEST %s: %q, %v; want %q", key, got, err, want)
		}
		if n, err := rdb.Do(ctx, "DELEX", key, "IFDNE", strings.ToUpper(want)).Int(); err != nil || n != 0 {
			t.Fatalf("DELEX IFDNE own digest: %d, %v", n, err)
		}
		if n, err := rdb.Do(ctx, "DELEX", key, "IFDEQ", want).Int(); err != nil || n != 1 {
			t.Fatalf("DELEX IFDEQ: %d, %v", n, err)
		}
		if n, _ := rdb.Exists(ctx, key).Result(); n != 0 {
			t.Fatalf("%s still exists after DELEX", key)
		}
	}
	if err := rdb.Do(ctx, "DIGEST", "missing").Err(); err != redis.Nil {
		t.Fatalf("DIGEST of a missing key: %v, want nil", err)
	}

	// MSETEX with an expiry, then NX raced by writers on their own
	// connections: exactly one wins each round and its values are all set.
	if n, err := rdb.Do(ctx, "MSETEX", 2, "m1", "a", "m2", "b", "PX", 60000).Int(); err != nil || n != 1 {
		t.Fatalf("MSETEX: %d, %v", n, err)
	}
	for _, k := range []string{"m1", "m2"} {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Minute {
			t.Fatalf("PTTL %s after MSETEX PX 60000: %v", k, ttl)
		}
	}
	const writers, rounds = 4, 40
	clients := make([]*redis.Client, writers)
	for i := range clients {
		clients[i] = newGoRedis(t, srv.Addr(), 2, "")
	}
	for r := range rounds {
		keys := []string{fmt.Sprintf("nx:%d:a", r), fmt.Sprintf("nx:%d:b", r)}
		won := make([]int, writers)
		errs := make([]error, writers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				val := fmt.Sprintf("w%d", w)
				<-start
				won[w], errs[w] = clients[w].Do(ctx, "MSETEX", 2, keys[w%2], val, keys[1-w%2], val, "NX", "EX", 100).Int()
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for w := range writers {
			if errs[w] != nil {
				t.Fatalf("round %d writer %d: %v", r, w, errs[w])
			}
			if won[w] == 1 {
				if winner >= 0 {
					t.Fatalf("round %d: writers %d and %d both won", r, winner, w)
				}
				winner = w
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won", r)
		}
		vals := rdb.MGet(ctx, keys...).Val()
		want := fmt.Sprintf("w%d", winner)
		if vals[0] != want || vals[1] != want {
			t.Fatalf("round %d: keys hold %v, want both %q", r, vals, want)
		}
	}
}

// TestKMetadata reads KMETADATA through go-redis in RESP3 (a map) and
// RESP2 (a flat array): strings show type, ttl and flags; collections
// also their size and version, which a rewrite of the collection keeps
// and a new collection changes.
func TestKMetadata(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	r3 := newGoRedis(t, srv.Addr(), 3, "")
	r2 := newGoRedis(t, srv.Addr(), 2, "")
	r3.Set(ctx, "s", "v", 0)
	r3.Do(ctx, "PEXPIREAT", "s", int64(99999999999999))
	m, err := r3.Do(ctx, "KMETADATA", "s").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[any]any{"type": "string", "ttl": int64(99999999999999), "flags": int64(0x81)}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("KMETADATA s: %v, want %v", m, want)
	}
	r3.HSet(ctx, "h", "a", "1", "b", "2")
	meta := func() map[any]any {
		t.Helper()
		v, err := r3.Do(ctx, "KMETADATA", "h").Result()
		if err != nil {
			t.Fatal(err)
		}
		return v.(map[any]any)
	}
	h := meta()
	if h["type"] != "hash" || h["size"] != int64(2) || h["ttl"] != int64(0) || h["flags"] != int64(0x82) || h["version"].(int64) <= 0 {
		t.Fatalf("KMETADATA h: %v", h)
	}
	r3.HSet(ctx, "h", "c", "3")
	if h2 := meta(); h2["size"] != int64(3) || h2["version"] != h["version"] {
		t.Fatalf("after HSET: %v (before %v)", h2, h)
	}
	r3.Del(ctx, "h")
	r3.HSet(ctx, "h", "a", "1")
	if h3 := meta(); h3["version"] == h["version"] {
		t.Fatalf("a new hash kept the old version: %v", h3)
	}
	flat, err := r2.Do(ctx, "KMETADATA", "s").Slice()
	if err != nil || fmt.Sprint(flat) != "[type string ttl 99999999999999 flags 129]" {
		t.Fatalf("RESP2 KMETADATA s: %v, %v", flat, err)
	}
	if err := r2.Do(ctx, "KMETADATA", "nokey").Err(); err == nil || err.Error() != "ERR NotFound: " {
		t.Fatalf("KMETADATA nokey: %v", err)
	}
}

// TestShutdownCommand: redis-cli SHUTDOWN stops the server cleanly: no
// reply, exit status 0, the pid file removed, every acknowledged write
// there after a restart. A namespace's client may not shut it down, and
// SHUTDOWN NOSAVE gets past a script running beyond lua-time-limit,
// dropping what the script wrote.
func TestShutdownCommand(t *testing.T) {
	internal.RequireTool(t, "redis-cli")
	dir := t.TempDir()
	pid := filepath.Join(dir, "gpucache.pid")
	srv := internal.Start(t, internal.Options{Dir: dir, Password: "pw",
		Args: []string{"--requirepass", "pw", "--namespace.ns1", "tok1", "--pidfile", pid, "--lua-time-limit", "50"}})
	ctx := context.Background()
	admin := newGoRedis(t, srv.Addr(), 2, "pw")
	for i := range 100 {
		if err := admin.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ns := newGoRedis(t, srv.Addr(), 2, "tok1")
	if err := ns.Do(ctx, "SHUTDOWN").Err(); err == nil || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("SHUTDOWN from a namespace: %v", err)
	}
	if _, err := os.Stat(pid); err != nil {
		t.Fatalf("pid file: %v", err)
	}
	host, port, _ := strings.Cut(srv.Addr(), ":")
	out, err := exec.Command("redis-cli", "-h", host, "-p", port, "-a", "pw", "--no-auth-warning", "SHUTDOWN", "NOW").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("redis-cli SHUTDOWN: %v, %q", err, out)
	}
	waitExit(t, srv)
	if _, err := os.Stat(pid); !os.IsNotExist(err) {
		t.Fatalf("pid file after SHUTDOWN: %v", err)
	}
	if !strings.Contains(srv.Log(), "SHUTDOWN command received") {
		t.Fatalf("log does not say why it stopped:\n%s", srv.Log())
	}
	srv.Restart(t)
	admin = newGoRedis(t, srv.Addr(), 2, "pw")
	if n := admin.DBSize(ctx).Val(); n != 100 {
		t.Fatalf("after restart: %d keys, want 100", n)
	}

	// A script that wrote and then runs on: other clients get BUSY, its
	// writes are not killable, SHUTDOWN NOSAVE stops the server and the
	// script's writes are not committed.
	scriptDone := make(chan error, 1)
	go func() {
		scriptDone <- admin.Eval(ctx, "redis.call('set', 'by-script', 1) while true do end", nil).Err()
	}()
	other := newGoRedis(t, srv.Addr(), 2, "pw")
	waitFor(t, 20*time.Second, "BUSY while the script runs", func() bool {
		err := other.Get(ctx, "k1").Err()
		return err != nil && strings.HasPrefix(err.Error(), "BUSY")
	})
	if err := other.Do(ctx, "SHUTDOWN").Err(); err == nil || !strings.HasPrefix(err.Error(), "BUSY") {
		t.Fatalf("SHUTDOWN without NOSAVE during a busy script: %v", err)
	}
	out, err = exec.Command("redis-cli", "-h", host, "-p", port, "-a", "pw", "--no-auth-warning", "SHUTDOWN", "NOSAVE").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("redis-cli SHUTDOWN NOSAVE: %v, %q", err, out)
	}
	waitExit(t, srv)
	if err := <-scriptDone; err == nil {
		t.Fatal("the stopped script answered without an error")
	}
	srv.Restart(t)
	admin = newGoRedis(t, srv.Addr(), 2, "pw")
	if n, _ := admin.Exists(ctx, "by-script").Result(); n != 0 {
		t.Fatal("a write of the script stopped by SHUTDOWN NOSAVE was committed")
	}
	if n := admin.DBSize(ctx).Val(); n != 100 {
		t.Fatalf("after the second restart: %d keys, want 100", n)
	}
}

// waitExit waits for the server process to exit and fails the test on a
// non-zero status.
func waitExit(t *testing.T, srv *internal.Server) {
	t.Helper()
	waitFor(t, 30*time.Second, "the server to exit", func() bool {
		done, _ := srv.Exited()
		return done
	})
	if _, err := srv.Exited(); err != nil {
		t.Fatalf("server exit: %v", err)
	}
}

// TestMonitorExecLikeRedis runs MULTI/EXEC (with a runtime error inside)
// and scripts through go-redis against gpucache and redis-server 7 with a
// raw MONITOR connection on each, and compares the lines (timestamps and
// client addresses masked): queued commands are shown when EXEC runs them,
// between MULTI and EXEC; a script's commands as "[0 lua]" before its
// EVAL. INFO commandstats counts them alike.
func TestMonitorExecLikeRedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	redisAddr := internal.StartRedis(t)
	run := func(addr string) ([]string, map[string]string) {
		mon, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer mon.Close()
		br := bufio.NewReader(mon)
		fmt.Fprintf(mon, "MONITOR\r\n")
		if l, _ := br.ReadString('\n'); l != "+OK\r\n" {
			t.Fatalf("MONITOR on %s: %q", addr, l)
		}
		ctx := context.Background()
		rdb := newGoRedis(t, addr, 2, "")
		rdb.Do(ctx, "CONFIG", "RESETSTAT")
		if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "a", "1", 0)
			p.Incr(ctx, "a")
			p.HSet(ctx, "a", "f", "v")
			return nil
		}); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
			t.Fatalf("EXEC on %s: %v", addr, err)
		}
		script := "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])"
		rdb.Eval(ctx, script, []string{"b"}, "2")
		rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Eval(ctx, script, []string{"c"}, "3")
			p.Get(ctx, "c")
			return nil
		})
		rdb.Ping(ctx)
		re := regexp.MustCompile(`^\+\d+\.\d{6} \[0 (\S+)\] (.*)\r\n$`)
		var lines []string
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("monitor of %s: %v", addr, err)
			}
			m := re.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("monitor line %q of %s", l, addr)
			}
			if m[1] != "lua" {
				m[1] = "client"
			}
			if strings.HasPrefix(m[2], `"hello"`) || strings.HasPrefix(m[2], `"client"`) {
				continue // go-redis's connection set-up
			}
			lines = append(lines, "["+m[1]+"] "+m[2])
			if m[2] == `"ping"` {
				break
			}
		}
		stats := map[string]string{}
		info := rdb.Info(ctx, "commandstats").Val()
		for _, name := range []string{"set", "incr", "hset", "get", "exec", "multi", "eval"} {
			m := regexp.MustCompile(`cmdstat_` + name + `:calls=(\d+),usec=\d+,usec_per_call=[\d.]+,rejected_calls=(\d+),failed_calls=(\d+)`).FindStringSubmatch(info)
			if m != nil {
				stats[name] = strings.Join(m[1:], "/")
			}
		}
		return lines, stats
	}
	got, gotStats := run(srv.Addr())
	want, wantStats := run(redisAddr)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("MONITOR lines differ\ngpucache:\n%s\nredis-server:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fmt.Sprint(gotStats) != fmt.Sprint(wantStats) {
		t.Fatalf("commandstats (calls/rejected/failed) differ\ngpucache:     %v\nredis-server: %v", gotStats, wantStats)
	}
}
