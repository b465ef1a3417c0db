// Package crcmath combines CRCs: the CRC of A||B from the CRCs of A and B
// and the length of B, so that pieces of a value can be checksummed in
// parallel (or separately, as multipart parts are) and joined exactly.
// It works on finished CRC values as hash/crc32 and S3 report them.
package crcmath

// Spec is a reflected CRC: its width in bits and reflected polynomial.
type Spec struct {
	Width uint
	Poly  uint64
}

// The CRCs this package is used with.
var (
	CRC32     = Spec{32, 0xEDB88320}
	CRC32C    = Spec{32, 0x82F63B78}
	CRC64NVME = Spec{64, 0x9A6C9329AC4BC9B5}
)

// mulmod multiplies a and b modulo the polynomial, in the reflected bit
// order CRCs use (the top bit is x^0).
func (c Spec) mulmod(a, b uint64) uint64 {
	var p uint64
	for m := uint64(1) << (c.Width - 1); m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ c.Poly
		} else {
			b >>= 1
		}
	}
	return p
}

// Combine returns the CRC of A||B from crc(A), crc(B) and len(B): crc(A)
// is multiplied by x^(8*len(B)) and added to crc(B). The CRC of nothing
// is 0, so Combine(0, crcB, n) is crcB.
func (c Spec) Combine(crcA, crcB uint64, lenB int64) uint64 {
	op := uint64(1) << (c.Width - 1) // x^0
	sq := c.mulmod(uint64(1)<<(c.Width-2), uint64(1)<<(c.Width-2))
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
