package resp

import (
	"testing"

	"github.com/gpucache/gpucache/engine"
)

// BenchmarkConnGETHit runs a pipelined batch of 100 GETs of a small
// resident value through the connection handler: the read path the
// command statistics are counted on, without the writes' Sync.
func BenchmarkConnGETHit(b *testing.B) {
	eng := openEngine(b)
	s := NewServer(eng, Config{})
	defer s.Close()
	if _, err := eng.PutBytes("", []byte("key"), []byte("0123456789abcdefghij0123456789"), engine.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	sc := newSyncConn(s)
	sc.m.discard = true
	var req []byte
	for range 100 {
		req = append(req, encode("GET", "key")...)
	}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		sc.run(req)
	}
}
