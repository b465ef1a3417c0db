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
// existing field is left alone. It reports whether the field is new. An
// overwritten field loses its TTL, as HSET's do.
func (t *Txn) HashSet(i int, field, val []byte, nx bool) (bool, error) {
	return t.hashSet(i, field, val, nx, false)
}

// HashUpdate sets field to val in hash key i, creating the key, and keeps
// the field's TTL (HINCRBY, HINCRBYFLOAT, HSETEX KEEPTTL). It reports
// whether the field is new.
func (t *Txn) HashUpdate(i int, field, val []byte) (bool, error) {
	return t.hashSet(i, field, val, false, true)
}

func (t *Txn) hashSet(i int, field, val []byte, nx, keepTTL bool) (bool, error) {
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
		return true, nil
	}
	if k := &t.keys[t.slots[i]]; !keepTTL && k.m.fieldTTL.count > 0 {
		at, err := t.fieldExpireAt(k, field)
		if err != nil || at == 0 {
			return false, err
		}
		return false, t.clearFieldExpire(k, field, at)
	}
	return false, nil
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
	if k := &t.keys[t.slots[i]]; k.m.fieldTTL.count > 0 {
		at, err := t.fieldExpireAt(k, field)
		if err != nil || at == 0 {
			return true, err
		}
		return true, t.clearFieldExpire(k, field, at)
	}
	return true, nil
}

// Results of the field-expiry calls, as HEXPIRE and HPERSIST answer them.
const (
	FieldNone    = -2 // no such field (or key)
	FieldNoTTL   = -1 // the field has no TTL (HPERSIST, HTTL)
	FieldNotMet  = 0  // the NX/XX/GT/LT condition was not met
	FieldSet     = 1  // the expiry was set (HPERSIST: removed)
	FieldDeleted = 2  // the time was not in the future: the field is gone
)

// HashExpireField sets the expiry of field in hash key i to at (Unix ms)
// if cond allows (a field without TTL counts as never expiring: GT fails,
// LT passes). An expiry at or before now deletes the field. It answers
// FieldNone, FieldNotMet, FieldSet or FieldDeleted.
func (t *Txn) HashExpireField(i int, field []byte, at int64, cond ExpireCond) (int, error) {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return FieldNone, err
	}
	if ok, err := t.hasSub(i, field); !ok || err != nil {
		return FieldNone, err
	}
	k := &t.keys[t.slots[i]]
	cur, err := t.fieldExpireAt(k, field)
	if err != nil {
		return FieldNone, err
	}
	switch cond {
	case ExpireNX:
		if cur != 0 {
			return FieldNotMet, nil
		}
	case ExpireXX:
		if cur == 0 {
			return FieldNotMet, nil
		}
	case ExpireGT:
		if cur == 0 || at <= cur {
			return FieldNotMet, nil
		}
	case ExpireLT:
		if cur != 0 && at >= cur {
			return FieldNotMet, nil
		}
	}
	if at <= t.now {
		if _, err := t.HashDelete(i, field); err != nil {
			return FieldNone, err
		}
		return FieldDeleted, nil
	}
	if at == cur {
		return FieldSet, nil
	}
	return FieldSet, t.setFieldExpire(k, field, cur, at)
}

// HashPersistField removes the expiry of field in hash key i: FieldSet,
// or FieldNoTTL when it had none, FieldNone when there is no such field.
func (t *Txn) HashPersistField(i int, field []byte) (int, error) {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return FieldNone, err
	}
	if ok, err := t.hasSub(i, field); !ok || err != nil {
		return FieldNone, err
	}
	k := &t.keys[t.slots[i]]
	cur, err := t.fieldExpireAt(k, field)
	if err != nil || cur == 0 {
		return FieldNoTTL, err
	}
	return FieldSet, t.clearFieldExpire(k, field, cur)
}

// HashFieldExpireAt returns the expiry (Unix ms) of field in hash key i,
// or FieldNoTTL when it has none, FieldNone when there is no such field.
func (t *Txn) HashFieldExpireAt(i int, field []byte) (int64, error) {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return FieldNone, err
	}
	if ok, err := t.hasSub(i, field); !ok || err != nil {
		return FieldNone, err
	}
	at, err := t.fieldExpireAt(&t.keys[t.slots[i]], field)
	if err != nil || at == 0 {
		return FieldNoTTL, err
	}
	return at, nil
}

// Now is the Txn's clock (Unix ms): what its expiry decisions compare with.
func (t *Txn) Now() int64 { return t.now }

// HashRange calls fn for the fields of hash key i from start (inclusive,
// nil: the first) in byte order until fn returns false. field and val are
// valid only during fn.
func (t *Txn) HashRange(i int, start []byte, fn func(field, val []byte) bool) error {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return err
	}
	return t.rangeSub(i, start, nil, fn)
}

// HashRangeReverse calls fn for the fields of hash key i below before
// (exclusive; nil: from the last) in reverse byte order until fn returns
// false (HRANGEBYLEX REV).
func (t *Txn) HashRangeReverse(i int, before []byte, fn func(field, val []byte) bool) error {
	if ok, err := t.Open(i, TypeHash); !ok || err != nil {
		return err
	}
	it, err := t.subIter(i, nil, before)
	if err != nil {
		return err
	}
	for valid := it.Last(); valid; valid = it.Prev() {
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
