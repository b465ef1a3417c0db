package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Key images: one key as a slot migration carries it from node to node,
// whatever its type. Every type but a string is a metadata record and the
// sub-keys of its version (subkey.go), so an image is exactly that:
//
//	'K' | format u8 (1) | uvarint len(record) | record
//	uvarint n | n x (uvarint len(suffix) | suffix | uvarint len(value) | value)
//	[uvarint m | m x (the same pairs)]   a hash's field-expiry index
//
// The record (record.go) keeps the type, element count, expiry, list
// bounds and stream metadata; the sub-keys keep the elements as the type
// stores them (hash fields, set and sorted-set members with their score
// index, list elements, bitmap fragments, Bloom filter and HyperLogLog
// registers, stream entries and consumer groups). On import the key gets
// a new version of the receiving store and its sub-keys are written under
// it, in one batch with the record: a reader there sees the old key or
// the whole new one. A small string is an image with its value inline in
// the record and no sub-keys; a large one (in blob segments) has no image
// and is sent as a streamed SET (ExportKey hands back its Value). A hash
// with field expiries (hash_ttl.go) carries its expiry index's sub-keys
// as a second list, stored on import under a version of their own.
const (
	imageMagic  = 'K'
	imageFormat = 1
)

// ErrBadImage is returned for a key image that does not decode.
var ErrBadImage = errors.New("engine: corrupt key image")

// ExportKey appends the image of ks/key to dst. A string held in blob
// segments has no image: ExportKey returns it as large instead (nil
// image), a Value the caller streams and releases. A missing or expired
// key is ErrNotFound.
func (e *Engine) ExportKey(ks string, key []byte, dst []byte) (img []byte, large *Value, err error) {
	for {
		blob := false
		img = dst
		err = e.Txn(ks, [][]byte{key}, func(t *Txn) error {
			k, err := t.k(0)
			if err != nil {
				return err
			}
			if !k.exists {
				return ErrNotFound
			}
			if !k.m.Type.collection() {
				if k.m.Type == TypeString && k.m.extents != nil {
					blob = true
					return nil
				}
				// A Txn's metadata holds no value bytes: read them.
				var m Meta
				ok, err := t.e.loadMeta(k.mk, &m, true)
				if err != nil {
					return err
				}
				if !ok || m.Type != k.m.Type {
					return ErrNotFound
				}
				if m.extents != nil {
					blob = true
					return nil
				}
				img = appendImageHead(img, &m)
				img = binary.AppendUvarint(img, 0)
				return nil
			}
			img = appendImageHead(img, &k.m)
			it, err := t.subIter(0, nil, nil)
			if err != nil {
				return err
			}
			// The count goes before the pairs: reserve a fixed 10 bytes
			// (a uvarint padded with continuation bytes) and fill it in.
			at := len(img)
			img = append(img, make([]byte, binary.MaxVarintLen64)...)
			var n uint64
			for valid := it.First(); valid; valid = it.Next() {
				v, err := it.Value()
				if err != nil {
					it.Close()
					return err
				}
				s := it.Suffix()
				img = binary.AppendUvarint(img, uint64(len(s)))
				img = append(img, s...)
				img = binary.AppendUvarint(img, uint64(len(v)))
				img = append(img, v...)
				n++
			}
			if err := it.Close(); err != nil {
				return err
			}
			putPaddedUvarint(img[at:at+binary.MaxVarintLen64], n)
			if k.m.Type == TypeHash && k.m.fieldTTL.version != 0 {
				img, err = appendSubs(img, t, k.m.fieldTTL.version)
			}
			return err
		})
		if err != nil || !blob {
			return img, nil, err
		}
		v, err := e.Open(ks, key)
		if err != nil {
			return nil, nil, err
		}
		if v.meta.Type == TypeString && v.meta.extents != nil {
			return nil, v, nil
		}
		// Replaced meanwhile by a small value or a collection: again.
		v.Release()
	}
}

// appendSubs appends the count and pairs of the sub-keys of version v.
func appendSubs(img []byte, t *Txn, v uint64) ([]byte, error) {
	it, err := newSubIter(t.reader(), v, nil, nil)
	if err != nil {
		return img, err
	}
	at := len(img)
	img = append(img, make([]byte, binary.MaxVarintLen64)...)
	var n uint64
	for valid := it.First(); valid; valid = it.Next() {
		val, err := it.Value()
		if err != nil {
			it.Close()
			return img, err
		}
		s := it.Suffix()
		img = binary.AppendUvarint(img, uint64(len(s)))
		img = append(img, s...)
		img = binary.AppendUvarint(img, uint64(len(val)))
		img = append(img, val...)
		n++
	}
	if err := it.Close(); err != nil {
		return img, err
	}
	putPaddedUvarint(img[at:at+binary.MaxVarintLen64], n)
	return img, nil
}

func appendImageHead(dst []byte, m *Meta) []byte {
	dst = append(dst, imageMagic, imageFormat)
	at := len(dst)
	dst = append(dst, make([]byte, binary.MaxVarintLen64)...)
	dst = appendRecord(dst, m)
	putPaddedUvarint(dst[at:at+binary.MaxVarintLen64], uint64(len(dst)-at-binary.MaxVarintLen64))
	return dst
}

// putPaddedUvarint writes v into b (MaxVarintLen64 bytes) as a uvarint
// that uses all of b: continuation bytes carry zero bits at the end.
func putPaddedUvarint(b []byte, v uint64) {
	for i := range b {
		c := byte(v & 0x7f)
		v >>= 7
		if i < len(b)-1 {
			c |= 0x80
		}
		b[i] = c
	}
}

// image is a decoded key image; slices alias the image bytes.
type image struct {
	m    Meta
	subs [][2][]byte
	ttl  [][2][]byte // a hash's field-expiry index
}

func decodeImage(b []byte) (*image, error) {
	if len(b) < 2 || b[0] != imageMagic || b[1] != imageFormat {
		return nil, ErrBadImage
	}
	b = b[2:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, ErrBadImage
	}
	img := new(image)
	rec := b[w : w+int(n)]
	if err := decodeRecord(rec, &img.m); err != nil {
		return nil, ErrBadImage
	}
	m := &img.m
	switch {
	case m.Type == TypeString || (m.Type != TypeNone && !m.Type.collection()):
		if m.extents != nil {
			return nil, ErrBadImage
		}
	case m.Type.collection():
		if m.Size < 0 {
			return nil, ErrBadImage
		}
		if m.Type == TypeList && (m.listTail < m.listHead || m.listTail-m.listHead != uint64(m.Size)) {
			return nil, ErrBadImage
		}
	default:
		return nil, ErrBadImage
	}
	b = b[w+int(n):]
	var err error
	if img.subs, b, err = decodeSubs(b); err != nil {
		return nil, err
	}
	if !m.Type.collection() && len(img.subs) != 0 {
		return nil, ErrBadImage
	}
	if m.Type == TypeHash && m.fieldTTL.version != 0 {
		if img.ttl, b, err = decodeSubs(b); err != nil {
			return nil, err
		}
	}
	if len(b) != 0 {
		return nil, ErrBadImage
	}
	return img, nil
}

// decodeSubs decodes a count and that many sub-key pairs from b.
func decodeSubs(b []byte) (subs [][2][]byte, rest []byte, err error) {
	cnt, w := binary.Uvarint(b)
	if w <= 0 || cnt > uint64(len(b)) {
		return nil, nil, ErrBadImage
	}
	b = b[w:]
	subs = make([][2][]byte, 0, cnt)
	for i := uint64(0); i < cnt; i++ {
		var pair [2][]byte
		for j := range pair {
			l, w := binary.Uvarint(b)
			if w <= 0 || l > uint64(len(b)-w) {
				return nil, nil, ErrBadImage
			}
			pair[j], b = b[w:w+int(l):w+int(l)], b[w+int(l):]
		}
		subs = append(subs, pair)
	}
	return subs, b, nil
}

// ImportKey stores the image img as ks/key, replacing whatever the key
// held, atomically: readers see the old key or the whole new one. The
// image's expiry is kept (an expiry already past stores nothing and
// removes the key). It returns ErrBadImage for an image that does not
// decode.
func (e *Engine) ImportKey(ks string, key, img []byte) error {
	im, err := decodeImage(img)
	if err != nil {
		return err
	}
	m := &im.m
	if m.ExpireAt != 0 && m.ExpireAt <= nowMs() {
		_, err := e.Delete(ks, [][]byte{key})
		return err
	}
	if m.Type == TypeString {
		res, err := e.PutBytes(ks, key, m.inline, PutOptions{ExpireAt: m.ExpireAt, Attrs: m.Attrs})
		if res.Old != nil {
			res.Old.Release()
		}
		return err
	}
	if !m.Type.collection() {
		// A value kept whole in its record, of a type Put does not write.
		return fmt.Errorf("%w: a %s key cannot be imported", ErrBadImage, m.Type)
	}
	return e.Txn(ks, [][]byte{key}, func(t *Txn) error {
		if err := t.Replace(0, m.Type); err != nil {
			return err
		}
		k := &t.keys[t.slots[0]]
		k.m.Size, k.m.ExpireAt = m.Size, m.ExpireAt
		k.m.Attrs = append(k.m.Attrs[:0], m.Attrs...)
		if m.Type == TypeList {
			k.m.listHead, k.m.listTail = m.listHead, m.listTail
		}
		if m.Type == TypeStream {
			sm := *m.stream
			k.m.stream = &sm
		}
		for _, p := range im.subs {
			t.setSub(0, p[0], p[1])
		}
		if len(im.ttl) == 0 || m.fieldTTL.count == 0 {
			return nil
		}
		v, err := t.e.nextVersion()
		if err != nil {
			return err
		}
		b := t.batch()
		for _, p := range im.ttl {
			_ = b.Set(appendSubKey(t.sk[:0], v, p[0]), p[1], nil)
		}
		k.m.fieldTTL = hashTTL{version: v, count: m.fieldTTL.count, next: m.fieldTTL.next}
		k.created = append(k.created, v)
		return nil
	})
}
