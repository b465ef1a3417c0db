package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/compat-tests/internal"
)

// Slot migration between real gpucache processes, driven as
// kvrocks-controller drives it: CLUSTERX SETNODEID and SETNODES to every
// node, CLUSTERX MIGRATE to the source, CLUSTER INFO polled until
// migrating_state says how it ended, then the topology with the slot on
// its new owner.

// migNode is one node of a test cluster.
type migNode struct {
	srv  *internal.Server
	id   string
	port int
	pass string
	rdb  *redis.Client
}

func startMigNodes(t testing.TB, n int) []*migNode {
	return startMigNodesPass(t, n, "")
}

// startMigNodesPass starts n nodes; with pass, each requires it.
func startMigNodesPass(t testing.TB, n int, pass string) []*migNode {
	t.Helper()
	nodes := make([]*migNode, n)
	for i := range nodes {
		args := []string{"--cluster-enabled", "yes"}
		if pass != "" {
			args = append(args, "--requirepass", pass)
		}
		srv := internal.Start(t, internal.Options{Args: args, Password: pass})
		_, p, _ := net.SplitHostPort(srv.Addr())
		port, _ := strconv.Atoi(p)
		nodes[i] = &migNode{srv: srv, id: fmt.Sprintf("%040x", 0xabc0+i), port: port, pass: pass}
		nodes[i].connect(t)
	}
	return nodes
}

func (n *migNode) connect(t testing.TB) {
	_, p, _ := net.SplitHostPort(n.srv.Addr())
	n.port, _ = strconv.Atoi(p)
	// As kvrocks-controller's client: RESP2, no HELLO, no retries.
	n.rdb = redis.NewClient(&redis.Options{Addr: n.srv.Addr(), Password: n.pass, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	t.Cleanup(func() { n.rdb.Close() })
}

// setTopology pushes a topology at version to every live node: owners
// maps each node index to its slot ranges ("a-b" or "a").
func setTopology(t testing.TB, nodes []*migNode, version int, owners map[int][]string) {
	t.Helper()
	var text strings.Builder
	for i, n := range nodes {
		fmt.Fprintf(&text, "%s 127.0.0.1 %d master -", n.id, n.port)
		for _, r := range owners[i] {
			text.WriteString(" " + r)
		}
		text.WriteString("\n")
	}
	ctx := context.Background()
	for _, n := range nodes {
		if exited, _ := n.srv.Exited(); exited {
			continue
		}
		if err := n.rdb.Do(ctx, "CLUSTERX", "SETNODEID", n.id).Err(); err != nil {
			t.Fatalf("SETNODEID: %v", err)
		}
		if err := n.rdb.Do(ctx, "CLUSTERX", "SETNODES", text.String(), version).Err(); err != nil {
			t.Fatalf("SETNODES: %v", err)
		}
	}
}

// clusterInfo returns the fields of CLUSTER INFO.
func clusterInfo(t testing.TB, n *migNode) map[string]string {
	t.Helper()
	s, err := n.rdb.Do(context.Background(), "CLUSTER", "INFO").Text()
	if err != nil {
		t.Fatalf("CLUSTER INFO: %v", err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// waitInfo polls CLUSTER INFO (as the controller does) until field has
// one of the values, and returns it.
func waitInfo(t testing.TB, n *migNode, field string, values ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := clusterInfo(t, n)[field]
		for _, v := range values {
			if got == v {
				return got
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("CLUSTER INFO %s = %q after 30 s, want one of %q\n%v", field, got, values, clusterInfo(t, n))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countKeys(t testing.TB, n *migNode, slot int) int64 {
	t.Helper()
	c, err := n.rdb.Do(context.Background(), "CLUSTER", "COUNTKEYSINSLOT", slot).Int64()
	if err != nil {
		t.Fatalf("COUNTKEYSINSLOT: %v", err)
	}
	return c
}

// waitCount waits until the node holds want keys of slot (deletions run
// in the background).
func waitCount(t testing.TB, n *migNode, slot int, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := countKeys(t, n, slot)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("COUNTKEYSINSLOT %d = %d, want %d", slot, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The hash tag every key of the tests shares: one slot.
const tag = "{mig}"

var tagSlot = cluster.KeySlot([]byte(tag))

// fillSlot writes keys of every type into the slot on n and returns what
// a check needs: the string keys with their values.
func fillSlot(t testing.TB, n *migNode, small, large int, largeSize int) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	want := map[string][]byte{}
	pipe := n.rdb.Pipeline()
	for i := range small {
		k := fmt.Sprintf("%s:s:%d", tag, i)
		v := []byte(fmt.Sprintf("value-%d", i))
		want[k] = v
		pipe.Set(ctx, k, v, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range large {
		k := fmt.Sprintf("%s:big:%d", tag, i)
		v := bytes.Repeat([]byte{byte('a' + i%26), byte(i)}, largeSize/2)
		want[k] = v
		if err := n.rdb.Set(ctx, k, v, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n.rdb.HSet(ctx, tag+":hash", "f1", "v1", "f2", "v2").Err())
	must(n.rdb.RPush(ctx, tag+":list", "a", "b", "c").Err())
	must(n.rdb.SAdd(ctx, tag+":set", "x", "y").Err())
	must(n.rdb.ZAdd(ctx, tag+":zset", redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: -2, Member: "m2"}).Err())
	must(n.rdb.XAdd(ctx, &redis.XAddArgs{Stream: tag + ":stream", ID: "5-1", Values: []string{"k", "v"}}).Err())
	must(n.rdb.XGroupCreate(ctx, tag+":stream", "g", "0").Err())
	must(n.rdb.SetBit(ctx, tag+":bits", 100, 1).Err())
	must(n.rdb.PFAdd(ctx, tag+":hll", "a", "b", "c").Err())
	must(n.rdb.Expire(ctx, tag+":hash", time.Hour).Err())
	return want
}

// typedKeys is the number of keys fillSlot writes besides strings.
const typedKeys = 7

// checkTypes checks the collections fillSlot wrote, on n.
func checkTypes(t testing.TB, n *migNode) {
	t.Helper()
	ctx := context.Background()
	if h, err := n.rdb.HGetAll(ctx, tag+":hash").Result(); err != nil || h["f1"] != "v1" || h["f2"] != "v2" || len(h) != 2 {
		t.Errorf("hash: %v %v", h, err)
	}
	if ttl, err := n.rdb.PTTL(ctx, tag+":hash").Result(); err != nil || ttl <= 0 {
		t.Errorf("hash TTL lost: %v %v", ttl, err)
	}
	if l, err := n.rdb.LRange(ctx, tag+":list", 0, -1).Result(); err != nil || strings.Join(l, ",") != "a,b,c" {
		t.Errorf("list: %v %v", l, err)
	}
	if ok, err := n.rdb.SIsMember(ctx, tag+":set", "y").Result(); err != nil || !ok {
		t.Errorf("set: %v %v", ok, err)
	}
	if z, err := n.rdb.ZRangeWithScores(ctx, tag+":zset", 0, -1).Result(); err != nil || len(z) != 2 || z[0].Member != "m2" || z[1].Score != 1.5 {
		t.Errorf("zset: %v %v", z, err)
	}
	if xs, err := n.rdb.XRange(ctx, tag+":stream", "-", "+").Result(); err != nil || len(xs) != 1 || xs[0].ID != "5-1" {
		t.Errorf("stream: %v %v", xs, err)
	}
	if g, err := n.rdb.XInfoGroups(ctx, tag+":stream").Result(); err != nil || len(g) != 1 || g[0].Name != "g" {
		t.Errorf("stream groups: %v %v", g, err)
	}
	if b, err := n.rdb.GetBit(ctx, tag+":bits", 100).Result(); err != nil || b != 1 {
		t.Errorf("bitmap: %v %v", b, err)
	}
	if c, err := n.rdb.PFCount(ctx, tag+":hll").Result(); err != nil || c != 3 {
		t.Errorf("hyperloglog: %v %v", c, err)
	}
}

func checkStrings(t testing.TB, n *migNode, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	bad := 0
	for k, v := range want {
		got, err := n.rdb.Get(ctx, k).Bytes()
		if err != nil || !bytes.Equal(got, v) {
			if bad++; bad < 5 {
				t.Errorf("%s on %s: %d bytes, %v; want %d bytes", k, n.id[36:], len(got), err, len(v))
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d keys wrong", bad, len(want))
	}
}

// TestMigrateUnderWriteLoad moves a slot holding every type and large
// values while go-redis cluster clients write to it, and checks that
// every acknowledged write is on the new owner afterwards.
func TestMigrateUnderWriteLoad(t *testing.T) {
	nodes := startMigNodes(t, 3)
	src, dst := nodes[0], nodes[1]
	setTopology(t, nodes, 1, map[int][]string{0: {"8001-16383"}, 1: {"0-8000"}})
	if tagSlot <= 8001 || tagSlot >= 16383 {
		t.Fatalf("the test assumes slot %d is on the first node", tagSlot)
	}
	want := fillSlot(t, src, 3000, 3, 6<<20)

	ctx := context.Background()
	if n := countKeys(t, src, tagSlot); n != int64(len(want))+typedKeys {
		t.Fatalf("COUNTKEYSINSLOT before = %d, want %d", n, len(want)+typedKeys)
	}
	keys, err := src.rdb.Do(ctx, "CLUSTER", "GETKEYSINSLOT", tagSlot, 5).StringSlice()
	if err != nil || len(keys) != 5 {
		t.Fatalf("GETKEYSINSLOT: %v %v", keys, err)
	}

	// Writers through go-redis ClusterClient: they follow MOVED and retry
	// TRYAGAIN, as applications do.
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{src.srv.Addr()}, Protocol: 2,
		MaxRedirects: 16, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond,
	})
	defer cc.Close()
	var (
		mu       sync.Mutex
		acked    = map[string]string{}
		incrs    atomic.Int64 // acknowledged INCRs
		tries    atomic.Int64 // INCRs sent
		pushes   atomic.Int64
		stop     atomic.Bool
		werr     atomic.Value
		wg       sync.WaitGroup
		progress = make(chan struct{}, 1)
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("%s:w%d:%d", tag, w, i%500)
				v := fmt.Sprintf("%d-%d", w, i)
				if err := cc.Set(ctx, k, v, 0).Err(); err != nil {
					werr.Store(fmt.Errorf("SET %s: %w", k, err))
					return
				}
				mu.Lock()
				acked[k] = v
				mu.Unlock()
				tries.Add(1)
				if err := cc.Incr(ctx, tag+":ctr").Err(); err != nil {
					werr.Store(fmt.Errorf("INCR: %w", err))
					return
				}
				incrs.Add(1)
				if err := cc.RPush(ctx, tag+":log", v).Err(); err != nil {
					werr.Store(fmt.Errorf("RPUSH: %w", err))
					return
				}
				pushes.Add(1)
				// Overwrites of the snapshot's keys (each writer its own).
				if i%7 == 0 {
					k := fmt.Sprintf("%s:s:%d", tag, w*750+i%750)
					if err := cc.Set(ctx, k, v, 0).Err(); err != nil {
						werr.Store(err)
						return
					}
					mu.Lock()
					acked[k] = v
					mu.Unlock()
				}
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}()
	}
	<-progress // the load runs before the migration starts

	if err := src.rdb.Do(ctx, "CLUSTERX", "MIGRATE", tagSlot, dst.id).Err(); err != nil {
		t.Fatalf("CLUSTERX MIGRATE: %v", err)
	}
	info := clusterInfo(t, src)
	if info["migrating_slot"] != strconv.Itoa(tagSlot) || info["destination_node"] != dst.id {
		t.Errorf("CLUSTER INFO during the migration: %v", info)
	}
	if got := waitInfo(t, src, "migrating_state", "success", "fail"); got != "success" {
		t.Fatalf("migration ended %q: %v", got, clusterInfo(t, src))
	}
	if got := clusterInfo(t, dst); got["importing_slot"] != strconv.Itoa(tagSlot) || got["import_state"] != "success" {
		t.Errorf("target CLUSTER INFO: %v", got)
	}
	// The source answers MOVED for the slot before the topology changes.
	if err := src.rdb.Get(ctx, tag+":ctr").Err(); err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("MOVED %d 127.0.0.1:%d", tagSlot, dst.port)) {
		t.Errorf("GET on the source after the move: %v", err)
	}
	// The controller's part: the new topology, slot on the target.
	ranges0 := []string{fmt.Sprintf("8001-%d", tagSlot-1), fmt.Sprintf("%d-16383", tagSlot+1)}
	setTopology(t, nodes, 2, map[int][]string{0: ranges0, 1: {"0-8000", strconv.Itoa(tagSlot)}})
	// Writes go on against the new owner for a moment.
	for range 20 {
		<-progress
	}
	stop.Store(true)
	wg.Wait()
	if err, _ := werr.Load().(error); err != nil {
		t.Fatalf("a writer failed: %v", err)
	}

	// Every acknowledged write is on the target.
	for k, v := range acked {
		want[k] = []byte(v)
	}
	checkStrings(t, dst, want)
	checkTypes(t, dst)
	if ttl, err := dst.rdb.PTTL(ctx, tag+":big:0").Result(); err != nil || ttl <= 0 {
		t.Errorf("a large value's TTL: %v %v", ttl, err)
	}
	ctr, err := dst.rdb.Get(ctx, tag+":ctr").Int64()
	if err != nil || ctr < incrs.Load() || ctr > tries.Load() {
		t.Errorf("counter = %d (%v); acknowledged INCRs %d, sent %d", ctr, err, incrs.Load(), tries.Load())
	}
	if n, err := dst.rdb.LLen(ctx, tag+":log").Result(); err != nil || n < pushes.Load() {
		t.Errorf("log length = %d (%v), acknowledged RPUSHes %d", n, err, pushes.Load())
	}
	// The source dropped its copy once the topology said so.
	waitCount(t, src, tagSlot, 0)
	if n := countKeys(t, dst, tagSlot); n < int64(len(want))+typedKeys {
		t.Errorf("target holds %d keys of the slot, want at least %d", n, len(want)+typedKeys)
	}
	t.Logf("%d keys acknowledged during the migration, %d INCRs", len(acked), incrs.Load())
	logMigration(t, src)
}

// TestMigrateNodeKilled kills the target, then the source, in the middle
// of a migration: the source keeps serving the slot with all its keys, the
// target drops what it received, and a later migration succeeds.
func TestMigrateNodeKilled(t *testing.T) {
	nodes := startMigNodes(t, 2)
	src, dst := nodes[0], nodes[1]
	setTopology(t, nodes, 1, map[int][]string{0: {"0-16383"}})
	// Enough large values that the move takes a while.
	want := fillSlot(t, src, 200, 24, 4<<20)
	total := int64(len(want)) + typedKeys
	ctx := context.Background()

	// 1. The target dies mid-way.
	if err := src.rdb.Do(ctx, "CLUSTERX", "MIGRATE", tagSlot, dst.id).Err(); err != nil {
		t.Fatal(err)
	}
	waitPartial(t, dst, total)
	dst.srv.Kill(t)
	if got := waitInfo(t, src, "migrating_state", "success", "fail"); got != "fail" {
		t.Fatalf("migration to a killed node ended %q", got)
	}
	// The source serves the slot, writes included, with every key.
	if err := src.rdb.Set(ctx, tag+":after", "1", 0).Err(); err != nil {
		t.Fatalf("write to the slot after a failed migration: %v", err)
	}
	want[tag+":after"] = []byte("1")
	total++
	checkStrings(t, src, want)
	checkTypes(t, src)
	dst.srv.Restart(t)
	dst.connect(t)

	// 2. The source dies mid-way: the target drops what it received.
	if err := src.rdb.Do(ctx, "CLUSTERX", "MIGRATE", tagSlot, dst.id).Err(); err != nil {
		t.Fatal(err)
	}
	waitPartial(t, dst, total)
	src.srv.Kill(t)
	if got := waitInfo(t, dst, "import_state", "error", "success"); got != "error" {
		t.Fatalf("import from a killed node ended %q", got)
	}
	if n := countKeys(t, dst, tagSlot); n != 0 {
		t.Fatalf("target kept %d keys of a failed import", n)
	}
	src.srv.Restart(t)
	src.connect(t)
	// Both restarted nodes keep the topology they had (nodes file), or
	// get it again from the controller.
	setTopology(t, nodes, 1, map[int][]string{0: {"0-16383"}})
	checkStrings(t, src, want)
	checkTypes(t, src)

	// 3. A migration now succeeds, over the keys the first attempt left
	// on the target: a range of slots, as kvrocks-controller may send.
	moved := fmt.Sprintf("%d-%d", tagSlot, tagSlot+2)
	if err := src.rdb.Do(ctx, "CLUSTERX", "MIGRATE", moved, dst.id, "SYNC", 30).Err(); err != nil {
		t.Fatalf("CLUSTERX MIGRATE SYNC: %v", err)
	}
	if got := clusterInfo(t, src); got["migrating_state"] != "success" || got["migrating_slot"] != moved {
		t.Fatalf("CLUSTER INFO after SYNC: %v", got)
	}
	r := []string{fmt.Sprintf("0-%d", tagSlot-1), fmt.Sprintf("%d-16383", tagSlot+3)}
	setTopology(t, nodes, 2, map[int][]string{0: r, 1: {moved}})
	if n := countKeys(t, dst, tagSlot); n != total {
		t.Fatalf("target holds %d keys of the slot, want %d", n, total)
	}
	checkStrings(t, dst, want)
	checkTypes(t, dst)
	waitCount(t, src, tagSlot, 0)
}

// logMigration logs the source's account of its migrations.
func logMigration(t testing.TB, n *migNode) {
	for _, line := range strings.Split(n.srv.Log(), "\n") {
		if strings.Contains(line, "migrate: slot") {
			t.Log(line[strings.Index(line, "migrate:"):])
		}
	}
}

// waitPartial waits until the target imports the slot and has received
// some but not all of its keys.
func waitPartial(t testing.TB, n *migNode, total int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if clusterInfo(t, n)["import_state"] != "start" {
			// Keys left by an earlier attempt go when the import starts.
			time.Sleep(2 * time.Millisecond)
			continue
		}
		c, err := n.rdb.Do(context.Background(), "CLUSTER", "COUNTKEYSINSLOT", tagSlot).Int64()
		if err == nil && c > 0 {
			if c >= total {
				t.Fatalf("the migration finished (%d keys) before the node could be killed", c)
			}
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the target received nothing in 20 s")
}

// TestMigrateWithPassword: with requirepass, the source authenticates on
// the target with its own password, as KVRocks does.
func TestMigrateWithPassword(t *testing.T) {
	nodes := startMigNodesPass(t, 2, "s3cret")
	src, dst := nodes[0], nodes[1]
	setTopology(t, nodes, 1, map[int][]string{0: {"0-16383"}})
	want := fillSlot(t, src, 100, 1, 1<<20)
	if err := src.rdb.Do(context.Background(), "CLUSTERX", "MIGRATE", tagSlot, dst.id, "SYNC").Err(); err != nil {
		t.Fatalf("CLUSTERX MIGRATE SYNC: %v", err)
	}
	checkStrings(t, dst, want)
	checkTypes(t, dst)
}

// TestMigrateLargeCollection: collections whose images are larger than
// the target's proto-max-bulk-len (1 MiB here; 512 MiB by default) move
// whole: the source sends an image in parts and the target applies the
// key once the last part is in. 60,000 fields and members a key (25,000
// under -short, the run against a -race server).
func TestMigrateLargeCollection(t *testing.T) {
	var nodes []*migNode
	for i, args := range [][]string{nil, {"--proto-max-bulk-len", "1048576"}} {
		srv := internal.Start(t, internal.Options{Args: append([]string{"--cluster-enabled", "yes"}, args...)})
		n := &migNode{srv: srv, id: fmt.Sprintf("%040x", 0xbee0+i)}
		n.connect(t)
		nodes = append(nodes, n)
	}
	src, dst := nodes[0], nodes[1]
	setTopology(t, nodes, 1, map[int][]string{0: {"0-16383"}})
	ctx := context.Background()
	// NB: generous timeouts: against a server built with -race a
	// 1000-field command or a 60,000-field reply takes seconds.
	slow := func(n *migNode) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: n.srv.Addr(), Protocol: 2, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
		t.Cleanup(func() { c.Close() })
		return c
	}
	srcC, dstC := slow(src), slow(dst)
	fields := 60000 // about 3.5 MiB of image per key
	if testing.Short() {
		fields = 25000 // about 1.4 MiB: two parts
	}
	for i := 0; i < fields; i += 1000 {
		args := []any{}
		var zs []redis.Z
		for j := i; j < i+1000; j++ {
			args = append(args, fmt.Sprintf("field-%06d", j), fmt.Sprintf("value-%06d-%s", j, strings.Repeat("v", 32)))
			zs = append(zs, redis.Z{Score: float64(j) / 3, Member: fmt.Sprintf("member-%06d-%s", j, strings.Repeat("m", 24))})
		}
		if err := srcC.HSet(ctx, tag+":bighash", args...).Err(); err != nil {
			t.Fatal(err)
		}
		if err := srcC.ZAdd(ctx, tag+":bigzset", zs...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := srcC.Set(ctx, tag+":small", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// The target refuses a bulk string over its limit, as a whole image
	// would be.
	if err := dst.rdb.Set(ctx, "{other}big", strings.Repeat("x", 2<<20), 0).Err(); err == nil {
		t.Fatal("the target took a 2 MiB value past proto-max-bulk-len 1 MiB")
	}
	if err := srcC.Do(ctx, "CLUSTERX", "MIGRATE", tagSlot, dst.id, "SYNC").Err(); err != nil {
		t.Fatalf("CLUSTERX MIGRATE SYNC: %v", err)
	}
	setTopology(t, nodes, 2, map[int][]string{1: {"0-16383"}})
	h, err := dstC.HGetAll(ctx, tag+":bighash").Result()
	if err != nil || len(h) != fields {
		t.Fatalf("the hash on the target: %d fields, %v", len(h), err)
	}
	for _, j := range []int{0, 1, fields / 2, fields - 1} {
		if v := h[fmt.Sprintf("field-%06d", j)]; v != fmt.Sprintf("value-%06d-%s", j, strings.Repeat("v", 32)) {
			t.Fatalf("field %d: %q", j, v)
		}
	}
	z, err := dstC.ZRangeWithScores(ctx, tag+":bigzset", 0, -1).Result()
	if err != nil || len(z) != fields {
		t.Fatalf("the sorted set on the target: %d members, %v", len(z), err)
	}
	for j, m := range z {
		if m.Member != fmt.Sprintf("member-%06d-%s", j, strings.Repeat("m", 24)) || m.Score != float64(j)/3 {
			t.Fatalf("member %d: %v", j, m)
		}
	}
	if v, err := dst.rdb.Get(ctx, tag+":small").Result(); err != nil || v != "v" {
		t.Fatalf("the string on the target: %q %v", v, err)
	}
	waitCount(t, src, tagSlot, 0)
}

// TestMigrateBlockedClients: clients blocked on keys of a slot (BLPOP,
// BZPOPMIN, XREAD BLOCK) when the slot moves are answered MOVED to the
// new owner, as Redis answers them, and a client blocked on another
// slot keeps waiting and is served there.
func TestMigrateBlockedClients(t *testing.T) {
	nodes := startMigNodes(t, 2)
	src, dst := nodes[0], nodes[1]
	setTopology(t, nodes, 1, map[int][]string{0: {"0-16383"}})
	ctx := context.Background()
	if err := src.rdb.Set(ctx, tag+":s", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	other := "{other}q"
	type answer struct {
		cmd string
		err error
	}
	answers := make(chan answer, 4)
	block := func(args ...any) {
		// One connection each: a blocked client holds its connection.
		c := redis.NewClient(&redis.Options{Addr: src.srv.Addr(), Protocol: 2, MaxRetries: -1, ReadTimeout: -1})
		t.Cleanup(func() { c.Close() })
		go func() {
			err := c.Do(ctx, args...).Err()
			answers <- answer{fmt.Sprint(args[0]), err}
		}()
	}
	block("BLPOP", tag+":q", 0)
	block("BZPOPMIN", tag+":z", 0)
	block("XREAD", "BLOCK", 0, "STREAMS", tag+":x", "$")
	block("BLPOP", other, 0)
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := src.rdb.Info(ctx, "clients").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "blocked_clients:4") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the clients did not block:\n%s", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := src.rdb.Do(ctx, "CLUSTERX", "MIGRATE", tagSlot, dst.id, "SYNC").Err(); err != nil {
		t.Fatalf("CLUSTERX MIGRATE SYNC: %v", err)
	}
	want := fmt.Sprintf("MOVED %d 127.0.0.1:%d", tagSlot, dst.port)
	for range 3 {
		select {
		case a := <-answers:
			if a.err == nil || a.err.Error() != want {
				t.Errorf("%s blocked on the moved slot: %v, want %q", a.cmd, a.err, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a client blocked on the moved slot was not answered")
		}
	}
	if err := src.rdb.RPush(ctx, other, "x").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-answers:
		if a.cmd != "BLPOP" || a.err != nil {
			t.Fatalf("the client blocked on another slot: %s %v", a.cmd, a.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the client blocked on another slot was not served")
	}
	if v, err := dst.rdb.Get(ctx, tag+":s").Result(); err != nil || v != "v" {
		t.Fatalf("the migrated key on the new owner: %q %v", v, err)
	}
}

// TestMigrateErrors checks CLUSTERX MIGRATE's and the slot commands'
// refusals, KVRocks's and Redis's texts.
func TestMigrateErrors(t *testing.T) {
	nodes := startMigNodes(t, 2)
	setTopology(t, nodes, 1, map[int][]string{0: {"0-100"}, 1: {"101-16383"}})
	ctx := context.Background()
	a := nodes[0]
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"CLUSTERX", "MIGRATE", 5, strings.Repeat("f", 40)}, "ERR Can't find the destination node id"},
		{[]any{"CLUSTERX", "MIGRATE", 200, nodes[1].id}, "ERR Can't migrate slot which doesn't belong to me"},
		{[]any{"CLUSTERX", "MIGRATE", 5, a.id}, "ERR Can't migrate slot to myself"},
		{[]any{"CLUSTERX", "MIGRATE", 16384, nodes[1].id}, "ERR Slot is out of range"},
		{[]any{"CLUSTERX", "MIGRATE", 5, nodes[1].id, "sometimes"}, "ERR Invalid sync flag"},
		{[]any{"CLUSTERX", "MIGRATE", 5, nodes[1].id, "async", 3}, "ERR Async migration does not support timeout"},
		{[]any{"CLUSTER", "IMPORT", 5, 0}, "ERR Can't import slot which belongs to me"},
		{[]any{"CLUSTER", "IMPORT", 500, 7}, "ERR Invalid import state"},
		{[]any{"CLUSTER", "COUNTKEYSINSLOT", 16384}, "ERR Invalid slot"},
		{[]any{"CLUSTER", "COUNTKEYSINSLOT", "x"}, "ERR value is not an integer or out of range"},
		{[]any{"CLUSTER", "GETKEYSINSLOT", 5, -1}, "ERR Invalid slot or number of keys"},
		{[]any{"CLUSTER", "IMPORTKEY", "k", "junk"}, "ERR the connection is not importing the slot of this key"},
		{[]any{"CLUSTER", "IMPORTKEY", "k", "junk", "MORE"}, "ERR the connection is not importing the slot of this key"},
		{[]any{"CLUSTER", "IMPORTKEY", "k", "junk", "LESS"}, "ERR wrong number of arguments"},
	} {
		err := a.rdb.Do(ctx, c.args...).Err()
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	if n, err := a.rdb.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", 5).Int64(); err != nil || n != 0 {
		t.Errorf("COUNTKEYSINSLOT of an empty slot: %v %v", n, err)
	}
	if v, err := a.rdb.Do(ctx, "CLUSTER", "GETKEYSINSLOT", 5, 10).StringSlice(); err != nil || len(v) != 0 {
		t.Errorf("GETKEYSINSLOT of an empty slot: %v %v", v, err)
	}
}

// BenchmarkMigrate measures a migration's throughput (small keys per
// second, large values in MB/s) against the raw loopback TCP rate
// measured in the same run.
func BenchmarkMigrate(b *testing.B) {
	for _, c := range []struct {
		name         string
		small, large int
		size         int
	}{{"small", 20000, 0, 0}, {"large", 0, 24, 8 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				nodes := startMigNodes(b, 2)
				setTopology(b, nodes, 1, map[int][]string{0: {"0-16383"}})
				fillAt := time.Now()
				fillSlot(b, nodes[0], c.small, c.large, c.size)
				fill := time.Since(fillAt).Seconds()
				raw := 0.0
				for range 3 {
					raw = max(raw, loopbackRate(b, 256<<20))
				}
				b.StartTimer()
				start := time.Now()
				if err := nodes[0].rdb.Do(context.Background(), "CLUSTERX", "MIGRATE", tagSlot, nodes[1].id, "SYNC").Err(); err != nil {
					b.Fatal(err)
				}
				el := time.Since(start).Seconds()
				b.StopTimer()
				// Peers measured in the same run: the raw loopback TCP rate,
				// and the same data written by a go-redis client (pipelined
				// SETs for small keys, one SET at a time for large values).
				if c.small > 0 {
					b.ReportMetric(float64(c.small)/el, "keys/s")
					b.ReportMetric(fill/el, "x-client-SET")
				}
				if c.large > 0 {
					mbs := float64(c.large*c.size) / el / 1e6
					b.ReportMetric(mbs, "MB/s")
					b.ReportMetric(raw/1e6, "tcp-MB/s")
					b.ReportMetric(mbs*1e6/raw, "x-tcp")
					b.ReportMetric(fill/el, "x-client-SET")
				}
			}
		})
	}
}

// loopbackRate is the bytes per second one TCP connection moves over
// loopback here (a Go writer and reader, 1 MiB writes); BenchmarkMigrate
// takes the best of three, next to each migration.
func loopbackRate(b *testing.B, n int64) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(io.Discard, c)
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	start := time.Now()
	for sent := int64(0); sent < n; sent += int64(len(buf)) {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}
