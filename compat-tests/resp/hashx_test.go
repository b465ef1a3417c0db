package resp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestHashFieldExpiry drives hash field expiry (HEXPIRE ... HPERSIST,
// HGETEX, HSETEX, HGETDEL) and HRANGEBYLEX through go-redis v9, RESP2 and
// RESP3, against a real server: replies, fields expiring for every
// command and the key going with its last field, and field TTLs kept
// across a restart and a kill -9.
func TestHashFieldExpiry(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			hashxCommands(t, ctx, rdb, fmt.Sprintf("x%d:", proto))
		})
	}
	t.Run("Restart", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		rdb := newGoRedis(t, srv.Addr(), 2, "")
		at := time.Now().Add(time.Hour).Truncate(time.Second)
		wantInt(t, "HSET", rdb.HSet(ctx, "r", "keep", "1", "far", "2", "soon", "3"), 3)
		wantInts(t, "HEXPIREAT far", rdb.HExpireAt(ctx, "r", at, "far"), 1)
		wantInts(t, "HPEXPIRE soon", rdb.HPExpire(ctx, "r", 1500*time.Millisecond, "soon"), 1)
		srv.Restart(t)
		rdb = newGoRedis(t, srv.Addr(), 2, "")
		wantInts(t, "HEXPIRETIME after restart", rdb.HExpireTime(ctx, "r", "far", "keep"), at.Unix(), -1)
		wantInt(t, "HSET after restart", rdb.HSet(ctx, "k9", "a", "1", "b", "2"), 2)
		wantInts(t, "HPEXPIREAT", rdb.HPExpireAt(ctx, "k9", at, "a"), 1)
		srv.Kill(t)
		srv.Restart(t)
		rdb = newGoRedis(t, srv.Addr(), 2, "")
		wantInts(t, "HPEXPIRETIME after kill -9", rdb.HPExpireTime(ctx, "k9", "a", "b"), at.UnixMilli(), -1)
		// The sweep of "soon" was due after the restart: nobody touches
		// the hash, the server reclaims the field on its own.
		waitFor(t, 15*time.Second, "soon to expire after the restarts", func() bool {
			n, err := rdb.Do(ctx, "HRANGEBYLEX", "r", "-", "+").Slice()
			return err == nil && len(n) == 4
		})
		wantInt(t, "HLEN", rdb.HLen(ctx, "r"), 2)
	})
}

func wantInts(t testing.TB, what string, cmd *redis.IntSliceCmd, want ...int64) {
	t.Helper()
	got, err := cmd.Result()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	wantEq(t, what, got, want)
}

func hashxCommands(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	h := p + "h"
	wantInt(t, "HSET", rdb.HSet(ctx, h, "a", "1", "b", "2", "c", "3", "d", "4"), 4)
	wantInts(t, "HEXPIRE", rdb.HExpire(ctx, h, 100*time.Second, "a", "nope"), 1, -2)
	ttl, err := rdb.HTTL(ctx, h, "a", "b", "nope").Result()
	if err != nil || len(ttl) != 3 || ttl[0] < 99 || ttl[0] > 100 || ttl[1] != -1 || ttl[2] != -2 {
		t.Fatalf("HTTL = %v, %v", ttl, err)
	}
	pttl, err := rdb.HPTTL(ctx, h, "a").Result()
	if err != nil || len(pttl) != 1 || pttl[0] < 98000 || pttl[0] > 100000 {
		t.Fatalf("HPTTL = %v, %v", pttl, err)
	}
	wantInts(t, "HEXPIRE NX", rdb.HExpireWithArgs(ctx, h, 50*time.Second, redis.HExpireArgs{NX: true}, "a", "b"), 0, 1)
	wantInts(t, "HEXPIRE GT", rdb.HExpireWithArgs(ctx, h, 200*time.Second, redis.HExpireArgs{GT: true}, "a", "c"), 1, 0)
	wantInts(t, "HEXPIRE LT", rdb.HExpireWithArgs(ctx, h, 10*time.Second, redis.HExpireArgs{LT: true}, "a", "c"), 1, 1)
	wantInts(t, "HEXPIRE XX", rdb.HExpireWithArgs(ctx, h, 30*time.Second, redis.HExpireArgs{XX: true}, "d"), 0)
	wantInts(t, "HPERSIST", rdb.HPersist(ctx, h, "a", "d", "nope"), 1, -1, -2)
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	wantInts(t, "HEXPIREAT", rdb.HExpireAt(ctx, h, at, "d"), 1)
	wantInts(t, "HEXPIRETIME", rdb.HExpireTime(ctx, h, "d", "a"), at.Unix(), -1)
	wantInts(t, "HPEXPIRETIME", rdb.HPExpireTime(ctx, h, "d"), at.UnixMilli())
	wantInts(t, "HEXPIREAT past", rdb.HExpireAt(ctx, h, time.Unix(1, 0), "d"), 2)
	wantInt(t, "HLEN", rdb.HLen(ctx, h), 3)

	// Fields expire for every command; the key goes with its last one.
	e := p + "e"
	wantInt(t, "HSET e", rdb.HSet(ctx, e, "x", "1", "y", "2", "z", "3"), 3)
	wantInts(t, "HPEXPIRE e", rdb.HPExpire(ctx, e, 50*time.Millisecond, "x", "y"), 1, 1)
	waitFor(t, 15*time.Second, "x and y to expire", func() bool {
		n, err := rdb.HLen(ctx, e).Result()
		return err == nil && n == 1
	})
	wantNil(t, "HGET expired", rdb.HGet(ctx, e, "x").Err())
	all, err := rdb.HGetAll(ctx, e).Result()
	wantEq(t, "HGETALL after expiry", all, map[string]string{"z": "3"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.HKeys(ctx, e).Result()
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "HKEYS after expiry", keys, []string{"z"})
	wantInts(t, "HTTL expired", rdb.HTTL(ctx, e, "x", "z"), -2, -1)
	wantInts(t, "HPEXPIRE last", rdb.HPExpire(ctx, e, 30*time.Millisecond, "z"), 1)
	// Nobody touches the hash: the server's expiry sweep removes the key.
	waitFor(t, 15*time.Second, "the key to go with its last field", func() bool {
		n, err := rdb.Exists(ctx, e).Result()
		return err == nil && n == 0
	})

	// HSETEX, HGETEX, HGETDEL (Redis 8).
	s := p + "s"
	if n, err := rdb.HSetEXWithArgs(ctx, s, &redis.HSetEXOptions{Condition: redis.HSetEXFNX, ExpirationType: redis.HSetEXExpirationEX, ExpirationVal: 100}, "f1", "v1", "f2", "v2").Result(); n != 1 || err != nil {
		t.Fatalf("HSETEX FNX EX = %v, %v", n, err)
	}
	if n, err := rdb.HSetEXWithArgs(ctx, s, &redis.HSetEXOptions{Condition: redis.HSetEXFNX}, "f1", "x", "f3", "y").Result(); n != 0 || err != nil {
		t.Fatalf("HSETEX FNX on an existing field = %v, %v", n, err)
	}
	ttl, err = rdb.HTTL(ctx, s, "f1", "f2").Result()
	if err != nil || len(ttl) != 2 || ttl[0] < 99 || ttl[1] < 99 {
		t.Fatalf("HTTL after HSETEX = %v, %v", ttl, err)
	}
	if n, err := rdb.HSetEX(ctx, s, "f1", "new").Result(); n != 1 || err != nil {
		t.Fatalf("HSETEX = %v, %v", n, err)
	}
	wantInts(t, "HTTL after a plain HSETEX", rdb.HTTL(ctx, s, "f1"), -1)
	vals, err := rdb.HGetEXWithArgs(ctx, s, &redis.HGetEXOptions{ExpirationType: redis.HGetEXExpirationPERSIST}, "f2", "f1").Result()
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "HGETEX PERSIST", vals, []string{"v2", "new"})
	wantInts(t, "HTTL after HGETEX PERSIST", rdb.HTTL(ctx, s, "f2"), -1)
	vals, err = rdb.HGetEXWithArgs(ctx, s, &redis.HGetEXOptions{ExpirationType: redis.HGetEXExpirationEXAT, ExpirationVal: at.Unix()}, "f2").Result()
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "HGETEX EXAT", vals, []string{"v2"})
	wantInts(t, "HEXPIRETIME after HGETEX EXAT", rdb.HExpireTime(ctx, s, "f2"), at.Unix())
	vals, err = rdb.HGetDel(ctx, s, "f1", "f2").Result()
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "HGETDEL", vals, []string{"new", "v2"})
	wantInt(t, "EXISTS after HGETDEL of every field", rdb.Exists(ctx, s), 0)

	// HRANGEBYLEX (KVRocks): a flat array of field, value, even in RESP3.
	r := p + "r"
	wantInt(t, "HSET r", rdb.HSet(ctx, r, "a", "1", "b", "2", "c", "3"), 3)
	got, err := rdb.Do(ctx, "HRANGEBYLEX", r, "(a", "+").Slice()
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "HRANGEBYLEX", got, []any{"b", "2", "c", "3"})
	got, err = rdb.Do(ctx, "HRANGEBYLEX", r, "+", "-", "REV", "LIMIT", "0", "1").Slice()
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "HRANGEBYLEX REV LIMIT", got, []any{"c", "3"})

	// Errors reach the client as Redis words them.
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"HEXPIRE", h, "10", "FIELDS", "2", "a"}, "ERR The `numfields` parameter must match the number of arguments"},
		{[]any{"HTTL", h, "FIELD", "1", "a"}, "ERR Mandatory argument FIELDS is missing or not at the right position"},
		{[]any{"HEXPIRE", h, "-1", "FIELDS", "1", "a"}, "ERR invalid expire time, must be >= 0"},
		{[]any{"HSETEX", h, "FNX", "FXX", "FIELDS", "1", "a", "b"}, "ERR Only one of FXX or FNX arguments can be specified"},
		{[]any{"HRANGEBYLEX", r, "a", "+"}, "ERR the min is illegal"},
	} {
		if err := rdb.Do(ctx, tc.args...).Err(); err == nil || err.Error() != tc.want {
			t.Fatalf("%v: %v; want %q", tc.args, err, tc.want)
		}
	}
}

// TestHashFieldExpiryRedisCLI runs the field-expiry commands through
// redis-cli against a real server and checks its rendering.
func TestHashFieldExpiryRedisCLI(t *testing.T) {
	internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"HSET", "c", "a", "1", "b", "2"}, "2\n"},
		{[]string{"HEXPIREAT", "c", "4102444800", "NX", "FIELDS", "2", "a", "zz"}, "1\n-2\n"},
		{[]string{"HEXPIRETIME", "c", "FIELDS", "2", "a", "b"}, "4102444800\n-1\n"},
		{[]string{"HPERSIST", "c", "FIELDS", "1", "a"}, "1\n"},
		{[]string{"HGETEX", "c", "PXAT", "4102444800000", "FIELDS", "2", "b", "zz"}, "2\n\n"},
		{[]string{"HPEXPIRETIME", "c", "FIELDS", "1", "b"}, "4102444800000\n"},
		{[]string{"HSETEX", "c", "FXX", "KEEPTTL", "FIELDS", "1", "b", "3"}, "1\n"},
		{[]string{"HRANGEBYLEX", "c", "-", "+"}, "a\n1\nb\n3\n"},
		{[]string{"HGETDEL", "c", "FIELDS", "2", "a", "b"}, "1\n3\n"},
		{[]string{"EXISTS", "c"}, "0\n"},
		{[]string{"HSETEXPIRE", "k", "100", "a", "1", "b", "2"}, "OK\n"},
		{[]string{"TTL", "k"}, "100\n"},
		{[]string{"HLEN", "k"}, "2\n"},
	} {
		if got := redisCLI(t, srv.Addr(), tc.args...); got != tc.want {
			t.Fatalf("redis-cli %s = %q; want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}

// TestScoreFormatLikeRedis sends the same sorted-set commands to gpucache
// and to a local redis-server 7.0 over raw RESP2 and RESP3 connections
// and compares the replies: scores print with 17 significant digits
// (%.17g) in both, as KVRocks's util::Float2String prints them. Where the
// two differ on purpose (INCRBYFLOAT, HINCRBYFLOAT: redis-server prints
// its shortest long-double form, KVRocks and gpucache %.17g), the
// KVRocks form is checked.
func TestScoreFormatLikeRedis(t *testing.T) {
	peer := internal.StartRedis(t)
	srv := internal.Start(t, internal.Options{})
	cmds := [][]string{
		{"ZADD", "z", "0.1", "a", "56.441257870158204", "b", "1e21", "c", "-2.5e-7", "d", "3", "e", "1e300", "f", "-inf", "g", "123456789012345678", "h"},
		{"ZSCORE", "z", "a"}, {"ZSCORE", "z", "b"}, {"ZSCORE", "z", "d"},
		{"ZRANGE", "z", "0", "-1", "WITHSCORES"},
		{"ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "0", "3"},
		{"ZINCRBY", "z", "0.2", "a"}, {"ZINCRBY", "z", "1e-9", "e"},
		{"ZMSCORE", "z", "a", "nope", "c", "h"},
		{"ZADD", "z", "INCR", "0.7", "a"},
		{"ZPOPMIN", "z", "2"}, {"ZPOPMAX", "z"},
		{"ZUNION", "1", "z", "WEIGHTS", "0.3", "WITHSCORES"},
		{"ZRANGEBYSCORE", "z", "(0", "100", "WITHSCORES"},
	}
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			g, r := dialRaw(t, srv.Addr()), dialRaw(t, peer)
			for _, c := range []*rawConn{g, r} {
				c.send("HELLO", proto)
				c.readReply()
				c.send("DEL", "z")
				c.readReply()
			}
			for _, args := range cmds {
				g.send(args...)
				r.send(args...)
				got, want := renderReply(g.readReply()), renderReply(r.readReply())
				if got != want {
					t.Errorf("%s:\n gpucache     %s\n redis-server %s", strings.Join(args, " "), got, want)
				}
			}
		})
	}
	g := dialRaw(t, srv.Addr())
	for _, tc := range [][3]string{
		{"INCRBYFLOAT", "fl", "0.1"}, {"HINCRBYFLOAT", "hf", "0.1"},
	} {
		args := append([]string{tc[0], tc[1]}, func() []string {
			if tc[0] == "HINCRBYFLOAT" {
				return []string{"f", tc[2]}
			}
			return []string{tc[2]}
		}()...)
		g.send(args...)
		if got := g.readReply(); got.str != "0.10000000000000001" {
			t.Errorf("%s = %q; want KVRocks's 0.10000000000000001", tc[0], got.str)
		}
	}
}

// renderReply writes a reply with its types, for comparison.
func renderReply(r reply) string {
	var b strings.Builder
	b.WriteByte(r.kind)
	b.WriteString(r.str)
	if r.elems != nil {
		b.WriteByte('[')
		for i, e := range r.elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(renderReply(e))
		}
		b.WriteByte(']')
	}
	return b.String()
}

// TestMaxBitmapToString: max-bitmap-to-string-mb is a real setting, as in
// KVRocks: from the command line, in CONFIG GET, and changed at run time
// by CONFIG SET; GET of a larger bitmap is refused with KVRocks's error.
func TestMaxBitmapToString(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--max-bitmap-to-string-mb", "1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	const tooLarge = "ERR Operation aborted: The size of the bitmap string exceeds the configuration item max-bitmap-to-string-mb"
	got, err := rdb.ConfigGet(ctx, "max-bitmap-to-string-mb").Result()
	if err != nil || got["max-bitmap-to-string-mb"] != "1" {
		t.Fatalf("CONFIG GET = %v, %v", got, err)
	}
	wantInt(t, "SETBIT at 1 MiB", rdb.SetBit(ctx, "mib", 1<<23-1, 1), 0)
	if v, err := rdb.Get(ctx, "mib").Result(); err != nil || len(v) != 1<<20 {
		t.Fatalf("GET of a 1 MiB bitmap: %d bytes, %v", len(v), err)
	}
	wantInt(t, "SETBIT past 1 MiB", rdb.SetBit(ctx, "big", 1<<23, 1), 0)
	wantErr(t, "GET of a bitmap over 1 MiB", rdb.Get(ctx, "big").Err(), tooLarge)
	must(t, rdb.ConfigSet(ctx, "max-bitmap-to-string-mb", "2").Err())
	if v, err := rdb.Get(ctx, "big").Result(); err != nil || len(v) != 1<<20+1 {
		t.Fatalf("GET after CONFIG SET 2: %d bytes, %v", len(v), err)
	}
	must(t, rdb.ConfigSet(ctx, "max-bitmap-to-string-mb", "0").Err())
	wantErr(t, "GET with the limit at 0", rdb.Get(ctx, "mib").Err(), tooLarge)
	if got, err := rdb.ConfigGet(ctx, "max-bitmap-to-string-mb").Result(); err != nil || got["max-bitmap-to-string-mb"] != "0" {
		t.Fatalf("CONFIG GET after SET = %v, %v", got, err)
	}
	if err := rdb.ConfigSet(ctx, "max-bitmap-to-string-mb", "-1").Err(); err == nil {
		t.Fatal("CONFIG SET -1 accepted")
	}
}
