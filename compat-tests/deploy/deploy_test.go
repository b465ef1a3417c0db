package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

// root is the repository's top directory, where the container files live.
const root = "../.."

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestComposeFile validates docker-compose.yml with docker-compose itself,
// with and without the peers profile, and checks that the ports it gives
// gpucache agree with the Dockerfile and the Prometheus scrape target.
func TestComposeFile(t *testing.T) {
	dc := internal.RequireTool(t, "docker-compose")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	file := filepath.Join(root, "docker-compose.yml")
	if out, err := internal.Command(ctx, nil, dc, "-f", file, "config", "-q"); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	out, err := internal.Command(ctx, nil, dc, "-f", file, "config", "--services")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	if want := []string{"gpucache", "grafana", "minio", "prometheus", "redis"}; !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
	// The peers start only with --profile peers: in the rendered file,
	// each of their blocks names the profile, and no other block does.
	rendered, err := internal.Command(ctx, nil, dc, "-f", file, "config")
	if err != nil {
		t.Fatal(err)
	}
	// The services section: from "services:" to the next top-level key.
	services := string(rendered)
	if i := strings.Index(services, "services:\n"); i >= 0 {
		services = services[i+len("services:\n"):]
	}
	if i := regexp.MustCompile(`(?m)^\S`).FindStringIndex(services); i != nil {
		services = services[:i[0]]
	}
	head := regexp.MustCompile(`(?m)^  (\w+):\n`)
	names := head.FindAllStringSubmatch(services, -1)
	blocks := head.Split(services, -1)[1:]
	if len(names) != 5 || len(blocks) != 5 {
		t.Fatalf("cannot find the five services in the rendered file:\n%s", rendered)
	}
	for i, m := range names {
		peer := m[1] == "redis" || m[1] == "minio"
		if has := strings.Contains(blocks[i], "- peers"); has != peer {
			t.Errorf("service %s: in the peers profile %v, want %v", m[1], has, peer)
		}
	}

	compose := read(t, "docker-compose.yml")
	admin := regexp.MustCompile(`- --admin-port\s+- "(\d+)"`).FindStringSubmatch(compose)
	if admin == nil {
		t.Fatal("docker-compose.yml gives gpucache no --admin-port")
	}
	if !strings.Contains(read(t, "deploy/prometheus/prometheus.yml"), `"gpucache:`+admin[1]+`"`) {
		t.Errorf("Prometheus does not scrape gpucache:%s", admin[1])
	}
	if !strings.Contains(compose, "/dev/tcp/127.0.0.1/"+admin[1]) {
		t.Errorf("the health check does not ask port %s", admin[1])
	}
	if !strings.Contains(read(t, "Dockerfile"), `"--admin-port", "`+admin[1]+`"`) {
		t.Errorf("the Dockerfile's CMD does not serve the admin port on %s", admin[1])
	}
	// Every published port is on the host's loopback.
	for _, m := range regexp.MustCompile(`(?m)^\s+- "([^"]*:\d+:\d+)"$`).FindAllStringSubmatch(compose, -1) {
		if !strings.HasPrefix(m[1], "127.0.0.1:") {
			t.Errorf("port %s is published beyond loopback", m[1])
		}
	}
}

// TestDockerfile lints the Dockerfile and checks that both runtime stages
// run as an unprivileged user and that the default build is the static one.
func TestDockerfile(t *testing.T) {
	lint := filepath.Join("testdata", "node_modules", ".bin", "dockerfile-utils")
	if _, err := os.Stat(lint); err != nil {
		internal.Missing(t, "dockerfile-utils not installed (run scripts/deps.sh)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := internal.Command(ctx, nil, lint, "lint", filepath.Join(root, "Dockerfile")); err != nil {
		t.Fatalf("lint: %v\n%s", err, out)
	}
	// The linter must be able to fail: an instruction without arguments.
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(bad, []byte("FROM debian:bookworm-slim\nENV\n"), 0o644)
	if _, err := internal.Command(ctx, nil, lint, "lint", bad); err == nil {
		t.Fatal("the linter accepted a broken Dockerfile")
	}

	stages := map[string][]string{} // stage name -> its lines
	var cur, last string
	for line := range strings.SplitSeq(read(t, "Dockerfile"), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "FROM" && strings.EqualFold(f[len(f)-2], "AS") {
			cur = f[len(f)-1]
			last = cur
		}
		if cur != "" {
			stages[cur] = append(stages[cur], line)
		}
	}
	if last != "static" {
		t.Errorf("the last stage (the default target) is %q, want static", last)
	}
	for _, name := range []string{"static", "fabric"} {
		user := ""
		for _, l := range stages[name] {
			if u, ok := strings.CutPrefix(l, "USER "); ok {
				user = strings.TrimSpace(u)
			}
		}
		if uid, _, _ := strings.Cut(user, ":"); user == "" || uid == "0" || uid == "root" {
			t.Errorf("stage %s runs as %q, want an unprivileged user", name, user)
		}
	}
}

// TestDashboardQueries runs every query of the Grafana dashboard in a real
// Prometheus (Debian's) that scrapes a real gpucache under a little RESP
// and S3 traffic, and requires each to parse and return data: a metric or
// label the server does not export fails here.
func TestDashboardQueries(t *testing.T) {
	prom := internal.RequireTool(t, "prometheus")
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal([]byte(read(t, "deploy/grafana/dashboards/gpucache.json")), &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}

	// Three devices with 2+1 erasure coding, so that the device and EC
	// panels have series.
	admin := internal.FreePort(t)
	devs := t.TempDir()
	var devices []string
	for i := range 3 {
		devices = append(devices, filepath.Join(devs, "nvme"+strconv.Itoa(i)))
	}
	srv := internal.Start(t, internal.Options{S3: true, Args: []string{"--admin-port", strconv.Itoa(admin),
		"--devices", strings.Join(devices, ","), "--ec", "2+1"}})
	traffic(t, srv)

	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gpucache\n    static_configs:\n      - targets: [\"127.0.0.1:%d\"]\n", admin)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promPort := internal.FreePort(t)
	var log bytes.Buffer
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(promPort))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	api := "http://127.0.0.1:" + strconv.Itoa(promPort) + "/api/v1/query?query="

	// Rates need two scrapes with traffic between them: wait for the
	// first, send more, then wait until a rate over the S3 bytes is up.
	waitFor(t, api, `up{job="gpucache"} == 1`)
	traffic(t, srv)
	waitFor(t, api, `rate(gpucache_s3_body_bytes_total{direction="in"}[1m]) > 0`)

	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			res, err := query(api, tg.Expr)
			if err != nil {
				t.Errorf("panel %q: %s: %v", p.Title, tg.Expr, err)
			} else if res == 0 {
				t.Errorf("panel %q: %s: no data", p.Title, tg.Expr)
			}
		}
	}
}

// traffic writes and reads a value over RESP and an object over S3, with
// one miss on each, so that every series the dashboard shows exists.
func traffic(t *testing.T, srv *internal.Server) {
	t.Helper()
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2})
	defer rc.Close()
	val := bytes.Repeat([]byte("kv"), 1<<20)
	if err := rc.Set(ctx, "chunk", val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := rc.Get(ctx, "chunk").Bytes(); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("GET chunk: %d bytes, %v", len(got), err)
	}
	if err := rc.Get(ctx, "missing").Err(); err != redis.Nil {
		t.Fatalf("GET missing: %v", err)
	}

	mc, err := minio.New(srv.S3Addr(), &minio.Options{Creds: credentials.NewStaticV4("gpucacheadmin", "gpucacheadmin", "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, "kvcache", minio.MakeBucketOptions{}); err != nil {
		if e := minio.ToErrorResponse(err); e.Code != "BucketAlreadyOwnedByYou" {
			t.Fatal(err)
		}
	}
	if _, err := mc.PutObject(ctx, "kvcache", "chunk", bytes.NewReader(val), int64(len(val)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	o, err := mc.GetObject(ctx, "kvcache", "chunk", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, o); err != nil || n != int64(len(val)) {
		t.Fatalf("S3 GET: %d bytes, %v", n, err)
	}
	o.Close()
	if _, err := mc.StatObject(ctx, "kvcache", "missing", minio.StatObjectOptions{}); err == nil {
		t.Fatal("HEAD of a missing object succeeded")
	}
}

// waitFor polls Prometheus until expr returns a sample.
func waitFor(t *testing.T, api, expr string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var err error
	for n := 0; time.Now().Before(deadline); {
		if n, err = query(api, expr); err == nil && n > 0 {
			return
		}
		// Prometheus scrapes once a second; ask a few times per scrape.
		<-time.After(200 * time.Millisecond)
	}
	t.Fatalf("Prometheus never answered %s with data (last error: %v)", expr, err)
}

// query runs an instant query and returns how many series it produced.
func query(api, expr string) (int, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(api + url.QueryEscape(expr))
	if err != nil {
		return 0, err // Prometheus not listening yet, or gone
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct{ Result []json.RawMessage }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("%s", r.Error)
	}
	return len(r.Data.Result), nil
}
