package resp

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

var fuzzSeeds = [][]byte{
	encode("SET", "k", "v"),
	encode("GET", "k"),
	[]byte("PING\r\nECHO hi\n"),
	[]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"),
	[]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$70\r\n" + string(bytes.Repeat([]byte("x"), 70)) + "\r\n"),
	[]byte("*1\r\n$-1\r\n"),
	[]byte("*-1\r\n*0\r\n\r\n"),
	[]byte("*1\r\n$99999999999\r\n"),
	encode("HELLO", "3"),
	encode("SETRANGE", "k", "100", "x"),
	encode("INCRBYFLOAT", "f", "1e308"),
	encode("SCAN", "0", "MATCH", "*", "COUNT", "5"),
	[]byte("*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n*3\r\n$7\r\nPUBLISH\r\n$1\r\na\r\n$1\r\nm\r\n*1\r\n$4\r\nPING\r\n*1\r\n$3\r\nGET\r\n"),
	encode("PSUBSCRIBE", "[a-"),
	encode("MONITOR"),
	encode("PUBSUB", "NUMSUB", "a", "b"),
}

// FuzzReader feeds arbitrary bytes to the Reader: it must never panic, and
// every request it returns has at least one argument.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	lim := Limits{SmallBulk: 64, MaxBulkLen: 4096, MaxArgs: 64, MaxInline: 256, MaxQueryBuf: 8192}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 16, lim)
		// Half the inputs are read with the limits of a client that has
		// not authenticated.
		r.SetUnauthenticated(len(data)%2 == 1)
		for {
			cmd, err := r.ReadCommand()
			if err != nil {
				return
			}
			if len(cmd.Args) == 0 {
				t.Fatalf("empty request from %q", data)
			}
			for i := range cmd.Args {
				if cmd.Args[i] == nil && cmd.Large(i) == nil && cmd.Err == nil {
					t.Fatalf("argument %d missing", i)
				}
			}
			cmd.Release()
		}
	})
}

// FuzzConn feeds arbitrary bytes to a connection on a real engine: it must
// never panic, and its output must be well-formed RESP replies.
func FuzzConn(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	eng := openEngine(f)
	s := NewServer(eng, Config{Limits: Limits{MaxBulkLen: 1 << 20, SmallBulk: 1024, MaxQueryBuf: 1 << 20}})
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := newSyncConn(s)
		out := sc.run(data)
		br := bufio.NewReader(bytes.NewReader(out))
		for {
			if _, err := readReply(br); err != nil {
				if err != io.EOF {
					t.Fatalf("malformed output %q for input %q: %v", out, data, err)
				}
				break
			}
		}
		sc.c.endPush(false)
		sc.c.retire()
		s.mu.Lock()
		delete(s.conns, sc.c.id)
		s.mu.Unlock()
	})
}

// FuzzParseOutputLimit: output-buffer-limit values never panic the parser,
// and an accepted value has no negative limit.
func FuzzParseOutputLimit(f *testing.F) {
	for _, s := range []string{"1gb", "0", "64mb 16mb 60", "normal 0 0 0", "normal 8mb 1mb 5 replica 256mb 64mb 60 pubsub 32mb 8mb 60", "1k 2kb -1", "normal x y z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseOutputLimit(s)
		if err == nil && (l.Hard < 0 || l.Soft < 0 || l.SoftFor < 0 || l.PubSub.Hard < 0 || l.PubSub.Soft < 0 || l.PubSub.SoftFor < 0) {
			t.Fatalf("ParseOutputLimit(%q) = %+v", s, l)
		}
	})
}

// FuzzConnUnauthenticated is FuzzConn with requirepass set: whatever a
// client sends before AUTH, the engine stays untouched (no arena pages in
// use afterwards) and the output is well-formed.
func FuzzConnUnauthenticated(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n"))
	f.Add([]byte("*11\r\n"))
	f.Add(append(encode("AUTH", "pw"), encode("SET", "k", "v")...))
	eng := openEngine(f)
	s := NewServer(eng, Config{RequirePass: "pw", Limits: Limits{MaxBulkLen: 1 << 20, SmallBulk: 1024, MaxQueryBuf: 1 << 20}})
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := newSyncConn(s)
		used := eng.Stats().DRAMUsed
		out := sc.run(data)
		br := bufio.NewReader(bytes.NewReader(out))
		for {
			if _, err := readReply(br); err != nil {
				if err != io.EOF {
					t.Fatalf("malformed output %q for input %q: %v", out, data, err)
				}
				break
			}
		}
		if !bytes.Contains(data, []byte("pw")) {
			// Never authenticated: nothing reached the engine.
			if n := eng.Stats().DRAMUsed; n != used {
				t.Fatalf("arena use went from %d to %d bytes on unauthenticated input %q", used, n, data)
			}
		}
		sc.c.endPush(false)
		sc.c.retire()
		s.mu.Lock()
		delete(s.conns, sc.c.id)
		s.mu.Unlock()
	})
}
