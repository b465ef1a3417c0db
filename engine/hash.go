package engine

// Hashes: one sub-key per field, suffix = the field, value = its value.
// Fields therefore come in byte order (HGETALL, HSCAN), as in KVRocks.

// HashGet appends field's value in hash key i to dst; false when the key
// or field is absent. ErrWrongType when the key holds another type.
func (t *Txn) HashGet(i int, field, dst []byte) ([]byte, bool, error) {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return dst, false, err
	}
	return t.getSub(i, field, dst)
}

// HashExists reports whether field is in hash key i.
func (t *Txn) HashExists(i int, field []byte) (bool, error) {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return false, err
	}
	return t.hasSub(i, field)
}

// HashSet sets field to val in hash key i, creating the key. With nx an
// existing field is left alone. It reports whether the field is new.
func (t *Txn) HashSet(i int, field, val []byte, nx bool) (bool, error) {
	if err := t.Create(i, TypeHash); err != nil {
		return false, err
	}
	exists := false
	if t.Size(i) > 0 {
		var err error
		if exists, err = t.hasSub(i, field); err != nil {
			return false, err
		}
	}
	if exists && nx {
		return false, nil
	}
	t.setSub(i, field, val)
	if !exists {
		t.addSize(i, 1)
		t.noteAdd(i, 0, field)
	}
	return !exists, nil
}

// HashDelete removes field from hash key i; false when it was absent.
func (t *Txn) HashDelete(i int, field []byte) (bool, error) {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return false, err
	}
	ok, err := t.hasSub(i, field)
	if !ok || err != nil {
		return false, err
	}
	t.delSub(i, field)
	t.addSize(i, -1)
	return true, nil
}

// HashRange calls fn for the fields of hash key i from start (inclusive,
// nil: the first) in byte order until fn returns false. field and val are
// valid only during fn.
func (t *Txn) HashRange(i int, start []byte, fn func(field, val []byte) bool) error {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return err
	}
	return t.rangeSub(i, start, nil, fn)
}

// rangeSub calls fn for the sub-keys of key i with suffixes in [lo, hi)
// (hash fields, set members: family 0). A walk from the start begins at
// the low hint and moves it to the first element it finds.
func (t *Txn) rangeSub(i int, lo, hi []byte, fn func(suffix, val []byte) bool) error {
	fromStart := lo == nil
	if fromStart {
		lo = t.hintedStart(i, 0, nil)
	}
	it, err := t.subIter(i, lo, hi)
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		if fromStart {
			t.noteFirst(i, 0, it.Suffix())
			fromStart = false
		}
		val, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		if !fn(it.Suffix(), val) {
			break
		}
	}
	return it.Close()
}
