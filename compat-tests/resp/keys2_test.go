package resp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// startRedisPeerClient runs a redis-server peer on a free loopback port with
// persistence off, stopped at the end of the test.
func startRedisPeerClient(t *testing.T) *redis.Client {
	t.Helper()
	return newGoRedis(t, internal.StartRedis(t, "--proto-max-bulk-len", "1gb"), 2, "")
}

// populate writes keys of every type in every encoding redis-server 7.0
// picks for them: small (listpack, intset) and large (hashtable,
// skiplist, many quicklist nodes) collections, integer, short, long and
// compressible strings.
func populate(t *testing.T, ctx context.Context, rdb *redis.Client) []string {
	t.Helper()
	p := rdb.Pipeline()
	p.Set(ctx, "str:int", "12345", 0)
	p.Set(ctx, "str:neg", "-70000", 0)
	p.Set(ctx, "str:lead0", "007", 0)
	p.Set(ctx, "str:short", "hello", 0)
	p.Set(ctx, "str:empty", "", 0)
	p.Set(ctx, "str:lzf", strings.Repeat("compressible ", 1000), 0)
	p.Set(ctx, "str:bin", randomBytes(7, 100000), 0)
	p.Set(ctx, "str:ttl", "expiring", time.Hour)
	p.RPush(ctx, "list:small", "a", "b", "1", "-300", "70000", "")
	for i := range 3000 {
		p.RPush(ctx, "list:big", fmt.Sprintf("element-%d-%s", i, strings.Repeat("x", i%50)))
	}
	p.SAdd(ctx, "set:int", 1, 2, 3, -5, 100000, 1<<40)
	p.SAdd(ctx, "set:small", "a", "b", "c")
	for i := range 300 {
		p.SAdd(ctx, "set:big", fmt.Sprintf("member-%d", i))
		p.HSet(ctx, "hash:big", fmt.Sprintf("field-%d", i), fmt.Sprintf("value-%d", i))
		p.ZAdd(ctx, "zset:big", redis.Z{Score: float64(i) / 3, Member: fmt.Sprintf("m-%d", i)})
	}
	p.HSet(ctx, "hash:small", "f", "v", "n", "12", "e", "")
	p.Expire(ctx, "hash:small", time.Hour)
	p.ZAdd(ctx, "zset:small", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"},
		redis.Z{Score: -1e300, Member: "c"}, redis.Z{Score: 1, Member: "d"})
	p.ZAdd(ctx, "zset:inf", redis.Z{Score: 0, Member: "zero"})
	p.Do(ctx, "ZADD", "zset:inf", "-inf", "lo", "+inf", "hi")
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return []string{"str:int", "str:neg", "str:lead0", "str:short", "str:empty", "str:lzf", "str:bin", "str:ttl",
		"list:small", "list:big", "set:int", "set:small", "set:big", "hash:small", "hash:big",
		"zset:small", "zset:big", "zset:inf"}
}

// snapshot reads key's value in a form to compare, element by element.
func snapshot(t *testing.T, ctx context.Context, c *redis.Client, key string) any {
	t.Helper()
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	switch typ {
	case "string":
		v, err = c.Get(ctx, key).Result()
	case "list":
		v, err = c.LRange(ctx, key, 0, -1).Result()
	case "set":
		var m []string
		m, err = c.SMembers(ctx, key).Result()
		slices.Sort(m)
		v = m
	case "hash":
		v, err = c.HGetAll(ctx, key).Result()
	case "zset":
		v, err = c.ZRangeWithScores(ctx, key, 0, -1).Result()
	default:
		t.Fatalf("%s: type %q", key, typ)
	}
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return []any{typ, v}
}

// TestDumpRestoreRedisInterop moves every type both ways between
// redis-server 7.0 and gpucache with DUMP and RESTORE over go-redis (and
// once through redis-cli -x), and compares the values element by element.
func TestDumpRestoreRedisInterop(t *testing.T) {
	ctx := context.Background()
	peer := startRedisPeerClient(t)
	srv := internal.Start(t, internal.Options{})
	gc := newGoRedis(t, srv.Addr(), 2, "")
	keys := populate(t, ctx, peer)
	for _, k := range keys {
		payload, err := peer.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := peer.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < 0 {
			ttl = 0
		}
		if err := gc.Restore(ctx, k, ttl, payload).Err(); err != nil {
			t.Fatalf("RESTORE %s into gpucache: %v", k, err)
		}
		want := snapshot(t, ctx, peer, k)
		if got := snapshot(t, ctx, gc, k); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s restored into gpucache:\n got %.300v\nwant %.300v", k, got, want)
		}
		if ttl > 0 {
			if got, _ := gc.PTTL(ctx, k).Result(); got <= 0 || got > ttl {
				t.Fatalf("%s: PTTL %v after RESTORE with %v", k, got, ttl)
			}
		}
		// Back: gpucache's payload (KVRocks's encodings) into redis-server.
		back, err := gc.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s from gpucache: %v", k, err)
		}
		if err := peer.Restore(ctx, "back:"+k, 0, back).Err(); err != nil {
			t.Fatalf("RESTORE %s into redis-server: %v", k, err)
		}
		if got := snapshot(t, ctx, peer, "back:"+k); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s back in redis-server:\n got %.300v\nwant %.300v", k, got, want)
		}
		// RESTORE without REPLACE onto the key: BUSYKEY, as redis-server.
		errG := gc.Restore(ctx, k, 0, payload).Err()
		errP := peer.Restore(ctx, k, 0, payload).Err()
		if errG == nil || errP == nil || errG.Error() != errP.Error() {
			t.Fatalf("RESTORE onto %s: gpucache %v, redis-server %v", k, errG, errP)
		}
		if err := gc.RestoreReplace(ctx, k, 0, back).Err(); err != nil {
			t.Fatalf("RESTORE REPLACE %s: %v", k, err)
		}
	}

	// redis-cli: the payload as the last argument from stdin, and DUMP's
	// raw output read back.
	cli := internal.RequireTool(t, "redis-cli")
	host, port, _ := net.SplitHostPort(srv.Addr())
	payload, err := peer.Dump(ctx, "hash:big").Result()
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := internal.Command(cctx, []byte(payload), cli, "-h", host, "-p", port, "-x", "RESTORE", "cli:hash", "0")
	if err != nil || string(out) != "OK\n" {
		t.Fatalf("redis-cli -x RESTORE: %q %v", out, err)
	}
	if got, want := snapshot(t, ctx, gc, "cli:hash"), snapshot(t, ctx, peer, "hash:big"); !reflect.DeepEqual(got, want) {
		t.Fatal("hash restored through redis-cli differs")
	}
	out, err = internal.Command(cctx, nil, cli, "-h", host, "-p", port, "--raw", "DUMP", "cli:hash")
	if err != nil || len(out) == 0 || out[len(out)-1] != '\n' {
		t.Fatalf("redis-cli DUMP: %v", err)
	}
	if err := peer.Restore(ctx, "cli:back", 0, string(out[:len(out)-1])).Err(); err != nil {
		t.Fatalf("RESTORE of redis-cli's DUMP output into redis-server: %v", err)
	}

	// A corrupted payload is refused by both with the same error.
	bad := []byte(payload)
	bad[len(bad)/2] ^= 1
	errG, errP := gc.Restore(ctx, "bad", 0, string(bad)).Err(), peer.Restore(ctx, "bad", 0, string(bad)).Err()
	if errG == nil || errP == nil || errG.Error() != errP.Error() {
		t.Fatalf("corrupt payload: gpucache %v, redis-server %v", errG, errP)
	}
}

// TestDumpRestoreLarge moves a 32 MiB string both ways and times DUMP and
// RESTORE against redis-server in the same run.
func TestDumpRestoreLarge(t *testing.T) {
	ctx := context.Background()
	peer := startRedisPeerClient(t)
	srv := internal.Start(t, internal.Options{})
	gc := newGoRedis(t, srv.Addr(), 2, "")
	val := randomBytes(11, 32<<20)
	for _, c := range []*redis.Client{peer, gc} {
		if err := c.Set(ctx, "big", val, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(c *redis.Client) (dump, restore time.Duration) {
		const rounds = 2
		for range rounds {
			start := time.Now()
			p, err := c.Dump(ctx, "big").Result()
			if err != nil {
				t.Fatal(err)
			}
			dump += time.Since(start)
			start = time.Now()
			if err := c.RestoreReplace(ctx, "big2", 0, p).Err(); err != nil {
				t.Fatal(err)
			}
			restore += time.Since(start)
		}
		return dump / rounds, restore / rounds
	}
	gd, gr := measure(gc)
	pd, pr := measure(peer)
	t.Logf("32 MiB string: DUMP gpucache %v, redis-server %v (ratio %.2f); RESTORE gpucache %v, redis-server %v (ratio %.2f)",
		gd, pd, float64(gd)/float64(pd), gr, pr, float64(gr)/float64(pr))
	if got, err := gc.Get(ctx, "big2").Bytes(); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("restored 32 MiB value differs: %v", err)
	}
	// Across: redis-server's payload into gpucache and back.
	p, err := peer.Dump(ctx, "big").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := gc.RestoreReplace(ctx, "from-redis", 0, p).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := gc.Get(ctx, "from-redis").Bytes(); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("redis-server's 32 MiB payload restored wrong: %v", err)
	}
	p, err = gc.Dump(ctx, "from-redis").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.RestoreReplace(ctx, "from-gpucache", 0, p).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := peer.Get(ctx, "from-gpucache").Bytes(); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("gpucache's 32 MiB payload restored wrong in redis-server: %v", err)
	}
	// A hash of 100k fields: DUMP and RESTORE against redis-server.
	if testing.Short() {
		return // make race-compat: the 32 MiB string above is its part
	}
	for _, c := range []*redis.Client{peer, gc} {
		p := c.Pipeline()
		for i := range 100000 {
			p.HSet(ctx, "bighash", fmt.Sprintf("field-%d", i), fmt.Sprintf("value-%d", i))
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	timeHash := func(c *redis.Client) (dump, restore time.Duration) {
		start := time.Now()
		p, err := c.Dump(ctx, "bighash").Result()
		if err != nil {
			t.Fatal(err)
		}
		dump = time.Since(start)
		start = time.Now()
		if err := c.RestoreReplace(ctx, "bighash2", 0, p).Err(); err != nil {
			t.Fatal(err)
		}
		return dump, time.Since(start)
	}
	ghd, ghr := timeHash(gc)
	phd, phr := timeHash(peer)
	t.Logf("100k-field hash: DUMP gpucache %v, redis-server %v (ratio %.2f); RESTORE gpucache %v, redis-server %v (ratio %.2f)",
		ghd, phd, float64(ghd)/float64(phd), ghr, phr, float64(ghr)/float64(phr))
	if n := gc.HLen(ctx, "bighash2").Val(); n != 100000 {
		t.Fatalf("restored hash has %d fields", n)
	}
	if path := os.Getenv("KEYS2_RATIO_FILE"); path != "" {
		line := fmt.Sprintf("dump %.3f restore %.3f\n", float64(gd)/float64(pd), float64(gr)/float64(pr))
		if err := os.WriteFile(filepath.Clean(path), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKeys2RepliesMatchRedis sends the same commands (SET and GETEX
// option edge cases, SORT, LCS, RESTORE errors) to gpucache and to
// redis-server through go-redis and compares the replies.
func TestKeys2RepliesMatchRedis(t *testing.T) {
	ctx := context.Background()
	peer := startRedisPeerClient(t)
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		gc := newGoRedis(t, srv.Addr(), proto, "")
		pc := newGoRedis(t, peer.Options().Addr, proto, "")
		for _, c := range []*redis.Client{gc, pc} {
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		for _, cmd := range keys2Commands {
			args := make([]any, len(cmd))
			for i, a := range cmd {
				args[i] = a
			}
			got, errG := gc.Do(ctx, args...).Result()
			want, errP := pc.Do(ctx, args...).Result()
			if !errors.Is(errG, redis.Nil) || !errors.Is(errP, redis.Nil) {
				if fmt.Sprint(errG) != kvrocksWording(fmt.Sprint(errP)) {
					t.Fatalf("RESP%d %q: error %v, redis-server %v", proto, cmd, errG, errP)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("RESP%d %q:\n got %#v\nwant %#v", proto, cmd, got, want)
			}
		}
	}
}

// kvrocksWording maps a redis-server error to KVRocks's words where they
// differ: KVRocks does not name the command in its expiry error.
func kvrocksWording(e string) string {
	if strings.HasPrefix(e, "ERR invalid expire time in '") {
		return "ERR invalid expire time"
	}
	return e
}

var keys2Commands = [][]string{
	{"SET", "k", "v", "EX", "100", "EX", "200"}, {"TTL", "k"},
	{"SET", "k", "v", "NX", "XX"}, {"SET", "k", "v", "NX", "NX"}, {"SET", "k", "v", "XX", "XX"},
	{"SET", "k", "v2", "GET", "NX"}, {"SET", "k2", "v", "GET", "NX"}, {"SET", "k", "v", "KEEPTTL", "EX", "10"},
	{"SET", "k", "v", "EX", "1", "PX", "2"}, {"SET", "k", "v", "KEEPTTL", "KEEPTTL"}, {"TTL", "k"},
	{"SET", "k", "v", "GET", "GET"}, {"SET", "k", "v", "ex"}, {"SET", "k", "v", "ex", "abc"},
	{"SET", "k", "v", "PXAT", "1"}, {"EXISTS", "k"}, {"SET", "k", "v"},
	{"GETEX", "k", "PERSIST", "EX", "10"}, {"GETEX", "k", "EX", "10", "EX", "20"}, {"TTL", "k"},
	{"GETEX", "k", "PERSIST", "PERSIST"}, {"TTL", "k"}, {"GETEX", "k", "EXAT", "1"}, {"EXISTS", "k"},
	{"RPUSH", "sl", "3", "1", "2", "10", "-5"},
	{"SET", "sl", "v", "GET"}, {"SET", "sl", "v", "NX", "GET"}, {"SET", "sl", "v", "XX", "GET", "KEEPTTL"},
	{"GETEX", "sl", "PERSIST"}, {"GETEX", "nokey", "EX", "10"}, {"SET", "k", "v", "EXAT", "0"},
	{"SET", "k", "v", "PX", "9223372036854775807"}, {"SET", "k", "v"}, {"GETEX", "k", "PX", "0"},
	{"SORT", "sl"}, {"SORT", "sl", "DESC"}, {"SORT", "sl", "ALPHA", "DESC", "LIMIT", "1", "2"},
	{"SORT", "sl", "LIMIT", "0", "0"}, {"SORT", "sl", "LIMIT", "-1", "2"}, {"SORT", "sl", "LIMIT", "9", "2"},
	{"SORT", "sl", "BY", "nosort", "DESC", "LIMIT", "1", "2"},
	{"MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "-1", "w_-5", "5"},
	{"SORT", "sl", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "nokey_*"},
	{"HSET", "h_1", "f", "b"}, {"HSET", "h_2", "f", "a"},
	{"SORT", "sl", "BY", "h_*->f", "ALPHA", "GET", "h_*->f", "GET", "#"},
	{"RPUSH", "words", "b", "a", "c"}, {"SORT", "words"}, {"SORT_RO", "words", "ALPHA", "STORE", "x"},
	{"SORT", "words", "ALPHA", "GET", "w_*", "STORE", "dst"}, {"LRANGE", "dst", "0", "-1"},
	{"ZADD", "zs", "3", "c", "1", "a", "2", "b"}, {"SORT", "zs", "BY", "nosort", "DESC", "LIMIT", "0", "2"},
	{"SORT", "zs", "ALPHA"}, {"SET", "str", "x"}, {"SORT", "str"}, {"SORT", "nokey"},
	{"MSET", "a", "ohmytext", "b", "mynewtext"}, {"LCS", "a", "b"}, {"LCS", "a", "b", "LEN"},
	{"LCS", "a", "b", "IDX"}, {"LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"},
	{"LCS", "a", "b", "IDX", "LEN"}, {"LCS", "a", "nokey"},
	{"RESTORE", "k", "0", "x"}, {"RESTORE", "new", "-1", "x"}, {"RESTORE", "new", "0", "x"},
	{"RESTORE", "new", "0", "x", "IDLETIME", "1", "FREQ", "1"}, {"RESTORE", "new", "0", "x", "FREQ", "300"},
	{"DUMP", "nokey"},
}

// TestMoveXNamespaces moves keys of each type between namespaces with
// MOVEX over go-redis, and checks a client blocked on a list in the
// destination namespace, and clients blocked on keys that RESTORE and
// SORT ... STORE create, are served.
func TestMoveXNamespaces(t *testing.T) {
	const admin, tok1 = "admin-pass", "token-one"
	srv := internal.Start(t, internal.Options{Password: admin, Args: []string{"--requirepass", admin, "--namespace.ns1", tok1}})
	ctx := context.Background()
	a := newGoRedis(t, srv.Addr(), 2, admin)
	n1 := newGoRedis(t, srv.Addr(), 3, tok1)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.Set(ctx, "s", strings.Repeat("v", 300000), time.Hour).Err())
	must(a.HSet(ctx, "h", "f", "v").Err())
	must(a.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "m"}).Err())
	must(n1.Set(ctx, "h", "taken", 0).Err())
	for _, c := range []struct {
		key  string
		want int64
	}{{"s", 1}, {"h", 0}, {"z", 1}, {"missing", 0}} {
		if got, err := a.Do(ctx, "MOVEX", c.key, tok1).Int64(); err != nil || got != c.want {
			t.Fatalf("MOVEX %s: %d %v, want %d", c.key, got, err, c.want)
		}
	}
	if err := a.Do(ctx, "MOVEX", "h", "wrong").Err(); err == nil || err.Error() != "ERR Invalid password" {
		t.Fatalf("MOVEX with a bad token: %v", err)
	}
	if v, err := n1.Get(ctx, "s").Result(); err != nil || len(v) != 300000 {
		t.Fatalf("moved string: %d bytes, %v", len(v), err)
	}
	if ttl := n1.TTL(ctx, "s").Val(); ttl <= 0 {
		t.Fatalf("moved string lost its TTL: %v", ttl)
	}
	if n := a.Exists(ctx, "s", "z").Val(); n != 0 {
		t.Fatalf("%d moved keys still in the default namespace", n)
	}
	if v := n1.ZScore(ctx, "z", "m").Val(); v != 1 {
		t.Fatalf("moved zset: %v", v)
	}
	if v := a.HGet(ctx, "h", "f").Val(); v != "v" {
		t.Fatal("a refused MOVEX changed the source")
	}

	// Blocked clients: one in ns1 on a key MOVEX brings, one on a key
	// RESTORE creates, one on the destination of SORT ... STORE.
	waitBlocked := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(a.ClientList(ctx).Val(), "flags=b") != n {
			if time.Now().After(deadline) {
				t.Fatalf("want %d blocked clients", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	type popped struct {
		v   []string
		err error
	}
	results := make(chan popped, 3)
	blocker := func(pass, key string) {
		c := newGoRedis(t, srv.Addr(), 2, pass)
		go func() {
			v, err := c.BLPop(ctx, 10*time.Second, key).Result()
			results <- popped{v, err}
		}()
	}
	blocker(tok1, "bl:moved")
	waitBlocked(1)
	must(a.RPush(ctx, "bl:moved", "m").Err())
	must(a.Do(ctx, "MOVEX", "bl:moved", tok1).Err())
	blocker(admin, "bl:restored")
	waitBlocked(1)
	must(a.RPush(ctx, "src", "r").Err())
	p, err := a.Dump(ctx, "src").Result()
	must(err)
	must(a.Restore(ctx, "bl:restored", 0, p).Err())
	blocker(admin, "bl:sorted")
	waitBlocked(1)
	if n, err := a.Do(ctx, "SORT", "src", "ALPHA", "STORE", "bl:sorted").Int64(); err != nil || n != 1 {
		t.Fatalf("SORT STORE: %d %v", n, err)
	}
	got := map[string]string{}
	for range 3 {
		r := <-results
		if r.err != nil || len(r.v) != 2 {
			t.Fatalf("BLPOP: %v %v", r.v, r.err)
		}
		got[r.v[0]] = r.v[1]
	}
	if !reflect.DeepEqual(got, map[string]string{"bl:moved": "m", "bl:restored": "r", "bl:sorted": "r"}) {
		t.Fatalf("blocked clients got %v", got)
	}
}

// TestSortLCSDifferential sends random SORT and LCS commands over random
// data to gpucache and to redis-server and compares the replies. Orders
// redis-server leaves undefined are avoided: no BY nosort on sets, and
// BY values and members without ties.
func TestSortLCSDifferential(t *testing.T) {
	ctx := context.Background()
	peer := startRedisPeerClient(t)
	srv := internal.Start(t, internal.Options{})
	gc := newGoRedis(t, srv.Addr(), 2, "")
	r := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		const alphabet = "ab01-.e9x"
		b := make([]byte, 1+r.IntN(4))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	both := func(args ...any) {
		t.Helper()
		got, errG := gc.Do(ctx, args...).Result()
		want, errP := peer.Do(ctx, args...).Result()
		if fmt.Sprint(errG) != fmt.Sprint(errP) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v %v\nwant %#v %v", args, got, errG, want, errP)
		}
	}
	// Data: distinct numeric-or-not members, weights and hash fields
	// unique per member.
	seen := map[string]bool{}
	var members []string
	for len(members) < 40 {
		m := word()
		if r.IntN(2) == 0 {
			m = strconv.Itoa(r.IntN(2000) - 1000)
		}
		if !seen[m] {
			seen[m] = true
			members = append(members, m)
		}
	}
	for i, m := range members {
		both("RPUSH", "L", m)
		both("SADD", "S", m)
		both("ZADD", "Z", r.IntN(10), m)
		both("SET", "w_"+m, strconv.Itoa(i*7%41)+"."+strconv.Itoa(i))
		both("HSET", "h_"+m, "f", fmt.Sprintf("%03d-%s", (i*13)%40, m))
	}
	for range 300 {
		key := []string{"L", "S", "Z"}[r.IntN(3)]
		args := []any{[]string{"SORT", "SORT_RO"}[r.IntN(2)], key}
		if r.IntN(3) == 0 {
			args = append(args, "LIMIT", r.IntN(50)-5, r.IntN(50)-5)
		}
		switch r.IntN(4) {
		case 0:
			args = append(args, "BY", "w_*")
		case 1:
			args = append(args, "BY", "h_*->f", "ALPHA")
		case 2:
			if key != "S" {
				args = append(args, "BY", "nosort")
			}
		}
		if r.IntN(2) == 0 {
			args = append(args, "ALPHA")
		}
		if r.IntN(2) == 0 {
			args = append(args, "DESC")
		}
		for range r.IntN(3) {
			args = append(args, "GET", []string{"#", "w_*", "h_*->f", "nokey_*"}[r.IntN(4)])
		}
		both(args...)
		if args[0] == "SORT" && r.IntN(4) == 0 {
			both(append(args, "STORE", "dst")...)
			both("LRANGE", "dst", 0, -1)
		}
	}
	for range 200 {
		a, b := "", ""
		for range r.IntN(30) {
			a += word()
		}
		for range r.IntN(30) {
			b += word()
		}
		both("MSET", "la", a, "lb", b)
		args := []any{"LCS", "la", "lb"}
		switch r.IntN(3) {
		case 0:
			args = append(args, "LEN")
		case 1:
			args = append(args, "IDX")
			if r.IntN(2) == 0 {
				args = append(args, "MINMATCHLEN", r.IntN(5))
			}
			if r.IntN(2) == 0 {
				args = append(args, "WITHMATCHLEN")
			}
		}
		both(args...)
	}
}
