package resp

import (
	"context"
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
