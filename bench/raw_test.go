package bench

import (
	"context"
	"net"
	"testing"
	"time"
)

func startRaw(t *testing.T, p *Payload) *RawServer {
	t.Helper()
	s, err := StartRawServer("127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRawProbeBatch(t *testing.T) {
	p := NewPayload(4 << 20)
	s := startRaw(t, p)
	c, err := DialRaw(s.Addr(), p, VerifyFull, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ops := []Op{
		{Kind: OpSet, Key: []byte("a"), Size: 4 << 20, Stamp: 1},
		{Kind: OpSet, Key: []byte("b"), Size: 100, Stamp: 2},
		{Kind: OpSet, Key: []byte("m"), Literal: make([]byte, pythonMetaSize)},
		{Kind: OpGet, Key: []byte("a"), Size: 4 << 20, Stamp: 1},
		{Kind: OpGet, Key: []byte("x"), Size: 0},
		{Kind: OpGet, Key: []byte("b"), Size: 100, Stamp: 2},
		{Kind: OpExists, Key: []byte("a"), Size: 4 << 20},
		{Kind: OpExists, Key: []byte("x")},
		{Kind: OpGet, Key: []byte("m"), Literal: make([]byte, pythonMetaSize)},
	}
	for round := 0; round < 3; round++ { // the connection stays in sync across batches
		if err := c.Do(ops); err != nil {
			t.Fatal(err)
		}
		want := []bool{false, false, false, true, false, true, true, false, true}
		for i, op := range ops {
			if op.Err != nil {
				t.Errorf("op %d: %v", i, op.Err)
			}
			if op.Found != want[i] {
				t.Errorf("op %d (%s): found %v, want %v", i, op.Kind, op.Found, want[i])
			}
			if op.Lat <= 0 || (i > 0 && op.Lat < ops[i-1].Lat) {
				t.Errorf("op %d: latency %v not increasing within the batch", i, op.Lat)
			}
		}
	}
}

func TestRawProbeRejectsGarbage(t *testing.T) {
	p := NewPayload(1 << 10)
	s := startRaw(t, p)
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if n, err := conn.Read(b[:]); err == nil {
		t.Fatalf("raw server answered %q to garbage instead of closing", b[:n])
	}
	// A GET larger than the payload is refused the same way.
	c, err := DialRaw(s.Addr(), p, VerifyCheap, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Do([]Op{{Kind: OpGet, Key: []byte("k"), Size: 1 << 20}}); err == nil {
		t.Fatal("oversized raw GET succeeded")
	}
}

func TestRawProbeWorkloads(t *testing.T) {
	p := NewPayload(1 << 20)
	s := startRaw(t, p)
	env := &Env{Payload: p, Keys: NewKeySpace(7, "m", 2), Verify: VerifyFull, Timeout: 10 * time.Second}
	tg := &Target{Name: "raw", Kind: TargetRaw, Addr: s.Addr()}
	for _, cfg := range []LMCacheConfig{
		{Mode: ModeNative, Batch: 4, Concurrency: 3, WorkingSet: 8 << 20, GetPasses: 2, PrefixChunks: 8, HitRatio: 0.75},
		{Mode: ModePython, Concurrency: 2, WorkingSet: 4 << 20, GetPasses: 2, PrefixChunks: 4, HitRatio: 0.5},
	} {
		res, err := RunLMCache(context.Background(), env, tg, cfg, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		checkLMCache(t, res, cfg, 1<<20)
	}
	res, err := RunSmall(context.Background(), env, tg, SmallConfig{Clients: 4, Depth: 8, Keys: 100, Ops: 1000, SetRatio: 0.3, MinSize: 64, MaxSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	checkSmall(t, res, 100, 1000)
}
