package bench

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// startRedisForTest starts a real redis-server, or skips when none is
// installed.
func startRedisForTest(t *testing.T) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	s, err := StartRedis(context.Background(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func TestWorkloadsAgainstRedis(t *testing.T) {
	srv := startRedisForTest(t)
	p := NewPayload(2 << 20)
	env := &Env{Payload: p, Keys: NewKeySpace(99, "meta-llama/Llama-3.1-8B-Instruct", 4), Verify: VerifyFull, Timeout: 20 * time.Second}
	tg := &Target{Name: "redis", Addr: srv.Addr, PID: srv.PID()}
	ctx := context.Background()
	rss := NewRSSSampler(tg.PID, 20*time.Millisecond)
	defer rss.Close()
	rss.Begin()

	for _, cfg := range []LMCacheConfig{
		{Mode: ModeNative, Batch: 1, Concurrency: 4, WorkingSet: 16 << 20, GetPasses: 2, PrefixChunks: 4, HitRatio: 0.75},
		{Mode: ModeNative, Batch: 8, Concurrency: 2, WorkingSet: 16 << 20, GetPasses: 2, PrefixChunks: 8, HitRatio: 0.75},
		{Mode: ModePython, Concurrency: 3, WorkingSet: 8 << 20, GetPasses: 2, PrefixChunks: 4, HitRatio: 0.5},
	} {
		for _, size := range []int{64 << 10, 2 << 20} {
			res, err := RunLMCache(ctx, env, tg, cfg, size)
			if err != nil {
				t.Fatal(err)
			}
			checkLMCache(t, res, cfg, size)
		}
	}
	res, err := RunSmall(ctx, env, tg, SmallConfig{Clients: 8, Depth: 16, Keys: 500, Ops: 5000, SetRatio: 0.2, MinSize: 64, MaxSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	checkSmall(t, res, 500, 5000)

	if peak := rss.End(); peak < 1<<20 {
		t.Errorf("redis peak RSS sampled as %d bytes", peak)
	}
	if rss.HWM() < 1<<20 {
		t.Errorf("redis VmHWM read as %d bytes", rss.HWM())
	}
	// Cleanup deleted everything the workloads stored.
	c, err := DialRESP(srv.Addr, p, RESPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.Command("DBSIZE"); err != nil || n != ":0" {
		t.Errorf("DBSIZE after cleanup = %q, %v", n, err)
	}
}

func TestRESPAgainstRedisWire(t *testing.T) {
	// The codec against the real thing: RESP2 and RESP3 nulls, errors,
	// a pipelined mixed batch with a large value.
	srv := startRedisForTest(t)
	p := NewPayload(8 << 20)
	for _, hello3 := range []bool{false, true} {
		c, err := DialRESP(srv.Addr, p, RESPOptions{Hello3: hello3, Verify: VerifyFull})
		if err != nil {
			t.Fatal(err)
		}
		ops := []Op{
			{Kind: OpSet, Key: []byte("big"), Size: 8 << 20, Stamp: 5},
			{Kind: OpGet, Key: []byte("big"), Size: 8 << 20, Stamp: 5},
			{Kind: OpGet, Key: []byte("nope")},
			{Kind: OpExists, Key: []byte("big")},
			{Kind: OpDel, Key: []byte("big")},
			{Kind: OpExists, Key: []byte("big")},
		}
		if err := c.Do(ops); err != nil {
			t.Fatal(err)
		}
		want := []bool{false, true, false, true, true, false}
		for i, op := range ops {
			if op.Err != nil || op.Found != want[i] {
				t.Errorf("hello3=%v op %d %s: found %v err %v, want found %v", hello3, i, op.Kind, op.Found, op.Err, want[i])
			}
		}
		if _, err := c.Command("NOSUCHCOMMAND"); err == nil {
			t.Error("unknown command did not return an error reply")
		}
		c.Close()
	}
}
