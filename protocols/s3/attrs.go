package s3

import (
	"encoding/binary"
	"errors"
)

// objectAttrs are the S3 attributes of an object (or a part, or a pending
// multipart upload), kept opaque in engine.PutOptions.Attrs.
type objectAttrs struct {
	// ETag is the entity tag without quotes: hex MD5, or "<hex>-N" for a
	// multipart object.
	ETag string
	// Standard headers stored and returned as given.
	ContentType, ContentEncoding, ContentDisposition, ContentLanguage, CacheControl, Expires string
	// Meta holds user metadata as name, value pairs; names are lower-case
	// without the x-amz-meta- prefix.
	Meta []string
	// ChecksumAlg and Checksum are the flexible checksum (base64; "-N"
	// appended for a composite multipart checksum).
	ChecksumAlg checksumAlg
	Checksum    string
	// ChecksumType is checksumFullObject or checksumComposite.
	ChecksumType uint8
	// PartSizes are the part lengths of a multipart object (GET partNumber).
	PartSizes []int64
	// Tags are the object's (or bucket's) tags as key, value pairs.
	Tags []string
	// ACL is the object's access control list in its stored form (empty:
	// the owner has full control and nobody else has access).
	ACL string
	// LockMode ("GOVERNANCE" or "COMPLIANCE") and LockUntil (RFC 3339) are
	// the object's retention; LegalHold is "ON" when a legal hold is set.
	LockMode, LockUntil, LegalHold string
	// WebsiteRedirect is x-amz-website-redirect-location.
	WebsiteRedirect string
	// PartCRC64 is, for a part of an upload created without a checksum
	// algorithm, the base64 CRC64NVME the server computed of it (not shown
	// to clients): Complete combines them into the object's full-object
	// CRC64NVME, as S3 does for such uploads.
	PartCRC64 string
}

const (
	attrsVersion = 1

	checksumFullObject uint8 = 0
	checksumComposite  uint8 = 1
)

var errBadAttrs = errors.New("s3: malformed object attributes")

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// encode appends the binary form of a to dst.
func (a *objectAttrs) encode(dst []byte) []byte {
	dst = append(dst, attrsVersion)
	for _, s := range [...]string{a.ETag, a.ContentType, a.ContentEncoding, a.ContentDisposition,
		a.ContentLanguage, a.CacheControl, a.Expires} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Meta)))
	for _, s := range a.Meta {
		dst = appendString(dst, s)
	}
	dst = append(dst, byte(a.ChecksumAlg), a.ChecksumType)
	dst = appendString(dst, a.Checksum)
	dst = binary.AppendUvarint(dst, uint64(len(a.PartSizes)))
	for _, n := range a.PartSizes {
		dst = binary.AppendUvarint(dst, uint64(n))
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Tags)))
	for _, s := range a.Tags {
		dst = appendString(dst, s)
	}
	// Appended later than the fields above: absent in older attributes.
	for _, s := range [...]string{a.ACL, a.LockMode, a.LockUntil, a.LegalHold} {
		dst = appendString(dst, s)
	}
	// Appended later again: absent in older attributes.
	dst = appendString(dst, a.WebsiteRedirect)
	dst = appendString(dst, a.PartCRC64)
	return dst
}

type attrsDecoder struct {
	b   []byte
	err error
}

func (d *attrsDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadAttrs
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *attrsDecoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadAttrs
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *attrsDecoder) byte1() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errBadAttrs
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// decodeAttrs parses attributes written by encode. Empty input (a value
// written over RESP) gives zero attributes.
func decodeAttrs(b []byte) (objectAttrs, error) {
	var a objectAttrs
	if len(b) == 0 {
		return a, nil
	}
	if b[0] != attrsVersion {
		return a, errBadAttrs
	}
	d := attrsDecoder{b: b[1:]}
	for _, p := range [...]*string{&a.ETag, &a.ContentType, &a.ContentEncoding, &a.ContentDisposition,
		&a.ContentLanguage, &a.CacheControl, &a.Expires} {
		*p = d.str()
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return a, errBadAttrs
	}
	if n > 0 {
		a.Meta = make([]string, 0, n)
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		a.Meta = append(a.Meta, d.str())
	}
	a.ChecksumAlg = checksumAlg(d.byte1())
	a.ChecksumType = d.byte1()
	a.Checksum = d.str()
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		return a, errBadAttrs
	}
	if n > 0 {
		a.PartSizes = make([]int64, 0, n)
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		a.PartSizes = append(a.PartSizes, int64(d.uvarint()))
	}
	if d.err == nil && len(d.b) > 0 {
		n = d.uvarint()
		if n > uint64(len(d.b)) {
			return a, errBadAttrs
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			a.Tags = append(a.Tags, d.str())
		}
	}
	if d.err == nil && len(d.b) > 0 {
		for _, p := range [...]*string{&a.ACL, &a.LockMode, &a.LockUntil, &a.LegalHold} {
			*p = d.str()
		}
	}
	if d.err == nil && len(d.b) > 0 {
		a.WebsiteRedirect = d.str()
	}
	if d.err == nil && len(d.b) > 0 {
		a.PartCRC64 = d.str()
	}
	if d.err == nil && (a.ChecksumAlg >= numChecksumAlgs || len(a.Meta)%2 != 0 || len(a.Tags)%2 != 0) {
		d.err = errBadAttrs
	}
	return a, d.err
}
