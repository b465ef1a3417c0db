package cluster_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// redisPyScript uses redis-py's RedisCluster as LMCache's redis-cluster://
// connector does: startup nodes, CLUSTER SLOTS, then SET/GET/EXISTS/DEL of
// keys without hash tags (so across all nodes), and MGET inside one slot.
const redisPyScript = `
import json, sys
from redis.cluster import RedisCluster, ClusterNode
nodes = [ClusterNode(h, int(p)) for h, p in (a.rsplit(':', 1) for a in sys.argv[1:])]
rc = RedisCluster(startup_nodes=nodes[:1], decode_responses=False)
key = 'vllm@Qwen/Qwen3-8B@1@0@%x@bfloat16'
n = 300
for i in range(n):
    assert rc.set((key % i) + 'kv_bytes', bytes([i % 256]) * 1000) is True
    assert rc.set((key % i) + 'metadata', b'm' * 28) is True
ok = 0
for i in range(n):
    assert rc.exists((key % i) + 'metadata') == 1
    if rc.get((key % i) + 'kv_bytes') == bytes([i % 256]) * 1000:
        ok += 1
rc.mset_nonatomic({'{t}a': b'1', '{t}b': b'2'})
got = rc.mget_nonatomic(['{t}a', '{t}b', 'missing'])
deleted = sum(rc.delete((key % i) + 'metadata') for i in range(0, n, 2))
masters = sorted('%s:%d' % (nd.host, nd.port) for nd in rc.get_primaries())
print(json.dumps({'ok': ok, 'mget': [x.decode() if x else None for x in got], 'deleted': deleted, 'masters': masters}))
`

// TestRedisPyRedisCluster drives the cluster with redis-py's RedisCluster
// (Debian python3-redis, >= 4.1).
func TestRedisPyRedisCluster(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import redis.cluster").Run(); err != nil {
		internal.Missing(t, "redis-py with RedisCluster (Debian python3-redis; scripts/deps.sh installs it)")
	}
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", append([]string{"-c", redisPyScript}, c.seeds()...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-py: %v\n%s", err, out)
	}
	var res struct {
		OK      int       `json:"ok"`
		MGet    []*string `json:"mget"`
		Deleted int       `json:"deleted"`
		Masters []string  `json:"masters"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.OK != 300 || res.Deleted != 150 || len(res.Masters) != 3 {
		t.Fatalf("redis-py: %s", out)
	}
	if len(res.MGet) != 3 || res.MGet[0] == nil || *res.MGet[0] != "1" || res.MGet[1] == nil || *res.MGet[1] != "2" || res.MGet[2] != nil {
		t.Fatalf("redis-py MGET: %s", out)
	}
	// Every node got its share: 600 keys set, 150 deleted, 2 more.
	var total int64
	for _, nd := range c.nodes {
		n, err := nd.ctl.DBSize(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%s holds no key", nd.addr())
		}
		total += n
	}
	if total != 600-150+2 {
		t.Fatalf("keys on the nodes: %d", total)
	}
}

// TestGlideCluster drives the cluster with valkey-glide's GlideClusterClient
// (the client core of LMCache's valkey adapters in cluster mode), from the
// npm packages compat-tests/resp/testdata/js installs.
func TestGlideCluster(t *testing.T) {
	jsDir, _ := filepath.Abs("../resp/testdata/js")
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "@valkey", "valkey-glide")); err != nil {
		internal.Missing(t, "valkey-glide (npm ci in compat-tests/resp/testdata/js; scripts/deps.sh does it)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		internal.Missing(t, "node")
	}
	c := startCluster(t, 3)
	script, _ := filepath.Abs("testdata/glide_cluster.js")
	var res struct {
		Keys  int      `json:"keys"`
		Slots []string `json:"slots"`
	}
	env := []string{"NODE_PATH=" + filepath.Join(jsDir, "node_modules"), "GPUCACHE_HOST=" + c.nodes[0].host, "GPUCACHE_PORT=" + strconv.Itoa(c.nodes[0].port)}
	internal.RunClient(t, jsDir, env, &res, "node", script)
	if res.Keys != 200 {
		t.Fatalf("glide: %+v", res)
	}
	var total int64
	for _, nd := range c.nodes {
		n, err := nd.ctl.DBSize(context.Background()).Result()
		if err != nil || n == 0 {
			t.Fatalf("%s: %d keys, %v", nd.addr(), n, err)
		}
		total += n
	}
	if total != 200+2 {
		t.Fatalf("keys on the nodes: %d", total)
	}
}
