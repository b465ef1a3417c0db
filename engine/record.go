package engine

import (
	"encoding/binary"
	"errors"
)

// A metadata record:
//
//	format u8 (1) | type u8 | flags u8
//	uvarint expireAt | uvarint modTime | uvarint version | uvarint size
//	uvarint len(attrs) | attrs
//	inline:  the value bytes to the end
//	blob:    uvarint n | n x (uvarint segment, uvarint offset, uvarint length, crc u32 LE)
//	collection (hash, set, list, zset): size is the element count; a list
//	         adds uvarint head | uvarint tail; the elements are sub-keys
//	         (subkey.go); a stream adds its streamMeta (stream.go); a hash
//	         with flagFieldTTL adds its hashTTL (hash_ttl.go)
const (
	recordFormat   = 1
	flagInline     = 1 << 0
	flagCollection = 1 << 1
)

var errBadRecord = errors.New("engine: corrupt metadata record")

func appendRecord(dst []byte, m *Meta) []byte {
	flags := byte(0)
	if m.Type.collection() {
		flags |= flagCollection
		if m.fieldTTL.version != 0 {
			flags |= flagFieldTTL
		}
	} else if m.extents == nil {
		flags |= flagInline
	}
	dst = append(dst, recordFormat, byte(m.Type), flags)
	dst = binary.AppendUvarint(dst, uint64(m.ExpireAt))
	dst = binary.AppendUvarint(dst, uint64(m.ModTime))
	dst = binary.AppendUvarint(dst, m.Version)
	dst = binary.AppendUvarint(dst, uint64(m.Size))
	dst = binary.AppendUvarint(dst, uint64(len(m.Attrs)))
	dst = append(dst, m.Attrs...)
	if flags&flagCollection != 0 {
		if m.Type == TypeList {
			dst = binary.AppendUvarint(dst, m.listHead)
			dst = binary.AppendUvarint(dst, m.listTail)
		}
		if m.Type == TypeStream {
			dst = appendStreamMeta(dst, m.stream)
		}
		if flags&flagFieldTTL != 0 {
			dst = appendHashTTL(dst, &m.fieldTTL)
		}
		return dst
	}
	if m.extents == nil {
		return append(dst, m.inline...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.extents)))
	for _, x := range m.extents {
		dst = binary.AppendUvarint(dst, x.Segment)
		dst = binary.AppendUvarint(dst, uint64(x.Offset))
		dst = binary.AppendUvarint(dst, uint64(x.Length))
		dst = binary.LittleEndian.AppendUint32(dst, x.CRC)
	}
	return dst
}

// decodeRecord decodes b into m. m.Attrs and m.inline alias b; m.extents
// reuses m's slice capacity.
func decodeRecord(b []byte, m *Meta) error {
	if len(b) < 3 || b[0] != recordFormat {
		return errBadRecord
	}
	m.Type, m.extents = Type(b[1]), m.extents[:0]
	flags := b[2]
	inline := flags&flagInline != 0
	b = b[3:]
	var vals [5]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return errBadRecord
		}
		vals[i], b = v, b[n:]
	}
	m.ExpireAt, m.ModTime, m.Version, m.Size = int64(vals[0]), int64(vals[1]), vals[2], int64(vals[3])
	if uint64(len(b)) < vals[4] {
		return errBadRecord
	}
	m.Attrs, b = b[:vals[4]:vals[4]], b[vals[4]:]
	m.listHead, m.listTail, m.stream, m.fieldTTL = 0, 0, nil, hashTTL{}
	if flags&flagCollection != 0 {
		m.inline, m.extents = nil, nil
		if !m.Type.collection() {
			return errBadRecord
		}
		if m.Type == TypeList {
			var n int
			if m.listHead, n = binary.Uvarint(b); n <= 0 {
				return errBadRecord
			}
			b = b[n:]
			if m.listTail, n = binary.Uvarint(b); n <= 0 {
				return errBadRecord
			}
			b = b[n:]
		}
		if m.Type == TypeStream {
			var err error
			if m.stream, b, err = decodeStreamMeta(b); err != nil {
				return err
			}
		}
		if flags&flagFieldTTL != 0 {
			if m.Type != TypeHash {
				return errBadRecord
			}
			var err error
			if b, err = decodeHashTTL(b, &m.fieldTTL); err != nil {
				return err
			}
		}
		if len(b) != 0 {
			return errBadRecord
		}
		return nil
	}
	if inline {
		if int64(len(b)) != m.Size {
			return errBadRecord
		}
		m.inline, m.extents = b, nil
		return nil
	}
	m.inline = nil
	cnt, n := binary.Uvarint(b)
	if n <= 0 || cnt > uint64(len(b)) {
		return errBadRecord
	}
	b = b[n:]
	var total int64
	for i := uint64(0); i < cnt; i++ {
		var x Extent
		var f [3]uint64
		for j := range f {
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return errBadRecord
			}
			f[j], b = v, b[n:]
		}
		if len(b) < 4 {
			return errBadRecord
		}
		x.Segment, x.Offset, x.Length = f[0], int64(f[1]), int64(f[2])
		x.CRC = binary.LittleEndian.Uint32(b)
		b = b[4:]
		total += x.Length
		m.extents = append(m.extents, x)
	}
	if total != m.Size || len(b) != 0 {
		return errBadRecord
	}
	if m.extents == nil {
		m.extents = []Extent{} // a blob value never reports Inline
	}
	return nil
}

// cloneMeta returns a copy of m that owns its Attrs and extents (inline
// bytes are dropped: they are copied separately where needed).
func cloneMeta(dst *Meta, m *Meta) {
	attrs, ext := dst.Attrs[:0], dst.extents[:0]
	*dst = *m
	dst.Attrs = append(attrs, m.Attrs...)
	dst.inline = nil
	if m.stream != nil {
		sm := *m.stream
		dst.stream = &sm
	}
	if m.extents != nil {
		dst.extents = append(ext, m.extents...)
	} else {
		dst.extents = nil
	}
}
