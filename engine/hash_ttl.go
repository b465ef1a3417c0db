package engine

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// Hash field expiry (HEXPIRE, HPEXPIRE, HSETEX, HGETEX, ...).
//
// A hash whose fields never had a TTL is stored exactly as before: one
// sub-key per field under the hash's version, the value as given, and a
// metadata record without the field-TTL flag. The first field TTL gives
// the hash a second version, V, of its own (never shared, never
// repeated), under which two families of sub-keys index the TTLs:
//
//	's' | V | 'f' | field                 -> expireAt (u64 BE, Unix ms)
//	's' | V | 't' | expireAt (u64 BE) | field -> (empty)
//
// and its metadata record carries flagFieldTTL with V, the number of
// fields with a TTL and the earliest of their expiries (record.go). The
// field values are untouched, so a hash written before field TTLs
// existed needs no conversion, and HGET/HSET of a hash without TTLs cost
// what they did.
//
// Expired fields are invisible because they are reclaimed before any
// command sees the hash: when a Txn loads a hash whose earliest field
// expiry has passed (Txn.k), it deletes the expired fields and their
// index entries — walking the 't' family in time order, so the work is
// proportional to what expired — in the Txn's own batch. HLEN, HGETALL
// and every other command then see only live fields, counted exactly.
// The active half: a hash with field TTLs has an entry in the key expiry
// index at its earliest field expiry (indexFieldExpiry), and expireDue
// runs the same reclaim for hashes nobody touches. When the last field
// goes, the key goes. A field counts as expired once its time is at or
// before the Txn's clock (the key expiry rule).
//
// KVRocks keeps each field's expiry in front of its value instead, and
// its HLEN counts only live fields in its accurate length mode by a
// repairing scan; here the separate index keeps old hashes readable as
// they are, and the reclaim keeps the count exact without a scan.
const (
	flagFieldTTL = 1 << 2

	ttlFamField = 'f'
	ttlFamTime  = 't'
)

// hashTTL is a hash's field-expiry state, part of its Meta.
type hashTTL struct {
	version uint64 // V, naming the TTL sub-keys; 0: no field has a TTL
	count   int64  // fields with a TTL
	next    int64  // the earliest field expiry (Unix ms); 0 when count is 0
}

func appendHashTTL(dst []byte, h *hashTTL) []byte {
	dst = binary.AppendUvarint(dst, h.version)
	dst = binary.AppendUvarint(dst, uint64(h.count))
	return binary.AppendUvarint(dst, uint64(h.next))
}

func decodeHashTTL(b []byte, h *hashTTL) ([]byte, error) {
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errBadRecord
		}
		vals[i], b = v, b[n:]
	}
	if vals[0] == 0 || vals[1] > 1<<62 || vals[2] > 1<<62 {
		return nil, errBadRecord
	}
	h.version, h.count, h.next = vals[0], int64(vals[1]), int64(vals[2])
	return b, nil
}

func ttlFieldSuffix(dst, field []byte) []byte {
	dst = append(dst, ttlFamField)
	return append(dst, field...)
}

func ttlTimeSuffix(dst []byte, at int64, field []byte) []byte {
	dst = append(dst, ttlFamTime)
	dst = binary.BigEndian.AppendUint64(dst, uint64(at))
	return append(dst, field...)
}

// ttlKey builds the sub-key of suffix under key k's TTL version.
func (t *Txn) ttlKey(k *txnKey, suffix []byte) []byte {
	t.sk = appendSubKey(t.sk[:0], k.m.fieldTTL.version, suffix)
	return t.sk
}

// fieldExpireAt returns the expiry of field in hash key k (0: none).
func (t *Txn) fieldExpireAt(k *txnKey, field []byte) (int64, error) {
	if k.m.fieldTTL.count == 0 {
		return 0, nil
	}
	var sb [64]byte
	val, closer, err := t.reader().Get(t.ttlKey(k, ttlFieldSuffix(sb[:0], field)))
	if err == pebble.ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(val) != 8 {
		return 0, errBadRecord
	}
	return int64(binary.BigEndian.Uint64(val)), nil
}

// setFieldExpire gives field (which exists) of hash key k the expiry at
// (> the Txn's clock), replacing old (its current expiry, 0: none).
func (t *Txn) setFieldExpire(k *txnKey, field []byte, old, at int64) error {
	h := &k.m.fieldTTL
	if h.version == 0 {
		v, err := t.e.nextVersion()
		if err != nil {
			return err
		}
		h.version = v
		k.created = append(k.created, v)
	}
	b := t.batch()
	var sb [64]byte
	if old != 0 {
		_ = b.Delete(t.ttlKey(k, ttlTimeSuffix(sb[:0], old, field)), nil)
	} else {
		h.count++
	}
	var ab [8]byte
	binary.BigEndian.PutUint64(ab[:], uint64(at))
	_ = b.Set(t.ttlKey(k, ttlFieldSuffix(sb[:0], field)), ab[:], nil)
	_ = b.Set(t.ttlKey(k, ttlTimeSuffix(sb[:0], at, field)), nil, nil)
	k.dirty = true
	switch {
	case h.next == 0 || at < h.next:
		h.next = at
	case old == h.next && at > old:
		return t.findNextExpiry(k)
	}
	return nil
}

// clearFieldExpire removes field's expiry old (non-zero) from hash key k:
// HPERSIST, or the field is deleted or overwritten.
func (t *Txn) clearFieldExpire(k *txnKey, field []byte, old int64) error {
	h := &k.m.fieldTTL
	b := t.batch()
	var sb [64]byte
	_ = b.Delete(t.ttlKey(k, ttlFieldSuffix(sb[:0], field)), nil)
	_ = b.Delete(t.ttlKey(k, ttlTimeSuffix(sb[:0], old, field)), nil)
	k.dirty = true
	h.count--
	if h.count <= 0 {
		// No field has a TTL any more: the index goes (a range, so stray
		// entries go with it) and the record loses its flag.
		lo, hi := subRange(h.version)
		_ = b.DeleteRange(lo, hi, nil)
		*h = hashTTL{}
		return nil
	}
	if old == h.next {
		return t.findNextExpiry(k)
	}
	return nil
}

// findNextExpiry sets k's earliest field expiry from the time index.
func (t *Txn) findNextExpiry(k *txnKey) error {
	h := &k.m.fieldTTL
	it, err := newSubIter(t.reader(), h.version, []byte{ttlFamTime}, []byte{ttlFamTime + 1})
	if err != nil {
		return err
	}
	h.next = 0
	if it.First() {
		s := it.Suffix()
		if len(s) < 9 {
			it.Close()
			return errBadRecord
		}
		h.next = int64(binary.BigEndian.Uint64(s[1:9]))
	}
	return it.Close()
}

// expireFields deletes the fields of hash key k whose expiry is at or
// before the Txn's clock, with their index entries (Txn.k calls it on
// loading a hash whose earliest field expiry has passed).
func (t *Txn) expireFields(k *txnKey) error {
	h := &k.m.fieldTTL
	var upper [9]byte
	upper[0] = ttlFamTime
	binary.BigEndian.PutUint64(upper[1:], uint64(t.now+1))
	it, err := newSubIter(t.reader(), h.version, []byte{ttlFamTime}, upper[:])
	if err != nil {
		return err
	}
	// NB: collected first: an iterator over the Txn's batch does not see
	// writes made after it was opened, but deleting under it is not worth
	// reasoning about.
	var suffixes [][]byte
	for valid := it.First(); valid; valid = it.Next() {
		if len(it.Suffix()) < 9 {
			it.Close()
			return errBadRecord
		}
		suffixes = append(suffixes, append([]byte(nil), it.Suffix()...))
	}
	if err := it.Close(); err != nil {
		return err
	}
	if len(suffixes) == 0 {
		// Nothing due after all: the record's earliest expiry was stale
		// (it is a bound, kept exact by every change); store the right one
		// so neither reads nor the sweep come back for nothing.
		was := h.next
		if err := t.findNextExpiry(k); err != nil {
			return err
		}
		if h.next != was {
			k.dirty = true
		}
		return nil
	}
	b := t.batch()
	var sb [64]byte
	for _, s := range suffixes {
		field := s[9:]
		_ = b.Delete(appendSubKey(t.sk[:0], k.m.Version, field), nil)
		t.track(k.m.Version, field, nil, false)
		_ = b.Delete(t.ttlKey(k, ttlFieldSuffix(sb[:0], field)), nil)
		_ = b.Delete(t.ttlKey(k, s), nil)
	}
	n := int64(len(suffixes))
	k.m.Size -= n
	h.count -= n
	k.dirty = true
	if h.count <= 0 {
		lo, hi := subRange(h.version)
		_ = b.DeleteRange(lo, hi, nil)
		*h = hashTTL{}
		return nil
	}
	return t.findNextExpiry(k)
}

// copyFieldTTL gives key i (a new hash made by Replace, holding copies of
// src's fields) copies of src's field TTLs under a new version (COPY).
func (t *Txn) copyFieldTTL(i int, src *Meta) error {
	if src.Type != TypeHash || src.fieldTTL.version == 0 {
		return nil
	}
	k := &t.keys[t.slots[i]]
	v, err := t.e.nextVersion()
	if err != nil {
		return err
	}
	it, err := newSubIter(t.reader(), src.fieldTTL.version, nil, nil)
	if err != nil {
		return err
	}
	b := t.batch()
	for valid := it.First(); valid; valid = it.Next() {
		val, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		_ = b.Set(appendSubKey(t.sk[:0], v, it.Suffix()), val, nil)
	}
	if err := it.Close(); err != nil {
		return err
	}
	k.m.fieldTTL = hashTTL{version: v, count: src.fieldTTL.count, next: src.fieldTTL.next}
	k.created = append(k.created, v)
	k.dirty = true
	return nil
}

// fieldTTLUsage returns the bytes of hash m's TTL index (DISK USAGE).
func (e *Engine) fieldTTLUsage(m *Meta) (int64, error) {
	if m.Type != TypeHash || m.fieldTTL.version == 0 {
		return 0, nil
	}
	lo, hi := subRange(m.fieldTTL.version)
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	var n int64
	for valid := it.First(); valid; valid = it.Next() {
		n += int64(len(it.Key()) + len(it.Value()))
	}
	return n, it.Close()
}

// dropFieldTTL adds the deletion of m's field-TTL index to b.
func dropFieldTTL(b *pebble.Batch, m *Meta) {
	if m.Type == TypeHash && m.fieldTTL.version != 0 {
		lo, hi := subRange(m.fieldTTL.version)
		_ = b.DeleteRange(lo, hi, nil)
	}
}

// indexFieldExpiry keeps a hash's entry in the expiry index at its
// earliest field expiry in step (the entry may coincide with the key's
// own expiry entry, which indexExpiry keeps: neither removes the other's).
// Entries left behind by deletes and renames are dropped by expireDue.
func (e *Engine) indexFieldExpiry(b *pebble.Batch, kb *keyBuf, ks string, key []byte, old *Meta, oldExists bool, m *Meta) {
	var oldAt int64
	if oldExists {
		oldAt = old.fieldTTL.next
	}
	at := m.fieldTTL.next
	if oldAt != 0 && oldAt != at && oldAt != m.ExpireAt {
		_ = b.Delete(appendExpireKey(kb.exp[:0], oldAt, ks, key), nil)
	}
	if at != 0 && (at != oldAt || oldExists && old.ExpireAt == at && m.ExpireAt != at) {
		_ = b.Set(appendExpireKey(kb.exp[:0], at, ks, key), nil, nil)
	}
}

// moveFieldExpiry moves a hash's field-expiry index entry with its record
// (RENAME, MOVE); call it after the key expiry entries are moved.
func (e *Engine) moveFieldExpiry(b *pebble.Batch, srcKs string, src []byte, dstKs string, dst []byte, m *Meta) {
	at := m.fieldTTL.next
	if at == 0 {
		return
	}
	var kb keyBuf
	if at != m.ExpireAt {
		_ = b.Delete(appendExpireKey(kb.exp[:0], at, srcKs, src), nil)
	}
	_ = b.Set(appendExpireKey(kb.exp[:0], at, dstKs, dst), nil, nil)
}

// sweepFields reclaims the expired fields of hash mk (expireDue's half of
// field expiry): loading the hash in a Txn does it.
func (e *Engine) sweepFields(mk []byte) {
	ks, key, ok := splitMetaKey(mk)
	if !ok {
		return
	}
	err := e.Txn(string(ks), [][]byte{key}, func(t *Txn) error {
		_, err := t.k(0)
		return err
	})
	if err != nil && err != ErrClosed {
		e.opts.Logf("engine: expiring hash fields: %v", err)
	}
}
