package ec

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gpucache/gpucache/nvme"
)

const benchSize = 32 << 20

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timed runs fn b.N times and also reports CPU milliseconds per GiB moved,
// which, unlike MB/s, holds steady on a machine shared with other work.
func timed(b *testing.B, bytes int64, fn func()) {
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		fn()
	}
	cpu := cpuTime() - c0
	b.ReportMetric(float64(cpu.Milliseconds())/(float64(bytes)*float64(b.N)/(1<<30)), "cpu-ms/GiB")
}

var benchLayouts = []layout{{1, 0, 1}, {4, 2, 6}, {8, 3, 11}}

// benchFile returns a volume on memory devices and an open file of
// benchSize bytes, written once.
func benchFile(b *testing.B, l layout) (*Volume, *File, []nvme.Device, [][]byte) {
	devs := make([]nvme.Device, l.devs)
	for i := range devs {
		devs[i] = nvme.NewMem(fmt.Sprintf("mem%d", i), 1<<30)
	}
	v := mustOpen(b, devs, l.k, l.m)
	b.Cleanup(func() { v.Close() })
	size := benchSize / v.StripeWidth() * v.StripeWidth()
	f, err := v.Create("bench", size)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	data := pattern(b, int(size), 1)
	// 1 MiB buffers, as the engine's pooled segment buffers would be.
	var bufs [][]byte
	for off := 0; off < len(data); off += 1 << 20 {
		bufs = append(bufs, data[off:min(len(data), off+1<<20)])
	}
	if _, err := f.WritevAt(bufs, 0); err != nil {
		b.Fatal(err)
	}
	return v, f, devs, bufs
}

// BenchmarkWrite measures encode plus write of 32 MiB (the extra parity
// bytes are written but not counted in the throughput).
func BenchmarkWrite(b *testing.B) {
	for _, l := range benchLayouts {
		b.Run(l.String(), func(b *testing.B) {
			_, f, _, bufs := benchFile(b, l)
			// NB: rewriting one region is outside the write-once
			// contract, but parity and checksums are recomputed from the
			// data alone, so it measures the same work.
			timed(b, f.Size(), func() {
				if _, err := f.WritevAt(bufs, 0); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkRead measures a healthy read of 32 MiB: data shards only,
// every unit checksummed (except 1+0, a pass-through).
func BenchmarkRead(b *testing.B) {
	for _, l := range benchLayouts {
		b.Run(l.String(), func(b *testing.B) {
			_, f, _, bufs := benchFile(b, l)
			timed(b, f.Size(), func() {
				if _, err := f.ReadvAt(bufs, 0); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkReadDegraded measures a read of 32 MiB with one data device
// failed: every stripe is reconstructed.
func BenchmarkReadDegraded(b *testing.B) {
	for _, l := range benchLayouts[1:] {
		b.Run(l.String(), func(b *testing.B) {
			_, f, devs, bufs := benchFile(b, l)
			devs[(f.st.start)%len(devs)].Health().MarkFailed() // shard 0: data
			timed(b, f.Size(), func() {
				if _, err := f.ReadvAt(bufs, 0); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	devs := backends["mem"](t, 6)
	v := mustOpen(t, devs, 4, 2)
	defer v.Close()
	f, err := v.Create("a", 64*v.StripeWidth())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := pattern(t, int(64*v.StripeWidth()), 1)
	bufs := [][]byte{buf[:len(buf)/2], buf[len(buf)/2:]}
	write := func() {
		if _, err := f.WritevAt(bufs, 0); err != nil {
			t.Fatal(err)
		}
	}
	read := func() {
		if _, err := f.ReadvAt(bufs, 0); err != nil {
			t.Fatal(err)
		}
	}
	write()
	// NB: reedsolomon's AVX2 path returns a []byte to a sync.Pool on every
	// Encode call (24 bytes); that is the only allocation allowed, one per
	// stripe. Everything of ours is pooled.
	if n := testing.AllocsPerRun(50, write); n > 64 {
		t.Errorf("write of 64 stripes allocates %v times", n)
	}
	if n := testing.AllocsPerRun(50, read); n > 0 {
		t.Errorf("healthy read allocates %v times", n)
	}
}
