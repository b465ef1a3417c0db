package engine

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const lockStripes = 1024

// stripe serialises writers of the keys that hash to it. gen counts its
// writes, so a reader that loaded a value without the lock can tell whether
// it may still admit it to the DRAM tier.
type stripe struct {
	mu      sync.Mutex
	gen     uint64
	grouped atomic.Bool // held by a group until it ends (group.go)
	_       [44]byte    // keep stripes on separate cache lines
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

// heldKey is one key held for a read-modify-write: its metadata key, its
// lock stripe (locked) and its metadata as loaded under the lock.
type heldKey struct {
	e      *Engine
	kb     *keyBuf
	mk     []byte
	st     *stripe
	m      Meta
	exists bool
}

// holdKey checks the engine is open, takes ks/key's lock and loads its
// metadata (with an inline value when withValue; an expired key is removed
// and reads as missing). On success the caller must call release.
func (e *Engine) holdKey(hk *heldKey, ks string, key []byte, withValue bool) error {
	if e.closed.Load() {
		return ErrClosed
	}
	hk.kb = getKeyBuf()
	hk.mk = hk.kb.meta(ks, key)
	hk.st = e.locks.of(hk.mk)
	e.lock(hk.st)
	hk.e = e
	var err error
	if hk.exists, err = e.loadMeta(hk.mk, &hk.m, withValue); err != nil {
		hk.release()
		return err
	}
	return nil
}

// release unlocks the key and returns its buffers.
func (hk *heldKey) release() {
	hk.e.unlock(hk.st)
	putKeyBuf(hk.kb)
}
