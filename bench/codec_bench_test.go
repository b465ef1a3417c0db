package bench

import (
	"fmt"
	"testing"
	"time"
)

// Benchmarks of the load path itself: how much CPU the client spends per
// batch, without a network. Run with: go test -run - -bench . ./bench

func benchSizes() []int { return []int{100, 4 << 10, 4 << 20} }

func BenchmarkRESPSetBatch(b *testing.B) {
	for _, size := range benchSizes() {
		for _, batch := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/b%d", FormatSize(int64(size)), batch), func(b *testing.B) {
				p := NewPayload(size)
				script := ""
				for i := 0; i < batch; i++ {
					script += "+OK\r\n"
				}
				fc := &fakeConn{script: []byte(script), loop: true, discard: true}
				c, _ := NewRESPClient(fc, p, RESPOptions{})
				ops := make([]Op, batch)
				key := []byte("meta-llama/Llama-3.1-8B-Instruct@00000003@5f1c0e2a9b7d4c11")
				b.SetBytes(int64(size * batch))
				b.ReportAllocs()
				for b.Loop() {
					for i := range ops {
						ops[i] = Op{Kind: OpSet, Key: key, Size: size, Stamp: uint64(i)}
					}
					if err := c.Do(ops); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRESPGet(b *testing.B) {
	for _, size := range benchSizes() {
		for _, mode := range []VerifyMode{VerifyCheap, VerifyFull} {
			b.Run(fmt.Sprintf("%s/%s", FormatSize(int64(size)), mode), func(b *testing.B) {
				p := NewPayload(size)
				fc := &fakeConn{script: []byte(bulk(p.AppendValue(nil, 3, size))), loop: true, discard: true}
				c, _ := NewRESPClient(fc, p, RESPOptions{Verify: mode})
				ops := make([]Op, 1)
				key := []byte("k")
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					ops[0] = Op{Kind: OpGet, Key: key, Size: size, Stamp: 3}
					if err := c.Do(ops); err != nil || ops[0].Err != nil {
						b.Fatal(err, ops[0].Err)
					}
				}
			})
		}
	}
}

// BenchmarkRESPSmallPipeline is the small workload's batch: 16 GETs of
// 100-byte values per round trip.
func BenchmarkRESPSmallPipeline(b *testing.B) {
	const depth, size = 16, 100
	p := NewPayload(size)
	script := ""
	for i := 0; i < depth; i++ {
		script += bulk(p.AppendValue(nil, uint64(i), size))
	}
	fc := &fakeConn{script: []byte(script), loop: true, discard: true}
	c, _ := NewRESPClient(fc, p, RESPOptions{})
	ops := make([]Op, depth)
	var kb keyBatch
	ks := NewKeySpace(1, "m", 1)
	b.SetBytes(depth * size)
	b.ReportAllocs()
	for b.Loop() {
		kb.reset()
		for i := range ops {
			kb.buf = ks.AppendSmall(kb.buf, uint64(i))
			ops[i] = Op{Kind: OpGet, Key: kb.key(kb.end()), Size: size, Stamp: uint64(i)}
		}
		if err := c.Do(ops); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	v := int64(12345)
	b.ReportAllocs()
	for b.Loop() {
		v = v*6364136223846793005 + 1442695040888963407
		h.Record(v & (1<<34 - 1))
	}
}

// BenchmarkLoopbackRawGet moves values over real loopback TCP from the raw
// probe: the kernel's copy cost, which bounds every target.
func BenchmarkLoopbackRawGet(b *testing.B) {
	for _, size := range []int{64 << 10, 4 << 20} {
		b.Run(FormatSize(int64(size)), func(b *testing.B) {
			p := NewPayload(size)
			s, err := StartRawServer("127.0.0.1:0", p)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			c, err := DialRaw(s.Addr(), p, VerifyCheap, 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ops := make([]Op, 1)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				ops[0] = Op{Kind: OpGet, Size: size, Stamp: 9}
				if err := c.Do(ops); err != nil || ops[0].Err != nil {
					b.Fatal(err, ops[0].Err)
				}
			}
		})
	}
}
