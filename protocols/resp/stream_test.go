package resp

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestStreamBlockingMixed: a BLPOP and an XREAD blocked on one key are
// each served by the write that fits it, whichever blocked first.
func TestStreamBlockingMixed(t *testing.T) {
	s, addr := startServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	newClient := func() *redis.Client {
		rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, ReadTimeout: -1, MaxRetries: -1})
		t.Cleanup(func() { rdb.Close() })
		return rdb
	}
	waitWaiting := func(n int64) {
		t.Helper()
		for s.blocked.waiting.Load() != n {
			if ctx.Err() != nil {
				t.Fatalf("want %d blocked clients, have %d", n, s.blocked.waiting.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	popped := make(chan []string, 1)
	go func() {
		v, _ := newClient().BLPop(ctx, 0, "k").Result()
		popped <- v
	}()
	waitWaiting(1)
	read := make(chan []redis.XStream, 1)
	go func() {
		v, _ := newClient().XRead(ctx, &redis.XReadArgs{Streams: []string{"k", "$"}, Block: 0}).Result()
		read <- v
	}()
	waitWaiting(2)
	w := newClient()
	if err := w.XAdd(ctx, &redis.XAddArgs{Stream: "k", ID: "1-0", Values: []string{"a", "b"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if v := <-read; len(v) != 1 || len(v[0].Messages) != 1 || v[0].Messages[0].ID != "1-0" {
		t.Fatalf("XREAD woke with %v", v)
	}
	waitWaiting(1)
	if err := w.Del(ctx, "k").Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.RPush(ctx, "k", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if v := <-popped; len(v) != 2 || v[1] != "x" {
		t.Fatalf("BLPOP woke with %v", v)
	}
}

// BenchmarkXAddXRange measures the server side of XADD and of XRANGE of
// 10 entries, without a network (see compat-tests/resp's
// BenchmarkStreamVsRedis for the comparison with redis-server).
func BenchmarkXAddXRange(b *testing.B) {
	srv := NewServer(openEngine(b), Config{})
	b.Cleanup(func() { srv.Close() })
	sc := newSyncConn(srv)
	val := "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	for i := 1; i <= 10000; i++ {
		sc.run(encode("XADD", "r", strconv.Itoa(i)+"-0", "f", val, "g", val))
	}
	b.Run("xadd", func(b *testing.B) {
		b.ReportAllocs()
		req := encode("XADD", "a", "*", "f", val, "g", val)
		for i := 0; i < b.N; i++ {
			sc.run(req)
		}
	})
	b.Run("xrange", func(b *testing.B) {
		b.ReportAllocs()
		reqs := make([][]byte, 100)
		for i := range reqs {
			reqs[i] = encode("XRANGE", "r", strconv.Itoa(i*97+1)+"-0", "+", "COUNT", "10")
		}
		for i := 0; i < b.N; i++ {
			if out := sc.run(reqs[i%len(reqs)]); len(out) < 100 {
				b.Fatalf("XRANGE: %q", out)
			}
		}
	})
}
