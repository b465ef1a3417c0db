package resp_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestMSetNXAtomic races go-redis writers, each on its own connection,
// sending MSETNX over the same fresh keys (in different orders, one with
// a value large enough for the NVMe tier): in every round exactly one
// writer is answered 1, and every key holds that writer's value; the
// others are answered 0 and stored nothing.
func TestMSetNXAtomic(t *testing.T) {
	const (
		writers = 6
		rounds  = 150
	)
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	clients := make([]*redis.Client, writers)
	for i := range clients {
		clients[i] = newGoRedis(t, srv.Addr(), 2, "")
	}
	large := randomBytes(40, 256<<10)
	for r := range rounds {
		keys := []string{fmt.Sprintf("nx:%d:a", r), fmt.Sprintf("nx:%d:b", r), fmt.Sprintf("nx:%d:c", r)}
		start := make(chan struct{})
		won := make([]bool, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				val := fmt.Sprintf("writer-%d", w)
				var pairs []any
				for k := range keys {
					// Each writer names the keys in its own order.
					key := keys[(k+w)%len(keys)]
					pairs = append(pairs, key, val)
				}
				if w == 0 {
					pairs = append(pairs, keys[0]+":large", append([]byte(val), large...))
				}
				<-start
				won[w], errs[w] = clients[w].MSetNX(ctx, pairs...).Result()
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for w := range writers {
			if errs[w] != nil {
				t.Fatalf("round %d writer %d: %v", r, w, errs[w])
			}
			if won[w] {
				if winner >= 0 {
					t.Fatalf("round %d: writers %d and %d were both answered 1", r, winner, w)
				}
				winner = w
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer was answered 1", r)
		}
		want := fmt.Sprintf("writer-%d", winner)
		got, err := clients[0].MGet(ctx, keys...).Result()
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range got {
			if v != want {
				t.Fatalf("round %d: %s = %v, want %q (the writer answered 1)", r, keys[k], v, want)
			}
		}
		n, err := clients[0].Exists(ctx, keys[0]+":large").Result()
		if err != nil || (n == 1) != (winner == 0) {
			t.Fatalf("round %d: large key exists %d (%v) with winner %d", r, n, err, winner)
		}
	}
}
