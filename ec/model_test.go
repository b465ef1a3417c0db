package ec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gpucache/gpucache/nvme"
)

// TestRandomFaultsModel runs random writes, reads, reopens and scrubs on a
// 4+2 volume whose devices misbehave at random, and checks every read
// against a reference copy of what was acknowledged. With faults confined
// to m devices every read must succeed; with m+1 faulty devices a read may
// fail, but must never return wrong bytes.
func TestRandomFaultsModel(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for _, faulty := range []int{2, 3} {
			t.Run(fmt.Sprintf("seed%d/faulty%d", seed, faulty), func(t *testing.T) {
				runModel(t, seed, faulty)
			})
		}
	}
}

func runModel(t *testing.T, seed uint64, nFaulty int) {
	const k, m = 4, 2
	r := rand.New(rand.NewPCG(seed, uint64(nFaulty)))
	devs, faults := faultDevs(k + m)
	bad := r.Perm(k + m)[:nFaulty]
	v := mustOpen(t, devs, k, m, WithBatchStripes(8))
	defer func() { v.Close() }()
	ref := map[string][]byte{}
	var names []string
	failedReads := 0
	for step := 0; step < 150; step++ {
		switch x := r.IntN(20); {
		case x < 5: // write a new file
			name := fmt.Sprintf("f%d", step)
			stripes := 1 + r.IntN(40)
			size := int64(stripes) * v.StripeWidth()
			f, err := v.Create(name, size)
			if err != nil {
				continue
			}
			data := pattern(t, int(size), r.Uint64())
			_, err = f.WritevAt(split(data, r.Uint64()), 0)
			if err == nil {
				err = f.Sync()
			}
			f.Close()
			if err == nil {
				ref[name] = data
				names = append(names, name)
			}
		case x < 13: // read a random range
			if len(names) == 0 {
				continue
			}
			name := names[r.IntN(len(names))]
			want := ref[name]
			units := len(want) / unit
			a := r.IntN(units)
			b := a + 1 + r.IntN(units-a)
			got := nvme.AlignedAlloc((b - a) * unit)
			f, err := v.Open(name)
			if err == nil {
				_, err = f.ReadvAt(split(got, r.Uint64()), int64(a*unit))
				f.Close()
			}
			if err == nil && !bytes.Equal(got, want[a*unit:b*unit]) {
				t.Fatalf("step %d: %s [%d,%d): wrong bytes", step, name, a, b)
			}
			nvme.AlignedFree(got)
			if err != nil {
				if nFaulty <= m {
					t.Fatalf("step %d: read %s with %d faulty devices: %v", step, name, nFaulty, err)
				}
				if !errors.Is(err, ErrUnrecoverable) {
					t.Fatalf("step %d: unexpected error class: %v", step, err)
				}
				failedReads++
			}
		case x < 18: // misbehave
			f := faults[bad[r.IntN(len(bad))]]
			switch r.IntN(6) {
			case 0:
				f.FlipBits(0.3)
			case 1:
				f.SetRule(nvme.OpRead, nvme.Rule{Prob: 0.3})
			case 2:
				f.TearWrites(0.5)
			case 3:
				f.SetRule(nvme.OpWrite, nvme.Rule{Prob: 0.3})
			case 4:
				f.Vanish()
			case 5:
				f.Heal()
			}
		case x < 19: // restart
			v.Close()
			v = mustOpen(t, devs, k, m, WithBatchStripes(8))
		default:
			_ = v.Scrub(context.Background())
		}
	}
	t.Logf("%d files, %d reads failed", len(names), failedReads)
}
