package resp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// TestPubSubGoRedis drives SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and PUBSUB
// through go-redis's PubSub API, under RESP2 and RESP3 (pushes).
func TestPubSubGoRedis(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: proto})
			defer rdb.Close()
			ps := rdb.Subscribe(ctx, "news", "sport")
			defer ps.Close()
			for _, want := range []string{"news", "sport"} {
				m, err := ps.Receive(ctx)
				if s, ok := m.(*redis.Subscription); err != nil || !ok || s.Kind != "subscribe" || s.Channel != want {
					t.Fatalf("subscribe %s: %#v, %v", want, m, err)
				}
			}
			if err := ps.PSubscribe(ctx, "ne*"); err != nil {
				t.Fatal(err)
			}
			if m, err := ps.Receive(ctx); err != nil || m.(*redis.Subscription).Count != 3 {
				t.Fatalf("psubscribe: %#v, %v", m, err)
			}
			sps := rdb.SSubscribe(ctx, "orders")
			defer sps.Close()
			if m, err := sps.Receive(ctx); err != nil || m.(*redis.Subscription).Kind != "ssubscribe" {
				t.Fatalf("ssubscribe: %#v, %v", m, err)
			}

			if n, err := rdb.Publish(ctx, "news", "hello").Result(); err != nil || n != 2 {
				t.Fatalf("PUBLISH news = %d, %v; want 2 (channel and pattern)", n, err)
			}
			if n, err := rdb.SPublish(ctx, "orders", "o1").Result(); err != nil || n != 1 {
				t.Fatalf("SPUBLISH = %d, %v", n, err)
			}
			m1, err := ps.ReceiveMessage(ctx)
			if err != nil || m1.Channel != "news" || m1.Payload != "hello" || m1.Pattern != "" {
				t.Fatalf("message: %#v, %v", m1, err)
			}
			m2, err := ps.ReceiveMessage(ctx)
			if err != nil || m2.Channel != "news" || m2.Pattern != "ne*" || m2.Payload != "hello" {
				t.Fatalf("pmessage: %#v, %v", m2, err)
			}
			m3, err := sps.ReceiveMessage(ctx)
			if err != nil || m3.Channel != "orders" || m3.Payload != "o1" {
				t.Fatalf("smessage: %#v, %v", m3, err)
			}

			if ch, err := rdb.PubSubChannels(ctx, "*").Result(); err != nil || strings.Join(ch, ",") != "news,sport" {
				t.Fatalf("PUBSUB CHANNELS = %v, %v", ch, err)
			}
			if m, err := rdb.PubSubNumSub(ctx, "news", "none").Result(); err != nil || m["news"] != 1 || m["none"] != 0 {
				t.Fatalf("PUBSUB NUMSUB = %v, %v", m, err)
			}
			if n, err := rdb.PubSubNumPat(ctx).Result(); err != nil || n != 1 {
				t.Fatalf("PUBSUB NUMPAT = %d, %v", n, err)
			}
			if ch, err := rdb.PubSubShardChannels(ctx, "*").Result(); err != nil || strings.Join(ch, ",") != "orders" {
				t.Fatalf("PUBSUB SHARDCHANNELS = %v, %v", ch, err)
			}
			if m, err := rdb.PubSubShardNumSub(ctx, "orders").Result(); err != nil || m["orders"] != 1 {
				t.Fatalf("PUBSUB SHARDNUMSUB = %v, %v", m, err)
			}
			if n := srv.InfoInt(t, "pubsub_channels"); n != 2 {
				t.Fatalf("INFO pubsub_channels = %d", n)
			}
			if n := srv.InfoInt(t, "pubsub_patterns"); n != 1 {
				t.Fatalf("INFO pubsub_patterns = %d", n)
			}
			if n := srv.InfoInt(t, "pubsubshard_channels"); n != 1 {
				t.Fatalf("INFO pubsubshard_channels = %d", n)
			}
			list, err := rdb.ClientList(ctx).Result()
			if err != nil || !strings.Contains(list, " flags=P namespace=__namespace sub=2 psub=1 ssub=0 ") {
				t.Fatalf("CLIENT LIST:\n%s%v", list, err)
			}

			if err := ps.Unsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ps.PUnsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			// go-redis reads the unsubscribe confirmations itself; wait
			// until the server has dropped them.
			waitFor(t, 10*time.Second, "channels dropped", func() bool {
				return srv.InfoInt(t, "pubsub_channels") == 0 && srv.InfoInt(t, "pubsub_patterns") == 0
			})
			if n, err := rdb.Publish(ctx, "news", "gone").Result(); err != nil || n != 0 {
				t.Fatalf("PUBLISH after unsubscribe = %d, %v", n, err)
			}
			sps.Close()
			ps.Close()
			waitFor(t, 10*time.Second, "shard channels dropped", func() bool {
				return srv.InfoInt(t, "pubsubshard_channels") == 0
			})
		})
	}
}

// TestPubSubReplies checks the bytes of the subscriber-mode replies that
// clients parse (checked against redis-server 7.0.15).
func TestPubSubReplies(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	c := dialRaw(t, srv.Addr())
	c.send("UNSUBSCRIBE")
	c.expect("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n")
	c.send("SUBSCRIBE", "a", "b")
	c.expect("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")
	c.send("PSUBSCRIBE", "a*")
	c.expect("*3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:3\r\n")
	c.send("GET", "k")
	c.expect("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
	c.send("PING")
	c.expect("*2\r\n$4\r\npong\r\n$0\r\n\r\n")
	p := dialRaw(t, srv.Addr())
	p.send("PUBLISH", "a", "m")
	p.expect(":2\r\n")
	c.expect("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n*4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$1\r\nm\r\n")
	c.send("UNSUBSCRIBE")
	c.expect("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n")
	c.send("PUNSUBSCRIBE")
	c.expect("*3\r\n$12\r\npunsubscribe\r\n$2\r\na*\r\n:0\r\n")
	c.send("GET", "k")
	c.expect("$-1\r\n")

	// RESP3: pushes, and any command between them.
	c.send("HELLO", "3")
	if r := c.readReply(); r.kind != '%' {
		t.Fatalf("HELLO 3: %v", r)
	}
	c.send("SUBSCRIBE", "a")
	c.expect(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
	c.send("GET", "k")
	c.expect("_\r\n")
	p.send("PUBLISH", "a", "m")
	p.expect(":1\r\n")
	c.expect(">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n")
	c.send("PING")
	c.expect("+PONG\r\n")
	c.send("RESET")
	c.expect("+RESET\r\n")
	p.send("PUBLISH", "a", "m")
	p.expect(":0\r\n")

	// CLIENT KILL TYPE pubsub closes the subscribers only.
	c.send("SUBSCRIBE", "a")
	c.expect("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
	p.send("CLIENT", "KILL", "TYPE", "pubsub")
	p.expect(":1\r\n")
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.r.Read(make([]byte, 1)); err == nil {
		t.Fatalf("subscriber not closed by CLIENT KILL TYPE pubsub (read %d bytes)", n)
	}
	p.send("PUBLISH", "a", "m")
	p.expect(":0\r\n")
}

// TestPubSubManySubscribers: 2000 subscribers of one channel each get
// every message, in order, under concurrent publishing of each.
func TestPubSubManySubscribers(t *testing.T) {
	srv := internal.Start(t, internal.Options{})
	subs, msgs := int64(2000), 200
	if testing.Short() { // make race-compat: a -race server, a tenth of the load
		subs, msgs = int64(200), 100
	}
	conns := make([]net.Conn, subs)
	for i := range conns {
		nc, err := net.DialTimeout("tcp", srv.Addr(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Write(encodeStrings("SUBSCRIBE", "wide")); err != nil {
			t.Fatal(err)
		}
		conns[i] = nc
	}
	errs := make(chan error, subs)
	var wg sync.WaitGroup
	ready := make(chan struct{}, subs)
	for i, nc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc.SetReadDeadline(time.Now().Add(2 * time.Minute))
			br := bufio.NewReader(nc)
			want := "*3\r\n$9\r\nsubscribe\r\n$4\r\nwide\r\n:1\r\n"
			got := make([]byte, len(want))
			if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
				errs <- fmt.Errorf("subscriber %d: %q, %v", i, got, err)
				return
			}
			ready <- struct{}{}
			for j := 0; j < msgs; j++ {
				p := strconv.Itoa(j)
				want := "*3\r\n$7\r\nmessage\r\n$4\r\nwide\r\n$" + strconv.Itoa(len(p)) + "\r\n" + p + "\r\n"
				got := make([]byte, len(want))
				if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
					errs <- fmt.Errorf("subscriber %d, message %d: %q, %v", i, j, got, err)
					return
				}
			}
		}()
	}
	for range conns {
		select {
		case <-ready:
		case err := <-errs:
			t.Fatal(err)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	start := time.Now()
	for j := 0; j < msgs; j++ {
		if n, err := rdb.Publish(ctx, "wide", strconv.Itoa(j)).Result(); err != nil || n != subs {
			t.Fatalf("PUBLISH %d = %d, %v", j, n, err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d messages to %d subscribers delivered in %v", msgs, subs, time.Since(start))
}

// TestPubSubSlowSubscriber: a subscriber that stops reading is
// disconnected once over the pubsub output limit; the server's memory
// stays bounded and the publisher is not slowed.
func TestPubSubSlowSubscriber(t *testing.T) {
	srv := internal.Start(t, internal.Options{Args: []string{"--output-buffer-limit", "normal 0 0 0 pubsub 4mb 1mb 5"}})
	pid := int(srv.InfoInt(t, "process_id"))
	rssStart := procStatus(t, pid, "VmRSS")

	slow := dialRaw(t, srv.Addr())
	slow.send("SUBSCRIBE", "firehose")
	slow.expect("*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n")

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	payload := strings.Repeat("x", 64<<10)
	var worst time.Duration
	gone := -1
	const msgs = 4000 // 250 MiB in all
	start := time.Now()
	for i := 0; i < msgs; i++ {
		t0 := time.Now()
		n, err := rdb.Publish(ctx, "firehose", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(t0))
		if n == 0 && gone < 0 {
			gone = i
		}
	}
	elapsed := time.Since(start)
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("slow subscriber gone after message %d; %d x 64 KiB published in %v (slowest %v); RSS %d MiB at start, peak %d MiB",
		gone, msgs, elapsed, worst, rssStart>>20, hwm>>20)
	// 4 MiB queued plus what the sockets' buffers hold: a few hundred
	// messages of the 4000.
	if gone < 0 || gone > 500 {
		t.Fatalf("slow subscriber still subscribed at message %d", gone)
	}
	if hwm-rssStart > 128<<20 {
		t.Fatalf("RSS peak grew by %d MiB for one unread subscriber", (hwm-rssStart)>>20)
	}
	if worst > 5*time.Second {
		t.Fatalf("a PUBLISH took %v", worst)
	}
	// The slow subscriber's connection is closed: what it reads ends.
	slow.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, slow.nc); err != nil {
		t.Fatalf("slow subscriber: %v, want EOF", err)
	}
	if !strings.Contains(srv.Log(), "pubsub output buffer hard limit") {
		t.Fatalf("no log line for the disconnection:\n%s", srv.Log())
	}
}

// TestPubSubRedisCLI runs `redis-cli subscribe` and `redis-cli psubscribe`
// and reads what they print as messages arrive.
func TestPubSubRedisCLI(t *testing.T) {
	cli := internal.RequireTool(t, "redis-cli")
	srv := internal.Start(t, internal.Options{})
	host, port, _ := net.SplitHostPort(srv.Addr())
	for _, tc := range []struct {
		args    []string
		confirm int // lines of subscription confirmations
		want    []string
	}{
		{[]string{"subscribe", "ch1", "ch2"}, 6, []string{"subscribe", "ch1", "1", "subscribe", "ch2", "2", "message", "ch1", "hello world", "message", "ch2", "hello world"}},
		{[]string{"psubscribe", "ch*"}, 3, []string{"psubscribe", "ch*", "1", "pmessage", "ch*", "ch1", "hello world", "pmessage", "ch*", "ch2", "hello world"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port}, tc.args...)...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var got []string
		next := func() string {
			if !sc.Scan() {
				t.Fatalf("redis-cli %v: output ended after %q: %v", tc.args, got, sc.Err())
			}
			got = append(got, sc.Text())
			return sc.Text()
		}
		// The subscription confirmations come first: then publish.
		for range tc.confirm {
			next()
		}
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		for _, ch := range []string{"ch1", "ch2"} {
			if err := rdb.Publish(ctx, ch, "hello world").Err(); err != nil {
				t.Fatal(err)
			}
		}
		rdb.Close()
		for range len(tc.want) - tc.confirm {
			next()
		}
		cancel()
		cmd.Wait()
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Fatalf("redis-cli %v printed\n%q\nwant\n%q", tc.args, got, tc.want)
		}
	}
}

// BenchmarkPubSubFanout publishes 100-byte messages to N subscribers of
// one channel, gpucache and redis-server in the same run; an op is one
// message delivered to all N. Publishing is pipelined 64 deep.
func BenchmarkPubSubFanout(b *testing.B) {
	gpucache := internal.Start(b, internal.Options{}).Addr()
	redisAddr := internal.StartRedis(b)
	for _, n := range []int{1, 100, 1000} {
		for _, peer := range []struct{ name, addr string }{{"gpucache", gpucache}, {"redis", redisAddr}} {
			b.Run(fmt.Sprintf("%s/subscribers=%d", peer.name, n), func(b *testing.B) {
				benchFanout(b, peer.addr, n)
			})
		}
	}
}

func benchFanout(b *testing.B, addr string, n int) {
	payload := strings.Repeat("m", 100)
	frame := "*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n$100\r\n" + payload + "\r\n"
	confirm := "*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n"
	var wg sync.WaitGroup
	errs := make(chan error, n)
	conns := make([]net.Conn, n)
	for i := range conns {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		nc.Write(encodeStrings("SUBSCRIBE", "bench"))
		buf := make([]byte, len(confirm))
		if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != confirm {
			b.Fatalf("SUBSCRIBE: %q, %v", buf, err)
		}
		conns[i] = nc
	}
	b.ResetTimer()
	for _, nc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(nc, 64<<10)
			if _, err := br.Discard(len(frame) * b.N); err != nil {
				errs <- err
			}
		}()
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	for i := 0; i < b.N; i += 64 {
		pipe := rdb.Pipeline()
		for j := i; j < min(i+64, b.N); j++ {
			pipe.Publish(ctx, "bench", payload)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "deliveries/s")
}
