package engine

// Sets: one sub-key per member, suffix = the member, empty value. Members
// come in byte order (SMEMBERS, SSCAN), as in KVRocks.

// SetAdd adds member to set key i, creating the key; true when it is new.
func (t *Txn) SetAdd(i int, member []byte) (bool, error) {
	if err := t.Create(i, TypeSet); err != nil {
		return false, err
	}
	if t.Size(i) > 0 {
		if ok, err := t.hasSub(i, member); ok || err != nil {
			return false, err
		}
	}
	t.setSub(i, member, nil)
	t.addSize(i, 1)
	t.noteAdd(i, 0, member)
	return true, nil
}

// SetRemove removes member from set key i; false when it was absent.
func (t *Txn) SetRemove(i int, member []byte) (bool, error) {
	if ok, err := t.Open(i, TypeSet); !ok || err != nil {
		return false, err
	}
	ok, err := t.hasSub(i, member)
	if !ok || err != nil {
		return false, err
	}
	t.delSub(i, member)
	t.addSize(i, -1)
	return true, nil
}

// SetContains reports whether member is in set key i.
func (t *Txn) SetContains(i int, member []byte) (bool, error) {
	if ok, err := t.Open(i, TypeSet); !ok || err != nil {
		return false, err
	}
	return t.hasSub(i, member)
}

// SetRange calls fn for the members of set key i from start (inclusive,
// nil: the first) in byte order until fn returns false. member is valid
// only during fn.
func (t *Txn) SetRange(i int, start []byte, fn func(member []byte) bool) error {
	if ok, err := t.Open(i, TypeSet); !ok || err != nil {
		return err
	}
	return t.rangeSub(i, start, nil, func(m, _ []byte) bool { return fn(m) })
}
