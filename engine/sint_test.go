package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortedIntModel(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	r := rand.New(rand.NewPCG(5, 6))
	model := map[uint64]bool{}
	for i := 0; i < 2000; i++ {
		id := r.Uint64N(300)
		if i%97 == 0 {
			id = ^uint64(0) - r.Uint64N(3)
		}
		add := r.IntN(3) != 0
		txn(t, e, []string{"si"}, func(tx *Txn) error {
			var changed bool
			var err error
			if add {
				changed, err = tx.SIntAdd(0, id)
			} else {
				changed, err = tx.SIntRemove(0, id)
			}
			if changed != (add != model[id]) {
				t.Fatalf("op %d on %d: changed %v", i, id, changed)
			}
			return err
		})
		if add {
			model[id] = true
		} else {
			delete(model, id)
		}
	}
	var want []uint64
	for id := range model {
		want = append(want, id)
	}
	slices.Sort(want)
	for _, from := range []uint64{0, 150, 299, ^uint64(0)} {
		for _, rev := range []bool{false, true} {
			var got []uint64
			txn(t, e, []string{"si"}, func(tx *Txn) error {
				if _, _, err := tx.Meta(0); err != nil {
					return err
				}
				if tx.Size(0) != int64(len(model)) && len(model) > 0 {
					t.Fatalf("size %d; want %d", tx.Size(0), len(model))
				}
				return tx.SIntRange(0, from, rev, func(id uint64) bool { got = append(got, id); return true })
			})
			var exp []uint64
			for _, id := range want {
				if !rev && id >= from {
					exp = append(exp, id)
				}
			}
			if rev {
				for k := len(want) - 1; k >= 0; k-- {
					if want[k] <= from {
						exp = append(exp, want[k])
					}
				}
			}
			if !slices.Equal(got, exp) {
				t.Fatalf("range from %d rev %v: %v; want %v", from, rev, got, exp)
			}
		}
	}
}
