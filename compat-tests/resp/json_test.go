package resp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestJSONGoRedis drives the JSON.* family through go-redis's own JSON
// helpers (RESP2) against a real server: replies decode as go-redis
// expects them from RedisJSON/KVRocks, documents survive a kill -9 and
// restart with their expiry, and CONFIG SET json-storage-format cbor
// switches the stored format without changing what clients read.
func TestJSONGoRedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rdb.JSONSet(ctx, "doc", "$", map[string]any{"name": "gpu", "tags": []string{"a"}, "n": 1, "ok": true}).Err())
	if v, err := rdb.JSONGet(ctx, "doc").Result(); err != nil || v != `{"n":1,"name":"gpu","ok":true,"tags":["a"]}` {
		t.Fatalf("JSON.GET = %q, %v", v, err)
	}
	if v, err := rdb.JSONGet(ctx, "doc", "$.name").Result(); err != nil || v != `["gpu"]` {
		t.Fatalf("JSON.GET $.name = %q, %v", v, err)
	}
	if v, err := rdb.JSONGet(ctx, "doc", ".name").Result(); err != nil || v != `"gpu"` {
		t.Fatalf("JSON.GET .name = %q, %v", v, err)
	}
	if v, err := rdb.JSONGetWithArgs(ctx, "doc", &redis.JSONGetArgs{Indent: "  ", Newline: "\n", Space: " "}, "$.tags").Result(); err != nil ||
		v != "[\n  [\n    \"a\"\n  ]\n]" {
		t.Fatalf("JSON.GET with layout = %q, %v", v, err)
	}
	if err := rdb.JSONSetMode(ctx, "doc", "$.name", `"x"`, "NX").Err(); err != redis.Nil {
		t.Fatalf("JSON.SET NX over an existing path: %v", err)
	}
	must(rdb.JSONSetMode(ctx, "doc", "$.added", `[1,2]`, "NX").Err())
	if n, err := rdb.JSONArrAppend(ctx, "doc", "$.tags", `"b"`, `"c"`).Result(); err != nil || fmt.Sprint(n) != "[3]" {
		t.Fatalf("JSON.ARRAPPEND = %v, %v", n, err)
	}
	if n, err := rdb.JSONArrLen(ctx, "doc", "$..tags").Result(); err != nil || fmt.Sprint(n) != "[3]" {
		t.Fatalf("JSON.ARRLEN = %v, %v", n, err)
	}
	if v, err := rdb.JSONNumIncrBy(ctx, "doc", "$.n", 2.5).Result(); err != nil || v != "[3.5]" {
		t.Fatalf("JSON.NUMINCRBY = %q, %v", v, err)
	}
	if n, err := rdb.JSONStrAppend(ctx, "doc", "$.name", `"!"`).Result(); err != nil || len(n) != 1 || *n[0] != 4 {
		t.Fatalf("JSON.STRAPPEND = %v, %v", n, err)
	}
	if n, err := rdb.JSONToggle(ctx, "doc", "$.ok").Result(); err != nil || len(n) != 1 || *n[0] != 0 {
		t.Fatalf("JSON.TOGGLE = %v, %v", n, err)
	}
	if ty, err := rdb.JSONType(ctx, "doc", "$.n").Result(); err != nil || fmt.Sprint(ty) != "[number]" {
		t.Fatalf("JSON.TYPE = %v, %v", ty, err)
	}
	if keys, err := rdb.JSONObjKeys(ctx, "doc", "$").Result(); err != nil || fmt.Sprint(keys) != "[[added n name ok tags]]" {
		t.Fatalf("JSON.OBJKEYS = %v, %v", keys, err)
	}
	must(rdb.JSONMerge(ctx, "doc", "$", `{"ok":null,"extra":{"z":1}}`).Err())
	if n, err := rdb.JSONDel(ctx, "doc", "$.added").Result(); err != nil || n != 1 {
		t.Fatalf("JSON.DEL = %d, %v", n, err)
	}
	// (go-redis's JSONDebugMemory is a stub that panics: sent as is.)
	if n, err := rdb.Do(ctx, "JSON.DEBUG", "MEMORY", "doc", ".").Int64(); err != nil || n <= 0 {
		t.Fatalf("JSON.DEBUG MEMORY = %d, %v", n, err)
	}
	must(rdb.JSONMSet(ctx, "m1", "$", `{"v":1}`, "m2", "$", `{"v":2}`).Err())
	if vs, err := rdb.JSONMGet(ctx, "$.v", "m1", "m2", "none").Result(); err != nil || fmt.Sprint(vs) != "[[1] [2] <nil>]" {
		t.Fatalf("JSON.MGET = %v, %v", vs, err)
	}
	if ty, err := rdb.Type(ctx, "doc").Result(); err != nil || ty != "ReJSON-RL" {
		t.Fatalf("TYPE = %q, %v", ty, err)
	}
	if err := rdb.Get(ctx, "doc").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("GET of a document: %v", err)
	}
	if err := rdb.JSONSet(ctx, "nope", "$.a", `1`).Err(); err == nil || err.Error() != "ERR Invalid argument: new objects must be created at the root" {
		t.Fatalf("JSON.SET of a new key below the root: %v", err)
	}
	must(rdb.Expire(ctx, "doc", 1000e9).Err())
	want, err := rdb.JSONGet(ctx, "doc").Result()
	must(err)

	// kill -9, restart: acknowledged documents and their expiry are back.
	srv.Restart(t)
	rdb = newGoRedis(t, srv.Addr(), 2, "")
	if got, err := rdb.JSONGet(ctx, "doc").Result(); err != nil || got != want {
		t.Fatalf("after restart JSON.GET = %q, %v; want %q", got, err, want)
	}
	if ttl, err := rdb.TTL(ctx, "doc").Result(); err != nil || ttl <= 0 {
		t.Fatalf("after restart TTL = %v, %v", ttl, err)
	}

	// CBOR storage: clients read the same documents.
	must(rdb.ConfigSet(ctx, "json-storage-format", "cbor").Err())
	must(rdb.JSONSet(ctx, "doc", "$.n", `10`).Err())
	if v, err := rdb.Do(ctx, "JSON.INFO", "doc").StringSlice(); err != nil || fmt.Sprint(v) != "[storage_format cbor]" {
		t.Fatalf("JSON.INFO = %v, %v", v, err)
	}
	want = strings.Replace(want, `"n":3.5`, `"n":10`, 1)
	if got, err := rdb.JSONGet(ctx, "doc").Result(); err != nil || got != want {
		t.Fatalf("CBOR document reads %q, %v; want %q", got, err, want)
	}
	must(rdb.ConfigSet(ctx, "json-storage-format", "json").Err())
}

// TestJSONRESP3: the same commands over RESP3 (go-redis, HELLO 3): nulls
// where a match has the wrong type, JSON.RESP's nested arrays.
func TestJSONRESP3(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	if err := rdb.Do(ctx, "JSON.SET", "d", "$", `{"a":[1,2],"s":"x","f":1.5}`).Err(); err != nil {
		t.Fatal(err)
	}
	v, err := rdb.Do(ctx, "JSON.ARRLEN", "d", "$.*").Result()
	if err != nil || fmt.Sprint(v) != "[2 <nil> <nil>]" {
		t.Fatalf("JSON.ARRLEN = %v, %v", v, err)
	}
	v, err = rdb.Do(ctx, "JSON.RESP", "d", "$.a").Result()
	if err != nil || fmt.Sprint(v) != "[[[ 1 2]]" {
		t.Fatalf("JSON.RESP = %v, %v", v, err)
	}
	v, err = rdb.Do(ctx, "JSON.TYPE", "nope").Result()
	if err != redis.Nil {
		t.Fatalf("JSON.TYPE of a missing key = %v, %v", v, err)
	}
}

// TestJSONRedisCLI: redis-cli, as a user types it, and hostile input
// (deep nesting, a broken document, a multi-MiB document) answered
// without harm to the server.
func TestJSONRedisCLI(t *testing.T) {
	internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{})
	if out := redisCLI(t, srv.Addr(), "JSON.SET", "user:1", "$", `{"name":"Ada","langs":["go"],"age":36}`); out != "OK\n" {
		t.Fatalf("JSON.SET: %q", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"JSON.GET", "user:1", "$.langs[0]"}, "[\"go\"]\n"},
		{[]string{"JSON.GET", "user:1", "name"}, "\"Ada\"\n"},
		{[]string{"JSON.NUMINCRBY", "user:1", ".age", "1"}, "37\n"},
		{[]string{"JSON.ARRAPPEND", "user:1", "$.langs", `"c"`}, "2\n"},
		{[]string{"JSON.ARRLEN", "user:1", "$.*"}, "\n2\n\n"},
		{[]string{"JSON.OBJLEN", "user:1", "$"}, "3\n"},
		{[]string{"JSON.TYPE", "user:1", "$.age"}, "integer\n"},
		{[]string{"JSON.SET", "user:1", "$", `{"broken"`}, "ERR Invalid argument: Expected colon at line 1 and column 10\n\n"},
		{[]string{"JSON.GET", "user:1", "$["}, "ERR Invalid argument: Expected index, name, wildcard, slice or filter at position 3\n\n"},
		{[]string{"JSON.DEL", "user:1", "$.langs"}, "1\n"},
		{[]string{"JSON.GET", "user:1"}, `{"age":37,"name":"Ada"}` + "\n"},
	} {
		if out := redisCLI(t, srv.Addr(), tc.args...); out != tc.want {
			t.Errorf("redis-cli %v = %q, want %q", tc.args, out, tc.want)
		}
	}
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	deep := strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000)
	if err := rdb.Do(ctx, "JSON.SET", "deep", "$", deep).Err(); err == nil || !strings.Contains(err.Error(), "Maximum JSON depth exceeded") {
		t.Fatalf("a 200000-deep document: %v", err)
	}
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 60_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"i":%d,"s":"some text to make it larger"}`, i)
	}
	b.WriteString("]")
	big := b.String()
	if err := rdb.Do(ctx, "JSON.SET", "big", "$", big).Err(); err != nil {
		t.Fatalf("a %d-byte document: %v", len(big), err)
	}
	if n, err := rdb.Do(ctx, "JSON.ARRLEN", "big", ".").Int64(); err != nil || n != 60_000 {
		t.Fatalf("JSON.ARRLEN of the big document = %d, %v", n, err)
	}
	if got, err := rdb.Do(ctx, "JSON.GET", "big").Text(); err != nil || len(got) != len(big) {
		t.Fatalf("JSON.GET of the big document: %d bytes, %v", len(got), err)
	}
	if out := redisCLI(t, srv.Addr(), "PING"); out != "PONG\n" {
		t.Fatalf("server after hostile input: %q", out)
	}
}

// TestJSONConcurrentUpdates: go-redis clients on their own connections
// change one document at once; every change is applied exactly once
// (each command reads, changes and writes the document under the key's
// lock).
func TestJSONConcurrentUpdates(t *testing.T) {
	const clients, each = 8, 150
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	if err := rdb.JSONSet(ctx, "c", "$", `{"n":0,"log":[]}`).Err(); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, clients)
	for w := range clients {
		go func() {
			c := newGoRedis(t, srv.Addr(), 2, "")
			for i := range each {
				if err := c.JSONNumIncrBy(ctx, "c", "$.n", 1).Err(); err != nil {
					errs <- err
					return
				}
				if err := c.JSONArrAppend(ctx, "c", "$.log", fmt.Sprintf(`"%d-%d"`, w, i)).Err(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := rdb.JSONGet(ctx, "c", ".n").Result(); err != nil || n != fmt.Sprint(clients*each) {
		t.Fatalf("n = %s, %v; want %d", n, err, clients*each)
	}
	if l, err := rdb.Do(ctx, "JSON.ARRLEN", "c", ".log").Int64(); err != nil || l != clients*each {
		t.Fatalf("log length = %d, %v; want %d", l, err, clients*each)
	}
}

// TestJSONConfigAtStart: json-storage-format and json-max-nesting-depth
// given at start (command line, as in a kvrocks.conf) apply from the
// first command.
func TestJSONConfigAtStart(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--json-storage-format", "cbor", "--json-max-nesting-depth", "3"}})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	if err := rdb.JSONSet(ctx, "d", "$", `{"a":[1]}`).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Do(ctx, "JSON.INFO", "d").StringSlice(); err != nil || fmt.Sprint(v) != "[storage_format cbor]" {
		t.Fatalf("JSON.INFO = %v, %v", v, err)
	}
	if err := rdb.JSONSet(ctx, "d", "$", `[[[[1]]]]`).Err(); err == nil || !strings.Contains(err.Error(), "Maximum JSON depth exceeded") {
		t.Fatalf("4 levels with json-max-nesting-depth 3: %v", err)
	}
}

// TestJSONFilterArithmetic: JSON.GET with jsoncons's filter arithmetic
// (precedence, integer and float division, null for a string operand)
// and tokenize, and the error a bad literal pattern answers.
func TestJSONFilterArithmetic(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	doc := `{"books":[{"title":"A","author":"Haruki Murakami","price":8.95,"qty":3},
		{"title":"B","author":"Ryu Murakami","price":12.99,"qty":0},
		{"title":"C","author":"Graham Greene","price":22.99,"qty":"x"}]}`
	if err := rdb.JSONSet(ctx, "shop", "$", doc).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{`$.books[?(@.price * 2 > 20)].title`, `["B","C"]`},
		{`$.books[?(@.qty + 2 * 3 == 9)].title`, `["A"]`},
		{`$.books[?(7 / @.qty == 2)].title`, `["A"]`},
		{`$.books[?(@.qty / 0 == null)].title`, `["A","B","C"]`},
		{`$.books[?(-@.qty < 0)].title`, `["A"]`},
		{`$.books[?(tokenize(@.author, '\\s+')[-1] == 'Murakami')].title`, `["A","B"]`},
	} {
		if got, err := rdb.JSONGet(ctx, "shop", tc.path).Result(); err != nil || got != tc.want {
			t.Errorf("JSON.GET %s = %q, %v; want %s", tc.path, got, err, tc.want)
		}
	}
	err := rdb.JSONGet(ctx, "shop", `$.books[?(tokenize(@.author, '(') == 'x')]`).Err()
	if err == nil || err.Error() != "ERR Invalid argument: Invalid regular expression at position 11" {
		t.Fatalf("a bad tokenize pattern: %v", err)
	}
}
