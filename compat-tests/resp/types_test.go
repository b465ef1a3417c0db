package resp_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestTypes drives the collection families (hash, set, sorted set, list)
// and the key commands across types through go-redis v9, in RESP2 and
// RESP3, against one server process.
func TestTypes(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			p := fmt.Sprintf("t%d:", proto)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			for _, tc := range []struct {
				name string
				fn   func(t *testing.T, ctx context.Context, rdb *redis.Client, p string)
			}{
				{"Hash", typesHash},
				{"Set", typesSet},
				{"ZSet", typesZSet},
				{"ZRangeForms", typesZRangeForms},
				{"List", typesList},
				{"WrongType", typesWrongType},
				{"KeyCommands", typesKeyCommands},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, ctx, rdb, p+tc.name+":") })
			}
		})
	}
}

func wantEq(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %#v; want %#v", what, got, want)
	}
}

func typesHash(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	h := p + "h"
	wantInt(t, "HSET", rdb.HSet(ctx, h, "f1", "v1", "f2", "v2"), 2)
	wantInt(t, "HSET again", rdb.HSet(ctx, h, "f1", "v1b", "f3", "v3"), 1)
	wantStr(t, "HGET", rdb.HGet(ctx, h, "f1"), "v1b")
	wantNil(t, "HGET missing field", rdb.HGet(ctx, h, "nope").Err())
	wantNil(t, "HGET missing key", rdb.HGet(ctx, p+"none", "f").Err())
	all, err := rdb.HGetAll(ctx, h).Result()
	must(t, err)
	wantEq(t, "HGETALL", all, map[string]string{"f1": "v1b", "f2": "v2", "f3": "v3"})
	wantEq(t, "HKEYS", rdb.HKeys(ctx, h).Val(), []string{"f1", "f2", "f3"})
	wantEq(t, "HVALS", rdb.HVals(ctx, h).Val(), []string{"v1b", "v2", "v3"})
	wantInt(t, "HLEN", rdb.HLen(ctx, h), 3)
	wantInt(t, "HLEN missing", rdb.HLen(ctx, p+"none"), 0)
	vals, err := rdb.HMGet(ctx, h, "f2", "nope", "f3").Result()
	must(t, err)
	wantEq(t, "HMGET", vals, []any{"v2", nil, "v3"})
	if ok, err := rdb.HMSet(ctx, h, "f4", "v4").Result(); !ok || err != nil {
		t.Fatalf("HMSET = %v, %v", ok, err)
	}
	if ok, err := rdb.HExists(ctx, h, "f4").Result(); !ok || err != nil {
		t.Fatalf("HEXISTS f4 = %v, %v", ok, err)
	}
	if ok, err := rdb.HSetNX(ctx, h, "f4", "x").Result(); ok || err != nil {
		t.Fatalf("HSETNX existing = %v, %v", ok, err)
	}
	wantInt(t, "HSTRLEN", rdb.HStrLen(ctx, h, "f1"), 3)
	wantInt(t, "HSTRLEN missing", rdb.HStrLen(ctx, h, "nope"), 0)
	wantInt(t, "HINCRBY new", rdb.HIncrBy(ctx, h, "n", 5), 5)
	wantInt(t, "HINCRBY", rdb.HIncrBy(ctx, h, "n", -7), -2)
	wantErr(t, "HINCRBY on text", rdb.HIncrBy(ctx, h, "f1", 1).Err(), "ERR hash value is not an integer")
	if f, err := rdb.HIncrByFloat(ctx, h, "fl", 1.5).Result(); f != 1.5 || err != nil {
		t.Fatalf("HINCRBYFLOAT = %v, %v", f, err)
	}
	if f, err := rdb.HIncrByFloat(ctx, h, "fl", 0.25).Result(); f != 1.75 || err != nil {
		t.Fatalf("HINCRBYFLOAT = %v, %v", f, err)
	}
	wantInt(t, "HDEL", rdb.HDel(ctx, h, "f1", "nope", "f2"), 2)
	wantErr(t, "HSET odd", rdb.Do(ctx, "hset", h, "a", "b", "c").Err(), "ERR wrong number of arguments")
	// HRANDFIELD
	f, err := rdb.HRandField(ctx, h, 1).Result()
	must(t, err)
	if len(f) != 1 || rdb.HExists(ctx, h, f[0]).Val() != true {
		t.Fatalf("HRANDFIELD 1 = %v", f)
	}
	if f, err := rdb.HRandField(ctx, h, 100).Result(); err != nil || len(f) != int(rdb.HLen(ctx, h).Val()) {
		t.Fatalf("HRANDFIELD 100 = %v, %v", f, err)
	}
	if f, err := rdb.HRandField(ctx, h, -10).Result(); err != nil || len(f) != 10 {
		t.Fatalf("HRANDFIELD -10 = %v, %v", f, err)
	}
	wantNil(t, "HRANDFIELD missing", rdb.Do(ctx, "hrandfield", p+"none").Err())
	// HSCAN pages through every field exactly once.
	big := p + "big"
	for i := 0; i < 250; i++ {
		must(t, rdb.HSet(ctx, big, fmt.Sprintf("k%03d", i), i).Err())
	}
	seen := map[string]bool{}
	var cursor uint64
	for {
		kv, next, err := rdb.HScan(ctx, big, cursor, "k1*", 30).Result()
		must(t, err)
		for i := 0; i < len(kv); i += 2 {
			if seen[kv[i]] {
				t.Fatalf("HSCAN returned %s twice", kv[i])
			}
			seen[kv[i]] = true
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != 100 {
		t.Fatalf("HSCAN MATCH k1* saw %d fields, want 100", len(seen))
	}
	wantInt(t, "DEL hash", rdb.Del(ctx, big, h), 2)
	wantInt(t, "EXISTS after DEL", rdb.Exists(ctx, big, h), 0)
}

func typesSet(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	a, b, c := p+"a", p+"b", p+"c"
	wantInt(t, "SADD", rdb.SAdd(ctx, a, "x", "y", "z", "x"), 3)
	wantInt(t, "SADD b", rdb.SAdd(ctx, b, "y", "z", "w"), 3)
	wantEq(t, "SMEMBERS", rdb.SMembers(ctx, a).Val(), []string{"x", "y", "z"})
	wantInt(t, "SCARD", rdb.SCard(ctx, a), 3)
	if ok := rdb.SIsMember(ctx, a, "y").Val(); !ok {
		t.Fatal("SISMEMBER y = false")
	}
	wantEq(t, "SMISMEMBER", rdb.SMIsMember(ctx, a, "x", "nope").Val(), []bool{true, false})
	wantEq(t, "SINTER", rdb.SInter(ctx, a, b).Val(), []string{"y", "z"})
	wantEq(t, "SUNION", rdb.SUnion(ctx, a, b).Val(), []string{"w", "x", "y", "z"})
	wantEq(t, "SDIFF", rdb.SDiff(ctx, a, b).Val(), []string{"x"})
	wantEq(t, "SINTER with missing", rdb.SInter(ctx, a, p+"none").Val(), []string{})
	wantInt(t, "SINTERSTORE", rdb.SInterStore(ctx, c, a, b), 2)
	wantEq(t, "stored", rdb.SMembers(ctx, c).Val(), []string{"y", "z"})
	wantInt(t, "SUNIONSTORE onto a source", rdb.SUnionStore(ctx, c, c, a), 3)
	wantEq(t, "stored union", rdb.SMembers(ctx, c).Val(), []string{"x", "y", "z"})
	wantInt(t, "SDIFFSTORE empty result", rdb.SDiffStore(ctx, c, a, a), 0)
	wantInt(t, "empty store deletes", rdb.Exists(ctx, c), 0)
	wantInt(t, "SINTERCARD", rdb.SInterCard(ctx, 0, a, b), 2)
	wantInt(t, "SINTERCARD LIMIT", rdb.SInterCard(ctx, 1, a, b), 1)
	wantErr(t, "SINTERCARD 0 keys", rdb.Do(ctx, "sintercard", 0, a).Err(), "ERR numkeys should be greater than 0")
	if ok, err := rdb.SMove(ctx, a, b, "x").Result(); !ok || err != nil {
		t.Fatalf("SMOVE = %v, %v", ok, err)
	}
	wantEq(t, "after SMOVE", rdb.SMembers(ctx, b).Val(), []string{"w", "x", "y", "z"})
	wantInt(t, "SREM", rdb.SRem(ctx, a, "y", "nope"), 1)
	m, err := rdb.SRandMember(ctx, b).Result()
	must(t, err)
	if !rdb.SIsMember(ctx, b, m).Val() {
		t.Fatalf("SRANDMEMBER = %q, not a member", m)
	}
	if got := rdb.SRandMemberN(ctx, b, -7).Val(); len(got) != 7 {
		t.Fatalf("SRANDMEMBER -7 = %v", got)
	}
	popped, err := rdb.SPopN(ctx, b, 3).Result()
	must(t, err)
	wantInt(t, "SCARD after SPOP 3", rdb.SCard(ctx, b), 1)
	last, err := rdb.SPop(ctx, b).Result()
	must(t, err)
	all := append(popped, last)
	sort.Strings(all)
	wantEq(t, "popped", all, []string{"w", "x", "y", "z"})
	wantInt(t, "SPOP emptied the key", rdb.Exists(ctx, b), 0)
	wantNil(t, "SPOP missing", rdb.SPop(ctx, b).Err())
	for i := 0; i < 55; i++ {
		must(t, rdb.SAdd(ctx, c, fmt.Sprint("m", i)).Err())
	}
	n := 0
	var cursor uint64
	for {
		ms, next, err := rdb.SScan(ctx, c, cursor, "", 10).Result()
		must(t, err)
		n += len(ms)
		if cursor = next; cursor == 0 {
			break
		}
	}
	if n != 55 {
		t.Fatalf("SSCAN saw %d members, want 55", n)
	}
	// A large set is sampled from random points, not walked.
	big := p + "big"
	ms := make([]any, 3000)
	for i := range ms {
		ms[i] = fmt.Sprintf("member:%05d", i)
	}
	must(t, rdb.SAdd(ctx, big, ms...).Err())
	got := rdb.SRandMemberN(ctx, big, 20).Val()
	distinct := map[string]bool{}
	for _, m := range got {
		distinct[m] = true
	}
	if len(got) != 20 || len(distinct) != 20 {
		t.Fatalf("SRANDMEMBER 20 of a large set = %v", got)
	}
	if got := rdb.SRandMemberN(ctx, big, -30).Val(); len(got) != 30 {
		t.Fatalf("SRANDMEMBER -30 = %d members", len(got))
	}
	popped = rdb.SPopN(ctx, big, 100).Val()
	wantInt(t, "SCARD after SPOP 100", rdb.SCard(ctx, big), 2900)
	for _, m := range popped {
		if rdb.SIsMember(ctx, big, m).Val() {
			t.Fatalf("popped %s still a member", m)
		}
	}
}

const wrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

// typesWrongType: every family refuses keys of another type with
// KVRocks's WRONGTYPE error, and the string commands refuse collections.
func typesWrongType(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	keys := map[string]string{"string": p + "s", "hash": p + "h", "set": p + "set", "list": p + "l", "zset": p + "z"}
	must(t, rdb.Set(ctx, keys["string"], "12", 0).Err())
	must(t, rdb.RPush(ctx, keys["list"], "a").Err())
	must(t, rdb.ZAdd(ctx, keys["zset"], redis.Z{Score: 1, Member: "m"}).Err())
	must(t, rdb.HSet(ctx, keys["hash"], "f", "v").Err())
	must(t, rdb.SAdd(ctx, keys["set"], "m").Err())
	cmds := map[string][][]any{
		"string": {{"get", "K"}, {"append", "K", "x"}, {"incr", "K"}, {"strlen", "K"}, {"getrange", "K", 0, 1},
			{"setrange", "K", 0, "x"}, {"getset", "K", "x"}, {"getdel", "K"}, {"incrbyfloat", "K", 1}, {"set", "K", "v", "GET"}},
		"hash": {{"hget", "K", "f"}, {"hset", "K", "f", "v"}, {"hgetall", "K"}, {"hdel", "K", "f"}, {"hlen", "K"},
			{"hincrby", "K", "f", 1}, {"hmget", "K", "f"}, {"hscan", "K", 0}, {"hrandfield", "K"}, {"hexists", "K", "f"}},
		"list": {{"lpush", "K", "x"}, {"rpop", "K"}, {"lrange", "K", 0, -1}, {"llen", "K"}, {"lindex", "K", 0},
			{"lset", "K", 0, "x"}, {"linsert", "K", "before", "a", "b"}, {"lrem", "K", 0, "x"}, {"ltrim", "K", 0, 1},
			{"lpos", "K", "x"}, {"lmove", "K", "dst", "left", "left"}, {"blpop", "K", 0.01}, {"lmpop", 1, "K", "left"}},
		"zset": {{"zadd", "K", 1, "m"}, {"zscore", "K", "m"}, {"zrange", "K", 0, -1}, {"zcard", "K"}, {"zrank", "K", "m"},
			{"zpopmin", "K"}, {"zincrby", "K", 1, "m"}, {"zrangebyscore", "K", 0, 1}, {"bzpopmin", "K", 0.01}, {"zscan", "K", 0}},
		"set": {{"sadd", "K", "m"}, {"smembers", "K"}, {"scard", "K"}, {"sismember", "K", "m"}, {"spop", "K"},
			{"sinter", "K"}, {"sunionstore", "dst", "K"}, {"srem", "K", "m"}, {"sscan", "K", 0}},
	}
	for family, list := range cmds {
		for holder, key := range keys {
			if holder == family {
				continue
			}
			for _, c := range list {
				args := make([]any, len(c))
				copy(args, c)
				for i, a := range args {
					if a == "K" {
						args[i] = key
					}
				}
				err := rdb.Do(ctx, args...).Err()
				if err == nil || err.Error() != wrongType {
					t.Errorf("%v on a %s: %v, want WRONGTYPE", args, holder, err)
				}
			}
		}
	}
	// MGET answers nil for keys that are not strings, as Redis does.
	vals, err := rdb.MGet(ctx, keys["string"], keys["hash"]).Result()
	must(t, err)
	wantEq(t, "MGET across types", vals, []any{"12", nil})
	// SET replaces any type.
	must(t, rdb.Set(ctx, keys["hash"], "now a string", 0).Err())
	wantStr(t, "TYPE after SET", rdb.Type(ctx, keys["hash"]), "string")
}

func typesKeyCommands(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	h, s, str := p+"h", p+"s", p+"str"
	must(t, rdb.HSet(ctx, h, "a", "1", "b", "2").Err())
	must(t, rdb.SAdd(ctx, s, "m1", "m2").Err())
	must(t, rdb.Set(ctx, str, "v", 0).Err())
	wantStr(t, "TYPE hash", rdb.Type(ctx, h), "hash")
	wantStr(t, "TYPE set", rdb.Type(ctx, s), "set")
	wantStr(t, "TYPE none", rdb.Type(ctx, p+"none"), "none")
	wantInt(t, "EXISTS", rdb.Exists(ctx, h, s, str, p+"none"), 3)
	wantStr(t, "OBJECT ENCODING hash", rdb.ObjectEncoding(ctx, h), "hashtable")
	wantNil(t, "OBJECT ENCODING missing", rdb.ObjectEncoding(ctx, str+"n").Err())
	must(t, rdb.Set(ctx, str+"n", "123", 0).Err())
	wantStr(t, "OBJECT ENCODING int", rdb.ObjectEncoding(ctx, str+"n"), "int")
	// Expiry on collections.
	if ok, err := rdb.Expire(ctx, h, 100*time.Second).Result(); !ok || err != nil {
		t.Fatalf("EXPIRE hash = %v, %v", ok, err)
	}
	if ttl := rdb.TTL(ctx, h).Val(); ttl < 99*time.Second || ttl > 100*time.Second {
		t.Fatalf("TTL hash = %v", ttl)
	}
	if ok, err := rdb.Persist(ctx, h).Result(); !ok || err != nil {
		t.Fatalf("PERSIST = %v, %v", ok, err)
	}
	if v := rdbInt(t, rdb.Do(ctx, "ttl", h)); v != -1 {
		t.Fatalf("TTL after PERSIST = %d, want -1", v)
	}
	must(t, rdb.PExpire(ctx, s, 50*time.Millisecond).Err())
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Exists(ctx, s).Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("set did not expire")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// RENAME and COPY keep the type and the elements.
	must(t, rdb.Rename(ctx, h, h+"2").Err())
	wantEq(t, "renamed", rdb.HGetAll(ctx, h+"2").Val(), map[string]string{"a": "1", "b": "2"})
	if ok, err := rdb.RenameNX(ctx, h+"2", str).Result(); ok || err != nil {
		t.Fatalf("RENAMENX onto existing = %v, %v", ok, err)
	}
	wantInt(t, "COPY", rdb.Copy(ctx, h+"2", h+"3", 0, false), 1)
	wantInt(t, "COPY onto existing", rdb.Copy(ctx, h+"2", str, 0, false), 0)
	wantInt(t, "COPY REPLACE", rdb.Copy(ctx, h+"2", str, 0, true), 1)
	wantStr(t, "TYPE after COPY REPLACE", rdb.Type(ctx, str), "hash")
	must(t, rdb.HSet(ctx, h+"3", "c", "3").Err())
	wantInt(t, "copy independent", rdb.HLen(ctx, h+"2"), 2)
	wantErr(t, "COPY same", rdb.Copy(ctx, h+"2", h+"2", 0, false).Err(), "ERR source and destination objects are the same")
	// SCAN TYPE sees each type.
	var hashes []string
	var cursor uint64
	for {
		keys, next, err := rdb.ScanType(ctx, cursor, p+"*", 100, "hash").Result()
		must(t, err)
		hashes = append(hashes, keys...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	sort.Strings(hashes)
	wantEq(t, "SCAN TYPE hash", hashes, []string{h + "2", h + "3", str})
}

func rdbInt(t testing.TB, c *redis.Cmd) int64 {
	t.Helper()
	v, err := c.Int64()
	must(t, err)
	return v
}

func typesZSet(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	z := p + "z"
	wantInt(t, "ZADD", rdb.ZAdd(ctx, z, redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 3, Member: "c"}), 3)
	wantInt(t, "ZADD NX", rdb.ZAddNX(ctx, z, redis.Z{Score: 9, Member: "a"}, redis.Z{Score: 4, Member: "d"}), 1)
	wantInt(t, "ZADD XX CH", rdb.ZAddArgs(ctx, z, redis.ZAddArgs{XX: true, Ch: true, Members: []redis.Z{{Score: 1.5, Member: "a"}, {Score: 7, Member: "new"}}}), 1)
	wantInt(t, "ZADD GT CH", rdb.ZAddArgs(ctx, z, redis.ZAddArgs{GT: true, Ch: true, Members: []redis.Z{{Score: 1, Member: "a"}, {Score: 5, Member: "b"}}}), 1)
	wantInt(t, "ZADD LT", rdb.ZAddArgs(ctx, z, redis.ZAddArgs{LT: true, Members: []redis.Z{{Score: 0.5, Member: "c"}, {Score: 8, Member: "e"}}}), 1)
	if f, err := rdb.ZAddArgsIncr(ctx, z, redis.ZAddArgs{Members: []redis.Z{{Score: 10, Member: "a"}}}).Result(); f != 11.5 || err != nil {
		t.Fatalf("ZADD INCR = %v, %v", f, err)
	}
	wantNil(t, "ZADD NX INCR on existing", rdb.ZAddArgsIncr(ctx, z, redis.ZAddArgs{NX: true, Members: []redis.Z{{Score: 1, Member: "a"}}}).Err())
	wantErr(t, "ZADD NX XX", rdb.Do(ctx, "zadd", z, "nx", "xx", 1, "a").Err(), "ERR XX and NX options at the same time are not compatible")
	wantErr(t, "ZADD GT LT", rdb.Do(ctx, "zadd", z, "gt", "lt", 1, "a").Err(), "ERR GT, LT, and/or NX options at the same time are not compatible")
	wantErr(t, "ZADD INCR pairs", rdb.Do(ctx, "zadd", z, "incr", 1, "a", 2, "b").Err(), "ERR INCR option supports a single increment-element pair")
	wantErr(t, "ZADD bad score", rdb.Do(ctx, "zadd", z, "x", "a").Err(), "ERR value is not a valid float")
	wantErr(t, "ZADD nan", rdb.Do(ctx, "zadd", z, "nan", "a").Err(), "ERR value is not a valid float")
	wantErr(t, "ZADD odd", rdb.Do(ctx, "zadd", z, 1, "a", 2).Err(), "ERR syntax error")
	// a=11.5 b=5 c=0.5 d=4 e=8
	wantInt(t, "ZCARD", rdb.ZCard(ctx, z), 5)
	if s, err := rdb.ZScore(ctx, z, "b").Result(); s != 5 || err != nil {
		t.Fatalf("ZSCORE = %v, %v", s, err)
	}
	wantNil(t, "ZSCORE missing", rdb.ZScore(ctx, z, "nope").Err())
	wantEq(t, "ZMSCORE", rdb.ZMScore(ctx, z, "c", "nope").Val(), []float64{0.5, 0})
	if f, err := rdb.ZIncrBy(ctx, z, 0.25, "c").Result(); f != 0.75 || err != nil {
		t.Fatalf("ZINCRBY = %v, %v", f, err)
	}
	wantInt(t, "ZRANK", rdb.ZRank(ctx, z, "b"), 2)
	wantInt(t, "ZREVRANK", rdb.ZRevRank(ctx, z, "b"), 2)
	wantNil(t, "ZRANK missing", rdb.ZRank(ctx, z, "nope").Err())
	if rs, err := rdb.ZRankWithScore(ctx, z, "e").Result(); err != nil || rs.Rank != 3 || rs.Score != 8 {
		t.Fatalf("ZRANK WITHSCORE = %+v, %v", rs, err)
	}
	wantInt(t, "ZCOUNT", rdb.ZCount(ctx, z, "(0.75", "8"), 3)
	wantInt(t, "ZCOUNT inf", rdb.ZCount(ctx, z, "-inf", "+inf"), 5)
	wantEq(t, "ZRANGE WITHSCORES", rdb.ZRangeWithScores(ctx, z, 0, 1).Val(), []redis.Z{{Score: 0.75, Member: "c"}, {Score: 4, Member: "d"}})
	wantInt(t, "ZREM", rdb.ZRem(ctx, z, "c", "nope"), 1)
	mins, err := rdb.ZPopMin(ctx, z, 2).Result()
	must(t, err)
	wantEq(t, "ZPOPMIN 2", mins, []redis.Z{{Score: 4, Member: "d"}, {Score: 5, Member: "b"}})
	maxs, err := rdb.ZPopMax(ctx, z).Result()
	must(t, err)
	wantEq(t, "ZPOPMAX", maxs, []redis.Z{{Score: 11.5, Member: "a"}})
	key, popped, err := rdb.ZMPop(ctx, "min", 5, p+"none", z).Result()
	must(t, err)
	if key != z || len(popped) != 1 || popped[0].Member != "e" {
		t.Fatalf("ZMPOP = %s %v", key, popped)
	}
	wantInt(t, "popped to empty", rdb.Exists(ctx, z), 0)
	// Algebra.
	a, b := p+"za", p+"zb"
	rdb.ZAdd(ctx, a, redis.Z{Score: 1, Member: "x"}, redis.Z{Score: 2, Member: "y"})
	rdb.ZAdd(ctx, b, redis.Z{Score: 10, Member: "y"}, redis.Z{Score: 20, Member: "z"})
	wantEq(t, "ZUNION", rdb.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{a, b}}).Val(),
		[]redis.Z{{Score: 1, Member: "x"}, {Score: 12, Member: "y"}, {Score: 20, Member: "z"}})
	wantEq(t, "ZINTER WEIGHTS MAX", rdb.ZInterWithScores(ctx, &redis.ZStore{Keys: []string{a, b}, Weights: []float64{3, 1}, Aggregate: "MAX"}).Val(),
		[]redis.Z{{Score: 10, Member: "y"}})
	wantEq(t, "ZDIFF", rdb.ZDiff(ctx, a, b).Val(), []string{"x"})
	wantInt(t, "ZUNIONSTORE", rdb.ZUnionStore(ctx, p+"dst", &redis.ZStore{Keys: []string{a, b}, Aggregate: "MIN"}), 3)
	wantEq(t, "stored", rdb.ZRangeWithScores(ctx, p+"dst", 0, -1).Val(),
		[]redis.Z{{Score: 1, Member: "x"}, {Score: 2, Member: "y"}, {Score: 20, Member: "z"}})
	wantInt(t, "ZINTERCARD", rdb.ZInterCard(ctx, 0, a, b), 1)
	wantInt(t, "ZDIFFSTORE", rdb.ZDiffStore(ctx, p+"dst", b, a), 1)
	// A set takes part with scores of 1.
	rdb.SAdd(ctx, p+"set", "x", "q")
	wantEq(t, "ZUNION with a set", rdb.ZUnion(ctx, redis.ZStore{Keys: []string{a, p + "set"}}).Val(), []string{"q", "x", "y"})
	if m, err := rdb.ZRandMember(ctx, a, 1).Result(); err != nil || len(m) != 1 {
		t.Fatalf("ZRANDMEMBER = %v %v", m, err)
	}
	for i := 0; i < 40; i++ {
		rdb.ZAdd(ctx, p+"scan", redis.Z{Score: float64(i), Member: fmt.Sprint("m", i)})
	}
	seen := 0
	var cursor uint64
	for {
		kv, next, err := rdb.ZScan(ctx, p+"scan", cursor, "", 7).Result()
		must(t, err)
		seen += len(kv) / 2
		if cursor = next; cursor == 0 {
			break
		}
	}
	if seen != 40 {
		t.Fatalf("ZSCAN saw %d members", seen)
	}
}

// typesZRangeForms runs every ZRANGE form over one sorted set.
func typesZRangeForms(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	z, l := p+"z", p+"lex"
	for i, m := range []string{"a", "b", "c", "d", "e", "f"} {
		must(t, rdb.ZAdd(ctx, z, redis.Z{Score: float64(i + 1), Member: m}).Err())
		must(t, rdb.ZAdd(ctx, l, redis.Z{Score: 0, Member: m}).Err())
	}
	strs := func(c *redis.StringSliceCmd) []string { v, err := c.Result(); must(t, err); return v }
	wantEq(t, "ZRANGE 1 -2", strs(rdb.ZRange(ctx, z, 1, -2)), []string{"b", "c", "d", "e"})
	wantEq(t, "ZRANGE out of range", strs(rdb.ZRange(ctx, z, 10, 20)), []string{})
	wantEq(t, "ZREVRANGE", strs(rdb.ZRevRange(ctx, z, 0, 1)), []string{"f", "e"})
	wantEq(t, "ZRANGE BYSCORE", strs(rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: z, Start: "(2", Stop: 5, ByScore: true})), []string{"c", "d", "e"})
	wantEq(t, "ZRANGE BYSCORE REV LIMIT", strs(rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: z, Start: "-inf", Stop: "+inf", ByScore: true, Rev: true, Offset: 1, Count: 2})), []string{"e", "d"})
	wantEq(t, "ZRANGE BYLEX", strs(rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: l, Start: "[b", Stop: "(e", ByLex: true})), []string{"b", "c", "d"})
	wantEq(t, "ZRANGE BYLEX REV", strs(rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: l, Start: "[e", Stop: "+", ByLex: true, Rev: true})), []string{"f", "e"})
	wantEq(t, "ZRANGEBYSCORE LIMIT", strs(rdb.ZRangeByScore(ctx, z, &redis.ZRangeBy{Min: "-inf", Max: "+inf", Offset: 2, Count: 2})), []string{"c", "d"})
	wantEq(t, "ZREVRANGEBYSCORE", strs(rdb.ZRevRangeByScore(ctx, z, &redis.ZRangeBy{Min: "2", Max: "(4"})), []string{"c", "b"})
	wantEq(t, "ZRANGEBYLEX", strs(rdb.ZRangeByLex(ctx, l, &redis.ZRangeBy{Min: "-", Max: "[b"})), []string{"a", "b"})
	wantEq(t, "ZREVRANGEBYLEX LIMIT", strs(rdb.ZRevRangeByLex(ctx, l, &redis.ZRangeBy{Min: "-", Max: "+", Offset: 1, Count: 2})), []string{"e", "d"})
	wantInt(t, "ZLEXCOUNT", rdb.ZLexCount(ctx, l, "(a", "[c"), 2)
	wantEq(t, "ZRANGEBYSCORE WITHSCORES", rdb.ZRangeByScoreWithScores(ctx, z, &redis.ZRangeBy{Min: "5", Max: "6"}).Val(),
		[]redis.Z{{Score: 5, Member: "e"}, {Score: 6, Member: "f"}})
	wantInt(t, "ZRANGESTORE", rdb.ZRangeStore(ctx, p+"dst", redis.ZRangeArgs{Key: z, Start: 2, Stop: 4, ByScore: true}), 3)
	wantEq(t, "stored range", strs(rdb.ZRange(ctx, p+"dst", 0, -1)), []string{"b", "c", "d"})
	wantErr(t, "LIMIT by rank", rdb.Do(ctx, "zrange", z, 0, 1, "limit", 0, 1).Err(), "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	wantErr(t, "WITHSCORES BYLEX", rdb.Do(ctx, "zrange", l, "-", "+", "bylex", "withscores").Err(), "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	wantErr(t, "bad score bound", rdb.Do(ctx, "zrangebyscore", z, "x", 1).Err(), "ERR min or max is not a float")
	wantErr(t, "bad lex bound", rdb.Do(ctx, "zrangebylex", l, "a", "+").Err(), "ERR min or max not valid string range item")
	wantInt(t, "ZREMRANGEBYRANK", rdb.ZRemRangeByRank(ctx, z, 0, 1), 2)
	wantInt(t, "ZREMRANGEBYSCORE", rdb.ZRemRangeByScore(ctx, z, "(3", "5"), 2)
	wantInt(t, "ZREMRANGEBYLEX", rdb.ZRemRangeByLex(ctx, l, "[b", "[d"), 3)
	wantEq(t, "left", strs(rdb.ZRange(ctx, z, 0, -1)), []string{"c", "f"})
}

func typesList(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	l := p + "l"
	strs := func(c *redis.StringSliceCmd) []string { v, err := c.Result(); must(t, err); return v }
	wantInt(t, "RPUSH", rdb.RPush(ctx, l, "b", "c"), 2)
	wantInt(t, "LPUSH", rdb.LPush(ctx, l, "a", "z"), 4)
	wantEq(t, "LRANGE", strs(rdb.LRange(ctx, l, 0, -1)), []string{"z", "a", "b", "c"})
	wantInt(t, "LPUSHX missing", rdb.LPushX(ctx, p+"none", "x"), 0)
	wantInt(t, "RPUSHX", rdb.RPushX(ctx, l, "d"), 5)
	wantStr(t, "LPOP", rdb.LPop(ctx, l), "z")
	wantStr(t, "RPOP", rdb.RPop(ctx, l), "d")
	wantInt(t, "LLEN", rdb.LLen(ctx, l), 3)
	wantStr(t, "LINDEX -1", rdb.LIndex(ctx, l, -1), "c")
	wantNil(t, "LINDEX out", rdb.LIndex(ctx, l, 9).Err())
	wantStr(t, "LSET", rdb.LSet(ctx, l, 1, "B"), "OK")
	wantErr(t, "LSET out of range", rdb.LSet(ctx, l, 9, "x").Err(), "ERR index out of range")
	wantErr(t, "LSET missing key", rdb.LSet(ctx, p+"none", 0, "x").Err(), "ERR no such key")
	wantInt(t, "LINSERT", rdb.LInsertBefore(ctx, l, "B", "x"), 4)
	wantInt(t, "LINSERT after", rdb.LInsertAfter(ctx, l, "c", "x"), 5)
	wantInt(t, "LINSERT no pivot", rdb.LInsertBefore(ctx, l, "nope", "x"), -1)
	wantEq(t, "after inserts", strs(rdb.LRange(ctx, l, 0, -1)), []string{"a", "x", "B", "c", "x"})
	wantInt(t, "LPOS", rdb.LPos(ctx, l, "x", redis.LPosArgs{}), 1)
	wantInt(t, "LPOS RANK -1", rdb.LPos(ctx, l, "x", redis.LPosArgs{Rank: -1}), 4)
	wantEq(t, "LPOS COUNT 0", rdb.LPosCount(ctx, l, "x", 0, redis.LPosArgs{}).Val(), []int64{1, 4})
	wantErr(t, "LPOS RANK 0", rdb.Do(ctx, "lpos", l, "x", "rank", 0).Err(), "ERR RANK can't be zero")
	wantInt(t, "LREM -1", rdb.LRem(ctx, l, -1, "x"), 1)
	wantEq(t, "after LREM", strs(rdb.LRange(ctx, l, 0, -1)), []string{"a", "x", "B", "c"})
	wantStr(t, "LTRIM", rdb.LTrim(ctx, l, 1, -2), "OK")
	wantEq(t, "after LTRIM", strs(rdb.LRange(ctx, l, 0, -1)), []string{"x", "B"})
	wantStr(t, "LMOVE", rdb.LMove(ctx, l, p+"dst", "LEFT", "RIGHT"), "x")
	wantStr(t, "RPOPLPUSH", rdb.RPopLPush(ctx, l, p+"dst"), "B")
	wantEq(t, "dst", strs(rdb.LRange(ctx, p+"dst", 0, -1)), []string{"B", "x"})
	wantInt(t, "emptied source gone", rdb.Exists(ctx, l), 0)
	wantNil(t, "LMOVE empty", rdb.LMove(ctx, l, p+"dst", "LEFT", "LEFT").Err())
	wantEq(t, "LPOP count", strs(rdb.LPopCount(ctx, p+"dst", 5)), []string{"B", "x"})
	wantNil(t, "LPOP count missing", rdb.LPopCount(ctx, p+"dst", 5).Err())
	rdb.RPush(ctx, p+"m2", "1", "2", "3")
	key, vals, err := rdb.LMPop(ctx, "right", 2, p+"m1", p+"m2").Result()
	if err != nil || key != p+"m2" || !reflect.DeepEqual(vals, []string{"3", "2"}) {
		t.Fatalf("LMPOP = %s %v %v", key, vals, err)
	}
	// A range query of a long list reads its range.
	big := p + "big"
	vs := make([]any, 1000)
	for i := range vs {
		vs[i] = i
	}
	must(t, rdb.RPush(ctx, big, vs...).Err())
	wantEq(t, "LRANGE middle", strs(rdb.LRange(ctx, big, 500, 502)), []string{"500", "501", "502"})
	wantStr(t, "OBJECT ENCODING list", rdb.ObjectEncoding(ctx, big), "quicklist")
}

// TestBlocking: blocking pops with timeouts, FIFO service of waiting
// clients, BLMOVE chains, CLIENT UNBLOCK and clients that hang up while
// blocked, through go-redis against the real binary.
func TestBlocking(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	admin := newGoRedis(t, srv.Addr(), 2, "")

	// waitBlocked polls CLIENT LIST until n clients are blocked.
	waitBlocked := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			list, err := admin.ClientList(ctx).Result()
			must(t, err)
			if got := strings.Count(list, "flags=b"); got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("want %d blocked clients, CLIENT LIST:\n%s", n, list)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	t.Run("Timeout", func(t *testing.T) {
		for _, proto := range []int{2, 3} {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			start := time.Now()
			// Fractional seconds, as redis-cli sends them (go-redis rounds
			// its durations up to whole seconds).
			wantNil(t, "BLPOP timeout", rdb.Do(ctx, "blpop", "bt:empty", "0.15").Err())
			if d := time.Since(start); d < 150*time.Millisecond {
				t.Fatalf("BLPOP returned after %v, before its timeout", d)
			}
			wantNil(t, "BZPOPMIN timeout", rdb.Do(ctx, "bzpopmin", "bt:empty", "0.05").Err())
			wantNil(t, "BLMOVE timeout", rdb.Do(ctx, "blmove", "bt:empty", "bt:dst", "left", "left", "0.05").Err())
			wantNil(t, "BLMPOP timeout", rdb.Do(ctx, "blmpop", "0.05", 1, "bt:empty", "left").Err())
			wantErr(t, "negative timeout", rdb.Do(ctx, "blpop", "k", -1).Err(), "ERR timeout is negative")
			wantErr(t, "bad timeout", rdb.Do(ctx, "blpop", "k", "x").Err(), "ERR timeout is not a float or out of range")
		}
	})

	t.Run("Immediate", func(t *testing.T) {
		rdb := newGoRedis(t, admin.Options().Addr, 3, "")
		rdb.RPush(ctx, "bi:l", "v")
		wantEq(t, "BLPOP ready", rdb.BLPop(ctx, time.Second, "bi:none", "bi:l").Val(), []string{"bi:l", "v"})
		rdb.ZAdd(ctx, "bi:z", redis.Z{Score: 2, Member: "m"})
		z, err := rdb.BZPopMax(ctx, time.Second, "bi:z").Result()
		if err != nil || z.Key != "bi:z" || z.Member != "m" || z.Score != 2 {
			t.Fatalf("BZPOPMAX = %+v, %v", z, err)
		}
		rdb.Set(ctx, "bi:s", "x", 0)
		wantErr(t, "BLPOP on a string", rdb.BLPop(ctx, time.Second, "bi:s").Err(), wrongType)
	})

	t.Run("FIFO", func(t *testing.T) {
		type got struct {
			who int
			v   []string
			err error
		}
		results := make(chan got, 3)
		for i := 0; i < 3; i++ {
			rdb := newGoRedis(t, srv.Addr(), 2, "")
			go func(i int) {
				v, err := rdb.BRPop(ctx, 10*time.Second, "bf:q").Result()
				results <- got{i, v, err}
			}(i)
			waitBlocked(i + 1)
		}
		must(t, admin.LPush(ctx, "bf:q", "first", "second", "third").Err())
		want := map[int]string{0: "first", 1: "second", 2: "third"}
		for i := 0; i < 3; i++ {
			r := <-results
			if r.err != nil || len(r.v) != 2 || r.v[1] != want[r.who] {
				t.Fatalf("client %d got %v, %v; want %s", r.who, r.v, r.err, want[r.who])
			}
		}
		wantInt(t, "queue drained", admin.Exists(ctx, "bf:q"), 0)
	})

	t.Run("BLMOVEChain", func(t *testing.T) {
		a := newGoRedis(t, srv.Addr(), 2, "")
		b := newGoRedis(t, srv.Addr(), 3, "")
		done := make(chan []string, 1)
		go func() { v, _ := b.BLPop(ctx, 10*time.Second, "bc:dst").Result(); done <- v }()
		waitBlocked(1)
		moved := make(chan string, 1)
		go func() {
			v, _ := a.BLMove(ctx, "bc:src", "bc:dst", "LEFT", "RIGHT", 10*time.Second).Result()
			moved <- v
		}()
		waitBlocked(2)
		must(t, admin.RPush(ctx, "bc:src", "payload").Err())
		if v := <-moved; v != "payload" {
			t.Fatalf("BLMOVE = %q", v)
		}
		if v := <-done; !reflect.DeepEqual(v, []string{"bc:dst", "payload"}) {
			t.Fatalf("BLPOP on the destination = %v", v)
		}
	})

	t.Run("Unblock", func(t *testing.T) {
		rdb := newGoRedis(t, srv.Addr(), 2, "")
		id, err := rdb.ClientID(ctx).Result()
		must(t, err)
		errc := make(chan error, 1)
		go func() { errc <- rdb.BLPop(ctx, 10*time.Second, "bu:q").Err() }()
		waitBlocked(1)
		wantInt(t, "CLIENT UNBLOCK", admin.ClientUnblock(ctx, id), 1)
		wantNil(t, "unblocked BLPOP", <-errc)
		go func() { errc <- rdb.BLPop(ctx, 10*time.Second, "bu:q").Err() }()
		waitBlocked(1)
		wantInt(t, "CLIENT UNBLOCK ERROR", admin.ClientUnblockWithError(ctx, id), 1)
		wantErr(t, "unblocked with error", <-errc, "UNBLOCKED client unblocked via CLIENT UNBLOCK")
		wantInt(t, "CLIENT UNBLOCK idle", admin.ClientUnblock(ctx, id), 0)
	})

	t.Run("HangUp", func(t *testing.T) {
		// A client that leaves while blocked takes nothing: the element
		// pushed afterwards stays for the next reader.
		nc := dialRaw(t, srv.Addr())
		nc.write(encodeStrings("BLPOP", "bh:q", "0"))
		waitBlocked(1)
		nc.nc.Close()
		waitBlocked(0)
		must(t, admin.RPush(ctx, "bh:q", "kept").Err())
		wantEq(t, "element kept", admin.LRange(ctx, "bh:q", 0, -1).Val(), []string{"kept"})
	})
}

// TestTypesNamespaces: collections of one namespace are invisible to
// another, and DBSIZE and SCAN count only their own.
func TestTypesNamespaces(t *testing.T) {
	const admin, tok1, tok2 = "adminpw", "token-one", "token-two"
	srv := internal.Start(t, internal.Options{Password: admin, Args: []string{
		"--requirepass", admin, "--namespace.ns1", tok1, "--namespace.ns2", tok2}})
	ctx := context.Background()
	c1 := newGoRedis(t, srv.Addr(), 3, tok1)
	c2 := newGoRedis(t, srv.Addr(), 2, tok2)
	must(t, c1.HSet(ctx, "shared", "f", "v").Err())
	must(t, c1.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "m"}).Err())
	must(t, c2.RPush(ctx, "shared", "x").Err())
	wantStr(t, "TYPE in ns1", c1.Type(ctx, "shared"), "hash")
	wantStr(t, "TYPE in ns2", c2.Type(ctx, "shared"), "list")
	wantInt(t, "ZCARD from ns2", c2.ZCard(ctx, "z"), 0)
	wantInt(t, "DBSIZE ns1", c1.DBSize(ctx), 2)
	wantInt(t, "DBSIZE ns2", c2.DBSize(ctx), 1)
	keys, _, err := c2.Scan(ctx, 0, "*", 100).Result()
	must(t, err)
	wantEq(t, "SCAN in ns2", keys, []string{"shared"})
	wantInt(t, "DEL in ns2", c2.Del(ctx, "shared"), 1)
	wantEq(t, "ns1's hash untouched", c1.HGetAll(ctx, "shared").Val(), map[string]string{"f": "v"})
}
