package resp_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// scrape reads /metrics as "name{labels}" -> value.
func scrape(t *testing.T, port int) map[string]float64 {
	t.Helper()
	hc := http.Client{Timeout: 10 * time.Second}
	res, err := hc.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// delta reports series that did not move by exactly the wanted amount.
func checkDelta(t *testing.T, what string, before, after map[string]float64, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if d := after[k] - before[k]; d != w {
			t.Errorf("%s: %s moved by %v, want %v", what, k, d, w)
		}
	}
}

// settle scrapes until every series of want has moved by at least its
// amount since before (or a deadline passes) and returns that scrape:
// a front end counts bytes and requests as its handler finishes, which
// can be after the client has its whole reply.
func settle(t *testing.T, admin int, before map[string]float64, want map[string]float64) map[string]float64 {
	t.Helper()
	var after map[string]float64
	waitFor(t, 10*time.Second, "the counters to move", func() bool {
		after = scrape(t, admin)
		for k, w := range want {
			if after[k]-before[k] < w {
				return false
			}
		}
		return true
	})
	return after
}

// TestMetricsMove drives a real server with go-redis, a raw socket,
// redis-cli and minio-go, and checks that each series moves by exactly
// what was done.
func TestMetricsMove(t *testing.T) {
	admin := internal.FreePort(t)
	srv := internal.Start(t, internal.Options{S3: true, Args: []string{"--admin-port", strconv.Itoa(admin)}})
	waitFor(t, 10*time.Second, "the admin port", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(admin))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	defer rc.Close()
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}

	// 10 GETs of a missing key: 10 calls, 10 misses in each tier.
	before := scrape(t, admin)
	for range 10 {
		if err := rc.Get(ctx, "missing").Err(); err != redis.Nil {
			t.Fatalf("GET missing: %v", err)
		}
	}
	after := scrape(t, admin)
	checkDelta(t, "10 GETs of a missing key", before, after, map[string]float64{
		`gpucache_resp_commands_total{command="get"}`:                            10,
		`gpucache_resp_command_duration_seconds_count{command="get"}`:            10,
		`gpucache_resp_command_failures_total{command="get"}`:                    0,
		`gpucache_cache_misses_total{tier="dram"}`:                               10,
		`gpucache_cache_misses_total{tier="nvme"}`:                               10,
		`gpucache_cache_hits_total{tier="dram"}`:                                 0,
		`gpucache_cache_hits_total{tier="nvme"}`:                                 0,
		`gpucache_resp_command_duration_seconds_bucket{command="get",le="+Inf"}`: 10,
	})

	// A value written then read 5 times: DRAM hits; an INCR of it fails.
	before = after
	val := bytes.Repeat([]byte("kv"), 64<<10)
	if err := rc.Set(ctx, "chunk", val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if got, err := rc.Get(ctx, "chunk").Bytes(); err != nil || !bytes.Equal(got, val) {
			t.Fatalf("GET chunk: %d bytes, %v", len(got), err)
		}
	}
	if err := rc.Incr(ctx, "chunk").Err(); err == nil {
		t.Fatal("INCR of a non-integer succeeded")
	}
	after = scrape(t, admin)
	checkDelta(t, "SET, 5 GETs, a failed INCR", before, after, map[string]float64{
		`gpucache_resp_commands_total{command="set"}`:          1,
		`gpucache_resp_commands_total{command="get"}`:          5,
		`gpucache_cache_hits_total{tier="dram"}`:               5,
		`gpucache_cache_misses_total{tier="dram"}`:             0,
		`gpucache_resp_commands_total{command="incr"}`:         1,
		`gpucache_resp_command_failures_total{command="incr"}`: 1,
		`gpucache_cache_admissions_total{tier="dram"}`:         1,
	})

	// Bytes over a raw TCP connection: exactly the request and the reply.
	clients := `gpucache_clients{frontend="resp"}`
	c0 := scrape(t, admin)[clients]
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// The server counts the connection once it has accepted it.
	waitFor(t, 10*time.Second, "the raw connection counted", func() bool {
		before = scrape(t, admin)
		return before[clients] == c0+1
	})
	req := "*2\r\n$3\r\nGET\r\n$5\r\nchunk\r\n"
	reply := "$" + strconv.Itoa(len(val)) + "\r\n" + string(val) + "\r\n"
	io.WriteString(nc, req)
	got := make([]byte, len(reply))
	if _, err := io.ReadFull(nc, got); err != nil || string(got) != reply {
		t.Fatalf("raw GET: %v", err)
	}
	// A request with the wrong number of arguments is rejected.
	io.WriteString(nc, "*1\r\n$3\r\nGET\r\n")
	line, _ := bufio.NewReader(nc).ReadString('\n')
	if !strings.HasPrefix(line, "-ERR") {
		t.Fatalf("GET without a key: %q", line)
	}
	rawWant := map[string]float64{
		`gpucache_network_bytes_total{direction="in",frontend="resp",transport="tcp"}`:  float64(len(req) + len("*1\r\n$3\r\nGET\r\n")),
		`gpucache_network_bytes_total{direction="out",frontend="resp",transport="tcp"}`: float64(len(reply) + len(line)),
		`gpucache_resp_commands_total{command="get"}`:                                   1,
		`gpucache_resp_command_rejections_total{command="get"}`:                         1,
		`gpucache_clients{frontend="resp"}`:                                             0,
	}
	after = settle(t, admin, before, rawWant)
	checkDelta(t, "raw GET and a rejected GET", before, after, rawWant)

	// S3: an object put and read back with minio-go.
	mc, err := minio.New(srv.S3Addr(), &minio.Options{Creds: credentials.NewStaticV4("gpucacheadmin", "gpucacheadmin", "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, "metrics", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	before = scrape(t, admin)
	if _, err := mc.PutObject(ctx, "metrics", "obj", bytes.NewReader(val), int64(len(val)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	o, err := mc.GetObject(ctx, "metrics", "obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, o); err != nil || n != int64(len(val)) {
		t.Fatalf("S3 GET: %d bytes, %v", n, err)
	}
	o.Close()
	s3Want := map[string]float64{
		`gpucache_network_bytes_total{direction="in",frontend="s3",transport="tcp"}`:  float64(len(val)),
		`gpucache_network_bytes_total{direction="out",frontend="s3",transport="tcp"}`: float64(len(val)),
		`gpucache_s3_requests_total{operation="PutObject",outcome="OK"}`:              1,
		`gpucache_s3_requests_total{operation="GetObject",outcome="OK"}`:              1,
	}
	after = settle(t, admin, before, s3Want)
	checkDelta(t, "S3 PUT and GET", before, after, s3Want)
	if after[`gpucache_clients{frontend="s3"}`] < 1 {
		t.Errorf("S3 connections %v with minio-go's connection kept alive", after[`gpucache_clients{frontend="s3"}`])
	}

	// INFO commandstats (redis-cli) reports the same counters.
	info := redisCLI(t, srv.Addr(), "INFO", "commandstats")
	m := regexp.MustCompile(`cmdstat_get:calls=(\d+),usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=(\d+),failed_calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("INFO commandstats:\n%s", info)
	}
	if m[1] != strconv.Itoa(int(after[`gpucache_resp_commands_total{command="get"}`])) || m[2] != "1" || m[3] != "0" {
		t.Errorf("cmdstat_get %q, /metrics calls %v", m[0], after[`gpucache_resp_commands_total{command="get"}`])
	}
}

func redisCLI(t *testing.T, addr string, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestCommandstatsLikeRedis runs the same commands through redis-cli
// against gpucache and a local redis-server 7, and compares INFO
// commandstats and latencystats line by line with the figures that
// depend on timing masked; CONFIG RESETSTAT clears both alike.
func TestCommandstatsLikeRedis(t *testing.T) {
	internal.RequireTool(t, "redis-cli")
	redisBin := internal.RequireTool(t, "redis-server")
	port := internal.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	rs := exec.CommandContext(ctx, redisBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); rs.Wait() })
	redisAddr := "127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, 10*time.Second, "redis-server", func() bool {
		c, err := net.Dial("tcp", redisAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	srv := internal.Start(t, internal.Options{})

	run := func(addr string) (cmdstats, latency []string) {
		redisCLI(t, addr, "SET", "n", "abc")
		redisCLI(t, addr, "CONFIG", "RESETSTAT")
		for range 3 {
			redisCLI(t, addr, "GET", "missing")
		}
		redisCLI(t, addr, "GET")       // rejected: arity
		redisCLI(t, addr, "INCR", "n") // failed: not an integer
		redisCLI(t, addr, "SET", "k", "v")
		mask := regexp.MustCompile(`(usec|usec_per_call|p50|p99|p99\.9)=[0-9.]+`)
		pick := func(text, prefix string) []string {
			var out []string
			for _, l := range strings.Split(text, "\n") {
				l = strings.TrimRight(l, "\r")
				// Redis 7 names subcommands "config|resetstat"; only the
				// commands run after the reset are compared.
				if strings.HasPrefix(l, prefix) && !strings.Contains(l, "config") {
					out = append(out, mask.ReplaceAllString(l, "$1=N"))
				}
			}
			slices.Sort(out)
			return out
		}
		text := redisCLI(t, addr, "INFO", "commandstats")
		if !strings.HasPrefix(text, "# Commandstats\r\n") && !strings.HasPrefix(text, "# Commandstats\n") {
			t.Errorf("%s: INFO commandstats starts %q", addr, text[:min(len(text), 20)])
		}
		lat := redisCLI(t, addr, "INFO", "latencystats")
		return pick(text, "cmdstat_"), pick(lat, "latency_percentiles_usec_")
	}
	wantStats, wantLat := run(redisAddr)
	gotStats, gotLat := run(srv.Addr())
	if !slices.Equal(gotStats, wantStats) {
		t.Errorf("INFO commandstats:\n got %q\nwant %q", gotStats, wantStats)
	}
	if !slices.Equal(gotLat, wantLat) {
		t.Errorf("INFO latencystats:\n got %q\nwant %q", gotLat, wantLat)
	}
	if len(wantStats) != 3 || len(wantLat) != 4 { // get, incr, set; and info in latencystats
		t.Errorf("redis-server reported %q and %q", wantStats, wantLat)
	}
}

// TestAdminDefaultPortTwoInstances: two servers started from KVRocks
// configuration files that name no admin port both start: the admin
// listener on the default port is skipped with a warning where the port
// is taken. A port given explicitly that cannot be bound stops the start.
func TestAdminDefaultPortTwoInstances(t *testing.T) {
	var logs []string
	for i := range 2 {
		conf := t.TempDir() + "/kvrocks.conf"
		text := "bind 127.0.0.1\nworkers 4\ntimeout 0\nmaxclients 1000\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		srv := internal.Start(t, internal.Options{Args: []string{"-c", conf}})
		if err := redis.NewClient(&redis.Options{Addr: srv.Addr()}).Ping(context.Background()).Err(); err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		// NB: the admin listener starts after the RESP one answers; the
		// log's "ready" line comes after either admin line.
		waitFor(t, 30*time.Second, "the server's ready line", func() bool {
			return strings.Contains(srv.Log(), "ready to accept connections")
		})
		logs = append(logs, srv.Log())
	}
	serving := 0
	for i, l := range logs {
		on := strings.Contains(l, "admin HTTP (/metrics, /healthz) on 127.0.0.1:9190")
		off := strings.Contains(l, "warning: admin HTTP (/metrics, /healthz) off: cannot listen on the default 127.0.0.1:9190")
		if on == off {
			t.Errorf("instance %d: neither serving nor warning about the default admin port:\n%s", i, l)
		}
		if on {
			serving++
		}
	}
	if serving > 1 {
		t.Errorf("both instances serve the default admin port")
	}

	// An explicit port that is taken is fatal.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(internal.FreePort(t)), "--dir", t.TempDir(), "--s3-port", "0", "--admin-port", port).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot listen for admin HTTP") {
		t.Errorf("explicit admin port taken: %v\n%s", err, out)
	}
}
