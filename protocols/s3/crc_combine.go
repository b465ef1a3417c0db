package s3

import (
	"encoding/base64"
	"encoding/binary"

	"github.com/gpucache/gpucache/internal/crcmath"
)

var crcSpecs = map[checksumAlg]crcmath.Spec{
	checksumCRC32:     crcmath.CRC32,
	checksumCRC32C:    crcmath.CRC32C,
	checksumCRC64NVME: crcmath.CRC64NVME,
}

// combineCRC computes the full-object CRC of a multipart object from the
// parts' raw big-endian CRCs (concatenated in raw) and their sizes.
func combineCRC(alg checksumAlg, raw []byte, sizes []int64) (string, bool) {
	spec, ok := crcSpecs[alg]
	if !ok {
		return "", false
	}
	w := int(spec.Width / 8)
	if len(raw) != w*len(sizes) || len(sizes) == 0 {
		return "", false
	}
	get := func(i int) uint64 {
		b := raw[i*w : (i+1)*w]
		if w == 4 {
			return uint64(binary.BigEndian.Uint32(b))
		}
		return binary.BigEndian.Uint64(b)
	}
	crc := get(0)
	for i := 1; i < len(sizes); i++ {
		crc = spec.Combine(crc, get(i), sizes[i])
	}
	out := make([]byte, w)
	if w == 4 {
		binary.BigEndian.PutUint32(out, uint32(crc))
	} else {
		binary.BigEndian.PutUint64(out, crc)
	}
	return base64.StdEncoding.EncodeToString(out), true
}
