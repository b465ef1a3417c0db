package engine

// DeleteIf removes key when check, run under the key's lock with the key's
// current metadata, returns nil. check's error is returned unchanged and
// nothing is deleted. A missing key is not an error: check is not called
// and deleted is false. The test and the delete are atomic with respect to
// every other write of the key (S3 conditional and object-lock deletes).
func (e *Engine) DeleteIf(ks string, key []byte, check func(cur Meta) error) (deleted bool, err error) {
	if e.closed.Load() {
		return false, ErrClosed
	}
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	mk := kb.meta(ks, key)
	st := e.locks.of(mk)
	st.mu.Lock()
	defer st.mu.Unlock()
	var m Meta
	exists, err := e.loadMeta(mk, &m, false)
	if err != nil || !exists {
		return false, err
	}
	if err := check(m); err != nil {
		return false, err
	}
	if err := e.deleteLocked(kb, ks, key, mk, &m); err != nil {
		return false, err
	}
	st.gen++
	return true, nil
}
