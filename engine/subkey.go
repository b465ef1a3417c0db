package engine

import "encoding/binary"

// Sub-keys of collections (hash fields, set members, list elements,
// sorted-set members and their score index) live under their own prefix,
// apart from the metadata records:
//
//	's' | version u64 BE | type-specific suffix  -> sub-value
//
// KVRocks writes (namespace, key, version, field); here the version alone
// names the collection, because versions are unique across every key and
// keyspace of the store and never repeat (version.go). That keeps sub-keys
// short and makes RENAME O(1): the metadata record moves, the sub-keys stay.
// A collection's sub-keys are the contiguous range [s|v, s|v+1), which is
// what DEL, overwrite and expiry delete with one range tombstone.
const prefixSub = 's'

// subHeaderLen is the length of 's' | version.
const subHeaderLen = 9

// appendSubKey appends the sub-key of suffix in the collection of version v.
func appendSubKey(dst []byte, v uint64, suffix []byte) []byte {
	dst = append(dst, prefixSub)
	dst = binary.BigEndian.AppendUint64(dst, v)
	return append(dst, suffix...)
}

// subRange returns the bounds of every sub-key of version v.
func subRange(v uint64) (lo, hi []byte) {
	lo = appendSubKey(make([]byte, 0, subHeaderLen), v, nil)
	hi = appendSubKey(make([]byte, 0, subHeaderLen), v+1, nil)
	if v == ^uint64(0) {
		hi = []byte{prefixSub + 1}
	}
	return lo, hi
}
