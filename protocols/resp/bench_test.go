package resp

import (
	"bytes"
	"testing"

	"github.com/gpucache/gpucache/engine"
)

// BenchmarkReaderPipelinedSET parses a pipeline of 100 small SETs.
func BenchmarkReaderPipelinedSET(b *testing.B) {
	req := bytes.Repeat(encode("SET", "vllm@model@1@0@6c9faa6ae5af1bdf@bfloat16metadata", string(make([]byte, 28))), 100)
	src := bytes.NewReader(req)
	r := NewReader(src, 64<<10, Limits{})
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(req)
		for {
			if _, err := r.ReadCommand(); err != nil {
				break
			}
		}
	}
}

// BenchmarkConnSmall runs a pipelined batch of 100 small SET+GET pairs
// through the connection handler (engine included, one Sync per batch).
func BenchmarkConnSmall(b *testing.B) {
	eng := openEngine(b)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	sc.m.discard = true
	var req []byte
	for i := 0; i < 100; i++ {
		req = append(req, encode("SET", "key", "0123456789abcdefghij0123456789")...)
		req = append(req, encode("GET", "key")...)
	}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		sc.run(req)
	}
}

// BenchmarkConnSET32MiB stores a 32 MiB value through the handler: the
// value streams from the (in-memory) socket into engine pages, then to the
// NVMe tier.
func BenchmarkConnSET32MiB(b *testing.B) {
	eng := openEngine(b)
	s := NewServer(eng, Config{})
	defer s.Close()
	sc := newSyncConn(s)
	sc.m.discard = true
	req := encode("SET", "chunk", string(bytes.Repeat([]byte{7}, 32<<20)))
	b.SetBytes(32 << 20)
	b.ReportAllocs()
	for b.Loop() {
		sc.run(req)
	}
}

// BenchmarkConnGET32MiB reads a 32 MiB value resident in the DRAM tier
// through the handler: the reply goes out by reference (writev).
func BenchmarkConnGET32MiB(b *testing.B) {
	eng := openEngine(b)
	s := NewServer(eng, Config{})
	defer s.Close()
	if _, err := eng.PutBytes("", []byte("chunk"), bytes.Repeat([]byte{7}, 32<<20), engine.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	sc := newSyncConn(s)
	sc.m.discard = true
	req := encode("GET", "chunk")
	b.SetBytes(32 << 20)
	b.ReportAllocs()
	for b.Loop() {
		sc.run(req)
	}
}
