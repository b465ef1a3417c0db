package resp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestMulti drives MULTI/EXEC/WATCH through go-redis v9 (TxPipelined and
// Watch, RESP2 and RESP3) and redis-cli against a real server, with the
// S3 front end on the same keyspace.
func TestMulti(t *testing.T) {
	srv := internal.Start(t, internal.Options{S3: true, Args: []string{"--s3-resp-bucket", "kvcache"}})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := newGoRedis(t, srv.Addr(), proto, "")
			p := fmt.Sprintf("m%d:", proto)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			t.Run("TxPipelined", func(t *testing.T) { multiTxPipelined(t, ctx, rdb, p) })
			t.Run("WatchCounter", func(t *testing.T) { multiWatchCounter(t, ctx, srv.Addr(), proto, p) })
			t.Run("WatchExpiry", func(t *testing.T) { multiWatchExpiry(t, ctx, rdb, p) })
			t.Run("Large", func(t *testing.T) { multiLarge(t, ctx, rdb, p) })
			t.Run("ClientList", func(t *testing.T) { multiClientList(t, ctx, rdb, p) })
		})
	}
	t.Run("WatchS3", func(t *testing.T) { multiWatchS3(t, srv) })
	t.Run("RedisCLI", func(t *testing.T) { multiRedisCLI(t, srv) })
}

func multiTxPipelined(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	var get *redis.StringCmd
	var incr *redis.IntCmd
	var hall *redis.MapStringStringCmd
	cmds, err := rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, p+"a", "1", 0)
		incr = pipe.Incr(ctx, p+"a")
		pipe.LPush(ctx, p+"a", "x") // a runtime error: one element
		get = pipe.Get(ctx, p+"a")
		pipe.HSet(ctx, p+"h", "f", "v", "g", "w")
		hall = pipe.HGetAll(ctx, p+"h")
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("TxPipelined = %v, want the LPUSH's WRONGTYPE as first error", err)
	}
	if len(cmds) != 6 || incr.Val() != 2 || get.Val() != "2" {
		t.Fatalf("INCR %v, GET %v (%d commands)", incr.Val(), get.Val(), len(cmds))
	}
	if m := hall.Val(); len(m) != 2 || m["f"] != "v" || m["g"] != "w" {
		t.Fatalf("HGETALL in EXEC = %v", m)
	}
	// A queuing error fails the whole transaction: nothing runs.
	_, err = rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, p+"a", "99", 0)
		pipe.Do(ctx, "GET") // wrong arity
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "EXECABORT") {
		t.Fatalf("TxPipelined with a bad command = %v, want EXECABORT", err)
	}
	if v := rdb.Get(ctx, p+"a").Val(); v != "2" {
		t.Fatalf("after EXECABORT a = %q, want 2", v)
	}
}

// multiWatchCounter: 8 clients increment one counter with WATCH/GET/
// MULTI/SET/EXEC retry loops; every successful EXEC counts exactly once.
func multiWatchCounter(t *testing.T, ctx context.Context, addr string, proto int, p string) {
	const clients, each = 8, 40
	key := p + "counter"
	var succeeded, aborted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		rdb := newGoRedis(t, addr, proto, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				err := rdb.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, key).Int()
					if err != nil && err != redis.Nil {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
						pipe.Set(ctx, key, n+1, 0)
						return nil
					})
					return err
				}, key)
				switch {
				case err == nil:
					succeeded.Add(1)
					done++
				case errors.Is(err, redis.TxFailedErr):
					aborted.Add(1)
				default:
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
	rdb := newGoRedis(t, addr, proto, "")
	got, err := rdb.Get(ctx, key).Int64()
	if err != nil || got != succeeded.Load() || got != clients*each {
		t.Fatalf("counter = %d (%v); %d EXECs succeeded, want %d", got, err, succeeded.Load(), clients*each)
	}
	t.Logf("%d increments, %d EXECs aborted by a concurrent change", got, aborted.Load())
}

// multiWatchExpiry: a watched key whose TTL runs out aborts EXEC.
func multiWatchExpiry(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	key := p + "ttl"
	if err := rdb.Set(ctx, key, "v", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	other := rdb.Conn()
	defer other.Close()
	err := rdb.Watch(ctx, func(tx *redis.Tx) error {
		// Wait for the server to report the key gone.
		deadline := time.Now().Add(10 * time.Second)
		for other.PTTL(ctx, key).Val() != -2 {
			if time.Now().After(deadline) {
				return errors.New("the key never expired")
			}
		}
		_, err := tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, key, "new", 0)
			return nil
		})
		return err
	}, key)
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("EXEC after the watched key expired = %v, want it aborted", err)
	}
	if n := rdb.Exists(ctx, key).Val(); n != 0 {
		t.Fatalf("the aborted EXEC wrote the key")
	}
}

// multiLarge: a 32 MiB SET queued in MULTI is stored and read back inside
// and after EXEC.
func multiLarge(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	val := randomBytes(7, 32<<20+5)
	var get *redis.StringCmd
	var strlen *redis.IntCmd
	_, err := rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, p+"big", val, 0)
		strlen = pipe.StrLen(ctx, p+"big")
		get = pipe.Get(ctx, p+"big")
		pipe.Set(ctx, p+"small", "s", 0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strlen.Val() != int64(len(val)) || !bytes.Equal([]byte(get.Val()), val) {
		t.Fatalf("inside EXEC: STRLEN %d, GET equal %v", strlen.Val(), bytes.Equal([]byte(get.Val()), val))
	}
	got, err := rdb.Get(ctx, p+"big").Bytes()
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("after EXEC: %d bytes, %v", len(got), err)
	}
}

// multiClientList: CLIENT LIST shows a connection in MULTI with flags=x
// and the number of queued commands.
func multiClientList(t *testing.T, ctx context.Context, rdb *redis.Client, p string) {
	c := rdb.Conn()
	defer c.Close()
	id := c.ClientID(ctx).Val()
	if err := c.Do(ctx, "MULTI").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if v := c.Do(ctx, "SET", p+"cl", i).Val(); v != "QUEUED" {
			t.Fatalf("SET in MULTI = %v", v)
		}
	}
	list := rdb.ClientList(ctx).Val()
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^id=%d .* flags=x .*multi=2 `, id))
	if !re.MatchString(list) {
		t.Fatalf("CLIENT LIST does not show the MULTI client with flags=x multi=2:\n%s", list)
	}
	if err := c.Do(ctx, "DISCARD").Err(); err != nil {
		t.Fatal(err)
	}
	list = rdb.ClientList(ctx).Val()
	re = regexp.MustCompile(fmt.Sprintf(`(?m)^id=%d .* flags=N .*multi=-1 `, id))
	if !re.MatchString(list) {
		t.Fatalf("CLIENT LIST after DISCARD:\n%s", list)
	}
}

// multiWatchS3: a watched key overwritten through the S3 front end (the
// same keyspace) aborts EXEC; one written in another bucket does not.
func multiWatchS3(t *testing.T, srv *internal.Server) {
	ctx := context.Background()
	rdb := newGoRedis(t, srv.Addr(), 3, "")
	s3c, err := minio.New(srv.S3Addr(), &minio.Options{Creds: credentials.NewStaticV4("gpucacheadmin", "gpucacheadmin", "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s3c.MakeBucket(ctx, "other", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "s3key", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{"other", "kvcache"} {
		err := rdb.Watch(ctx, func(tx *redis.Tx) error {
			body := []byte("from s3")
			if _, err := s3c.PutObject(ctx, bucket, "s3key", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Set(ctx, "s3key", "from exec", 0)
				return nil
			})
			return err
		}, "s3key")
		want := "from exec"
		if bucket == "kvcache" {
			want = "from s3"
			if !errors.Is(err, redis.TxFailedErr) {
				t.Fatalf("EXEC after an S3 PUT of the watched key = %v, want it aborted", err)
			}
		} else if err != nil {
			t.Fatalf("EXEC after an S3 PUT of the same name in another bucket = %v, want it to run", err)
		}
		if v := rdb.Get(ctx, "s3key").Val(); v != want {
			t.Fatalf("s3key = %q, want %q", v, want)
		}
	}
}

// multiRedisCLI pipes a transaction through redis-cli; the output is what
// redis-cli prints against redis-server 7.
func multiRedisCLI(t *testing.T, srv *internal.Server) {
	cli := internal.RequireTool(t, "redis-cli")
	host, port, _ := strings.Cut(srv.Addr(), ":")
	in := "SET cli 0\nMULTI\nSET cli 1\nINCR cli\nLPUSH cli x\nGET cli\nEXEC\nEXEC\nDISCARD\n"
	want := "OK\nOK\nQUEUED\nQUEUED\nQUEUED\nQUEUED\nOK\n2\nWRONGTYPE Operation against a key holding the wrong kind of value\n\n2\n" +
		"ERR EXEC without MULTI\n\nERR DISCARD without MULTI\n\n"
	for _, proto := range []string{"-2", "-3"} {
		cmd := exec.Command(cli, "-h", host, "-p", port, proto)
		cmd.Stdin = strings.NewReader(in)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %s: %v\n%s", proto, err, out)
		}
		if string(out) != want {
			t.Fatalf("redis-cli %s printed\n%q\nwant\n%q", proto, out, want)
		}
	}
}
