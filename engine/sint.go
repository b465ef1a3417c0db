package engine

import "encoding/binary"

// Sorted ints (KVRocks's SI* commands) are sets of uint64 ids kept in
// numeric order, as KVRocks stores them: one sub-key per id, its 8-byte
// big-endian encoding, with an empty value.

func sintSuffix(dst []byte, id uint64) []byte { return binary.BigEndian.AppendUint64(dst, id) }

// SIntAdd adds id to sorted-int key i, creating it; false when present.
func (t *Txn) SIntAdd(i int, id uint64) (bool, error) {
	if err := t.Create(i, TypeSortedInt); err != nil {
		return false, err
	}
	var sfx [8]byte
	if t.Size(i) > 0 {
		if ok, err := t.hasSub(i, sintSuffix(sfx[:0], id)); ok || err != nil {
			return false, err
		}
	}
	t.setSub(i, sintSuffix(sfx[:0], id), nil)
	t.addSize(i, 1)
	return true, nil
}

// SIntRemove removes id from sorted-int key i; false when absent.
func (t *Txn) SIntRemove(i int, id uint64) (bool, error) {
	ok, err := t.SIntExists(i, id)
	if !ok || err != nil {
		return false, err
	}
	var sfx [8]byte
	t.delSub(i, sintSuffix(sfx[:0], id))
	t.addSize(i, -1)
	return true, nil
}

// SIntExists reports whether id is in sorted-int key i.
func (t *Txn) SIntExists(i int, id uint64) (bool, error) {
	if ok, err := t.Open(i, TypeSortedInt); !ok || err != nil {
		return false, err
	}
	var sfx [8]byte
	return t.hasSub(i, sintSuffix(sfx[:0], id))
}

// SIntRange calls fn for the ids of sorted-int key i from the first >=
// from (reverse: from the last <= from, downwards) until fn returns false.
func (t *Txn) SIntRange(i int, from uint64, reverse bool, fn func(id uint64) bool) error {
	if ok, err := t.Open(i, TypeSortedInt); !ok || err != nil {
		return err
	}
	it, err := t.subIter(i, nil, nil)
	if err != nil {
		return err
	}
	var sfx [8]byte
	var valid bool
	if reverse {
		valid = it.SeekGE(sintSuffix(sfx[:0], from))
		if !valid || binary.BigEndian.Uint64(it.Suffix()) != from {
			valid = it.SeekLT(sintSuffix(sfx[:0], from))
		}
	} else {
		valid = it.SeekGE(sintSuffix(sfx[:0], from))
	}
	for ; valid; valid = sintStep(it, reverse) {
		s := it.Suffix()
		if len(s) != 8 {
			continue
		}
		if !fn(binary.BigEndian.Uint64(s)) {
			break
		}
	}
	return it.Close()
}

func sintStep(it *subIter, reverse bool) bool {
	if reverse {
		return it.Prev()
	}
	return it.Next()
}
