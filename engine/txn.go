package engine

import (
	"hash/maphash"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Txn is one atomic read-modify-write of a few keys of one keyspace: every
// Redis collection command is built on it. Txn (the Engine method) locks
// the keys' stripes in index order (so multi-key commands cannot deadlock
// each other or PutMany and Rename), runs fn, and commits what fn changed
// — metadata records, sub-keys, the expiry index, the sub-key ranges of
// replaced collections — as one pebble batch. Like every mutation, it is
// durable after Engine.Sync.
//
// A Txn is valid only inside fn and is not safe for concurrent use. Keys
// are named by their index in the keys passed to Txn; a key named twice
// is the same key.
type Txn struct {
	e        *Engine
	ks       string
	slots    []int // keys index -> index in keys
	keys     []txnKey
	stripes  []uint64
	b        *pebble.Batch // indexed; nil until the first write
	sk       []byte        // sub-key scratch
	rec      []byte        // record scratch
	kb       keyBuf
	now      int64
	hinted   []hintKey // low hints set by this Txn (dropped if it fails)
	pend     []pendSub // sub-key writes, for the sub-key cache (subcache.go)
	pendBuf  []byte    // their suffixes
	pendOver bool      // more than pendMax of them
}

type txnKey struct {
	key       []byte
	mk        []byte
	m         Meta // as fn leaves it
	old       Meta // as stored when loaded
	exists    bool
	oldExists bool
	loaded    bool
	dirty     bool
	created   []uint64 // versions created in this Txn (sub-keys only in the batch)
}

var txnPool = ptrPool(func() *Txn { return new(Txn) })

// Txn runs fn with keys locked and commits its changes atomically. fn's
// error is returned and nothing is written.
func (e *Engine) Txn(ks string, keys [][]byte, fn func(t *Txn) error) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if len(ks) > maxKeyspaceLen {
		return errKeyspaceName
	}
	t := txnPool.Get()
	defer t.release()
	t.init(e, ks, keys)
	for _, i := range t.stripes {
		e.lock(&e.locks.stripes[i])
	}
	defer func() {
		for _, i := range t.stripes {
			st := &e.locks.stripes[i]
			if t.b != nil {
				st.gen++
			}
			e.unlock(st)
		}
	}()
	var sp savepoint
	if g := e.grp; g != nil {
		sp = g.savepoint()
	}
	err := fn(t)
	if err == nil {
		err = t.commit()
	}
	if err != nil {
		for _, k := range t.hinted {
			e.hints.drop(k)
		}
		if g := e.grp; g != nil {
			// What fn wrote went straight into the group's batch.
			if rerr := g.rollback(e, sp); rerr != nil {
				return rerr
			}
		}
	} else if g := e.grp; g != nil && len(t.hinted) > 0 {
		g.hinted = true
	}
	return err
}

func (t *Txn) init(e *Engine, ks string, keys [][]byte) {
	t.e, t.ks, t.now = e, ks, nowMs()
	t.slots, t.keys, t.stripes, t.hinted = t.slots[:0], t.keys[:0], t.stripes[:0], t.hinted[:0]
	t.pend, t.pendBuf, t.pendOver = t.pend[:0], t.pendBuf[:0], false
	for _, k := range keys {
		mk := appendMetaKey(nil, ks, k)
		slot := -1
		for j := range t.keys {
			if string(t.keys[j].mk) == string(mk) {
				slot = j
				break
			}
		}
		if slot < 0 {
			slot = len(t.keys)
			t.keys = append(t.keys, txnKey{key: k, mk: mk})
			t.stripes = append(t.stripes, maphash.Bytes(e.locks.seed, mk)%lockStripes)
		}
		t.slots = append(t.slots, slot)
	}
	slices.Sort(t.stripes)
	t.stripes = slices.Compact(t.stripes)
}

func (t *Txn) release() {
	if t.b != nil && t.e.grp == nil {
		t.b.Close()
	}
	t.b = nil
	for i := range t.keys {
		t.keys[i] = txnKey{}
	}
	t.e = nil
	txnPool.Put(t)
}

// k loads key i's metadata on first use. An expired key is removed (as
// any read does) and reads as absent.
func (t *Txn) k(i int) (*txnKey, error) {
	k := &t.keys[t.slots[i]]
	if k.loaded {
		return k, nil
	}
	exists, err := t.e.loadMeta(k.mk, &k.old, false)
	if err != nil {
		return nil, err
	}
	k.loaded, k.exists, k.oldExists = true, exists, exists
	cloneMeta(&k.m, &k.old)
	if exists && k.m.fieldTTL.next != 0 && k.m.fieldTTL.next <= t.now {
		if err := t.expireFields(k); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Key returns key i.
func (t *Txn) Key(i int) []byte { return t.keys[t.slots[i]].key }

// Meta returns key i's metadata as the Txn sees it, and whether it exists.
func (t *Txn) Meta(i int) (Meta, bool, error) {
	k, err := t.k(i)
	if err != nil {
		return Meta{}, false, err
	}
	return k.m, k.exists, nil
}

// Open reports whether key i exists as a typ collection: ErrWrongType when
// it holds another type.
func (t *Txn) Open(i int, typ Type) (bool, error) {
	k, err := t.k(i)
	if err != nil {
		return false, err
	}
	if k.exists && k.m.Type != typ {
		return false, ErrWrongType
	}
	return k.exists, nil
}

// Create opens key i as a typ collection, creating an empty one (a new
// version) when it does not exist. An empty collection is not stored:
// unless elements are added, the key stays absent.
func (t *Txn) Create(i int, typ Type) error {
	exists, err := t.Open(i, typ)
	if err != nil || exists {
		return err
	}
	return t.Replace(i, typ)
}

// Replace makes key i a new, empty typ collection whatever it held (the
// destination of the STORE commands); its old value and expiry go.
func (t *Txn) Replace(i int, typ Type) error {
	k, err := t.k(i)
	if err != nil {
		return err
	}
	v, err := t.e.nextVersion()
	if err != nil {
		return err
	}
	k.m = Meta{Type: typ, Version: v, ModTime: time.Now().UnixNano()}
	switch typ {
	case TypeList:
		k.m.listHead, k.m.listTail = listMid, listMid
	case TypeStream:
		k.m.stream = new(streamMeta)
	}
	k.exists, k.dirty = true, true
	k.created = append(k.created, v)
	return nil
}

// Delete removes key i (any type).
func (t *Txn) Delete(i int) error {
	k, err := t.k(i)
	if err != nil {
		return err
	}
	if k.exists {
		k.exists, k.dirty = false, true
	}
	return nil
}

// Size is key i's element count (0 when absent).
func (t *Txn) Size(i int) int64 {
	k := &t.keys[t.slots[i]]
	if !k.exists {
		return 0
	}
	return k.m.Size
}

// addSize changes key i's element count; a collection that reaches zero
// is deleted at commit.
func (t *Txn) addSize(i int, d int64) {
	k := &t.keys[t.slots[i]]
	if d != 0 {
		k.m.Size += d
		k.dirty = true
	}
}

// SetExpire sets the expiry (Unix ms, 0 none) of key i, a collection.
func (t *Txn) SetExpire(i int, at int64) {
	k := &t.keys[t.slots[i]]
	if k.exists && k.m.Type.collection() && k.m.ExpireAt != at {
		k.m.ExpireAt, k.dirty = at, true
	}
}

// batch is where the Txn writes: its own indexed batch, or inside a
// group the group's (Engine.Txn rolls it back if the Txn fails).
func (t *Txn) batch() *pebble.Batch {
	if t.b == nil {
		if g := t.e.grp; g != nil {
			t.b = g.b
		} else {
			t.b = t.e.db.NewIndexedBatch()
		}
	}
	return t.b
}

func (t *Txn) reader() pebble.Reader {
	if t.b != nil {
		return t.b
	}
	return t.e.reader()
}

func (t *Txn) subKey(i int, suffix []byte) []byte {
	k := &t.keys[t.slots[i]]
	t.sk = appendSubKey(t.sk[:0], k.m.Version, suffix)
	return t.sk
}

// getSub appends sub-key suffix's value of key i to dst; false when absent.
func (t *Txn) getSub(i int, suffix, dst []byte) ([]byte, bool, error) {
	if v, has, known := t.cachedHas(&t.keys[t.slots[i]], suffix); known && (!has || v.n >= 0) {
		if has {
			dst = append(dst, v.b[:v.n]...)
		}
		return dst, has, nil
	}
	val, closer, err := t.reader().Get(t.subKey(i, suffix))
	if err == pebble.ErrNotFound {
		return dst, false, nil
	}
	if err != nil {
		return dst, false, err
	}
	dst = append(dst, val...)
	closer.Close()
	return dst, true, nil
}

// hasSub reports whether sub-key suffix of key i exists.
func (t *Txn) hasSub(i int, suffix []byte) (bool, error) {
	if _, has, known := t.cachedHas(&t.keys[t.slots[i]], suffix); known {
		return has, nil
	}
	_, closer, err := t.reader().Get(t.subKey(i, suffix))
	if err == pebble.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	closer.Close()
	return true, nil
}

func (t *Txn) setSub(i int, suffix, val []byte) {
	k := &t.keys[t.slots[i]]
	_ = t.batch().Set(t.subKey(i, suffix), val, nil)
	k.dirty = true
	switch {
	case k.m.Type == TypeList && len(val) > 8:
		// NB: a list's set holds small values only: forget the index.
		t.track(k.m.Version, suffix, nil, false)
	case subCached(k.m.Type, suffix):
		t.track(k.m.Version, suffix, val, true)
	}
}

func (t *Txn) delSub(i int, suffix []byte) {
	k := &t.keys[t.slots[i]]
	_ = t.batch().Delete(t.subKey(i, suffix), nil)
	k.dirty = true
	if subCached(k.m.Type, suffix) {
		t.track(k.m.Version, suffix, nil, false)
	}
}

// subIter iterates key i's sub-keys with suffixes in [lo, hi) (nil hi:
// to the end of the collection). It sees the Txn's writes made before it
// was opened.
func (t *Txn) subIter(i int, lo, hi []byte) (*subIter, error) {
	k := &t.keys[t.slots[i]]
	return newSubIter(t.reader(), k.m.Version, lo, hi)
}

// commit writes what fn changed as one batch.
func (t *Txn) commit() error {
	dirty := false
	for i := range t.keys {
		if t.keys[i].dirty {
			dirty = true
		}
	}
	if !dirty {
		return nil
	}
	e, b := t.e, t.batch()
	var compact []uint64
	for i := range t.keys {
		k := &t.keys[i]
		if !k.dirty {
			continue
		}
		if k.exists && k.m.Type.collection() && k.m.Size <= 0 && !k.m.Type.emptyable() {
			k.exists = false
		}
		replaced := k.oldExists && (!k.exists || k.old.Version != k.m.Version)
		if replaced && e.dropSubkeys(b, &k.old) {
			compact = append(compact, k.old.Version)
		}
		if !k.exists {
			for _, v := range k.created {
				lo, hi := subRange(v)
				_ = b.DeleteRange(lo, hi, nil)
			}
			if k.oldExists {
				_ = b.Delete(k.mk, nil)
				if k.old.ExpireAt != 0 {
					_ = b.Delete(appendExpireKey(t.kb.exp[:0], k.old.ExpireAt, t.ks, k.key), nil)
				}
			}
			continue
		}
		if !k.m.Type.collection() {
			// NB: a Txn changes strings only by deleting them; their
			// records are written by Put.
			continue
		}
		k.m.ModTime = time.Now().UnixNano()
		t.rec = appendRecord(t.rec[:0], &k.m)
		_ = b.Set(k.mk, t.rec, nil)
		e.indexExpiry(b, &t.kb, t.ks, k.key, &k.old, k.oldExists, k.m.ExpireAt)
		e.indexFieldExpiry(b, &t.kb, t.ks, k.key, &k.old, k.oldExists, &k.m)
	}
	if e.grp == nil {
		if err := e.commit(b); err != nil {
			return err
		}
		t.applyPend()
	} else if e.watches.n.Load() != 0 {
		for i := range t.keys {
			if t.keys[i].dirty {
				e.watches.touch(t.keys[i].mk)
			}
		}
	}
	for _, v := range compact {
		e.reclaimLater(v)
	}
	for i := range t.keys {
		k := &t.keys[i]
		if !k.dirty {
			continue
		}
		switch {
		case k.oldExists && !k.exists:
			e.forget(t.ks, k.mk, &k.old)
			e.cacheSmall(k.mk, nil, nil)
		case k.oldExists:
			if k.old.extents != nil {
				e.cache.drop(k.mk)
				e.dropRef(k.mk, k.old.extents)
			}
			e.cacheSmall(k.mk, &k.m, nil)
		case k.exists:
			e.count(t.ks, 1)
			e.cacheSmall(k.mk, &k.m, nil)
		}
	}
	return nil
}

// Edges returns copies of the first and last field or member (in byte
// order) of hash, set or sorted set key i; nil when it is empty. Sampling
// commands (SPOP, SRANDMEMBER, ...) start from a random point between
// them instead of walking a large collection.
func (t *Txn) Edges(i int) (first, last []byte, err error) {
	k, err := t.k(i)
	if err != nil || !k.exists {
		return nil, nil, err
	}
	var lo, hi []byte
	strip := 0
	switch k.m.Type {
	case TypeZSet:
		lo, hi, strip = []byte{zMember}, []byte{zMember + 1}, 1
	case TypeHash, TypeSet:
	default:
		return nil, nil, ErrWrongType
	}
	fam := byte(0)
	if k.m.Type == TypeZSet {
		fam = zMember
	}
	it, err := t.subIter(i, t.hintedStart(i, fam, lo), hi)
	if err != nil {
		return nil, nil, err
	}
	if it.First() {
		first = append([]byte(nil), it.Suffix()[strip:]...)
	}
	if it.Last() {
		last = append([]byte(nil), it.Suffix()[strip:]...)
	}
	return first, last, it.Close()
}
