package resp

import (
	"bufio"
	"bytes"
	"testing"
)

// TestRandomKey: RANDOMKEY answers a key that exists, reaches every key
// over many calls, and answers a null bulk on an empty keyspace.
func TestRandomKey(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	if got := string(sc.run(encode("RANDOMKEY"))); got != "$-1\r\n" {
		t.Fatalf("RANDOMKEY on an empty keyspace: %q", got)
	}
	sc.run(encode("MSET", "fresh", "1", "k2", "2", "k3", "3"))
	seen := map[string]int{}
	for i := 0; i < 300; i++ {
		r, err := readReply(bufio.NewReader(bytes.NewReader(sc.run(encode("RANDOMKEY")))))
		if err != nil {
			t.Fatal(err)
		}
		seen[string(r)]++
	}
	for _, k := range []string{"fresh", "k2", "k3"} {
		if seen["$"+string(rune('0'+len(k)))+"\r\n"+k+"\r\n"] == 0 {
			t.Errorf("RANDOMKEY never returned %s in 300 calls: %v", k, seen)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("RANDOMKEY returned something else: %v", seen)
	}
}
