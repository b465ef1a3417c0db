package resp

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gpucache/gpucache/cluster"
	"github.com/gpucache/gpucache/engine"
)

// clusterServer is a server in cluster mode listed as the first of two
// masters (slots 0-8000 here, the rest on 127.0.0.1:7002).
func clusterServer(t testing.TB, eng *engine.Engine) *Server {
	s := NewServer(eng, Config{ClusterEnabled: true, Port: 7001})
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	if err := s.ClusterState().SetNodeID(a); err != nil {
		t.Fatal(err)
	}
	if err := s.ClusterState().SetNodes(a+" 127.0.0.1 7001 master - 0-8000\n"+b+" 127.0.0.1 7002 master - 8001-16383\n", 1, false); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClusterRouteAllocs: routing a request costs no allocation, served
// or redirected.
func TestClusterRouteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	eng := openEngine(t)
	s := clusterServer(t, eng)
	defer s.Close()
	sc := newSyncConn(s)
	// "bar" is slot 5061 (here), "foo" 12182 (elsewhere).
	batch := bytes.Join([][]byte{encode("GET", "bar"), encode("GET", "foo"), encode("EXISTS", "bar"),
		encode("MGET", "{bar}1", "{bar}2"), encode("MGET", "bar", "foo")}, nil)
	want := "$-1\r\n-MOVED 12182 127.0.0.1:7002\r\n:0\r\n*2\r\n$-1\r\n$-1\r\n-CROSSSLOT Attempted to access keys that don't hash to the same slot\r\n"
	if got := string(sc.run(batch)); got != want {
		t.Fatalf("replies %q, want %q", got, want)
	}
	base := NewServer(eng, Config{})
	defer base.Close()
	bc := newSyncConn(base)
	plain := bytes.Join([][]byte{encode("GET", "bar"), encode("GET", "bar"), encode("EXISTS", "bar"),
		encode("MGET", "{bar}1", "{bar}2"), encode("MGET", "bar", "bar")}, nil)
	bc.run(plain)
	without := testing.AllocsPerRun(200, func() { bc.run(plain) })
	with := testing.AllocsPerRun(200, func() { sc.run(batch) })
	if with > without {
		t.Fatalf("cluster routing allocates: %v allocs per batch, %v without cluster mode", with, without)
	}
}

func TestClusterKeyRanges(t *testing.T) {
	s := NewServer(openEngine(t), Config{ClusterEnabled: true})
	defer s.Close()
	for _, c := range []struct {
		args string
		keys string
	}{
		{"GET k", "k"},
		{"MSET a 1 b 2", "a b"},
		{"EVAL body 2 x y arg", "x y"},
		{"EVAL body 0 arg", ""},
		{"EVAL body x y", ""},
		{"FCALL f 1 k arg", "k"},
		{"ZUNIONSTORE d 2 a b WEIGHTS 1 2", "d a b"},
		{"ZUNION 2 a b", "a b"},
		{"LMPOP 2 a b LEFT", "a b"},
		{"BLMPOP 0 2 a b LEFT", "a b"},
		{"XREAD COUNT 1 STREAMS s1 s2 0 0", "s1 s2"},
		{"XREADGROUP GROUP g c STREAMS s 0", "s"},
		{"XINFO STREAM s", "s"},
		{"XGROUP CREATE s g $", "s"},
		{"PING", ""},
		{"SPUBLISH ch msg", "ch"},
	} {
		args := bytes.Fields([]byte(c.args))
		spec := s.commands.lookup(args[0])
		r, n := spec.keyRanges(args)
		var got []string
		for _, kr := range r[:n] {
			for i := kr.first; i <= kr.last && i < len(args); i += kr.step {
				got = append(got, string(args[i]))
			}
		}
		if strings.Join(got, " ") != c.keys {
			t.Errorf("%s: keys %q, want %q", c.args, got, c.keys)
		}
	}
}

// TestClusterSlotStates: a migration's slot states as the request path
// answers them.
func TestClusterSlotStates(t *testing.T) {
	eng := openEngine(t)
	s := clusterServer(t, eng)
	defer s.Close()
	cs := s.ClusterState()
	sc := newSyncConn(s)
	b := strings.Repeat("b", 40)
	cs.SetSlotState(cluster.SlotRange{Start: 5061, End: 5061}, cluster.SlotWriteForbidden, b)
	if got := string(sc.run(encode("SET", "bar", "1"))); got != "-TRYAGAIN Can't write to slot being migrated which is in write forbidden phase\r\n" {
		t.Fatalf("write-forbidden SET: %q", got)
	}
	if got := string(sc.run(encode("GET", "bar"))); got != "$-1\r\n" {
		t.Fatalf("write-forbidden GET: %q", got)
	}
	cs.SetSlotState(cluster.SlotRange{Start: 5061, End: 5061}, cluster.SlotMigrated, b)
	if got := string(sc.run(encode("GET", "bar"))); got != "-MOVED 5061 127.0.0.1:7002\r\n" {
		t.Fatalf("migrated GET: %q", got)
	}
	cs.SetSlotState(cluster.SlotRange{Start: 12182, End: 12182}, cluster.SlotImporting, b)
	if got := string(sc.run(encode("GET", "foo"))); got != "-MOVED 12182 127.0.0.1:7002\r\n" {
		t.Fatalf("importing GET without ASKING: %q", got)
	}
	if got := string(sc.run(bytes.Join([][]byte{encode("ASKING"), encode("GET", "foo"), encode("GET", "foo")}, nil))); got != "+OK\r\n$-1\r\n-MOVED 12182 127.0.0.1:7002\r\n" {
		t.Fatalf("ASKING holds for one request: %q", got)
	}
}

// BenchmarkClusterPipelinedGET runs a pipelined batch of 100 GETs of
// LMCache-shaped keys through the connection handler, standalone and in
// cluster mode (every key served here), to show what the slot check costs.
func BenchmarkClusterPipelinedGET(b *testing.B) {
	eng := openEngine(b)
	var req []byte
	for i := range 100 {
		k := "mistral-7b@00000003@5f2b1c9a0e7d4c3b2a19f8e7d6c5b4" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		eng.PutBytes("", []byte(k), []byte("0123456789abcdefghij0123456789"), engine.PutOptions{})
		req = append(req, encode("GET", k)...)
	}
	for _, mode := range []string{"standalone", "cluster"} {
		b.Run(mode, func(b *testing.B) {
			s := NewServer(eng, Config{})
			if mode == "cluster" {
				s = NewServer(eng, Config{ClusterEnabled: true, Port: 7001})
				a := strings.Repeat("a", 40)
				s.ClusterState().SetNodeID(a)
				s.ClusterState().SetNodes(a+" 127.0.0.1 7001 master - 0-16383", 1, false)
			}
			defer s.Close()
			sc := newSyncConn(s)
			sc.m.discard = true
			b.SetBytes(int64(len(req)))
			b.ReportAllocs()
			for b.Loop() {
				sc.run(req)
			}
		})
	}
}

// TestClusterSubcommandRegistry: a subcommand registered by another file
// (slot migration's) is dispatched; without one, KVRocks's usage error.
func TestClusterSubcommandRegistry(t *testing.T) {
	eng := openEngine(t)
	s := clusterServer(t, eng)
	defer s.Close()
	sc := newSyncConn(s)
	// Slot migration registers MIGRATE (cluster_migrate.go): set it aside.
	if h := clusterSubcommands["clusterx migrate"]; h != nil {
		delete(clusterSubcommands, "clusterx migrate")
		defer func() { clusterSubcommands["clusterx migrate"] = h }()
	}
	if got := string(sc.run(encode("CLUSTERX", "MIGRATE", "1", strings.Repeat("b", 40)))); got != "-"+errClusterXUsage+"\r\n" {
		t.Fatalf("unregistered MIGRATE: %q", got)
	}
	registerClusterSubcommand("clusterx", "MIGRATE", func(c *conn, cmd *Command) {
		if c.clusterAllowed() {
			c.wr.Simple("MIGRATING " + string(cmd.Args[2]))
		}
	})
	defer delete(clusterSubcommands, "clusterx migrate")
	if got := string(sc.run(encode("clusterx", "migrate", "1", strings.Repeat("b", 40)))); got != "+MIGRATING 1\r\n" {
		t.Fatalf("registered MIGRATE: %q", got)
	}
}

// TestClusterRouteRecheckedUnderGuard: a request routed before its slot
// stopped taking writes, that reaches the work guard only after the change
// (it waited behind a migration's barrier, or sat in a pipelined batch),
// is routed again: the ordinary path answers TRYAGAIN, an EXEC fails with
// it, and a pipelined SET run is dropped with its connection (its +OKs
// never go out). Nothing is written.
func TestClusterRouteRecheckedUnderGuard(t *testing.T) {
	eng := openEngine(t)
	s := clusterServer(t, eng)
	defer s.Close()
	cs := s.ClusterState()
	peer := strings.Repeat("b", 40)
	bar := cluster.SlotRange{Start: 5061, End: 5061} // "bar" and "{bar}x"
	// behindBarrier runs input on sc while the test holds the work guard
	// (as a migration's barrier does), forbids writes to bar's slot once
	// the last request has been routed, then lets it go.
	behindBarrier := func(sc *syncConn, input []byte, last string) string {
		t.Helper()
		cs.SetSlotState(bar, cluster.SlotNormal, "")
		s.work.mu.Lock()
		out := make(chan []byte, 1)
		go func() { out <- sc.run(input) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			sc.c.mu.Lock()
			routed := sc.c.lastCmd == last
			sc.c.mu.Unlock()
			if routed {
				break
			}
			if time.Now().After(deadline) {
				s.work.mu.Unlock()
				t.Fatalf("%s was not routed", last)
			}
			runtime.Gosched()
		}
		cs.SetSlotState(bar, cluster.SlotWriteForbidden, peer)
		s.work.mu.Unlock()
		return string(<-out)
	}
	const tryAgain = "-TRYAGAIN Can't write to slot being migrated which is in write forbidden phase\r\n"

	if got := behindBarrier(newSyncConn(s), encode("INCR", "bar"), "incr"); got != tryAgain {
		t.Fatalf("INCR routed before the change: %q", got)
	}

	tx := newSyncConn(s)
	cs.SetSlotState(bar, cluster.SlotNormal, "")
	if got := string(tx.run(bytes.Join([][]byte{encode("MULTI"), encode("INCR", "bar"), encode("SET", "{bar}x", "1")}, nil))); got != "+OK\r\n+QUEUED\r\n+QUEUED\r\n" {
		t.Fatalf("MULTI: %q", got)
	}
	if got := behindBarrier(tx, encode("EXEC"), "exec"); got != tryAgain {
		t.Fatalf("EXEC of a queue routed before the change: %q", got)
	}

	run := newSyncConn(s)
	if got := behindBarrier(run, bytes.Join([][]byte{encode("SET", "bar", "1"), encode("SET", "{bar}x", "2")}, nil), "set"); strings.Contains(got, "+OK") {
		t.Fatalf("a pipelined SET run committed after the change answered: %q", got)
	}
	if !run.c.failed {
		t.Fatal("the run's connection was not dropped")
	}

	cs.SetSlotState(bar, cluster.SlotNormal, "")
	if got := string(newSyncConn(s).run(bytes.Join([][]byte{encode("EXISTS", "bar"), encode("EXISTS", "{bar}x")}, nil))); got != ":0\r\n:0\r\n" {
		t.Fatalf("a refused write was stored: %q", got)
	}
}

// TestClusterBlockedRedirect: a client blocked on a key learns of a new
// topology at once: while its slot stays here it keeps waiting (and is
// served by a push), and once the slot is another node's it is answered
// MOVED, as Redis answers blocked clients (BLPOP, and XREAD BLOCK).
func TestClusterBlockedRedirect(t *testing.T) {
	s, addr := startServer(t, Config{ClusterEnabled: true, Port: 7001})
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	cs := s.ClusterState()
	if err := cs.SetNodeID(a); err != nil {
		t.Fatal(err)
	}
	nodes := func(version int64, mine string) {
		t.Helper()
		theirs := "0-8000"
		if mine == "0-8000" {
			theirs = "8001-16383"
		}
		text := a + " 127.0.0.1 7001 master - " + mine + "\n" + b + " 127.0.0.1 7002 master - " + theirs + "\n"
		if mine == "" {
			text = a + " 127.0.0.1 7001 master -\n" + b + " 127.0.0.1 7002 master - 0-16383\n"
		}
		if err := cs.SetNodes(text, version, false); err != nil {
			t.Fatal(err)
		}
	}
	nodes(1, "0-8000")
	blocked, blockedR := dial(t, addr)
	writer, writerR := dial(t, addr)
	// NB: a client left blocked fails the test instead of hanging it.
	if err := blocked.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// "bar" is slot 5061, "foo" 12182.
	sendReq(t, blocked, "BLPOP", "bar", "0")
	waitFor(t, "the BLPOP client to block", func() bool { return s.blocked.waiting.Load() == 1 })
	nodes(2, "0-8000") // a new version, the slot still here
	sendReq(t, writer, "RPUSH", "bar", "x")
	wantReply(t, writerR, ":1\r\n")
	wantReply(t, blockedR, "*2\r\n$3\r\nbar\r\n$1\r\nx\r\n")

	sendReq(t, blocked, "BLPOP", "bar", "0")
	waitFor(t, "the BLPOP client to block", func() bool { return s.blocked.waiting.Load() == 1 })
	nodes(3, "8001-16383")
	wantReply(t, blockedR, "-MOVED 5061 127.0.0.1:7002\r\n")
	if n := s.blocked.waiting.Load(); n != 0 {
		t.Fatalf("%d clients still registered as blocked", n)
	}

	sendReq(t, blocked, "XREAD", "BLOCK", "0", "STREAMS", "foo", "$")
	waitFor(t, "the XREAD client to block", func() bool { return s.blocked.waiting.Load() == 1 })
	nodes(4, "")
	wantReply(t, blockedR, "-MOVED 12182 127.0.0.1:7002\r\n")
	// The connection goes on.
	sendReq(t, blocked, "PING")
	wantReply(t, blockedR, "+PONG\r\n")
}
