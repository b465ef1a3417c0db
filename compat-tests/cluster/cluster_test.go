package cluster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

// rawConn sends one request in RESP and returns the reply's bytes, so
// replies are compared byte for byte.
type rawConn struct {
	c  net.Conn
	rd *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, rd: bufio.NewReader(c)}
}

// do sends args and returns the first line of the reply (with "\r\n").
func (r *rawConn) do(t *testing.T, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	r.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	line, err := r.rd.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if line[0] == '$' && line != "$-1\r\n" {
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.rd, buf); err != nil {
			t.Fatal(err)
		}
		return line + string(buf)
	}
	return line
}

// keyOn returns a key (with prefix) whose slot the node serves.
func keyOn(c *testCluster, nd *node, prefix string) (string, int) {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		s := cluster.KeySlot([]byte(k))
		if c.owner(s) == nd {
			return k, s
		}
	}
}

// TestControllerSequence replays what kvrocks-controller sends to join
// nodes and checks the replies it parses.
func TestControllerSequence(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	topo := c.topology()
	for i, nd := range c.nodes {
		if v, err := nd.ctl.Do(ctx, "CLUSTERX", "VERSION").Text(); err != nil || v != "1" {
			t.Fatalf("CLUSTERX VERSION = %q, %v", v, err)
		}
		if id, err := nd.ctl.Do(ctx, "clusterx", "myid").Text(); err != nil || id != nd.id {
			t.Fatalf("CLUSTERX MYID = %q, %v", id, err)
		}
		// The same version again (a controller retry) is +OK; a lower one
		// is refused.
		if err := nd.ctl.Do(ctx, "clusterx", "setnodes", topo, 1).Err(); err != nil {
			t.Fatalf("same version: %v", err)
		}
		if err := nd.ctl.Do(ctx, "CLUSTERX", "SETNODES", topo, 0).Err(); err == nil || err.Error() != "ERR Invalid cluster version" {
			t.Fatalf("lower version: %v", err)
		}
		// CLUSTER NODES as the controller parses it (ParseCluster: at
		// least 7 fields, host:port@cport, flags with myself).
		nodes, err := nd.ctl.ClusterNodes(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(nodes, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("CLUSTER NODES: %q", nodes)
		}
		for j, line := range lines {
			f := strings.Split(line, " ")
			r := c.ranges()[j]
			want := []string{c.nodes[j].id, fmt.Sprintf("%s@%d", c.nodes[j].addr(), c.nodes[j].port+10000), "master", "-"}
			if j == i {
				want[2] = "myself,master"
			}
			if len(f) != 9 || f[0] != want[0] || f[1] != want[1] || f[2] != want[2] || f[3] != want[3] ||
				f[6] != "1" || f[7] != "connected" || f[8] != fmt.Sprintf("%d-%d", r[0], r[1]) {
				t.Fatalf("CLUSTER NODES line %d: %q", j, line)
			}
		}
		// CLUSTER SLOTS as cluster clients read it at start.
		slots, err := nd.ctl.ClusterSlots(ctx).Result()
		if err != nil || len(slots) != 3 {
			t.Fatalf("CLUSTER SLOTS: %v %v", slots, err)
		}
		for j, s := range slots {
			r := c.ranges()[j]
			if s.Start != r[0] || s.End != r[1] || len(s.Nodes) != 1 || s.Nodes[0].ID != c.nodes[j].id || s.Nodes[0].Addr != c.nodes[j].addr() {
				t.Fatalf("CLUSTER SLOTS row %d: %+v", j, s)
			}
		}
	}
	// A new version moves a range; CLUSTER INFO shows the new epoch.
	c.version = 2
	c.push(t)
}

// TestRedirects checks MOVED, CROSSSLOT and the not-served error byte for
// byte, over a plain connection.
func TestRedirects(t *testing.T) {
	c := startCluster(t, 3)
	n0 := c.nodes[0]
	rc := dialRaw(t, n0.srv.Addr())
	k1, s1 := keyOn(c, c.nodes[1], "k")
	if got, want := rc.do(t, "GET", k1), fmt.Sprintf("-MOVED %d %s\r\n", s1, c.nodes[1].addr()); got != want {
		t.Fatalf("GET on another node's slot: %q, want %q", got, want)
	}
	if got, want := rc.do(t, "SET", k1, "v"), fmt.Sprintf("-MOVED %d %s\r\n", s1, c.nodes[1].addr()); got != want {
		t.Fatalf("SET: %q, want %q", got, want)
	}
	k0, _ := keyOn(c, n0, "k")
	if got := rc.do(t, "SET", k0, "v"); got != "+OK\r\n" {
		t.Fatalf("SET on its own slot: %q", got)
	}
	if got := rc.do(t, "MSET", k0, "1", k1, "2"); got != "-CROSSSLOT Attempted to access keys that don't hash to the same slot\r\n" {
		t.Fatalf("MSET across slots: %q", got)
	}
	if got := rc.do(t, "MSET", "{"+k0+"}a", "1", "{"+k0+"}b", "2"); got != "+OK\r\n" {
		t.Fatalf("MSET with a hash tag: %q", got)
	}
	if got := rc.do(t, "CLUSTER", "KEYSLOT", k1); got != fmt.Sprintf(":%d\r\n", s1) {
		t.Fatalf("CLUSTER KEYSLOT: %q", got)
	}
	// A topology that leaves a slot unassigned: CLUSTERDOWN.
	free := c.ranges()[2][1]
	text := strings.Replace(c.topology(), fmt.Sprintf("-%d\n", free), fmt.Sprintf("-%d\n", free-1), 1)
	if got := rc.do(t, "CLUSTERX", "SETNODES", text, "5"); got != "+OK\r\n" {
		t.Fatalf("SETNODES: %q", got)
	}
	var freeKey string
	for i := 0; freeKey == ""; i++ {
		if k := "f" + strconv.Itoa(i); cluster.KeySlot([]byte(k)) == free {
			freeKey = k
		}
	}
	if got := rc.do(t, "GET", freeKey); got != "-CLUSTERDOWN Hash slot not served\r\n" {
		t.Fatalf("GET of an unserved slot: %q", got)
	}
	if got := rc.do(t, "CLUSTERX", "SETNODES", c.topology(), "4"); got != "-ERR Invalid cluster version\r\n" {
		t.Fatalf("lower version: %q", got)
	}
}

// TestGoRedisClusterClient writes and reads keys across all slots through
// go-redis's ClusterClient, then checks each key lives on its owner only.
func TestGoRedisClusterClient(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.seeds()[:1]})
	defer cc.Close()
	const n = 600
	for i := range n {
		if err := cc.Set(ctx, "gk:"+strconv.Itoa(i), "v"+strconv.Itoa(i), 0).Err(); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
	}
	// A pipeline across slots: the client splits it by node.
	cmds, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n {
			p.Get(ctx, "gk:"+strconv.Itoa(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		if v, err := cmd.(*redis.StringCmd).Result(); err != nil || v != "v"+strconv.Itoa(i) {
			t.Fatalf("GET %d = %q, %v", i, v, err)
		}
	}
	// Multi-key commands inside one slot, by hash tag.
	if err := cc.MSet(ctx, "{user}.a", "1", "{user}.b", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := cc.MGet(ctx, "{user}.a", "{user}.b").Result(); err != nil || v[0] != "1" || v[1] != "2" {
		t.Fatalf("MGET = %v, %v", v, err)
	}
	// MULTI/EXEC in one slot.
	if _, err := cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "{tx}.n")
		p.Incr(ctx, "{tx}.n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if v, err := cc.Get(ctx, "{tx}.n").Int(); err != nil || v != 2 {
		t.Fatalf("{tx}.n = %d, %v", v, err)
	}
	// Lua with its keys in one slot.
	if v, err := cc.Eval(ctx, "return redis.call('get', KEYS[1])", []string{"gk:7"}).Text(); err != nil || v != "v7" {
		t.Fatalf("EVAL = %q, %v", v, err)
	}
	// Each node holds exactly the keys of its slots.
	var total int64
	for _, nd := range c.nodes {
		size, err := nd.ctl.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		total += size
	}
	if total != n+3 {
		t.Fatalf("keys on the nodes: %d, want %d", total, n+3)
	}
	for i := range 50 {
		k := "gk:" + strconv.Itoa(i)
		owner := c.owner(cluster.KeySlot([]byte(k)))
		for _, nd := range c.nodes {
			err := nd.ctl.Get(ctx, k).Err()
			if nd == owner && err != nil || nd != owner && (err == nil || !strings.HasPrefix(err.Error(), "MOVED ")) {
				t.Fatalf("%s on %s (owner %s): %v", k, nd.addr(), owner.addr(), err)
			}
		}
	}
}

// TestTopologyChange moves slots with a new topology version: a client
// that cached the old map follows MOVED to the new owner.
func TestTopologyChange(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.seeds()})
	defer cc.Close()
	k, slot := keyOn(c, c.nodes[0], "move")
	if err := cc.Set(ctx, k, "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// CLUSTERX SETSLOT gives the slot to node 1 at version+1 on every node.
	c.version++
	for _, nd := range c.nodes {
		if err := nd.ctl.Do(ctx, "CLUSTERX", "SETSLOT", strconv.Itoa(slot), "NODE", c.nodes[1].id, c.version).Err(); err != nil {
			t.Fatalf("SETSLOT: %v", err)
		}
	}
	if err := c.nodes[0].ctl.Get(ctx, k).Err(); err == nil || err.Error() != fmt.Sprintf("MOVED %d %s", slot, c.nodes[1].addr()) {
		t.Fatalf("old owner: %v", err)
	}
	if err := cc.Set(ctx, k, "after", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.nodes[1].ctl.Get(ctx, k).Result(); err != nil || v != "after" {
		t.Fatalf("new owner: %q, %v", v, err)
	}
}

// TestRestartKeepsTopology restarts a node: it comes back with its id,
// version and slots from nodes.conf, as KVRocks with
// persist-cluster-nodes-enabled.
func TestRestartKeepsTopology(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	nd := c.nodes[1]
	nd.srv.Stop(t)
	nd.srv.Restart(t)
	if got := currentEpoch(t, nd); got != c.version {
		t.Fatalf("epoch after restart: %d", got)
	}
	if id, err := nd.ctl.Do(ctx, "CLUSTERX", "MYID").Text(); err != nil || id != nd.id {
		t.Fatalf("MYID after restart: %q, %v", id, err)
	}
	k, slot := keyOn(c, c.nodes[2], "r")
	if err := nd.ctl.Get(ctx, k).Err(); err == nil || err.Error() != fmt.Sprintf("MOVED %d %s", slot, c.nodes[2].addr()) {
		t.Fatalf("after restart: %v", err)
	}
}

// TestRedisCLI drives the cluster with `redis-cli -c`, which follows
// MOVED itself.
func TestRedisCLI(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	c := startCluster(t, 3)
	entry := c.nodes[0]
	for i, nd := range c.nodes {
		k, _ := keyOn(c, nd, "cli")
		v := "val" + strconv.Itoa(i)
		out, err := exec.Command(cli, "-c", "-h", entry.host, "-p", strconv.Itoa(entry.port), "SET", k, v).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "OK" {
			t.Fatalf("redis-cli -c SET %s: %q, %v", k, out, err)
		}
		out, err = exec.Command(cli, "-c", "-h", entry.host, "-p", strconv.Itoa(entry.port), "GET", k).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != v {
			t.Fatalf("redis-cli -c GET %s: %q, %v", k, out, err)
		}
		// Without -c, redis-cli shows the redirection.
		if nd != entry {
			out, _ = exec.Command(cli, "-h", entry.host, "-p", strconv.Itoa(entry.port), "GET", k).CombinedOutput()
			if !strings.Contains(string(out), "MOVED "+strconv.Itoa(cluster.KeySlot([]byte(k)))+" "+nd.addr()) {
				t.Fatalf("redis-cli GET without -c: %q", out)
			}
		}
	}
	out, err := exec.Command(cli, "-h", entry.host, "-p", strconv.Itoa(entry.port), "CLUSTER", "INFO").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cluster_state:ok") || !strings.Contains(string(out), "cluster_known_nodes:3") {
		t.Fatalf("redis-cli CLUSTER INFO: %q, %v", out, err)
	}
}

// TestReplicationRefused: a cluster node's configuration naming a master
// stops start-up with a message saying replication is not supported.
func TestReplicationRefused(t *testing.T) {
	bin, err := internal.Binary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(internal.FreePort(t)), "--dir", t.TempDir(),
		"--cluster-enabled", "yes", "--slaveof", "127.0.0.1 6379")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("gpucache with slaveof: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "replication is not supported") {
		t.Fatalf("no clear message: %s", out)
	}
}

// TestLargeValues: LMCache-sized values (32 MiB) go to their owner through
// the ClusterClient; one sent to the wrong node is answered MOVED without
// storing it, and the connection goes on.
func TestLargeValues(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.seeds()[:1], ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	defer cc.Close()
	val := make([]byte, 32<<20)
	for i := range val {
		val[i] = byte(i * 7)
	}
	var keys []string
	for _, nd := range c.nodes {
		k, _ := keyOn(c, nd, "Qwen3-8B@00000000@")
		keys = append(keys, k)
		if err := cc.Set(ctx, k, val, 0).Err(); err != nil {
			t.Fatalf("SET 32 MiB: %v", err)
		}
	}
	for i, k := range keys {
		got, err := cc.Get(ctx, k).Bytes()
		if err != nil || len(got) != len(val) || got[12345] != val[12345] || got[len(got)-1] != val[len(val)-1] {
			t.Fatalf("GET %s: %d bytes, %v", k, len(got), err)
		}
		if n, err := c.nodes[i].ctl.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Fatalf("%s not on its owner: %d %v", k, n, err)
		}
	}
	rc := dialRaw(t, c.nodes[0].srv.Addr())
	k1, s1 := keyOn(c, c.nodes[1], "big")
	if got, want := rc.do(t, "SET", k1, string(val)), fmt.Sprintf("-MOVED %d %s\r\n", s1, c.nodes[1].addr()); got != want {
		t.Fatalf("large SET on the wrong node: %q", got)
	}
	if got := rc.do(t, "PING"); got != "+PONG\r\n" {
		t.Fatalf("after a refused large SET: %q", got)
	}
	if n, err := c.nodes[0].ctl.DBSize(ctx).Result(); err != nil || n != 1 {
		t.Fatalf("keys on node 0: %d %v", n, err)
	}
}
