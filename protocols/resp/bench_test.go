package resp

import (
	"bytes"
	"fmt"
	"syscall"
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

// BenchmarkConnPipelined16 runs batches of 16 pipelined commands through
// the connection handler, as redis-benchmark -P 16 sends them: SETs of
// 1000-byte values (one run, stored with one synced PutMany) and GETs of
// hot small values, over 1024 keys. Reported per command: the process's CPU
// time (on a shared host a better measure than wall time, which includes
// waiting for a core; pebble's background work is counted too).
func BenchmarkConnPipelined16(b *testing.B) {
	const depth, batches = 16, 64
	val := string(bytes.Repeat([]byte("v"), 1000))
	for _, op := range []string{"SET", "GET"} {
		b.Run(op, func(b *testing.B) {
			eng := openEngine(b)
			s := NewServer(eng, Config{})
			defer s.Close()
			sc := newSyncConn(s)
			sc.m.discard = true
			reqs := make([][]byte, batches)
			for i := range reqs {
				for j := range depth {
					key := fmt.Sprintf("key:%06d", (i*depth+j)*7919%(batches*depth))
					if op == "SET" {
						reqs[i] = append(reqs[i], encode("SET", key, val)...)
					} else {
						reqs[i] = append(reqs[i], encode("GET", key)...)
					}
				}
			}
			// Loaded beforehand: GETs hit, SETs overwrite.
			{
				for i := range reqs {
					for j := range depth {
						key := fmt.Sprintf("key:%06d", (i*depth+j)*7919%(batches*depth))
						if _, err := eng.PutBytes("", []byte(key), []byte(val), engine.PutOptions{}); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.ReportAllocs()
			n := 0
			cpu0 := processCPU()
			for b.Loop() {
				sc.run(reqs[n%batches])
				n++
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(n*depth), "cpu-ns/cmd")
		})
	}
}

// processCPU is the process's user and system CPU time in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
