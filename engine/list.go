package engine

import "encoding/binary"

// Lists: elements are sub-keys at indexes [listHead, listTail) of the
// metadata record, suffix = index (u64 BE). Both ends start at listMid, so
// a list grows either way without renumbering; pushes and pops touch one
// element. Inserting or removing in the middle rewrites the elements after
// that point, as in KVRocks.
const listMid = uint64(1) << 63

func listIndexKey(dst []byte, idx uint64) []byte {
	return binary.BigEndian.AppendUint64(dst, idx)
}

func (t *Txn) listBounds(i int) (head, tail uint64) {
	k := &t.keys[t.slots[i]]
	return k.m.listHead, k.m.listTail
}

func (t *Txn) setListBounds(i int, head, tail uint64) {
	k := &t.keys[t.slots[i]]
	k.m.listHead, k.m.listTail = head, tail
	k.m.Size = int64(tail - head)
	k.dirty = true
}

// ListLen returns list key i's length (ErrWrongType for other types).
func (t *Txn) ListLen(i int) (int64, error) {
	if ok, err := t.Open(i, TypeList); !ok || err != nil {
		return 0, err
	}
	return t.Size(i), nil
}

// ListPush adds val at the head (left) or tail of list key i, creating it.
func (t *Txn) ListPush(i int, val []byte, left bool) error {
	if err := t.Create(i, TypeList); err != nil {
		return err
	}
	head, tail := t.listBounds(i)
	var ib [8]byte
	if left {
		head--
		t.setSub(i, listIndexKey(ib[:0], head), val)
	} else {
		t.setSub(i, listIndexKey(ib[:0], tail), val)
		tail++
	}
	t.setListBounds(i, head, tail)
	return nil
}

// ListPop removes and appends the head (left) or tail element of list key
// i to dst; false when the list is empty or absent.
func (t *Txn) ListPop(i int, left bool, dst []byte) ([]byte, bool, error) {
	if ok, err := t.Open(i, TypeList); !ok || err != nil {
		return dst, false, err
	}
	head, tail := t.listBounds(i)
	if head >= tail {
		return dst, false, nil
	}
	idx := tail - 1
	if left {
		idx = head
	}
	var ib [8]byte
	k := listIndexKey(ib[:0], idx)
	dst, ok, err := t.getSub(i, k, dst)
	if err != nil {
		return dst, false, err
	}
	if !ok {
		return dst, false, errBadRecord
	}
	t.delSub(i, k)
	if left {
		head++
	} else {
		tail--
	}
	t.setListBounds(i, head, tail)
	return dst, true, nil
}

// ListIndex appends the element at 0-based position pos of list key i to
// dst; false when out of range.
func (t *Txn) ListIndex(i int, pos int64, dst []byte) ([]byte, bool, error) {
	if ok, err := t.Open(i, TypeList); !ok || err != nil {
		return dst, false, err
	}
	if pos < 0 || pos >= t.Size(i) {
		return dst, false, nil
	}
	head, _ := t.listBounds(i)
	var ib [8]byte
	return t.getSub(i, listIndexKey(ib[:0], head+uint64(pos)), dst)
}

// ListSet replaces the element at position pos (in range) of list key i,
// which the caller has opened (ListLen).
func (t *Txn) ListSet(i int, pos int64, val []byte) {
	head, _ := t.listBounds(i)
	var ib [8]byte
	t.setSub(i, listIndexKey(ib[:0], head+uint64(pos)), val)
}

// ListRange calls fn for the elements at positions [start, stop] (clamped
// by the caller) of list key i, from start (reverse: from stop), until fn
// returns false. Only that range is read.
func (t *Txn) ListRange(i int, start, stop int64, reverse bool, fn func(pos int64, val []byte) bool) error {
	if ok, err := t.Open(i, TypeList); !ok || err != nil {
		return err
	}
	if start > stop {
		return nil
	}
	head, _ := t.listBounds(i)
	if t.cachedListRange(i, head+uint64(start), head+uint64(stop), reverse, func(idx uint64, val []byte) bool {
		return fn(int64(idx-head), val)
	}) {
		return nil
	}
	var lo, hi [8]byte
	it, err := t.subIter(i, listIndexKey(lo[:0], head+uint64(start)), listIndexKey(hi[:0], head+uint64(stop)+1))
	if err != nil {
		return err
	}
	step, valid := it.Next, it.First()
	if reverse {
		step, valid = it.Prev, it.Last()
	}
	for ; valid; valid = step() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		pos := int64(binary.BigEndian.Uint64(it.Suffix()) - head)
		if !fn(pos, v) {
			break
		}
	}
	return it.Close()
}

// ListTrim keeps positions [start, stop] of list key i (already clamped;
// start > stop empties it), deleting the rest element by element. The
// caller has opened the key (ListLen).
func (t *Txn) ListTrim(i int, start, stop int64) {
	head, tail := t.listBounds(i)
	var ib [8]byte
	n := int64(tail - head)
	if start > stop || start >= n {
		start, stop = n, n-1
	}
	for p := int64(0); p < start; p++ {
		t.delSub(i, listIndexKey(ib[:0], head+uint64(p)))
	}
	for p := stop + 1; p < n; p++ {
		t.delSub(i, listIndexKey(ib[:0], head+uint64(p)))
	}
	t.setListBounds(i, head+uint64(start), head+uint64(stop+1))
}

// ListRewrite replaces the elements of list key i from position from to
// the end with vals (LINSERT, LREM). The caller has opened the key
// (ListLen).
func (t *Txn) ListRewrite(i int, from int64, vals [][]byte) {
	head, tail := t.listBounds(i)
	var ib [8]byte
	for idx := head + uint64(from); idx < tail; idx++ {
		t.delSub(i, listIndexKey(ib[:0], idx))
	}
	idx := head + uint64(from)
	for _, v := range vals {
		t.setSub(i, listIndexKey(ib[:0], idx), v)
		idx++
	}
	t.setListBounds(i, head, idx)
}
