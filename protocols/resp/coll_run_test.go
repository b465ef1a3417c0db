package resp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPipelinedCollectionRuns sends the same random requests on a few keys
// — runs of LPUSH, RPUSH, LPOP, RPOP, SADD and HSET that join one Txn, and
// requests that cannot (reads, DEL, counted pops, malformed HSETs, type
// clashes) — once as one pipelined batch and once one request per batch,
// each against a fresh server, and requires the same replies byte for
// byte and the same keys after, in RESP2 and RESP3.
func TestPipelinedCollectionRuns(t *testing.T) {
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) { testPipelinedCollectionRuns(t, proto) })
	}
}

func testPipelinedCollectionRuns(t *testing.T, proto string) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := []string{"a", "b", "c"}
	var reqs [][]byte
	for range 4000 {
		k := keys[r.IntN(len(keys))]
		v := fmt.Sprint("v", r.IntN(20))
		var req []byte
		switch r.IntN(24) {
		case 0, 1, 2:
			req = encode("LPUSH", k, v, v+"x")
		case 3, 4:
			req = encode("RPUSH", k, v)
		case 5, 6:
			req = encode("LPOP", k)
		case 7:
			req = encode("RPOP", k)
		case 8, 9:
			req = encode("SADD", k, v, "m")
		case 10, 11:
			req = encode("HSET", k, "f"+v, v, "g", v)
		case 12:
			req = encode("HSET", k, "odd") // malformed: answered alone
		case 13:
			req = encode("LPOP", k, "2") // counted: answered alone
		case 14:
			req = encode("LRANGE", k, "0", "-1")
		case 15:
			req = encode("TYPE", k)
		case 16:
			req = encode("DEL", k)
		case 17:
			req = encode("HGETALL", k)
		case 18:
			req = encode("SISMEMBER", k, "m")
		case 19, 20:
			req = encode("ZADD", k, fmt.Sprint(r.IntN(5)), v, "1.5", "m")
		case 21:
			req = encode("ZPOPMIN", k)
		case 22:
			req = encode("ZPOPMAX", k)
		default:
			req = encode("SET", k, v)
		}
		reqs = append(reqs, req)
	}
	batched := NewServer(openEngine(t), Config{})
	single := NewServer(openEngine(t), Config{})
	bc, sc := newSyncConn(batched), newSyncConn(single)
	bc.run(encode("HELLO", proto))
	sc.run(encode("HELLO", proto))
	got := bc.run(bytes.Join(reqs, nil))
	var want []byte
	for _, req := range reqs {
		want = append(want, sc.run(req)...)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		lo := max(0, i-200)
		t.Fatalf("pipelined replies differ from one-by-one replies at byte %d:\ngot  %q\nwant %q", i, got[lo:min(len(got), i+100)], want[lo:min(len(want), i+100)])
	}
	for _, k := range keys {
		for _, q := range []string{"TYPE", "LRANGE", "HGETALL", "SMEMBERS", "ZRANGE"} {
			req := encode(q, k)
			switch q {
			case "LRANGE":
				req = encode(q, k, "0", "-1")
			case "ZRANGE":
				req = encode(q, k, "0", "-1", "WITHSCORES")
			}
			if g, w := bc.run(req), sc.run(req); !bytes.Equal(g, w) {
				t.Errorf("%s %s after the requests: %q, want %q", q, k, g, w)
			}
		}
	}
	if runs := countRuns(reqs); runs == 0 {
		t.Fatal("no request joined a run: the test misses what it is about")
	}
}

// countRuns counts adjacent requests that could share a run (same op
// family, same key): how often the batched path combined requests.
func countRuns(reqs [][]byte) int {
	n := 0
	for i := 1; i < len(reqs); i++ {
		a, b := bytes.SplitN(reqs[i-1], []byte("\r\n"), 6), bytes.SplitN(reqs[i], []byte("\r\n"), 6)
		if len(a) > 4 && len(b) > 4 && bytes.Equal(a[4], b[4]) && !bytes.Equal(a[2], []byte("SET")) {
			n++
		}
	}
	return n
}

// TestPipelinedSPop: SPOPs pipelined on one set run as one Txn. A small
// set gives up random members, so the replies are checked as a set: every
// member popped once, nil after the last, the set gone. A large set gives
// up its first members in order, pipelined as one by one.
func TestPipelinedSPop(t *testing.T) {
	s := NewServer(openEngine(t), Config{})
	c := newSyncConn(s)
	var in []byte
	in = append(in, encode("SADD", "s", "a", "b", "c", "d", "e")...)
	for range 7 {
		in = append(in, encode("SPOP", "s")...)
	}
	in = append(in, encode("EXISTS", "s")...)
	want := map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true}
	got := string(c.run(in))
	if !strings.HasPrefix(got, ":5\r\n") || !strings.HasSuffix(got, "$-1\r\n$-1\r\n:0\r\n") {
		t.Fatalf("replies %q", got)
	}
	for _, m := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(got, ":5\r\n"), "$-1\r\n$-1\r\n:0\r\n"), "$1\r\n")[1:] {
		m = strings.TrimSuffix(m, "\r\n")
		if !want[m] {
			t.Fatalf("SPOP answered %q twice or never added, in %q", m, got)
		}
		delete(want, m)
	}
	if len(want) != 0 {
		t.Fatalf("not popped: %v (replies %q)", want, got)
	}

	// Large: pipelined and one by one give the same members.
	args := []string{"SADD", "big"}
	for i := range exactPickMax + 100 {
		args = append(args, fmt.Sprintf("m%05d", i))
	}
	in = encode(args...)
	for range 50 {
		in = append(in, encode("SPOP", "big")...)
	}
	other := newSyncConn(NewServer(openEngine(t), Config{}))
	one := append([]byte(nil), other.run(encode(args...))...)
	for range 50 {
		one = append(one, other.run(encode("SPOP", "big"))...)
	}
	if got := c.run(in); !bytes.Equal(got, one) {
		t.Fatalf("pipelined SPOPs of a large set: %q\none by one: %q", got, one)
	}
}
