package resp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribeSync opens a connection that subscribes to channel and whose
// pushes are discarded.
func subscribeSync(t testing.TB, s *Server, channel string) *syncConn {
	sc := newSyncConn(s)
	sc.m.discard = true
	sc.run(encode("SUBSCRIBE", channel))
	t.Cleanup(func() { sc.c.endPush(false) })
	return sc
}

// TestPublishAllocs: a PUBLISH costs the same allocations with 1000
// subscribers as with one: the message is encoded once and shared, and
// the subscribers' writers take it without allocating. Each publish is
// measured with its delivery: the publisher waits until every writer has
// written it, so what is counted is the whole fan-out, and no backlog
// (whose queues would grow, an amortized cost) builds up.
func TestPublishAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race are not meaningful")
	}
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	pub := newSyncConn(s)
	pub.m.discard = true
	req := encode("PUBLISH", "ch", strings.Repeat("x", 100))
	var subs []*syncConn
	publish := func() {
		pub.run(req)
		for _, sc := range subs {
			sc.c.ps.q.waitIdle()
		}
	}
	allocs := func() float64 {
		// A collection empties the runtime's central cache of channel
		// waiters (sudogs), which the parked writers then allocate anew:
		// the runtime's cost once per GC cycle, not this code's per
		// message.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		for i := 0; i < 50; i++ {
			publish()
		}
		return testing.AllocsPerRun(100, publish)
	}
	subs = append(subs, subscribeSync(t, s, "ch"))
	one := allocs()
	for i := 1; i < 1000; i++ {
		subs = append(subs, subscribeSync(t, s, "ch"))
	}
	many := allocs()
	t.Logf("allocs per PUBLISH: %.1f with 1 subscriber, %.1f with 1000", one, many)
	if many > one+1 || many > 4 {
		t.Fatalf("allocs per PUBLISH grow with subscribers: %.1f with 1, %.1f with 1000", one, many)
	}
}

// BenchmarkPublishFanout publishes to N subscribers whose queues write to
// memory; allocs/op must not grow with N.
func BenchmarkPublishFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			eng := openEngine(b)
			s := NewServer(eng, Config{})
			defer s.Close()
			for i := 0; i < n; i++ {
				subscribeSync(b, s, "ch")
			}
			pub := newSyncConn(s)
			pub.m.discard = true
			req := encode("PUBLISH", "ch", strings.Repeat("x", 100))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pub.run(req)
			}
		})
	}
}

// TestSlowSubscriber: a subscriber that stops reading is closed once its
// queued pushes pass the pubsub hard limit; the publisher and a reading
// subscriber go on unaffected and the latter gets every message in order.
func TestSlowSubscriber(t *testing.T) {
	s := NewServer(openEngine(t), Config{OutputLimit: OutputLimit{PubSub: PubSubLimit{Hard: 1 << 20, Given: true}}}, WithLogf(t.Logf))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	addr := ln.Addr().String()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()

	// The slow one: subscribes, then never reads again.
	slow, slowR := dial(t, addr)
	slow.Write(encode("SUBSCRIBE", "ch"))
	if r, err := readReply(slowR); err != nil || !bytes.Contains(r, []byte("subscribe")) {
		t.Fatalf("SUBSCRIBE: %q, %v", r, err)
	}

	fast := rdb.Subscribe(ctx, "ch")
	defer fast.Close()
	if _, err := fast.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	const msgs, round = 2000, 16
	progress := make(chan int, msgs)
	got := make(chan error, 1)
	go func() {
		ch := fast.Channel(redis.WithChannelSize(msgs))
		for i := 0; i < msgs; i++ {
			m := <-ch
			if want := fmt.Sprintf("%d:", i); !strings.HasPrefix(m.Payload, want) {
				got <- fmt.Errorf("message %d: %.10q", i, m.Payload)
				return
			}
			progress <- i
		}
		close(got)
	}()
	payload := strings.Repeat("p", 16<<10)
	slowGone := -1
	for i := 0; i < msgs; i++ {
		n, err := rdb.Publish(ctx, "ch", fmt.Sprintf("%d:%s", i, payload)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && slowGone < 0 {
			slowGone = i
		}
		if i%round == round-1 {
			// A reading subscriber keeps up: wait for it between rounds
			// of 256 KiB, well under the limit.
			for j := -1; j < i; {
				select {
				case j = <-progress:
				case err, ok := <-got:
					if ok {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// 2000 x 16 KiB is 32 MiB: over a 1 MiB limit (plus what the kernel's
	// buffers hold) the slow subscriber must have gone long before.
	if slowGone < 0 || slowGone > 1000 {
		t.Fatalf("slow subscriber still subscribed after message %d", slowGone)
	}
	// Its connection is closed: reading drains what the kernel held, then EOF.
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := bufio.NewReader(slow).Discard(1 << 30); err == nil {
		t.Fatal("slow subscriber not disconnected")
	}
	if n := s.pubsub.counts[subChannel].Load(); n != 1 {
		t.Fatalf("channels: %d", n)
	}
}

// TestPubSubOrder: concurrent publishers; every subscriber sees the
// messages in one and the same order.
func TestPubSubOrder(t *testing.T) {
	_, addr := startServer(t, Config{})
	ctx := context.Background()
	const subs, pubs, each = 20, 4, 200
	var order [subs][]string
	var wg sync.WaitGroup
	ready := make(chan struct{}, subs)
	for i := 0; i < subs; i++ {
		rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2 + i%2})
		defer rdb.Close()
		ps := rdb.PSubscribe(ctx, "ch.*")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ready <- struct{}{}
			for j := 0; j < pubs*each; j++ {
				m, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				order[i] = append(order[i], m.Channel+"/"+m.Payload)
			}
		}(i)
	}
	for i := 0; i < subs; i++ {
		<-ready
	}
	var pw sync.WaitGroup
	for p := 0; p < pubs; p++ {
		pw.Add(1)
		go func(p int) {
			defer pw.Done()
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			defer rdb.Close()
			for j := 0; j < each; j++ {
				if err := rdb.Publish(ctx, "ch."+strconv.Itoa(p), strconv.Itoa(j)).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}(p)
	}
	pw.Wait()
	wg.Wait()
	for i := 1; i < subs; i++ {
		if strings.Join(order[i], ",") != strings.Join(order[0], ",") {
			t.Fatalf("subscriber %d saw another order than subscriber 0", i)
		}
	}
}

// TestSubscriberNotIdle: subscribers and monitors are not closed by the
// idle timeout, as in Redis; other clients are.
func TestSubscriberNotIdle(t *testing.T) {
	_, addr := startServer(t, Config{Timeout: time.Second})
	sub, subR := dial(t, addr)
	sub.Write(encode("SUBSCRIBE", "ch"))
	readReply(subR)
	mon, monR := dial(t, addr)
	mon.Write(encode("MONITOR"))
	readReply(monR)
	_, idleR := dial(t, addr)
	if _, err := idleR.ReadByte(); err == nil {
		t.Fatal("idle client not closed")
	}
	// The idle client was closed after about a second: the others have
	// been idle as long.
	pub, pubR := dial(t, addr)
	pub.Write(encode("PUBLISH", "ch", "m"))
	if r, _ := readReply(pubR); string(r) != ":1\r\n" {
		t.Fatalf("PUBLISH: %q", r)
	}
	if r, err := readReply(subR); err != nil || !bytes.Contains(r, []byte("message")) {
		t.Fatalf("subscriber: %q, %v", r, err)
	}
	if r, err := readReply(monR); err != nil || !bytes.Contains(r, []byte(`"PUBLISH" "ch" "m"`)) {
		t.Fatalf("monitor: %q, %v", r, err)
	}
}

// TestSoftLimitSubscriber: a subscriber whose queue stays over the pubsub
// soft limit for its seconds is closed, also when no more messages come.
func TestSoftLimitSubscriber(t *testing.T) {
	closed := make(chan struct{})
	var once sync.Once
	logf := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		t.Log(line)
		if strings.Contains(line, "soft limit") {
			once.Do(func() { close(closed) })
		}
	}
	s := NewServer(openEngine(t), Config{OutputLimit: OutputLimit{PubSub: PubSubLimit{Hard: 64 << 20, Soft: 256 << 10, SoftFor: 2 * time.Second, Given: true}}}, WithLogf(logf))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	addr := ln.Addr().String()
	slow, slowR := dial(t, addr)
	slow.Write(encode("SUBSCRIBE", "ch"))
	readReply(slowR)
	pub, pubR := dial(t, addr)
	// 16 MiB, pipelined: more than the sockets' buffers take, so that
	// well over the soft limit stays queued; then nothing more.
	msg := encode("PUBLISH", "ch", strings.Repeat("s", 64<<10))
	go pub.Write(bytes.Repeat(msg, 256))
	for i := 0; i < 256; i++ {
		if r, _ := readReply(pubR); string(r) != ":1\r\n" {
			// A slow machine took longer than the soft limit's
			// seconds to publish: closed then, as it should be.
			t.Logf("PUBLISH %d: %q", i, r)
		}
	}
	start := time.Now()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("subscriber over the soft limit not closed")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("closed after %v", d)
	}
	slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, slowR); err != nil {
		t.Fatalf("slow subscriber: %v, want EOF", err)
	}
	pub.Write(encode("PUBLISH", "ch", "m"))
	if r, _ := readReply(pubR); string(r) != ":0\r\n" {
		t.Fatalf("PUBLISH after: %q", r)
	}
}
