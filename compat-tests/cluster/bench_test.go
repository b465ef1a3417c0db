package cluster_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

// benchEnv reads an integer knob of the cluster benchmark.
func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// lmClient is the part of go-redis the benchmark uses, from a plain or a
// cluster client.
type lmClient interface {
	Get(ctx context.Context, key string) *redis.StringCmd
	Set(ctx context.Context, key string, value any, expiration time.Duration) *redis.StatusCmd
}

type benchResult struct {
	ops, bytes int64
	elapsed    time.Duration
}

func (r benchResult) opsPerSec() float64 { return float64(r.ops) / r.elapsed.Seconds() }
func (r benchResult) mbPerSec() float64  { return float64(r.bytes) / r.elapsed.Seconds() / 1e6 }

// lmcacheLoad runs LMCache-shaped traffic: chunk keys
// "<model>@<rank %08x>@<hash hex>", values of valSize bytes, one SET for
// every three GETs (a chunk is stored once and retrieved by later
// requests), from workers goroutines for d. Every GET's value is checked.
func lmcacheLoad(t *testing.T, c lmClient, keys []string, valSize, workers int, d time.Duration) benchResult {
	t.Helper()
	ctx := context.Background()
	var ops, nbytes atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			val := make([]byte, valSize)
			for i := 0; time.Now().Before(stop); i++ {
				key := keys[(w*7919+i*31)%len(keys)]
				if i%4 == 0 {
					copy(val, key)
					if err := c.Set(ctx, key, val, 0).Err(); err != nil {
						failed.Store(fmt.Errorf("SET %s: %w", key, err))
						return
					}
				} else {
					got, err := c.Get(ctx, key).Bytes()
					if err != nil || len(got) != valSize || !bytes.HasPrefix(got, []byte(key)) {
						failed.Store(fmt.Errorf("GET %s: %d bytes, %v", key, len(got), err))
						return
					}
				}
				ops.Add(1)
				nbytes.Add(int64(valSize))
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	return benchResult{ops: ops.Load(), bytes: nbytes.Load(), elapsed: time.Since(start)}
}

// TestClusterLMCacheBench measures LMCache-shaped traffic against one
// gpucache node (a plain go-redis client), three nodes in a cluster (a
// go-redis ClusterClient), the same three nodes through a ClusterClient
// whose slot map is stale (every node's slots are believed to be the
// first node's: two requests in three are answered MOVED and followed),
// and redis-server as the peer, in one run, rounds interleaved. It runs
// only with GPUCACHE_CLUSTER_BENCH=1 (bench/README.md); knobs:
// GPUCACHE_CLUSTER_BENCH_SECONDS (per config and round, default 3),
// _VALUE_KB (default 2048), _KEYS (64), _WORKERS (8), _ROUNDS (3).
func TestClusterLMCacheBench(t *testing.T) {
	if os.Getenv("GPUCACHE_CLUSTER_BENCH") == "" {
		t.Skip("set GPUCACHE_CLUSTER_BENCH=1 to run the cluster benchmark")
	}
	d := time.Duration(benchEnv("GPUCACHE_CLUSTER_BENCH_SECONDS", 3)) * time.Second
	valSize := benchEnv("GPUCACHE_CLUSTER_BENCH_VALUE_KB", 2048) << 10
	nkeys := benchEnv("GPUCACHE_CLUSTER_BENCH_KEYS", 64)
	workers := benchEnv("GPUCACHE_CLUSTER_BENCH_WORKERS", 8)
	rounds := benchEnv("GPUCACHE_CLUSTER_BENCH_ROUNDS", 3)
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = lmcacheKey(i)
	}
	dram := strconv.Itoa(2*nkeys*valSize>>20+64) + "mb"
	single := internal.Start(t, internal.Options{Args: []string{"--dram-cache-size", dram, "--nvme-capacity", "12gb"}})
	c := startCluster(t, 3, "--dram-cache-size", dram, "--nvme-capacity", "12gb")
	redisAddr := internal.StartRedis(t)

	plain := redis.NewClient(&redis.Options{Addr: single.Addr(), PoolSize: workers})
	defer plain.Close()
	peer := redis.NewClient(&redis.Options{Addr: redisAddr, PoolSize: workers})
	defer peer.Close()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.seeds(), PoolSize: workers})
	defer cc.Close()
	// A stale slot map: every slot on the first node. go-redis follows
	// each MOVED and reloads the map, which stays stale.
	first := c.nodes[0]
	stale := redis.NewClusterClient(&redis.ClusterOptions{
		PoolSize: workers,
		ClusterSlots: func(context.Context) ([]redis.ClusterSlot, error) {
			return []redis.ClusterSlot{{Start: 0, End: 16383, Nodes: []redis.ClusterNode{{ID: first.id, Addr: first.addr()}}}}, nil
		},
	})
	defer stale.Close()
	if err := cc.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() }); err != nil {
		t.Fatal(err)
	}

	configs := []struct {
		name string
		c    lmClient
	}{
		{"redis-server, plain client", peer},
		{"gpucache 1 node, plain client", plain},
		{"gpucache 3 nodes, ClusterClient", cc},
		{"gpucache 3 nodes, stale slot map (MOVED)", stale},
	}
	// Fill every key once, so GETs hit.
	val := make([]byte, valSize)
	for _, cf := range configs[:3] {
		for _, k := range keys {
			copy(val, k)
			if err := cf.c.Set(context.Background(), k, val, 0).Err(); err != nil {
				t.Fatalf("%s: SET: %v", cf.name, err)
			}
		}
	}
	res := make([][]benchResult, len(configs))
	for r := range rounds {
		for i, cf := range configs {
			res[i] = append(res[i], lmcacheLoad(t, cf.c, keys, valSize, workers, d))
			t.Logf("round %d %-42s %8.0f ops/s %8.0f MB/s", r, cf.name, res[i][r].opsPerSec(), res[i][r].mbPerSec())
		}
	}
	// The median round of each, and ratios to the one-node gpucache.
	med := make([]float64, len(configs))
	for i := range configs {
		v := make([]float64, 0, rounds)
		for _, x := range res[i] {
			v = append(v, x.opsPerSec())
		}
		slices.Sort(v)
		med[i] = v[len(v)/2]
	}
	t.Logf("LMCache-shaped traffic: %d KiB values, %d keys, 1 SET : 3 GET, %d workers, %v x %d rounds, median:", valSize>>10, nkeys, workers, d, rounds)
	for i, cf := range configs {
		t.Logf("  %-42s %8.0f ops/s %8.0f MB/s  %.2fx of gpucache 1 node", cf.name, med[i], med[i]*float64(valSize)/1e6, med[i]/med[1])
	}
	t.Logf("  MOVED-following client / ClusterClient: %.2fx", med[3]/med[2])
}

// TestClusterS3ForwardBench measures what forwarding costs an S3 client:
// GETs and PUTs of 8 MiB objects through the node that serves their keys
// against through a node that forwards them, in interleaved rounds of one
// run (GPUCACHE_CLUSTER_BENCH=1; _SECONDS, _WORKERS, _ROUNDS as above).
func TestClusterS3ForwardBench(t *testing.T) {
	if os.Getenv("GPUCACHE_CLUSTER_BENCH") == "" {
		t.Skip("set GPUCACHE_CLUSTER_BENCH=1 to run the cluster benchmark")
	}
	d := time.Duration(benchEnv("GPUCACHE_CLUSTER_BENCH_SECONDS", 3)) * time.Second
	workers := benchEnv("GPUCACHE_CLUSTER_BENCH_WORKERS", 4)
	rounds := benchEnv("GPUCACHE_CLUSTER_BENCH_ROUNDS", 3)
	const size = 8 << 20
	c := startS3Cluster(t)
	ctx := context.Background()
	owner := c.nodes[0]
	var keys []string
	for i := 0; len(keys) < 16; i++ {
		if k := lmcacheKey(i); c.owner(cluster.KeySlot([]byte(k))) == owner {
			keys = append(keys, k)
		}
	}
	direct, forwarded := s3Client(t, owner), s3Client(t, c.nodes[1])
	if err := direct.MakeBucket(ctx, "bench", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	val := randBytes(t, size)
	for _, k := range keys {
		if _, err := direct.PutObject(ctx, "bench", k, bytes.NewReader(val), size, minio.PutObjectOptions{DisableMultipart: true}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(mc *minio.Client, put bool) float64 {
		var n atomic.Int64
		var failed atomic.Value
		stop := time.Now().Add(d)
		start := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; time.Now().Before(stop); i += workers {
					k := keys[i%len(keys)]
					if put {
						if _, err := mc.PutObject(ctx, "bench", k, bytes.NewReader(val), size, minio.PutObjectOptions{DisableMultipart: true}); err != nil {
							failed.Store(err)
							return
						}
					} else {
						o, err := mc.GetObject(ctx, "bench", k, minio.GetObjectOptions{})
						if err != nil {
							failed.Store(err)
							return
						}
						m, err := io.Copy(io.Discard, o)
						o.Close()
						if err != nil || m != size {
							failed.Store(fmt.Errorf("GET %s: %d bytes, %v", k, m, err))
							return
						}
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			t.Fatal(err)
		}
		return float64(n.Load()) * size / time.Since(start).Seconds() / 1e6
	}
	names := []string{"GET through the owner", "GET forwarded", "PUT through the owner", "PUT forwarded"}
	res := make([][]float64, 4)
	for r := range rounds {
		for i, cfg := range []struct {
			mc  *minio.Client
			put bool
		}{{direct, false}, {forwarded, false}, {direct, true}, {forwarded, true}} {
			res[i] = append(res[i], run(cfg.mc, cfg.put))
			t.Logf("round %d %-22s %6.0f MB/s", r, names[i], res[i][r])
		}
	}
	med := make([]float64, 4)
	for i := range res {
		slices.Sort(res[i])
		med[i] = res[i][len(res[i])/2]
	}
	t.Logf("S3, 8 MiB objects, %d workers, medians: GET forwarded %.0f MB/s = %.2fx through the owner (%.0f); PUT forwarded %.0f MB/s = %.2fx (%.0f)",
		workers, med[1], med[1]/med[0], med[0], med[3], med[3]/med[2], med[2])
}
