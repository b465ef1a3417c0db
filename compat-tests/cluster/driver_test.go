package cluster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// node is one gpucache process of a test cluster and what the controller
// knows of it.
type node struct {
	srv  *internal.Server
	id   string // 40 hex characters, as the controller generates them
	host string
	port int
	// ctl is the controller's connection: RESP2, no HELLO, no retries,
	// as kvrocks-controller's go-redis client.
	ctl *redis.Client
}

func (n *node) addr() string { return n.host + ":" + strconv.Itoa(n.port) }

// testCluster is three masters splitting the slots as the controller's
// `create cluster` does (equal ranges in node order).
type testCluster struct {
	nodes   []*node
	version int64
}

// startCluster starts n gpucache processes with cluster-enabled yes and
// joins them as kvrocks-controller does.
func startCluster(t *testing.T, n int, extra ...string) *testCluster {
	t.Helper()
	c := &testCluster{}
	for range n {
		args := append([]string{"--cluster-enabled", "yes", "--dram-cache-size", "64mb", "--nvme-capacity", "256mb"}, extra...)
		srv := internal.Start(t, internal.Options{Args: args})
		host, port, _ := strings.Cut(srv.Addr(), ":")
		p, _ := strconv.Atoi(port)
		nd := &node{srv: srv, id: newNodeID(t), host: host, port: p}
		nd.ctl = redis.NewClient(&redis.Options{
			Addr: srv.Addr(), Protocol: 2, DisableIdentity: true,
			DialTimeout: 3200 * time.Millisecond, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
			MaxRetries: -1,
		})
		t.Cleanup(func() { nd.ctl.Close() })
		c.nodes = append(c.nodes, nd)
	}
	ctx := context.Background()
	// The controller first checks that each node is in cluster mode and
	// not yet part of a cluster: CLUSTER INFO answers the not-initialized
	// error.
	for _, nd := range c.nodes {
		err := nd.ctl.ClusterInfo(ctx).Err()
		if err == nil || !strings.Contains(err.Error(), "cluster is not initialized") {
			t.Fatalf("CLUSTER INFO before the topology: %v", err)
		}
	}
	c.version = 1
	c.push(t)
	return c
}

// newNodeID is a random 40-hex-character node id.
func newNodeID(t *testing.T) string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// ranges splits the slots into len(c.nodes) equal runs, the last taking
// the remainder.
func (c *testCluster) ranges() [][2]int {
	per := 16384 / len(c.nodes)
	var out [][2]int
	for i := range c.nodes {
		end := (i+1)*per - 1
		if i == len(c.nodes)-1 {
			end = 16383
		}
		out = append(out, [2]int{i * per, end})
	}
	return out
}

// topology is the SETNODES text the controller builds (Shard.ToSlotsString):
// "<id> <host> <port> master - <a-b>\n" per shard.
func (c *testCluster) topology() string {
	var b strings.Builder
	for i, r := range c.ranges() {
		nd := c.nodes[i]
		fmt.Fprintf(&b, "%s %s %d master - %d-%d\n", nd.id, nd.host, nd.port, r[0], r[1])
	}
	return b.String()
}

// push sends the topology to every node as the controller's
// SyncClusterInfo does, then polls CLUSTER INFO until each reports the
// version.
func (c *testCluster) push(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	topo := c.topology()
	for _, nd := range c.nodes {
		if err := nd.ctl.Do(ctx, "CLUSTERX", "SETNODEID", nd.id).Err(); err != nil {
			t.Fatalf("CLUSTERX SETNODEID: %v", err)
		}
		if err := nd.ctl.Do(ctx, "CLUSTERX", "SETNODES", topo, c.version).Err(); err != nil {
			t.Fatalf("CLUSTERX SETNODES: %v", err)
		}
	}
	for _, nd := range c.nodes {
		if got := currentEpoch(t, nd); got != c.version {
			t.Fatalf("%s: cluster_current_epoch %d, want %d", nd.addr(), got, c.version)
		}
	}
}

// currentEpoch reads cluster_current_epoch from CLUSTER INFO the way the
// controller's GetClusterInfo parses it.
func currentEpoch(t *testing.T, nd *node) int64 {
	t.Helper()
	info, err := nd.ctl.ClusterInfo(context.Background()).Result()
	if err != nil {
		t.Fatalf("CLUSTER INFO: %v", err)
	}
	epoch := int64(-1)
	for _, line := range strings.Split(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && k == "cluster_current_epoch" {
			epoch, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return epoch
}

// owner is the node serving slot.
func (c *testCluster) owner(slot int) *node {
	for i, r := range c.ranges() {
		if r[0] <= slot && slot <= r[1] {
			return c.nodes[i]
		}
	}
	return nil
}

func (c *testCluster) seeds() []string {
	var out []string
	for _, nd := range c.nodes {
		out = append(out, nd.addr())
	}
	return out
}
