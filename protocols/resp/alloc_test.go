package resp

import (
	"bytes"
	"testing"

	"github.com/gpucache/gpucache/engine"
)

// TestConnAllocs checks invariant 6 on the request path: through the
// connection handler (reader, dispatch, writer, flush) a pipelined batch of
// small GET/SET/EXISTS/DEL costs no allocation beyond what the engine calls
// themselves cost, and protocol-only commands cost none at all.
func TestConnAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	val := bytes.Repeat([]byte("v"), 512)
	if _, err := eng.PutBytes("", []byte("hit"), val, engine.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	protoOnly := bytes.Join([][]byte{encode("PING"), encode("ECHO", "hello"), encode("SELECT", "0")}, nil)
	sc.run(protoOnly)
	if a := testing.AllocsPerRun(200, func() { sc.run(protoOnly) }); a != 0 {
		t.Errorf("PING/ECHO/SELECT: %v allocs per batch, want 0", a)
	}

	batch := bytes.Join([][]byte{
		encode("SET", "k", string(val)), encode("GET", "k"), encode("GET", "hit"),
		encode("GET", "missing"), encode("EXISTS", "k"), encode("DEL", "k"),
	}, nil)
	sc.run(batch)
	viaConn := testing.AllocsPerRun(200, func() { sc.run(batch) })

	keys := [][]byte{[]byte("k")}
	direct := testing.AllocsPerRun(200, func() {
		eng.PutBytes("", []byte("k"), val, engine.PutOptions{})
		for _, k := range []string{"k", "hit", "missing"} {
			if v, err := eng.Get("", []byte(k)); err == nil {
				v.Release()
			}
		}
		eng.Exists("", keys)
		eng.Delete("", keys)
		eng.Sync()
	})
	t.Logf("SET+GET+GET+GET(miss)+EXISTS+DEL batch: %v allocs through the connection, %v in the engine calls alone", viaConn, direct)
	if viaConn > direct {
		t.Errorf("the protocol layer allocates: %v allocs per batch through the connection vs %v for the engine calls", viaConn, direct)
	}
}
