package engine

import (
	"encoding/binary"
	"errors"
)

// Layout of the metadata store (one pebble instance), KVRocks-style: a
// metadata record per key, prefixed by its keyspace so that keyspaces never
// see each other's keys and a keyspace is one contiguous key range.
//
//	'k' | len(ks) u8 | ks | key          -> metadata record (record.go)
//	'e' | expireAt u64 BE | len(ks) | ks | key -> nothing (expiry index)
//	'n' | name                           -> keyspace record
const (
	prefixKey      = 'k'
	prefixExpire   = 'e'
	prefixKeyspace = 'n'
)

// maxKeyspaceLen bounds keyspace names (they are length-prefixed by a byte).
const maxKeyspaceLen = 255

var errKeyspaceName = errors.New("engine: keyspace name longer than 255 bytes")

// appendMetaKey appends the metadata key of (ks, key) to dst.
func appendMetaKey(dst []byte, ks string, key []byte) []byte {
	dst = append(dst, prefixKey, byte(len(ks)))
	dst = append(dst, ks...)
	return append(dst, key...)
}

// keyspacePrefix is the metadata-key prefix of every key in ks.
func appendKeyspacePrefix(dst []byte, ks string) []byte {
	dst = append(dst, prefixKey, byte(len(ks)))
	return append(dst, ks...)
}

// splitMetaKey returns the keyspace and user key of a metadata key.
func splitMetaKey(k []byte) (ks, key []byte, ok bool) {
	if len(k) < 2 || k[0] != prefixKey || len(k) < 2+int(k[1]) {
		return nil, nil, false
	}
	n := int(k[1])
	return k[2 : 2+n], k[2+n:], true
}

func appendExpireKey(dst []byte, at int64, ks string, key []byte) []byte {
	dst = append(dst, prefixExpire)
	dst = binary.BigEndian.AppendUint64(dst, uint64(at))
	dst = append(dst, byte(len(ks)))
	dst = append(dst, ks...)
	return append(dst, key...)
}

// splitExpireKey returns the expiry and the metadata key it points at
// (written into dst).
func splitExpireKey(dst, k []byte) (at int64, metaKey []byte, ok bool) {
	if len(k) < 10 || k[0] != prefixExpire {
		return 0, nil, false
	}
	at = int64(binary.BigEndian.Uint64(k[1:9]))
	rest := k[9:]
	if len(rest) < 1+int(rest[0]) {
		return 0, nil, false
	}
	dst = append(dst, prefixKey)
	return at, append(dst, rest...), true
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (nil if there is none).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
