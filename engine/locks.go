package engine

import (
	"hash/maphash"
	"sync"
)

const lockStripes = 1024

// stripe serialises writers of the keys that hash to it. gen counts its
// writes, so a reader that loaded a value without the lock can tell whether
// it may still admit it to the DRAM tier.
type stripe struct {
	mu  sync.Mutex
	gen uint64
	_   [48]byte // keep stripes on separate cache lines
}

type lockTable struct {
	seed    maphash.Seed
	stripes [lockStripes]stripe
}

func newLockTable() *lockTable { return &lockTable{seed: maphash.MakeSeed()} }

func (t *lockTable) of(metaKey []byte) *stripe {
	return &t.stripes[maphash.Bytes(t.seed, metaKey)%lockStripes]
}

// lockPair locks the stripes of two keys in index order (one lock when
// they share a stripe) and returns the stripes to bump and unlock.
func (t *lockTable) lockPair(a, b []byte) (*stripe, *stripe) {
	ia := maphash.Bytes(t.seed, a) % lockStripes
	ib := maphash.Bytes(t.seed, b) % lockStripes
	if ia == ib {
		t.stripes[ia].mu.Lock()
		return &t.stripes[ia], nil
	}
	if ia > ib {
		ia, ib = ib, ia
	}
	t.stripes[ia].mu.Lock()
	t.stripes[ib].mu.Lock()
	return &t.stripes[ia], &t.stripes[ib]
}
