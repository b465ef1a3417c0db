package resp_test

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// infoFields parses INFO text into name -> value.
func infoFields(text string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}

func fieldInt(t *testing.T, m map[string]string, name string) int64 {
	t.Helper()
	v, ok := m[name]
	if !ok {
		t.Fatalf("INFO has no %s", name)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s:%s is not an integer", name, v)
	}
	return n
}

// TestInfoMemoryCapacity: INFO memory's used_memory and maxmemory, read
// with go-redis as LMCache's valkey adapter reads them, tell the free
// capacity of the NVMe tier: maxmemory is nvme-capacity, used_memory grows
// with what is stored and the difference is what can still be stored
// (noeviction: the next write beyond it fails with OOM).
func TestInfoMemoryCapacity(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--nvme-capacity", "512mb", "--dram-cache-size", "64mb"}})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	info := func() map[string]string {
		text, err := rdb.Info(ctx, "memory").Result()
		must(t, err)
		return infoFields(text)
	}
	m := info()
	if got := fieldInt(t, m, "maxmemory"); got != 512<<20 {
		t.Fatalf("maxmemory %d, want nvme-capacity 512mb", got)
	}
	if got := fieldInt(t, m, "used_memory"); got != 0 {
		t.Fatalf("used_memory %d on an empty server", got)
	}
	if m["maxmemory_policy"] != "noeviction" {
		t.Errorf("maxmemory_policy %q", m["maxmemory_policy"])
	}
	val := bytes.Repeat([]byte("v"), 8<<20)
	stored := 0
	var setErr error
	for i := 0; i < 128; i++ { // 1 GiB offered to a 512 MiB tier
		if setErr = rdb.Set(ctx, "k"+strconv.Itoa(i), val, 0).Err(); setErr != nil {
			break
		}
		stored++
		m = info()
		used, max := fieldInt(t, m, "used_memory"), fieldInt(t, m, "maxmemory")
		if used < int64(stored)*int64(len(val)) || used > max {
			t.Fatalf("after %d values of 8 MiB: used_memory %d, maxmemory %d", stored, used, max)
		}
		if data := fieldInt(t, m, "used_memory_dataset"); data < int64(stored)*int64(len(val)) {
			t.Fatalf("used_memory_dataset %d after %d values of 8 MiB", data, stored)
		}
	}
	if setErr == nil || !strings.HasPrefix(setErr.Error(), "OOM") {
		t.Fatalf("1 GiB stored into nvme-capacity 512mb: %v", setErr)
	}
	m = info()
	free := fieldInt(t, m, "maxmemory") - fieldInt(t, m, "used_memory")
	if free >= int64(len(val)) {
		t.Errorf("a write of 8 MiB failed with %d bytes free by INFO memory", free)
	}
	t.Logf("%d values of 8 MiB stored; used_memory %s of maxmemory %s", stored, m["used_memory_human"], m["maxmemory_human"])
}

// TestInfoKeyspaceTruth: expires counts keys with a TTL (redis-cli), and
// used_percent is used_db_size over max_db_size; no made-up scan time.
func TestInfoKeyspaceTruth(t *testing.T) {
	internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{Args: []string{"--nvme-capacity", "1gb"}})
	host, port, _ := strings.Cut(srv.Addr(), ":")
	// cliIn runs redis-cli with stdin (-x takes the last argument from it).
	cliIn := func(stdin string, args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cli := func(args ...string) string { return cliIn("", args...) }
	cli("SET", "a", "1", "EX", "1000")
	cli("SET", "b", "1", "EX", "3000")
	cli("SET", "c", "1")
	cliIn(strings.Repeat("x", 1<<20), "-x", "SET", "big")
	text := cli("INFO", "keyspace")
	if strings.Contains(text, "DBSIZE SCAN") {
		t.Errorf("INFO keyspace reports a scan that did not happen:\n%s", text)
	}
	var db0 string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "db0:") {
			db0 = strings.TrimSpace(line)
		}
	}
	if !strings.HasPrefix(db0, "db0:keys=4,expires=2,avg_ttl=") {
		t.Fatalf("db0 line %q, want keys=4,expires=2", db0)
	}
	_, rest, _ := strings.Cut(db0, "avg_ttl=")
	ttl, _ := strconv.ParseInt(strings.Split(rest, ",")[0], 10, 64)
	if ttl < 1900_000 || ttl > 2000_000 {
		t.Errorf("avg_ttl %d ms, want about 2000 s", ttl)
	}
	m := infoFields(text)
	used, max := fieldInt(t, m, "used_db_size"), fieldInt(t, m, "max_db_size")
	if max != 1<<30 || used <= 0 {
		t.Fatalf("used_db_size %d, max_db_size %d", used, max)
	}
	want := strconv.FormatFloat(100*float64(used)/float64(max), 'f', 2, 64) + "%"
	if got := strings.TrimSpace(m["used_percent"]); got != want {
		t.Errorf("used_percent %q, want %q", got, want)
	}
	cli("PERSIST", "a")
	if m := infoFields(cli("INFO", "keyspace")); !strings.HasPrefix(m["db0"], "keys=4,expires=1,") {
		t.Errorf("after PERSIST: db0:%s", m["db0"])
	}
}

// TestInfoInstantaneousOps: instantaneous_ops_per_sec is measured, not a
// constant: it rises while a client sends commands.
func TestInfoInstantaneousOps(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	c := dialRaw(t, srv.Addr())
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := dialRawErr(srv.Addr())
		if w == nil {
			return
		}
		defer w.nc.Close()
		w.run(func(w *rawConn) {
			for {
				select {
				case <-stop:
					return
				default:
				}
				w.send("PING")
				w.expect("+PONG\r\n")
			}
		})
	}()
	defer func() { close(stop); <-done }()
	waitFor(t, 15*time.Second, "instantaneous_ops_per_sec > 0", func() bool {
		c.send("INFO", "stats")
		m := infoFields(string(c.readBulk()))
		n, _ := strconv.ParseInt(m["instantaneous_ops_per_sec"], 10, 64)
		return n > 0
	})
}
