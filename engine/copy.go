package engine

// Copy copies src's value and expiry to dst (COPY), replacing dst only
// with replace. It reports whether it copied: false when src does not
// exist or dst exists without replace. src and dst must differ.
//
// A collection is copied under both keys' locks, element by element, into
// a new version of dst, in one batch (O(n), as in Redis and KVRocks). A
// string is read, then written to dst with dst's condition checked under
// its lock: the copy is the value src held when it was read.
func (e *Engine) Copy(ks string, src, dst []byte, replace bool) (bool, error) {
	m, err := e.Stat(ks, src)
	if err == ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if m.Type == TypeString {
		return e.copyString(ks, src, dst, replace)
	}
	copied := false
	err = e.Txn(ks, [][]byte{src, dst}, func(t *Txn) error {
		sm, ok, err := t.Meta(0)
		if err != nil || !ok {
			return err
		}
		if !sm.Type.collection() {
			// Turned into a string since Stat: nothing to do but retry.
			return errRetryCopy
		}
		if _, dstExists, err := t.Meta(1); err != nil || (dstExists && !replace) {
			return err
		}
		if err := t.Replace(1, sm.Type); err != nil {
			return err
		}
		it, err := newSubIter(t.reader(), sm.Version, nil, nil)
		if err != nil {
			return err
		}
		for valid := it.First(); valid; valid = it.Next() {
			val, err := it.Value()
			if err != nil {
				it.Close()
				return err
			}
			t.setSub(1, it.Suffix(), val)
		}
		if err := it.Close(); err != nil {
			return err
		}
		if err := t.copyFieldTTL(1, &sm); err != nil {
			return err
		}
		k := &t.keys[t.slots[1]]
		k.m.Size, k.m.ExpireAt = sm.Size, sm.ExpireAt
		k.m.listHead, k.m.listTail = sm.listHead, sm.listTail
		k.m.Attrs = append(k.m.Attrs[:0], sm.Attrs...)
		if sm.stream != nil {
			st := *sm.stream
			k.m.stream = &st
		}
		copied = true
		return nil
	})
	if err == errRetryCopy {
		return e.Copy(ks, src, dst, replace)
	}
	return copied, err
}

func (e *Engine) copyString(ks string, src, dst []byte, replace bool) (bool, error) {
	v, err := e.Get(ks, src)
	if err == ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer v.Release()
	if v.meta.Type != TypeString {
		return e.Copy(ks, src, dst, replace)
	}
	opts := PutOptions{ExpireAt: v.meta.ExpireAt, Attrs: v.meta.Attrs}
	if !replace {
		opts.Cond = IfAbsent
	}
	var res PutResult
	if v.meta.Size <= int64(e.opts.InlineThreshold) {
		res, err = e.PutBytes(ks, dst, v.Bytes(), opts)
	} else {
		buf, berr := e.NewBuffer(v.meta.Size)
		if berr != nil {
			return false, berr
		}
		off := int64(0)
		for _, p := range v.Buffers() {
			copyIntoPages(buf, off, p)
			off += int64(len(p))
		}
		res, err = e.Put(ks, dst, buf, opts)
	}
	return res.Written, err
}
