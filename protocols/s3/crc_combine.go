package s3

import (
	"encoding/base64"
	"encoding/binary"
)

// crcSpec is a reflected CRC: its width and reflected polynomial.
type crcSpec struct {
	width uint
	poly  uint64
}

var crcSpecs = map[checksumAlg]crcSpec{
	checksumCRC32:     {32, 0xEDB88320},
	checksumCRC32C:    {32, 0x82F63B78},
	checksumCRC64NVME: {64, 0x9A6C9329AC4BC9B5},
}

// mulmod multiplies a and b modulo the polynomial, in the reflected bit
// order CRCs use (the top bit is x^0).
func (c crcSpec) mulmod(a, b uint64) uint64 {
	var p uint64
	for m := uint64(1) << (c.width - 1); m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ c.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// combine returns the CRC of A||B from crc(A), crc(B) and len(B): crc(A)
// is multiplied by x^(8*len(B)) and added to crc(B).
func (c crcSpec) combine(crcA, crcB uint64, lenB int64) uint64 {
	op := uint64(1) << (c.width - 1) // x^0
	sq := c.mulmod(uint64(1)<<(c.width-2), uint64(1)<<(c.width-2))
	sq = c.mulmod(sq, sq)
	sq = c.mulmod(sq, sq) // x^8: one zero byte
	for n := uint64(lenB); n > 0; n >>= 1 {
		if n&1 != 0 {
			op = c.mulmod(op, sq)
		}
		sq = c.mulmod(sq, sq)
	}
	return c.mulmod(op, crcA) ^ crcB
}

// combineCRC computes the full-object CRC of a multipart object from the
// parts' raw big-endian CRCs (concatenated in raw) and their sizes.
func combineCRC(alg checksumAlg, raw []byte, sizes []int64) (string, bool) {
	spec, ok := crcSpecs[alg]
	if !ok {
		return "", false
	}
	w := int(spec.width / 8)
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
		crc = spec.combine(crc, get(i), sizes[i])
	}
	out := make([]byte, w)
	if w == 4 {
		binary.BigEndian.PutUint32(out, uint32(crc))
	} else {
		binary.BigEndian.PutUint64(out, crc)
	}
	return base64.StdEncoding.EncodeToString(out), true
}
