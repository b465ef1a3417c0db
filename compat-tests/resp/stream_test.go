package resp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestStreams drives the stream commands through go-redis v9 (its XAdd,
// XRange, XReadGroup, XPending, XClaim, XAutoClaim and XInfo parsers) in
// RESP2 and RESP3 against the real binary.
func TestStreams(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			p := fmt.Sprintf("x%d:", proto)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			streamsBasic(t, ctx, rdb, p)
			streamsGroups(t, ctx, rdb, p)
			streamsKeys(t, ctx, rdb, p)
		})
	}
}

func streamsBasic(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	s := p + "s"
	id1, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: s, Values: []string{"a", "1"}}).Result()
	must(t, err)
	ms, seq, ok := strings.Cut(id1, "-")
	if n, err := strconv.ParseInt(ms, 10, 64); !ok || err != nil || seq != "0" || time.Since(time.UnixMilli(n)).Abs() > time.Minute {
		t.Fatalf("XADD * = %q: want <now ms>-0", id1)
	}
	id2, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: s, ID: ms + "-*", Values: []string{"b", "2"}}).Result()
	must(t, err)
	wantEq(t, "XADD ms-*", id2, ms+"-1")
	err = rdb.XAdd(ctx, &redis.XAddArgs{Stream: s, ID: id1, Values: []string{"c", "3"}}).Err()
	wantErr(t, "XADD old ID", err, "ERR The ID specified in XADD is equal or smaller than the target stream top item")
	wantNil(t, "XADD NOMKSTREAM", rdb.XAdd(ctx, &redis.XAddArgs{Stream: p + "none", NoMkStream: true, Values: []string{"a", "b"}}).Err())
	wantInt(t, "EXISTS after NOMKSTREAM", rdb.Exists(ctx, p+"none"), 0)
	for i := 0; i < 8; i++ {
		must(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: s, MaxLen: 5, Values: map[string]any{"i": i}}).Err())
	}
	wantInt(t, "XLEN after MAXLEN 5", rdb.XLen(ctx, s), 5)
	msgs, err := rdb.XRange(ctx, s, "-", "+").Result()
	must(t, err)
	if len(msgs) != 5 || msgs[0].Values["i"] != "3" || msgs[4].Values["i"] != "7" {
		t.Fatalf("XRANGE after trim = %v", msgs)
	}
	rev, err := rdb.XRevRangeN(ctx, s, "+", "-", 2).Result()
	must(t, err)
	if len(rev) != 2 || rev[0].ID != msgs[4].ID || rev[1].ID != msgs[3].ID {
		t.Fatalf("XREVRANGE COUNT 2 = %v", rev)
	}
	excl, err := rdb.XRange(ctx, s, "("+msgs[0].ID, "("+msgs[4].ID).Result()
	must(t, err)
	wantEq(t, "XRANGE exclusive", len(excl), 3)
	wantInt(t, "XDEL", rdb.XDel(ctx, s, msgs[0].ID, msgs[0].ID, "1-1"), 1)
	wantInt(t, "XTRIM MINID", rdb.XTrimMinID(ctx, s, msgs[2].ID), 1)
	info, err := rdb.XInfoStream(ctx, s).Result()
	must(t, err)
	if info.Length != 3 || info.FirstEntry.ID != msgs[2].ID || info.LastEntry.ID != msgs[4].ID ||
		info.MaxDeletedEntryID != msgs[0].ID || info.EntriesAdded != 10 || info.RecordedFirstEntryID != msgs[2].ID {
		t.Fatalf("XINFO STREAM = %+v", info)
	}
	streams, err := rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{s, p + "none", msgs[3].ID, "0"}, Count: 10, Block: -1}).Result()
	must(t, err)
	if len(streams) != 1 || streams[0].Stream != s || len(streams[0].Messages) != 1 || streams[0].Messages[0].ID != msgs[4].ID {
		t.Fatalf("XREAD = %v", streams)
	}
	// Redis 7.4's "+": the last entry.
	last, err := rdb.Do(ctx, "xread", "streams", s, "+").Result()
	must(t, err)
	if l := fmt.Sprint(last); !strings.Contains(l, msgs[4].ID) || strings.Contains(l, msgs[3].ID) {
		t.Fatalf("XREAD + = %v", last)
	}
	wantNil(t, "XREAD nothing new", rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{s, "$"}, Block: -1}).Err())
}

func streamsGroups(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	s := p + "g"
	must(t, rdb.XGroupCreateMkStream(ctx, s, "grp", "$").Err())
	wantErr(t, "XGROUP CREATE twice", rdb.XGroupCreate(ctx, s, "grp", "$").Err(), "BUSYGROUP Consumer Group name already exists")
	wantStr(t, "TYPE of an empty stream", rdb.Type(ctx, s), "stream")
	var ids []string
	for i := 0; i < 4; i++ {
		id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: s, ID: fmt.Sprintf("%d-0", i+1), Values: []string{"n", strconv.Itoa(i)}}).Result()
		must(t, err)
		ids = append(ids, id)
	}
	got, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "grp", Consumer: "c1", Streams: []string{s, ">"}, Count: 3}).Result()
	must(t, err)
	if len(got) != 1 || len(got[0].Messages) != 3 || got[0].Messages[2].ID != ids[2] {
		t.Fatalf("XREADGROUP > = %v", got)
	}
	got, err = rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "grp", Consumer: "c2", Streams: []string{s, ">"}, NoAck: true}).Result()
	must(t, err)
	if len(got) != 1 || len(got[0].Messages) != 1 || got[0].Messages[0].ID != ids[3] {
		t.Fatalf("XREADGROUP NOACK = %v", got)
	}
	pend, err := rdb.XPending(ctx, s, "grp").Result()
	must(t, err)
	if pend.Count != 3 || pend.Lower != ids[0] || pend.Higher != ids[2] || pend.Consumers["c1"] != 3 || len(pend.Consumers) != 1 {
		t.Fatalf("XPENDING = %+v", pend)
	}
	// History: c1's own pending entries, delivered again.
	hist, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "grp", Consumer: "c1", Streams: []string{s, "0"}}).Result()
	must(t, err)
	if len(hist) != 1 || len(hist[0].Messages) != 3 {
		t.Fatalf("XREADGROUP history = %v", hist)
	}
	ext, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: s, Group: "grp", Start: "-", End: "+", Count: 10, Consumer: "c1"}).Result()
	must(t, err)
	if len(ext) != 3 || ext[0].RetryCount != 2 || ext[0].Consumer != "c1" {
		t.Fatalf("XPENDING extended = %+v", ext)
	}
	claimed, err := rdb.XClaim(ctx, &redis.XClaimArgs{Stream: s, Group: "grp", Consumer: "c2", MinIdle: 0, Messages: []string{ids[0]}}).Result()
	must(t, err)
	if len(claimed) != 1 || claimed[0].ID != ids[0] || claimed[0].Values["n"] != "0" {
		t.Fatalf("XCLAIM = %v", claimed)
	}
	justIDs, err := rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: s, Group: "grp", Consumer: "c2", MinIdle: time.Hour, Messages: []string{ids[1]}}).Result()
	must(t, err)
	wantEq(t, "XCLAIM JUSTID under min-idle", len(justIDs), 0)
	wantInt(t, "XACK", rdb.XAck(ctx, s, "grp", ids[0], ids[0], "9-9"), 1)
	groups, err := rdb.XInfoGroups(ctx, s).Result()
	must(t, err)
	if len(groups) != 1 || groups[0].Name != "grp" || groups[0].Consumers != 2 || groups[0].Pending != 2 ||
		groups[0].LastDeliveredID != ids[3] || groups[0].EntriesRead != 4 || groups[0].Lag != 0 {
		t.Fatalf("XINFO GROUPS = %+v", groups)
	}
	cons, err := rdb.XInfoConsumers(ctx, s, "grp").Result()
	must(t, err)
	if len(cons) != 2 || cons[0].Name != "c1" || cons[0].Pending != 2 || cons[1].Name != "c2" || cons[1].Pending != 0 {
		t.Fatalf("XINFO CONSUMERS = %+v", cons)
	}
	full, err := rdb.XInfoStreamFull(ctx, s, 0).Result()
	must(t, err)
	if full.Length != 4 || len(full.Entries) != 4 || len(full.Groups) != 1 || full.Groups[0].PelCount != 2 ||
		len(full.Groups[0].Consumers) != 2 || full.Groups[0].Consumers[0].PelCount != 2 {
		t.Fatalf("XINFO STREAM FULL = %+v", full)
	}
	wantInt(t, "XGROUP DELCONSUMER", rdb.XGroupDelConsumer(ctx, s, "grp", "c1"), 2)
	wantInt(t, "XGROUP CREATECONSUMER", rdb.XGroupCreateConsumer(ctx, s, "grp", "c9"), 1)
	must(t, rdb.XGroupSetID(ctx, s, "grp", "0").Err())
	wantInt(t, "XGROUP DESTROY", rdb.XGroupDestroy(ctx, s, "grp"), 1)
	wantErr(t, "XREADGROUP without the group", rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "grp", Consumer: "c", Streams: []string{s, ">"}}).Err(),
		"NOGROUP No such key '"+s+"' or consumer group 'grp' in XREADGROUP with GROUP option")
}

func streamsKeys(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	s := p + "k"
	must(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: s, ID: "1-0", Values: []string{"a", "b"}}).Err())
	must(t, rdb.XGroupCreate(ctx, s, "g", "0").Err())
	must(t, rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{s, ">"}}).Err())
	wantStr(t, "TYPE", rdb.Type(ctx, s), "stream")
	wantStr(t, "OBJECT ENCODING", rdb.ObjectEncoding(ctx, s), "stream")
	wantErr(t, "GET on a stream", rdb.Get(ctx, s).Err(), "WRONGTYPE Operation against a key holding the wrong kind of value")
	wantErr(t, "LPUSH on a stream", rdb.LPush(ctx, s, "x").Err(), "WRONGTYPE Operation against a key holding the wrong kind of value")
	must(t, rdb.Set(ctx, p+"str", "v", 0).Err())
	wantErr(t, "XADD on a string", rdb.XAdd(ctx, &redis.XAddArgs{Stream: p + "str", Values: []string{"a", "b"}}).Err(),
		"WRONGTYPE Operation against a key holding the wrong kind of value")
	keys, _, err := rdb.ScanType(ctx, 0, p+"*", 100, "stream").Result()
	sort.Strings(keys)
	must(t, err)
	wantEq(t, "SCAN TYPE stream", keys, []string{p + "g", s, p + "s"})
	if ok, err := rdb.Copy(ctx, s, p+"copy", 0, false).Result(); ok != 1 || err != nil {
		t.Fatalf("COPY = %v, %v", ok, err)
	}
	must(t, rdb.Rename(ctx, p+"copy", p+"moved").Err())
	pend, err := rdb.XPending(ctx, p+"moved", "g").Result()
	must(t, err)
	if pend.Count != 1 || pend.Consumers["c"] != 1 {
		t.Fatalf("XPENDING of the copy = %+v", pend)
	}
	msgs, err := rdb.XRange(ctx, p+"moved", "-", "+").Result()
	must(t, err)
	if len(msgs) != 1 || msgs[0].Values["a"] != "b" {
		t.Fatalf("XRANGE of the copy = %v", msgs)
	}
	if ok, err := rdb.PExpire(ctx, p+"moved", 50*time.Millisecond).Result(); !ok || err != nil {
		t.Fatalf("PEXPIRE = %v, %v", ok, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Exists(ctx, p+"moved").Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the expired stream is still there")
		}
		time.Sleep(10 * time.Millisecond)
	}
	wantInt(t, "DEL", rdb.Del(ctx, s), 1)
	wantInt(t, "XLEN after DEL", rdb.XLen(ctx, s), 0)
	// A new stream under the same name has no groups of the old one.
	must(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: s, ID: "1-0", Values: []string{"a", "b"}}).Err())
	groups, err := rdb.XInfoGroups(ctx, s).Result()
	must(t, err)
	wantEq(t, "groups of a recreated stream", len(groups), 0)
}

// TestStreamGroupsRestart: consumer groups, their PEL, last-delivered IDs
// and consumers survive a restart of the server.
func TestStreamGroupsRestart(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	for i := 1; i <= 5; i++ {
		must(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: "rs", ID: fmt.Sprintf("%d-0", i), Values: []string{"i", strconv.Itoa(i)}}).Err())
	}
	must(t, rdb.XGroupCreate(ctx, "rs", "g", "0").Err())
	must(t, rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{"rs", ">"}, Count: 2}).Err())
	must(t, rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "bob", Streams: []string{"rs", ">"}, Count: 1}).Err())
	must(t, rdb.XAck(ctx, "rs", "g", "1-0").Err())
	must(t, rdb.XDel(ctx, "rs", "5-0").Err())
	rdb.Close()
	srv.Stop(t)
	srv.Restart(t)
	rdb = newGoRedis(t, srv.Addr(), 2, "")
	pend, err := rdb.XPending(ctx, "rs", "g").Result()
	must(t, err)
	if pend.Count != 2 || pend.Lower != "2-0" || pend.Higher != "3-0" || pend.Consumers["alice"] != 1 || pend.Consumers["bob"] != 1 {
		t.Fatalf("XPENDING after restart = %+v", pend)
	}
	groups, err := rdb.XInfoGroups(ctx, "rs").Result()
	must(t, err)
	if len(groups) != 1 || groups[0].LastDeliveredID != "3-0" || groups[0].Consumers != 2 || groups[0].EntriesRead != 3 {
		t.Fatalf("XINFO GROUPS after restart = %+v", groups)
	}
	info, err := rdb.XInfoStream(ctx, "rs").Result()
	must(t, err)
	if info.Length != 4 || info.LastGeneratedID != "5-0" || info.MaxDeletedEntryID != "5-0" || info.EntriesAdded != 5 || info.Groups != 1 {
		t.Fatalf("XINFO STREAM after restart = %+v", info)
	}
	got, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "carol", Streams: []string{"rs", ">"}}).Result()
	must(t, err)
	if len(got) != 1 || len(got[0].Messages) != 1 || got[0].Messages[0].ID != "4-0" {
		t.Fatalf("XREADGROUP > after restart = %v", got)
	}
	hist, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{"rs", "0"}}).Result()
	must(t, err)
	if len(hist) != 1 || len(hist[0].Messages) != 1 || hist[0].Messages[0].ID != "2-0" {
		t.Fatalf("alice's history after restart = %v", hist)
	}
	// The ID sequence goes on from where it was.
	err = rdb.XAdd(ctx, &redis.XAddArgs{Stream: "rs", ID: "5-0", Values: []string{"a", "b"}}).Err()
	wantErr(t, "XADD at the old top after restart", err, "ERR The ID specified in XADD is equal or smaller than the target stream top item")
}

// TestStreamBlocking: XREAD BLOCK and XREADGROUP BLOCK in one client are
// woken by XADD from another, every blocked reader of the stream gets the
// entry, and a BLOCK with a timeout ends with a nil.
func TestStreamBlocking(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	admin := newGoRedis(t, srv.Addr(), 2, "")
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
	must(t, admin.XAdd(ctx, &redis.XAddArgs{Stream: "bs", ID: "1-0", Values: []string{"old", "1"}}).Err())
	must(t, admin.XGroupCreate(ctx, "bs", "g", "$").Err())
	type result struct {
		streams []redis.XStream
		err     error
	}
	readers := make([]chan result, 3)
	for i := range readers {
		readers[i] = make(chan result, 1)
		rdb := newGoRedis(t, srv.Addr(), 2+i%2, "")
		go func(i int) {
			var r result
			if i == 2 {
				r.streams, r.err = rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "w", Streams: []string{"bs", ">"}, Block: 0}).Result()
			} else {
				r.streams, r.err = rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{"other", "bs", "0", "$"}, Block: 0}).Result()
			}
			readers[i] <- r
		}(i)
	}
	waitBlocked(3)
	writer := newGoRedis(t, srv.Addr(), 3, "")
	must(t, writer.XAdd(ctx, &redis.XAddArgs{Stream: "bs", ID: "2-0", Values: []string{"new", "2"}}).Err())
	for i, ch := range readers {
		r := <-ch
		must(t, r.err)
		if len(r.streams) != 1 || r.streams[0].Stream != "bs" || len(r.streams[0].Messages) != 1 || r.streams[0].Messages[0].ID != "2-0" {
			t.Fatalf("reader %d woke with %v", i, r.streams)
		}
	}
	pend, err := admin.XPending(ctx, "bs", "g").Result()
	must(t, err)
	if pend.Count != 1 || pend.Consumers["w"] != 1 {
		t.Fatalf("XPENDING after the blocked XREADGROUP = %+v", pend)
	}
	// A group destroyed under a blocked XREADGROUP ends its wait with
	// NOGROUP; CLIENT UNBLOCK ends an XREAD's with a nil.
	errc := make(chan error, 2)
	grc := newGoRedis(t, srv.Addr(), 2, "")
	go func() {
		errc <- grc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "w", Streams: []string{"bs", ">"}, Block: 0}).Err()
	}()
	xrc := newGoRedis(t, srv.Addr(), 3, "")
	idc := make(chan int64, 1)
	go func() {
		conn := xrc.Conn()
		defer conn.Close()
		id, err := conn.ClientID(ctx).Result()
		if err != nil {
			errc <- err
			return
		}
		idc <- id
		errc <- conn.XRead(ctx, &redis.XReadArgs{Streams: []string{"bs", "$"}, Block: 0}).Err()
	}()
	waitBlocked(2)
	wantInt(t, "XGROUP DESTROY", admin.XGroupDestroy(ctx, "bs", "g"), 1)
	wantErr(t, "blocked XREADGROUP after XGROUP DESTROY", <-errc, "NOGROUP the consumer group this client was blocked on no longer exists")
	if ok, err := admin.ClientUnblock(ctx, <-idc).Result(); ok != 1 || err != nil {
		t.Fatalf("CLIENT UNBLOCK = %v, %v", ok, err)
	}
	wantNil(t, "XREAD after CLIENT UNBLOCK", <-errc)
	start := time.Now()
	wantNil(t, "XREAD BLOCK timeout", admin.XRead(ctx, &redis.XReadArgs{Streams: []string{"bs", "$"}, Block: 100 * time.Millisecond}).Err())
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("XREAD BLOCK 100 returned after %v", d)
	}
}

// TestStreamAutoClaim: an entry left idle by one consumer is handed to
// another by XAUTOCLAIM, with the cursor and deleted IDs as Redis gives
// them; XPENDING's IDLE filter sees the same idle times.
func TestStreamAutoClaim(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	for i := 1; i <= 4; i++ {
		must(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: "ac", ID: fmt.Sprintf("%d-0", i), Values: []string{"i", strconv.Itoa(i)}}).Err())
	}
	must(t, rdb.XGroupCreate(ctx, "ac", "g", "0").Err())
	must(t, rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "dead", Streams: []string{"ac", ">"}}).Err())
	// Entries 1 and 2 have been idle for a minute (as if their consumer
	// died), 3 and 4 were just delivered.
	must(t, rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: "ac", Group: "g", Consumer: "dead", Messages: []string{"1-0", "2-0"}}).Err())
	must(t, rdb.Do(ctx, "xclaim", "ac", "g", "dead", 0, "1-0", "2-0", "IDLE", 60000, "JUSTID").Err())
	idle, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "ac", Group: "g", Idle: 30 * time.Second, Start: "-", End: "+", Count: 10}).Result()
	must(t, err)
	if len(idle) != 2 || idle[0].ID != "1-0" || idle[0].Idle < 60*time.Second || idle[1].ID != "2-0" {
		t.Fatalf("XPENDING IDLE 30000 = %+v", idle)
	}
	must(t, rdb.XDel(ctx, "ac", "2-0").Err())
	msgs, next, err := rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: "ac", Group: "g", Consumer: "live", MinIdle: 30 * time.Second, Start: "0", Count: 1}).Result()
	must(t, err)
	if len(msgs) != 1 || msgs[0].ID != "1-0" || msgs[0].Values["i"] != "1" || next != "2-0" {
		t.Fatalf("XAUTOCLAIM COUNT 1 = %v, next %q", msgs, next)
	}
	// From the cursor: 2-0 was deleted (reported and dropped from the
	// PEL), 3-0 and 4-0 are not idle enough.
	raw, err := rdb.Do(ctx, "xautoclaim", "ac", "g", "live", 30000, next, "JUSTID").Slice()
	must(t, err)
	wantEq(t, "XAUTOCLAIM from the cursor", fmt.Sprint(raw), "[0-0 [] [2-0]]")
	pend, err := rdb.XPending(ctx, "ac", "g").Result()
	must(t, err)
	if pend.Count != 3 || pend.Consumers["live"] != 1 || pend.Consumers["dead"] != 2 {
		t.Fatalf("XPENDING after XAUTOCLAIM = %+v", pend)
	}
	ext, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "ac", Group: "g", Start: "-", End: "+", Count: 1, Consumer: "live"}).Result()
	must(t, err)
	if len(ext) != 1 || ext[0].ID != "1-0" || ext[0].RetryCount != 2 || ext[0].Idle > 30*time.Second {
		t.Fatalf("the claimed entry = %+v", ext)
	}
}

// TestStreamRedisCLI reads streams and groups through redis-cli, whose
// output shows the reply shapes (nested arrays, nils, integers).
func TestStreamRedisCLI(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{})
	host, port, _ := net.SplitHostPort(srv.Addr())
	script := strings.Join([]string{
		"XADD cs 1-0 name ann",
		"XADD cs 2-0 name bo age 7",
		"XRANGE cs - +",
		"XGROUP CREATE cs g 0",
		"XREADGROUP GROUP g c COUNT 1 STREAMS cs >",
		"XPENDING cs g",
		"XINFO GROUPS cs",
		"XDEL cs 1-0",
		"XREADGROUP GROUP g c STREAMS cs 0",
	}, "\n") + "\n"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := internal.Command(ctx, []byte(script), cli, "-h", host, "-p", port, "--no-raw")
	if err != nil {
		t.Fatal(err)
	}
	want := `"1-0"
"2-0"
1) 1) "1-0"
   2) 1) "name"
      2) "ann"
2) 1) "2-0"
   2) 1) "name"
      2) "bo"
      3) "age"
      4) "7"
OK
1) 1) "cs"
   2) 1) 1) "1-0"
         2) 1) "name"
            2) "ann"
1) (integer) 1
2) "1-0"
3) "1-0"
4) 1) 1) "c"
      2) "1"
1)  1) "name"
    2) "g"
    3) "consumers"
    4) (integer) 1
    5) "pending"
    6) (integer) 1
    7) "last-delivered-id"
    8) "1-0"
    9) "entries-read"
   10) (integer) 1
   11) "lag"
   12) (integer) 1
(integer) 1
1) 1) "cs"
   2) 1) 1) "1-0"
         2) (nil)
`
	if string(out) != want {
		t.Fatalf("redis-cli output:\n%s\nwant:\n%s", out, want)
	}
}

// BenchmarkStreamVsRedis measures XADD (two fields, server-chosen IDs) and
// XRANGE (10 entries from a random point of a 10000-entry stream) in
// pipelines of 100 against gpucache and a redis-server started in the
// same run, alternating between them, and reports each one's time per
// command and their ratio (gpucache/redis: above 1 is slower).
//
//	GPUCACHE_BIN=... go test ./compat-tests/resp -run '^$' -bench StreamVsRedis -benchtime 200x
func BenchmarkStreamVsRedis(b *testing.B) {
	srv := internal.Start(b, internal.Options{})
	peers := []struct {
		name string
		rdb  *redis.Client
	}{{"gpucache", newGoRedis(b, srv.Addr(), 2, "")}, {"redis", newGoRedis(b, internal.StartRedis(b), 2, "")}}
	ctx := context.Background()
	const batch = 100
	val := strings.Repeat("v", 64)
	for _, p := range peers {
		for i := 0; i < 10000; i += batch {
			pipe := p.rdb.Pipeline()
			for j := 0; j < batch; j++ {
				pipe.XAdd(ctx, &redis.XAddArgs{Stream: "bench:r", ID: fmt.Sprintf("%d-0", i+j+1), Values: []string{"f", val, "g", val}})
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, op := range []string{"xadd", "xrange"} {
		b.Run(op, func(b *testing.B) {
			var spent [2]time.Duration
			for n := 0; n < b.N; n++ {
				start := rand.IntN(9990) + 1
				for k, p := range peers {
					pipe := p.rdb.Pipeline()
					for j := 0; j < batch; j++ {
						if op == "xadd" {
							pipe.XAdd(ctx, &redis.XAddArgs{Stream: "bench:a", Values: []string{"f", val, "g", val}})
						} else {
							pipe.XRangeN(ctx, "bench:r", fmt.Sprintf("%d-0", (start+j)%9990+1), "+", 10)
						}
					}
					t0 := time.Now()
					if _, err := pipe.Exec(ctx); err != nil {
						b.Fatal(err)
					}
					spent[k] += time.Since(t0)
				}
			}
			per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N*batch) }
			b.ReportMetric(per(spent[0]), "gpucache-ns/cmd")
			b.ReportMetric(per(spent[1]), "redis-ns/cmd")
			b.ReportMetric(per(spent[0])/per(spent[1]), "ratio")
		})
	}
}
