package resp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// jsDir holds the JavaScript clients, installed by scripts/deps.sh.
var jsDir = filepath.Join("testdata", "js")

// jsResult is what glide.js and ioredis.js print.
type jsResult struct {
	Steps      []string
	Keys       map[string]string // key -> SHA-256 of the value it left
	UsedMemory int64
	MaxMemory  int64
}

// runJS runs a client script against srv and checks, from go-redis, that
// the keys it reports hold what it wrote.
func runJS(t *testing.T, srv *internal.Server, password, script string, wantSteps []string) jsResult {
	t.Helper()
	internal.RequireTool(t, "node")
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules")); err != nil {
		internal.Missing(t, "JavaScript clients not installed (run scripts/deps.sh)")
	}
	host, port, _ := net.SplitHostPort(srv.Addr())
	env := []string{"GPUCACHE_HOST=" + host, "GPUCACHE_PORT=" + port}
	if password != "" {
		env = append(env, "GPUCACHE_PASSWORD="+password)
	}
	var res jsResult
	internal.RunClient(t, jsDir, env, &res, "node", script)
	if !slices.Equal(res.Steps, wantSteps) {
		t.Fatalf("%s did %v, want %v", script, res.Steps, wantSteps)
	}
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: password})
	defer rc.Close()
	for k, want := range res.Keys {
		v, err := rc.Get(context.Background(), k).Bytes()
		if err != nil {
			t.Fatalf("GET %s from go-redis: %v", k, err)
		}
		if sum := sha256.Sum256(v); hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s holds %d bytes that differ from what %s wrote", k, len(v), script)
		}
	}
	return res
}

// TestValkeyGlide runs valkey-glide (the client core of LMCache's valkey
// L2 adapters) the way those adapters use it, with and without a password.
func TestValkeyGlide(t *testing.T) {
	steps := []string{"set-get-32MiB", "set-ex", "exists", "batch-mget", "info-memory", "del"}
	t.Run("no-auth", func(t *testing.T) {
		srv := internal.Start(t, internal.Options{})
		res := runJS(t, srv, "", "glide.js", steps)
		// The adapter computes the store's free capacity from these.
		if res.MaxMemory <= 0 || res.UsedMemory <= 0 || res.UsedMemory > res.MaxMemory {
			t.Errorf("INFO memory: used_memory %d, maxmemory %d", res.UsedMemory, res.MaxMemory)
		}
	})
	t.Run("requirepass", func(t *testing.T) {
		srv := internal.Start(t, internal.Options{Args: []string{"--requirepass", "s3cret"}, Password: "s3cret"})
		runJS(t, srv, "s3cret", "glide.js", steps)
	})
}

// TestIORedis runs ioredis: ready check, buffers, pipelines,
// auto-pipelining, SCAN streams, reply errors and a reconnect.
func TestIORedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--requirepass", "pw"}, Password: "pw"})
	runJS(t, srv, "pw", "ioredis.js", []string{"ready-check", "strings", "pipeline", "auto-pipeline",
		"mset-mget", "scan-stream", "reply-error", "reconnect", "del"})
}
