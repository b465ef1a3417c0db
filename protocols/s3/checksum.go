package s3

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"net/http"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/gpucache/gpucache/internal/xxh3"
	"github.com/minio/crc64nvme"
)

// checksumAlg is a flexible-checksum algorithm.
type checksumAlg uint8

const (
	checksumNone checksumAlg = iota
	checksumCRC32
	checksumCRC32C
	checksumSHA1
	checksumSHA256
	checksumCRC64NVME
	checksumSHA512
	checksumMD5
	checksumXXHASH64
	checksumXXHASH3
	checksumXXHASH128
	numChecksumAlgs
)

var checksumNames = [numChecksumAlgs]string{"", "CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME", "SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128"}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (a checksumAlg) String() string { return checksumNames[a] }

// checksumHeaders and checksumKeys are the x-amz-checksum-* header names:
// lower-case (trailers, messages) and canonical (http.Header keys).
var checksumHeaders, checksumKeys = func() (lower, canon [numChecksumAlgs]string) {
	for a := range numChecksumAlgs {
		lower[a] = "x-amz-checksum-" + strings.ToLower(checksumNames[a])
		canon[a] = http.CanonicalHeaderKey(lower[a])
	}
	return lower, canon
}()

// header is the x-amz-checksum-* header of the algorithm, lower-case.
func (a checksumAlg) header() string { return checksumHeaders[a] }

// key is the algorithm's header as an http.Header key.
func (a checksumAlg) key() string { return checksumKeys[a] }

func (a checksumAlg) new() hash.Hash {
	switch a {
	case checksumCRC32:
		return crc32.NewIEEE()
	case checksumCRC32C:
		return crc32.New(castagnoli)
	case checksumSHA1:
		return sha1.New()
	case checksumSHA256:
		return sha256.New()
	case checksumCRC64NVME:
		return crc64nvme.New()
	case checksumSHA512:
		return sha512.New()
	case checksumMD5:
		return md5.New()
	case checksumXXHASH64:
		return xxhash.New()
	case checksumXXHASH3:
		return xxh3.New64()
	case checksumXXHASH128:
		return xxh3.New128()
	}
	return nil
}

// rawSize is the digest length in bytes.
func (a checksumAlg) rawSize() int {
	switch a {
	case checksumCRC32, checksumCRC32C:
		return 4
	case checksumSHA1:
		return 20
	case checksumSHA256:
		return 32
	case checksumCRC64NVME, checksumXXHASH64, checksumXXHASH3:
		return 8
	case checksumSHA512:
		return 64
	case checksumMD5, checksumXXHASH128:
		return 16
	}
	return 0
}

// parseChecksumAlg maps an algorithm name (any case) to its value.
func parseChecksumAlg(s string) (checksumAlg, bool) {
	for i := checksumCRC32; i < numChecksumAlgs; i++ {
		if strings.EqualFold(s, checksumNames[i]) {
			return i, true
		}
	}
	return checksumNone, false
}

// validChecksum reports whether v is the base64 of a digest of a.
func (a checksumAlg) valid(v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(b) == a.rawSize()
}

// requestChecksum is what a request says about its body's checksum.
type requestChecksum struct {
	alg checksumAlg
	// value is the expected base64 digest from a header; empty when it
	// comes in the trailer (trailer=true) or was not sent.
	value   string
	trailer bool
}

// parseRequestChecksum reads x-amz-checksum-*, x-amz-sdk-checksum-algorithm,
// x-amz-checksum-algorithm and x-amz-trailer.
func parseRequestChecksum(h http.Header) (requestChecksum, error) {
	var rc requestChecksum
	for a := checksumCRC32; a < numChecksumAlgs; a++ {
		// NB: a header sent empty counts: it is present and not valid.
		if vs := h[a.key()]; len(vs) > 0 {
			if rc.alg != checksumNone {
				return rc, errInvalidRequest.withMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
			}
			rc.alg, rc.value = a, vs[0]
		}
	}
	if rc.alg != checksumNone && !rc.alg.valid(rc.value) {
		return rc, errInvalidRequest.withMessage("Value for " + rc.alg.header() + " header is invalid.")
	}
	if t := h.Get("X-Amz-Trailer"); t != "" {
		t = strings.ToLower(strings.TrimSpace(t))
		found := false
		for a := checksumCRC32; a < numChecksumAlgs; a++ {
			if t == a.header() {
				if rc.alg != checksumNone {
					// The checksum comes in the trailer or in a header,
					// never both.
					return rc, errInvalidRequest.withMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
				}
				rc.alg, rc.trailer, found = a, true, true
			}
		}
		if !found {
			return rc, errInvalidRequest.withMessage("The value specified in the x-amz-trailer header is not supported.")
		}
	}
	for _, name := range []string{"X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Checksum-Algorithm"} {
		if v := h.Get(name); v != "" {
			a, ok := parseChecksumAlg(v)
			if !ok {
				return rc, errInvalidRequest.withMessage("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]")
			}
			if rc.alg != checksumNone && rc.alg != a {
				return rc, errInvalidRequest.withMessage("Value for " + strings.ToLower(name) + " header is invalid.")
			}
			rc.alg = a
		}
	}
	return rc, nil
}

// checksumFields are the Checksum<ALG> elements of XML bodies (parts,
// copy results, Complete), embedded in each.
type checksumFields struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA512    string `xml:"ChecksumSHA512,omitempty"`
	ChecksumMD5       string `xml:"ChecksumMD5,omitempty"`
	ChecksumXXHASH64  string `xml:"ChecksumXXHASH64,omitempty"`
	ChecksumXXHASH3   string `xml:"ChecksumXXHASH3,omitempty"`
	ChecksumXXHASH128 string `xml:"ChecksumXXHASH128,omitempty"`
}

func (c *checksumFields) field(a checksumAlg) *string {
	switch a {
	case checksumCRC32:
		return &c.ChecksumCRC32
	case checksumCRC32C:
		return &c.ChecksumCRC32C
	case checksumSHA1:
		return &c.ChecksumSHA1
	case checksumSHA256:
		return &c.ChecksumSHA256
	case checksumCRC64NVME:
		return &c.ChecksumCRC64NVME
	case checksumSHA512:
		return &c.ChecksumSHA512
	case checksumMD5:
		return &c.ChecksumMD5
	case checksumXXHASH64:
		return &c.ChecksumXXHASH64
	case checksumXXHASH3:
		return &c.ChecksumXXHASH3
	case checksumXXHASH128:
		return &c.ChecksumXXHASH128
	}
	return nil
}

func (c *checksumFields) setChecksum(a checksumAlg, v string) {
	if f := c.field(a); f != nil {
		*f = v
	}
}

func (c *checksumFields) get(a checksumAlg) string {
	if f := c.field(a); f != nil {
		return *f
	}
	return ""
}
