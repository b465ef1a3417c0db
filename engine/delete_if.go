package engine

// DeleteIf removes key when check, run under the key's lock with the key's
// current metadata, returns nil. check's error is returned unchanged and
// nothing is deleted. A missing key is not an error: check is not called
// and deleted is false. The test and the delete are atomic with respect to
// every other write of the key (S3 conditional and object-lock deletes).
func (e *Engine) DeleteIf(ks string, key []byte, check func(cur Meta) error) (deleted bool, err error) {
	var hk heldKey
	if err := e.holdKey(&hk, ks, key, false); err != nil {
		return false, err
	}
	defer hk.release()
	if !hk.exists {
		return false, nil
	}
	if err := check(hk.m); err != nil {
		return false, err
	}
	if err := e.deleteLocked(hk.kb, ks, key, hk.mk, &hk.m); err != nil {
		return false, err
	}
	hk.st.gen++
	return true, nil
}
