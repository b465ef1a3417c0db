package resp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// luaCompared are scripts whose replies (values and error texts) must be
// the same from gpucache and from redis-server 7.0.
var luaCompared = []struct {
	script string
	keys   []string
	args   []any
}{
	{script: "return {1, 2.5, 'a', true, false, nil, 3}"},
	{script: "return KEYS[1] .. ARGV[1]", keys: []string{"k"}, args: []any{"v"}},
	{script: "return redis.call('set', KEYS[1], ARGV[1])", keys: []string{"lua:a"}, args: []any{"1"}},
	{script: "return redis.call('incr', KEYS[1])", keys: []string{"lua:a"}},
	{script: "return redis.call('get', 'lua:nokey')"},
	{script: "return redis.pcall('lpush', 'lua:a', 'x')"},
	{script: "return redis.call('lpush', 'lua:a', 'x')"},
	{script: "return redis.call('nosuch')"},
	{script: "return redis.call('get')"},
	{script: "x = 1"},
	{script: "return x"},
	{script: "error('boom')"},
	{script: "return redis.error_reply('MY err')"},
	{script: "return redis.status_reply('FINE')"},
	{script: "return {double = 3.5}"},
	{script: "return {map = {a = 1}}"},
	{script: "return {set = {a = true}}"},
	{script: "return true"},
	{script: "return false"},
	{script: "redis.setresp(3) return true"},
	{script: "redis.setresp(3) return false"},
	{script: "redis.setresp(3) return redis.call('hgetall', 'lua:nokey')"},
	{script: "redis.setresp(3) return redis.call('get', 'lua:nokey') == nil"},
	{script: "return cjson.encode({1, 2, {a = 1}})"},
	{script: "return cjson.decode('[1,')"},
	{script: "return cmsgpack.unpack(cmsgpack.pack({1, 2, 3}))"},
	{script: "return {struct.unpack('>I2', struct.pack('>I2', 258))}"},
	{script: "return {bit.band(0xff, 0x0f), bit.tohex(-1, -4)}"},
	{script: "return math.random(1000)"},
	{script: "#!lua flags=no-writes\nreturn redis.call('set', 'lua:a', 'b')"},
}

// TestLuaAgainstRedis runs the same scripts on gpucache and redis-server
// 7.0 through go-redis in RESP2 and RESP3 and compares what the client
// gets, errors included.
func TestLuaAgainstRedis(t *testing.T) {
	peer := internal.StartRedis(t)
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ours := newGoRedis(t, srv.Addr(), proto, "")
			theirs := newGoRedis(t, peer, proto, "")
			ctx := context.Background()
			ours.FlushAll(ctx)
			theirs.FlushAll(ctx)
			for _, tc := range luaCompared {
				got, gotErr := ours.Eval(ctx, tc.script, tc.keys, tc.args...).Result()
				want, wantErr := theirs.Eval(ctx, tc.script, tc.keys, tc.args...).Result()
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
					t.Errorf("%q:\n got %#v, %v\nwant %#v, %v", tc.script, got, gotErr, want, wantErr)
				}
			}
		})
	}
}

// TestLuaGoRedis drives scripts and functions through go-redis's own APIs
// (Script, EvalSha, ScriptLoad/Exists, FunctionLoad/List, FCall) in RESP2
// and RESP3.
func TestLuaGoRedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			ctx := context.Background()
			rdb.ScriptFlush(ctx)
			rdb.FunctionFlush(ctx)
			incr := redis.NewScript(`
local v = redis.call('incrby', KEYS[1], ARGV[1])
return {v, redis.call('get', KEYS[1])}`)
			// Run tries EVALSHA, then EVAL on NOSCRIPT.
			res, err := incr.Run(ctx, rdb, []string{fmt.Sprintf("gr:n%d", proto)}, 5).Slice()
			if err != nil || len(res) != 2 || res[0] != int64(5) || res[1] != "5" {
				t.Fatalf("Script.Run = %v, %v", res, err)
			}
			sha, err := rdb.ScriptLoad(ctx, "return ARGV[1] .. '!'").Result()
			if err != nil || len(sha) != 40 {
				t.Fatalf("SCRIPT LOAD = %q, %v", sha, err)
			}
			if s, err := rdb.EvalSha(ctx, sha, nil, "hi").Text(); err != nil || s != "hi!" {
				t.Fatalf("EVALSHA = %q, %v", s, err)
			}
			if s, err := rdb.EvalShaRO(ctx, sha, nil, "ro").Text(); err != nil || s != "ro!" {
				t.Fatalf("EVALSHA_RO = %q, %v", s, err)
			}
			if ex, err := rdb.ScriptExists(ctx, sha, strings.Repeat("0", 40)).Result(); err != nil || !reflect.DeepEqual(ex, []bool{true, false}) {
				t.Fatalf("SCRIPT EXISTS = %v, %v", ex, err)
			}
			if err := rdb.EvalSha(ctx, strings.Repeat("0", 40), nil).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT") {
				t.Fatalf("EVALSHA of an unknown script: %v", err)
			}
			if err := rdb.EvalRO(ctx, "return redis.call('set', 'gr:x', 1)", nil).Err(); err == nil ||
				!strings.HasPrefix(err.Error(), "ERR Write commands are not allowed from read-only scripts.") {
				t.Fatalf("EVAL_RO writing: %v", err)
			}
			lib := "#!lua name=grlib\n" +
				"redis.register_function('gr_set', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
				"redis.register_function{function_name='gr_get', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n"
			if name, err := rdb.FunctionLoad(ctx, lib).Result(); err != nil || name != "grlib" {
				t.Fatalf("FUNCTION LOAD = %q, %v", name, err)
			}
			if err := rdb.FunctionLoad(ctx, lib).Err(); err == nil || err.Error() != "ERR Library 'grlib' already exists" {
				t.Fatalf("FUNCTION LOAD again: %v", err)
			}
			if err := rdb.FunctionLoadReplace(ctx, lib).Err(); err != nil {
				t.Fatalf("FUNCTION LOAD REPLACE: %v", err)
			}
			if s, err := rdb.FCall(ctx, "gr_set", []string{"gr:f"}, "v1").Text(); err != nil || s != "OK" {
				t.Fatalf("FCALL gr_set = %q, %v", s, err)
			}
			if s, err := rdb.FCallRO(ctx, "gr_get", []string{"gr:f"}).Text(); err != nil || s != "v1" {
				t.Fatalf("FCALL_RO gr_get = %q, %v", s, err)
			}
			if err := rdb.FCallRO(ctx, "gr_set", []string{"gr:f"}, "v2").Err(); err == nil || err.Error() != "ERR Can not execute a script with write flag using *_ro command." {
				t.Fatalf("FCALL_RO of a writing function: %v", err)
			}
			libs, err := rdb.FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "gr*", WithCode: true}).Result()
			if err != nil || len(libs) != 1 || libs[0].Name != "grlib" || libs[0].Engine != "LUA" || libs[0].Code != lib || len(libs[0].Functions) != 2 {
				t.Fatalf("FUNCTION LIST = %+v, %v", libs, err)
			}
			for _, f := range libs[0].Functions {
				if f.Name == "gr_get" && (f.Description != "reads" || !reflect.DeepEqual(f.Flags, []string{"no-writes"})) {
					t.Fatalf("gr_get listed as %+v", f)
				}
			}
			if proto == 3 {
				// RESP3 types reach the client as RESP3 after redis.setresp(3).
				v, err := rdb.Eval(ctx, "redis.setresp(3) return {true, {double=1.5}, {map={a=1}}}", nil).Result()
				want := []any{true, 1.5, map[any]any{"a": int64(1)}}
				if err != nil || !reflect.DeepEqual(v, want) {
					t.Fatalf("RESP3 values = %#v, %v", v, err)
				}
			}
			dump, err := rdb.FunctionDump(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			rdb.FunctionFlush(ctx)
			if err := rdb.FCall(ctx, "gr_get", []string{"gr:f"}).Err(); err == nil || err.Error() != "ERR Function not found" {
				t.Fatalf("FCALL after FUNCTION FLUSH: %v", err)
			}
			if err := rdb.FunctionRestore(ctx, dump).Err(); err != nil {
				t.Fatalf("FUNCTION RESTORE: %v", err)
			}
			if s, err := rdb.FCall(ctx, "gr_get", []string{"gr:f"}).Text(); err != nil || s != "v1" {
				t.Fatalf("FCALL after FUNCTION RESTORE = %q, %v", s, err)
			}
		})
	}
}

// TestLuaFunctionRestoreFromRedis restores a FUNCTION DUMP made by
// redis-server (LZF-compressed) into gpucache, and the other way round.
func TestLuaFunctionRestoreFromRedis(t *testing.T) {
	peer := internal.StartRedis(t)
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	ours := newGoRedis(t, srv.Addr(), 2, "")
	theirs := newGoRedis(t, peer, 2, "")
	lib := "#!lua name=dumped\nredis.register_function('dumped_f', function(keys, args) return 'from ' .. (args[1] or 'nobody') .. ' ' .. string.rep('padding ', 8) end)\n"
	if err := theirs.FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	dump, err := theirs.FunctionDump(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := ours.FunctionRestore(ctx, dump).Err(); err != nil {
		t.Fatalf("restoring redis-server's dump: %v", err)
	}
	got, err := ours.FCall(ctx, "dumped_f", nil, "redis").Text()
	want, _ := theirs.FCall(ctx, "dumped_f", nil, "redis").Text()
	if err != nil || got != want {
		t.Fatalf("FCALL = %q, %v; want %q", got, err, want)
	}
	ourDump, err := ours.FunctionDump(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := theirs.FunctionRestore(ctx, ourDump).Err(); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("redis-server restoring our dump over the same library: %v", err)
	}
	theirs.FunctionFlush(ctx)
	if err := theirs.FunctionRestore(ctx, ourDump).Err(); err != nil {
		t.Fatalf("redis-server restoring our dump: %v", err)
	}
}

// TestLuaRedisCli runs a script file with redis-cli --eval (keys, then
// arguments after the comma).
func TestLuaRedisCli(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{})
	host, port, _ := net.SplitHostPort(srv.Addr())
	file := filepath.Join(t.TempDir(), "hset.lua")
	script := "redis.call('hset', KEYS[1], ARGV[1], ARGV[2])\nreturn redis.call('hgetall', KEYS[1])\n"
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := internal.Command(ctx, nil, cli, "-h", host, "-p", port, "--eval", file, "cli:h", ",", "field", "value")
	if err != nil {
		t.Fatalf("redis-cli --eval: %v: %s", err, out)
	}
	if got := string(out); got != "field\nvalue\n" {
		t.Fatalf("redis-cli --eval printed %q", got)
	}
	out, _ = internal.Command(ctx, nil, cli, "-h", host, "-p", port, "EVAL", "return redis.call('get')", "0")
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "ERR Wrong number of args calling Redis command from script script: ") {
		t.Fatalf("redis-cli EVAL error printed %q", got)
	}
}

// TestLuaAtomicity: scripts that read, compute and write back (GET then
// SET of the value plus one) run while other clients INCR the same key; a
// script is atomic, so no increment is lost.
func TestLuaAtomicity(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	const workers, rounds = 4, 150
	script := redis.NewScript(`
local v = tonumber(redis.call('get', KEYS[1]) or '0')
for i = 1, 200 do v = v + 0 end
redis.call('set', KEYS[1], v + 1)
return v + 1`)
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := 0; w < workers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			rdb := newGoRedis(t, srv.Addr(), 2, "")
			for i := 0; i < rounds; i++ {
				if err := script.Run(ctx, rdb, []string{"atomic:n"}).Err(); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			rdb := newGoRedis(t, srv.Addr(), 3, "")
			for i := 0; i < rounds; i++ {
				if err := rdb.Incr(ctx, "atomic:n").Err(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	if n, err := rdb.Get(ctx, "atomic:n").Int(); err != nil || n != 2*workers*rounds {
		t.Fatalf("atomic:n = %d, %v; want %d: updates were lost", n, err, 2*workers*rounds)
	}
}

// TestLuaBusyKill: past lua-time-limit other clients get -BUSY, SCRIPT KILL
// stops a script that did not write (its caller gets Redis's error), and a
// script that wrote answers -UNKILLABLE.
func TestLuaBusyKill(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--lua-time-limit", "200"}})
	ctx := context.Background()
	runner := newGoRedis(t, srv.Addr(), 2, "")
	other := newGoRedis(t, srv.Addr(), 3, "")
	// Redis 7's name for the setting, at run time.
	if err := other.ConfigSet(ctx, "busy-reply-threshold", "150").Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runner.Eval(ctx, "local i = 0 while true do i = i + 1 end", nil).Err() }()
	waitBusy(t, other, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
	if err := other.Do(ctx, "FUNCTION", "KILL").Err(); err == nil || !strings.HasPrefix(err.Error(), "BUSY") {
		t.Fatalf("FUNCTION KILL of a script: %v", err)
	}
	if err := other.ScriptKill(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT KILL: %v", err)
	}
	err := <-done
	if err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user with SCRIPT KILL... script: ") {
		t.Fatalf("the killed script's reply: %v", err)
	}
	if s, err := other.Ping(ctx).Result(); err != nil || s != "PONG" {
		t.Fatalf("PING after the kill: %q, %v", s, err)
	}
	if err := other.ScriptKill(ctx).Err(); err == nil || err.Error() != "NOTBUSY No scripts in execution right now." {
		t.Fatalf("SCRIPT KILL with nothing running: %v", err)
	}

	// A function: FUNCTION KILL.
	lib := "#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}"
	if err := other.FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- runner.FCall(ctx, "spin", nil).Err() }()
	waitBusy(t, other, "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
	if err := other.FunctionKill(ctx).Err(); err != nil {
		t.Fatalf("FUNCTION KILL: %v", err)
	}
	if err := <-done; err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user with FUNCTION KILL...") {
		t.Fatalf("the killed function's reply: %v", err)
	}

	// A script that wrote cannot be killed; the server is then killed.
	go func() {
		done <- runner.Eval(ctx, "redis.call('set', 'busy:w', 1) while true do end", nil).Err()
	}()
	waitBusy(t, other, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
	if err := other.ScriptKill(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "UNKILLABLE Sorry the script already executed write commands") {
		t.Fatalf("SCRIPT KILL of a script that wrote: %v", err)
	}
	srv.Kill(t)
}

// waitBusy sends PING until the answer is the BUSY error want.
func waitBusy(t *testing.T, rdb *redis.Client, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := rdb.Ping(context.Background()).Err()
		if err != nil && err.Error() == want {
			return
		}
		if err != nil && !strings.HasPrefix(err.Error(), "BUSY") {
			t.Fatalf("PING while a script runs: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 20s (last: %v)", want, err)
		}
	}
}

// TestLuaPersistence: libraries and SCRIPT LOAD scripts survive kill -9 and
// a restart (as KVRocks keeps them in its propagate column family), and
// FLUSHALL, SCAN and DBSIZE never touch or show them.
func TestLuaPersistence(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 2, "")
	lib := "#!lua name=keep\nredis.register_function('keep_echo', function(keys, args) return 'kept ' .. args[1] end)"
	if err := rdb.FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	sha, err := rdb.ScriptLoad(ctx, "return 'loaded ' .. ARGV[1]").Result()
	if err != nil {
		t.Fatal(err)
	}
	rdb.FlushAll(ctx)
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("DBSIZE = %d, %v", n, err)
	}
	srv.Kill(t)
	srv.Restart(t)
	rdb = newGoRedis(t, srv.Addr(), 3, "")
	if s, err := rdb.FCall(ctx, "keep_echo", nil, "x").Text(); err != nil || s != "kept x" {
		t.Fatalf("FCALL after restart = %q, %v", s, err)
	}
	if s, err := rdb.EvalSha(ctx, sha, nil, "y").Text(); err != nil || s != "loaded y" {
		t.Fatalf("EVALSHA after restart = %q, %v", s, err)
	}
	if keys, _, err := rdb.Scan(ctx, 0, "*", 100).Result(); err != nil || len(keys) != 0 {
		t.Fatalf("SCAN shows %v, %v", keys, err)
	}
	if err := rdb.FunctionDelete(ctx, "keep").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Kill(t)
	srv.Restart(t)
	rdb = newGoRedis(t, srv.Addr(), 2, "")
	if err := rdb.FCall(ctx, "keep_echo", nil, "x").Err(); err == nil || err.Error() != "ERR Function not found" {
		t.Fatalf("FCALL of a deleted function after restart: %v", err)
	}
	if err := rdb.EvalSha(ctx, sha, nil, "y").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT") {
		t.Fatalf("EVALSHA of a flushed script after restart: %v", err)
	}
}

// TestLuaEvalshaSpeed measures EVALSHA of a small script (one GET) against
// redis-server 7.0 in the same run and reports the ratio.
func TestLuaEvalshaSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("speed comparison")
	}
	peer := internal.StartRedis(t)
	srv := internal.Start(t, internal.Options{})
	measure := func(addr string) time.Duration {
		rdb := newGoRedis(t, addr, 2, "")
		ctx := context.Background()
		rdb.Set(ctx, "speed:k", "v", 0)
		sha, err := rdb.ScriptLoad(ctx, "return redis.call('get', KEYS[1])").Result()
		if err != nil {
			t.Fatal(err)
		}
		const n = 3000
		best := time.Duration(1<<63 - 1)
		for round := 0; round < 3; round++ {
			start := time.Now()
			for i := 0; i < n; i++ {
				if err := rdb.EvalSha(ctx, sha, []string{"speed:k"}).Err(); err != nil && !errors.Is(err, redis.Nil) {
					t.Fatal(err)
				}
			}
			best = min(best, time.Since(start)/n)
		}
		return best
	}
	theirs := measure(peer)
	ours := measure(srv.Addr())
	t.Logf("EVALSHA (one GET), sequential on one connection: gpucache %v, redis-server %v per call: ratio %.2f", ours, theirs, float64(ours)/float64(theirs))
}
