package resp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// newGoRedis returns a go-redis v9 client speaking protocol proto (2 or 3).
func newGoRedis(t testing.TB, addr string, proto int, password string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr:            addr,
		Protocol:        proto,
		Password:        password,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    30 * time.Second,
		PoolSize:        4,
		MaxRetries:      -1, // a retry would hide a failed first attempt
		DisableIdentity: false,
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// TestGoRedis runs the string and key families through go-redis v9 in
// RESP2 and RESP3 mode against one server.
func TestGoRedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			p := fmt.Sprintf("r%d:", proto) // keys of this protocol's run
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			for _, tc := range []struct {
				name string
				fn   func(t *testing.T, ctx context.Context, rdb *redis.Client, p string)
			}{
				{"Hello", goRedisHello(proto)},
				{"Set", goRedisSet},
				{"MultiKey", goRedisMultiKey},
				{"Counters", goRedisCounters},
				{"Ranges", goRedisRanges},
				{"Expiry", goRedisExpiry},
				{"Keys", goRedisKeys},
				{"Pipeline", goRedisPipeline},
				{"LargeValues", goRedisLarge},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, ctx, rdb, p+tc.name+":") })
			}
		})
	}
	t.Run("FlushDB", func(t *testing.T) {
		ctx := context.Background()
		rdb := newGoRedis(t, srv.Addr(), 3, "")
		must(t, rdb.Set(ctx, "f", "v", 0).Err())
		if n := rdb.DBSize(ctx).Val(); n == 0 {
			t.Fatalf("DBSIZE 0 with keys stored")
		}
		must(t, rdb.FlushDB(ctx).Err())
		if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
			t.Fatalf("DBSIZE after FLUSHDB = %d, %v", n, err)
		}
		if err := rdb.Get(ctx, "f").Err(); err != redis.Nil {
			t.Fatalf("GET after FLUSHDB: %v", err)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantStr(t testing.TB, what string, got interface{ Result() (string, error) }, want string) {
	t.Helper()
	v, err := got.Result()
	if err != nil || v != want {
		t.Fatalf("%s = %q, %v; want %q", what, v, err, want)
	}
}

func wantNil(t testing.TB, what string, err error) {
	t.Helper()
	if err != redis.Nil {
		t.Fatalf("%s: got %v, want nil reply", what, err)
	}
}

func wantInt(t testing.TB, what string, got *redis.IntCmd, want int64) {
	t.Helper()
	v, err := got.Result()
	if err != nil || v != want {
		t.Fatalf("%s = %d, %v; want %d", what, v, err, want)
	}
}

func wantErr(t testing.TB, what string, err error, prefix string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("%s: error %v, want one starting %q", what, err, prefix)
	}
}

func goRedisHello(proto int) func(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	return func(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
		v, err := rdb.Do(ctx, "HELLO", proto).Result()
		if err != nil {
			t.Fatal(err)
		}
		var got any
		switch m := v.(type) {
		case map[any]any: // RESP3 map
			got = m["proto"]
		case []any: // RESP2 flattened
			for i := 0; i+1 < len(m); i += 2 {
				if m[i] == "proto" {
					got = m[i+1]
				}
			}
		default:
			t.Fatalf("HELLO reply %T %v", v, v)
		}
		if got != int64(proto) {
			t.Fatalf("HELLO proto = %v, want %d", got, proto)
		}
		if v, err := rdb.Ping(ctx).Result(); err != nil || v != "PONG" {
			t.Fatalf("PING = %q, %v", v, err)
		}
		wantStr(t, "ECHO", rdb.Echo(ctx, "x y"), "x y")
		must(t, rdb.Do(ctx, "CLIENT", "SETNAME", "gr"+p[:2]).Err())
		wantStr(t, "CLIENT GETNAME", rdb.ClientGetName(ctx), "gr"+p[:2])
		if id, err := rdb.ClientID(ctx).Result(); err != nil || id <= 0 {
			t.Fatalf("CLIENT ID = %d, %v", id, err)
		}
		list, err := rdb.ClientList(ctx).Result()
		if err != nil || !strings.Contains(list, "name=gr"+p[:2]) {
			t.Fatalf("CLIENT LIST = %q, %v", list, err)
		}
		info, err := rdb.Info(ctx, "server").Result()
		if err != nil || !strings.Contains(info, "# Server") || !strings.Contains(info, "redis_version:") {
			t.Fatalf("INFO server = %q, %v", info, err)
		}
		cfg, err := rdb.ConfigGet(ctx, "maxclients").Result()
		if err != nil || cfg["maxclients"] == "" {
			t.Fatalf("CONFIG GET maxclients = %v, %v", cfg, err)
		}
	}
}

func goRedisSet(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	k := p + "k"
	must(t, rdb.Set(ctx, k, "v1", 0).Err())
	wantStr(t, "GET", rdb.Get(ctx, k), "v1")
	wantNil(t, "GET missing", rdb.Get(ctx, p+"missing").Err())
	if ok, err := rdb.SetNX(ctx, k, "x", 0).Result(); err != nil || ok {
		t.Fatalf("SETNX existing = %v, %v", ok, err)
	}
	if ok, err := rdb.SetXX(ctx, p+"absent", "x", 0).Result(); err != nil || ok {
		t.Fatalf("SET XX absent = %v, %v", ok, err)
	}
	if ok, err := rdb.SetXX(ctx, k, "v2", 0).Result(); err != nil || !ok {
		t.Fatalf("SET XX existing = %v, %v", ok, err)
	}
	if v, err := rdb.SetArgs(ctx, k, "v3", redis.SetArgs{Get: true}).Result(); err != nil || v != "v2" {
		t.Fatalf("SET GET = %q, %v; want the old value", v, err)
	}
	wantStr(t, "GETSET", rdb.GetSet(ctx, k, "v4"), "v3")
	wantStr(t, "GETDEL", rdb.GetDel(ctx, k), "v4")
	wantNil(t, "GET after GETDEL", rdb.Get(ctx, k).Err())
	// EX / PX / KEEPTTL
	must(t, rdb.Set(ctx, k, "v", 100*time.Second).Err())
	// NB: bounds leave seconds of slack for a loaded CI machine.
	if ttl := rdb.TTL(ctx, k).Val(); ttl < 90*time.Second || ttl > 100*time.Second {
		t.Fatalf("TTL after SET EX 100 = %v", ttl)
	}
	must(t, rdb.SetArgs(ctx, k, "w", redis.SetArgs{KeepTTL: true}).Err())
	if ttl := rdb.TTL(ctx, k).Val(); ttl < 90*time.Second {
		t.Fatalf("TTL after KEEPTTL = %v", ttl)
	}
	must(t, rdb.Set(ctx, k, "w", 15000*time.Millisecond).Err())
	if pttl := rdb.PTTL(ctx, k).Val(); pttl <= 10*time.Second || pttl > 15*time.Second {
		t.Fatalf("PTTL after SET PX 15000 = %v", pttl)
	}
	must(t, rdb.Set(ctx, k, "w", 0).Err())
	if ttl := rdb.TTL(ctx, k).Val(); ttl != -1 {
		t.Fatalf("TTL after plain SET = %v, want -1 (no expiry)", ttl)
	}
	wantErr(t, "SET EX 0", rdb.Do(ctx, "SET", k, "v", "EX", 0).Err(), "ERR invalid expire time")
	wantErr(t, "SET NX XX", rdb.Do(ctx, "SET", k, "v", "NX", "XX").Err(), "ERR syntax error")
	// Binary-safe keys and values.
	bk, bv := p+"bin\x00\r\n\xff", string([]byte{0, '\r', '\n', 0xff, '$', '*'})
	must(t, rdb.Set(ctx, bk, bv, 0).Err())
	wantStr(t, "GET binary", rdb.Get(ctx, bk), bv)
	wantStr(t, "TYPE", rdb.Type(ctx, bk), "string")
	wantStr(t, "TYPE missing", rdb.Type(ctx, p+"missing"), "none")
	wantInt(t, "STRLEN", rdb.StrLen(ctx, bk), int64(len(bv)))
}

func goRedisMultiKey(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	must(t, rdb.MSet(ctx, p+"a", "1", p+"b", "2", p+"c", "3").Err())
	vals, err := rdb.MGet(ctx, p+"a", p+"missing", p+"c").Result()
	if err != nil || len(vals) != 3 || vals[0] != "1" || vals[1] != nil || vals[2] != "3" {
		t.Fatalf("MGET = %#v, %v", vals, err)
	}
	if ok, err := rdb.MSetNX(ctx, p+"a", "x", p+"new", "y").Result(); err != nil || ok {
		t.Fatalf("MSETNX with an existing key = %v, %v", ok, err)
	}
	wantNil(t, "GET after failed MSETNX", rdb.Get(ctx, p+"new").Err())
	wantInt(t, "EXISTS", rdb.Exists(ctx, p+"a", p+"b", p+"a", p+"missing"), 3)
	wantInt(t, "DEL", rdb.Del(ctx, p+"a", p+"b", p+"missing"), 2)
	wantInt(t, "EXISTS after DEL", rdb.Exists(ctx, p+"a", p+"b"), 0)
	wantInt(t, "UNLINK", rdb.Unlink(ctx, p+"c"), 1)
}

func goRedisCounters(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	k := p + "n"
	wantInt(t, "INCR new", rdb.Incr(ctx, k), 1)
	wantInt(t, "INCRBY", rdb.IncrBy(ctx, k, 41), 42)
	wantInt(t, "DECR", rdb.Decr(ctx, k), 41)
	wantInt(t, "DECRBY", rdb.DecrBy(ctx, k, 50), -9)
	if f, err := rdb.IncrByFloat(ctx, k, 0.5).Result(); err != nil || f != -8.5 {
		t.Fatalf("INCRBYFLOAT = %v, %v", f, err)
	}
	wantErr(t, "INCR float", rdb.Incr(ctx, k).Err(), "ERR value is not an integer")
	must(t, rdb.Set(ctx, k, "9223372036854775807", 0).Err())
	wantErr(t, "INCR overflow", rdb.Incr(ctx, k).Err(), "ERR increment or decrement would overflow")
	wantStr(t, "GET after overflow", rdb.Get(ctx, k), "9223372036854775807")
	must(t, rdb.Set(ctx, k, "abc", 0).Err())
	wantErr(t, "INCR text", rdb.Incr(ctx, k).Err(), "ERR value is not an integer")
}

func goRedisRanges(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	k := p + "s"
	wantInt(t, "APPEND new", rdb.Append(ctx, k, "Hello"), 5)
	wantInt(t, "APPEND", rdb.Append(ctx, k, " World"), 11)
	wantStr(t, "GETRANGE", rdb.GetRange(ctx, k, 0, 4), "Hello")
	wantStr(t, "GETRANGE negative", rdb.GetRange(ctx, k, -5, -1), "World")
	wantStr(t, "GETRANGE past end", rdb.GetRange(ctx, k, 6, 100), "World")
	wantInt(t, "SETRANGE", rdb.SetRange(ctx, k, 6, "Redis"), 11)
	wantStr(t, "GET", rdb.Get(ctx, k), "Hello Redis")
	wantInt(t, "SETRANGE padding", rdb.SetRange(ctx, p+"pad", 3, "x"), 4)
	wantStr(t, "GET padded", rdb.Get(ctx, p+"pad"), "\x00\x00\x00x")
	wantErr(t, "SETRANGE negative", rdb.SetRange(ctx, k, -1, "x").Err(), "ERR offset is out of range")
}

func goRedisExpiry(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	k := p + "e"
	must(t, rdb.Set(ctx, k, "v", 0).Err())
	if ok, err := rdb.Expire(ctx, k, 100*time.Second).Result(); err != nil || !ok {
		t.Fatalf("EXPIRE = %v, %v", ok, err)
	}
	if ok, err := rdb.Persist(ctx, k).Result(); err != nil || !ok {
		t.Fatalf("PERSIST = %v, %v", ok, err)
	}
	if ttl := rdb.TTL(ctx, k).Val(); ttl != -1 {
		t.Fatalf("TTL after PERSIST = %v", ttl)
	}
	if ttl := rdb.TTL(ctx, p+"missing").Val(); ttl != -2 {
		t.Fatalf("TTL missing = %v, want -2", ttl)
	}
	if ok, _ := rdb.Expire(ctx, p+"missing", time.Second).Result(); ok {
		t.Fatalf("EXPIRE on a missing key succeeded")
	}
	// Keys expire: both reads and EXISTS stop seeing them.
	must(t, rdb.Set(ctx, k, "v", 300*time.Millisecond).Err())
	must(t, rdb.Set(ctx, k+"2", "v", 0).Err())
	must(t, rdb.PExpire(ctx, k+"2", 300*time.Millisecond).Err())
	waitFor(t, 10*time.Second, "the keys expired", func() bool { return rdb.Exists(ctx, k, k+"2").Val() == 0 })
	wantNil(t, "GET expired", rdb.Get(ctx, k).Err())
	wantInt(t, "EXISTS expired", rdb.Exists(ctx, k, k+"2"), 0)
	if ttl := rdb.TTL(ctx, k).Val(); ttl != -2 {
		t.Fatalf("TTL expired = %v, want -2", ttl)
	}
	must(t, rdb.Set(ctx, k, "v", 0).Err())
	if ok, err := rdb.ExpireAt(ctx, k, time.Now().Add(-time.Hour)).Result(); err != nil || !ok {
		t.Fatalf("EXPIREAT past = %v, %v", ok, err)
	}
	wantNil(t, "GET after EXPIREAT in the past", rdb.Get(ctx, k).Err())
}

func goRedisKeys(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	want := []string{p + "k1", p + "k2", p + "k3", p + "other"}
	for _, k := range want {
		must(t, rdb.Set(ctx, k, "v", 0).Err())
	}
	keys, err := rdb.Keys(ctx, p+"k*").Result()
	if err != nil || strings.Join(keys, ",") != strings.Join(want[:3], ",") {
		t.Fatalf("KEYS = %v, %v", keys, err)
	}
	// SCAN with a small COUNT: pages until cursor 0, every key once. Pages
	// may be empty (COUNT bounds the work per call, not the keys matched).
	var got []string
	var cursor uint64
	for i := 0; ; i++ {
		var page []string
		page, cursor, err = rdb.Scan(ctx, cursor, p+"*", 1).Result()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if cursor == 0 {
			break
		}
		if i > 20000 {
			t.Fatalf("SCAN did not finish: %v", got)
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("SCAN = %v, want %v", got, want)
	}
	it := rdb.Scan(ctx, 0, p+"k*", 2).Iterator()
	n := 0
	for it.Next(ctx) {
		n++
	}
	if it.Err() != nil || n != 3 {
		t.Fatalf("SCAN iterator: %d keys, %v", n, it.Err())
	}
	must(t, rdb.Rename(ctx, p+"k1", p+"renamed").Err())
	wantInt(t, "EXISTS old name", rdb.Exists(ctx, p+"k1"), 0)
	wantStr(t, "GET new name", rdb.Get(ctx, p+"renamed"), "v")
	wantErr(t, "RENAME missing", rdb.Rename(ctx, p+"missing", p+"x").Err(), "ERR no such key")
	if ok, err := rdb.RenameNX(ctx, p+"renamed", p+"k2").Result(); err != nil || ok {
		t.Fatalf("RENAMENX onto existing = %v, %v", ok, err)
	}
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n < 4 {
		t.Fatalf("DBSIZE = %d, %v", n, err)
	}
}

func goRedisPipeline(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	const n = 500
	cmds, err := rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i := range n {
			pipe.Set(ctx, fmt.Sprintf("%sk%d", p, i), fmt.Sprintf("v%d", i), 0)
			pipe.Incr(ctx, p+"count")
		}
		pipe.Get(ctx, p+"missing")
		return nil
	})
	if err != redis.Nil { // the last command's nil reply is the pipeline's error
		t.Fatalf("pipeline: %v", err)
	}
	if len(cmds) != 2*n+1 {
		t.Fatalf("%d replies, want %d", len(cmds), 2*n+1)
	}
	for i := range n {
		if v, err := cmds[2*i+1].(*redis.IntCmd).Result(); err != nil || v != int64(i+1) {
			t.Fatalf("INCR reply %d = %d, %v: replies out of order", i, v, err)
		}
	}
	gets := make([]*redis.StringCmd, n)
	_, err = rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i := range n {
			gets[i] = pipe.Get(ctx, fmt.Sprintf("%sk%d", p, i))
		}
		return nil
	})
	must(t, err)
	for i, g := range gets {
		if v := g.Val(); v != fmt.Sprintf("v%d", i) {
			t.Fatalf("pipelined GET %d = %q", i, v)
		}
	}
	// A transaction-less pipeline mixing errors and values keeps order.
	cmds, _ = rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Incr(ctx, p+"k0") // "v0": not an integer
		pipe.Get(ctx, p+"k1")
		return nil
	})
	if cmds[0].Err() == nil || cmds[1].(*redis.StringCmd).Val() != "v1" {
		t.Fatalf("mixed pipeline: %v, %v", cmds[0].Err(), cmds[1])
	}
}

func goRedisLarge(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	sizes := []int{32 << 20, 1<<20 + 7, 7340200}
	for i, size := range sizes {
		val := randomBytes(uint64(size), size)
		k := fmt.Sprintf("%sbig%d", p, i)
		must(t, rdb.Set(ctx, k, val, 0).Err())
		got, err := rdb.Get(ctx, k).Bytes()
		if err != nil || !bytes.Equal(got, val) {
			t.Fatalf("GET %d-byte value: %d bytes back, equal %v, %v", size, len(got), bytes.Equal(got, val), err)
		}
		wantInt(t, "STRLEN", rdb.StrLen(ctx, k), int64(size))
		if r := rdb.GetRange(ctx, k, int64(size-10), -1).Val(); r != string(val[size-10:]) {
			t.Fatalf("GETRANGE tail of a large value differs")
		}
	}
	// Several large values in one pipeline, written before replies are read.
	vals := make([][]byte, 4)
	_, err := rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i := range vals {
			vals[i] = randomBytes(uint64(100+i), 8<<20)
			pipe.Set(ctx, fmt.Sprintf("%spipe%d", p, i), vals[i], 0)
		}
		return nil
	})
	must(t, err)
	for i := range vals {
		got, err := rdb.Get(ctx, fmt.Sprintf("%spipe%d", p, i)).Bytes()
		if err != nil || !bytes.Equal(got, vals[i]) {
			t.Fatalf("pipelined large value %d differs (%d bytes, %v)", i, len(got), err)
		}
	}
}

// TestGoRedisAuth checks requirepass: go-redis authenticates inside HELLO
// (HELLO 3 AUTH default pass) in both modes, a wrong password fails the
// connection with an error, and unauthenticated commands get NOAUTH.
func TestGoRedisAuth(t *testing.T) {
	const pass = "s3cr3t-pass"
	srv := internal.Start(t, internal.Options{Args: []string{"--requirepass", pass}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, pass)
			must(t, rdb.Set(ctx, "auth:k", "v", 0).Err())
			wantStr(t, "GET", rdb.Get(ctx, "auth:k"), "v")

			bad := newGoRedis(t, srv.Addr(), proto, "wrong")
			err := bad.Ping(ctx).Err()
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "invalid password") {
				t.Fatalf("PING with a wrong password: %v, want an invalid password error", err)
			}
			none := newGoRedis(t, srv.Addr(), proto, "")
			wantErr(t, "GET without AUTH", none.Get(ctx, "auth:k").Err(), "NOAUTH")
			var re redis.Error
			if err := none.Get(ctx, "auth:k").Err(); !errors.As(err, &re) {
				t.Fatalf("NOAUTH is not a RESP error reply: %T %v", err, err)
			}
		})
	}
	t.Run("RawAuth", func(t *testing.T) {
		c := dialRaw(t, srv.Addr())
		c.send("GET", "auth:k")
		c.expect("-NOAUTH Authentication required.\r\n")
		c.send("AUTH", "wrong")
		line := c.readLine()
		if !strings.HasPrefix(line, "-") || !strings.Contains(strings.ToLower(line), "invalid password") {
			t.Fatalf("AUTH wrong: %q", line)
		}
		c.send("AUTH", pass)
		c.expect("+OK\r\n")
		c.send("GET", "auth:k")
		c.expect("$1\r\nv\r\n")
		c.send("AUTH", "default", pass)
		c.expect("+OK\r\n")
	})
}
