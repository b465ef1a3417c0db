// Package xxh3 implements the XXH3 64-bit and 128-bit hashes (seed 0,
// default secret) of xxHash 0.8, as streaming hash.Hash values. S3 names
// them XXHASH3 and XXHASH128 among its flexible checksums.
//
// The implementation follows the algorithm description of the xxHash
// project (doc/xxhash_spec.md and xxhash.h). It is portable Go, with no
// vector code: about 3 GB/s per core on x86-64.
//
// Sums are in canonical form: big-endian, the high half first for 128
// bits.
package xxh3

import (
	"encoding/binary"
	"hash"
	"math/bits"
)

const (
	prime32_1 = 0x9E3779B1
	prime32_2 = 0x85EBCA77
	prime32_3 = 0xC2B2AE3D
	prime64_1 = 0x9E3779B185EBCA87
	prime64_2 = 0xC2B2AE3D27D4EB4F
	prime64_3 = 0x165667B19E3779F9
	prime64_4 = 0x85EBCA77C2B2AE63
	prime64_5 = 0x27D4EB2F165667C5
	primeMX1  = 0x165667919E3779F9
	primeMX2  = 0x9FB21C651E98DF25

	stripeLen       = 64
	secretSize      = 192
	stripesPerBlock = (secretSize - stripeLen) / 8
	midSizeMax      = 240
)

// secret is the default 192-byte secret (kSecret).
var secret = [secretSize]byte{
	0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
	0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
	0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
	0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
	0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
	0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
	0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
	0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
	0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
	0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
	0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
	0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
}

func r64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
func r32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }

func mulFold64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func xxh64Avalanche(h uint64) uint64 {
	h ^= h >> 33
	h *= prime64_2
	h ^= h >> 29
	h *= prime64_3
	return h ^ h>>32
}

func avalanche(h uint64) uint64 {
	h ^= h >> 37
	h *= primeMX1
	return h ^ h>>32
}

func rrmxmx(h uint64, n uint64) uint64 {
	h ^= bits.RotateLeft64(h, 49) ^ bits.RotateLeft64(h, 24)
	h *= primeMX2
	h ^= (h >> 35) + n
	h *= primeMX2
	return h ^ h>>28
}

func mix16(b []byte, i int, s int) uint64 {
	return mulFold64(r64(b, i)^r64(secret[:], s), r64(b, i+8)^r64(secret[:], s+8))
}

// Sum64 returns the XXH3 64-bit hash of b.
func Sum64(b []byte) uint64 {
	n := len(b)
	switch {
	case n == 0:
		return xxh64Avalanche(r64(secret[:], 56) ^ r64(secret[:], 64))
	case n <= 3:
		c := uint32(b[0])<<16 | uint32(b[n>>1])<<24 | uint32(b[n-1]) | uint32(n)<<8
		return xxh64Avalanche(uint64(c) ^ uint64(r32(secret[:], 0)^r32(secret[:], 4)))
	case n <= 8:
		in := uint64(r32(b, n-4)) + uint64(r32(b, 0))<<32
		return rrmxmx(in^(r64(secret[:], 8)^r64(secret[:], 16)), uint64(n))
	case n <= 16:
		lo := r64(b, 0) ^ (r64(secret[:], 24) ^ r64(secret[:], 32))
		hi := r64(b, n-8) ^ (r64(secret[:], 40) ^ r64(secret[:], 48))
		return avalanche(uint64(n) + bits.ReverseBytes64(lo) + hi + mulFold64(lo, hi))
	case n <= 128:
		acc := uint64(n) * prime64_1
		if n > 32 {
			if n > 64 {
				if n > 96 {
					acc += mix16(b, 48, 96) + mix16(b, n-64, 112)
				}
				acc += mix16(b, 32, 64) + mix16(b, n-48, 80)
			}
			acc += mix16(b, 16, 32) + mix16(b, n-32, 48)
		}
		acc += mix16(b, 0, 0) + mix16(b, n-16, 16)
		return avalanche(acc)
	case n <= midSizeMax:
		acc := uint64(n) * prime64_1
		for i := 0; i < 8; i++ {
			acc += mix16(b, 16*i, 16*i)
		}
		acc = avalanche(acc)
		for i := 8; i < n/16; i++ {
			acc += mix16(b, 16*i, 16*(i-8)+3)
		}
		acc += mix16(b, n-16, 136-17)
		return avalanche(acc)
	}
	var d Digest64
	d.Write(b)
	return d.Sum64()
}

// Sum128 returns the XXH3 128-bit hash of b as its high and low halves.
func Sum128(b []byte) (hi, lo uint64) {
	n := len(b)
	switch {
	case n == 0:
		return xxh64Avalanche(r64(secret[:], 80) ^ r64(secret[:], 88)), xxh64Avalanche(r64(secret[:], 64) ^ r64(secret[:], 72))
	case n <= 3:
		cl := uint32(b[0])<<16 | uint32(b[n>>1])<<24 | uint32(b[n-1]) | uint32(n)<<8
		ch := bits.RotateLeft32(bits.ReverseBytes32(cl), 13)
		lo = xxh64Avalanche(uint64(cl) ^ uint64(r32(secret[:], 0)^r32(secret[:], 4)))
		hi = xxh64Avalanche(uint64(ch) ^ uint64(r32(secret[:], 8)^r32(secret[:], 12)))
		return hi, lo
	case n <= 8:
		in := uint64(r32(b, 0)) + uint64(r32(b, n-4))<<32
		keyed := in ^ (r64(secret[:], 16) ^ r64(secret[:], 24))
		mhi, mlo := bits.Mul64(keyed, prime64_1+uint64(n)<<2)
		mhi += mlo << 1
		mlo ^= mhi >> 3
		mlo ^= mlo >> 35
		mlo *= primeMX2
		mlo ^= mlo >> 28
		return avalanche(mhi), mlo
	case n <= 16:
		bl := r64(secret[:], 32) ^ r64(secret[:], 40)
		bh := r64(secret[:], 48) ^ r64(secret[:], 56)
		inLo, inHi := r64(b, 0), r64(b, n-8)
		mhi, mlo := bits.Mul64(inLo^inHi^bl, prime64_1)
		mlo += uint64(n-1) << 54
		inHi ^= bh
		mhi += inHi + uint64(uint32(inHi))*(prime32_2-1)
		mlo ^= bits.ReverseBytes64(mhi)
		hhi, hlo := bits.Mul64(mlo, prime64_2)
		hhi += mhi * prime64_2
		return avalanche(hhi), avalanche(hlo)
	case n <= 128:
		alo, ahi := uint64(n)*prime64_1, uint64(0)
		if n > 32 {
			if n > 64 {
				if n > 96 {
					alo, ahi = mix32(alo, ahi, b, 48, n-64, 96)
				}
				alo, ahi = mix32(alo, ahi, b, 32, n-48, 64)
			}
			alo, ahi = mix32(alo, ahi, b, 16, n-32, 32)
		}
		alo, ahi = mix32(alo, ahi, b, 0, n-16, 0)
		return finish128(alo, ahi, n)
	case n <= midSizeMax:
		alo, ahi := uint64(n)*prime64_1, uint64(0)
		for i := 0; i < 4; i++ {
			alo, ahi = mix32(alo, ahi, b, 32*i, 32*i+16, 32*i)
		}
		alo, ahi = avalanche(alo), avalanche(ahi)
		for i := 4; i < n/32; i++ {
			alo, ahi = mix32(alo, ahi, b, 32*i, 32*i+16, 3+32*(i-4))
		}
		// The last 32 bytes, with the second input first (seed 0).
		alo, ahi = mix32(alo, ahi, b, n-16, n-32, 136-17-16)
		return finish128(alo, ahi, n)
	}
	var d Digest128
	d.Write(b)
	return d.Sum128()
}

func mix32(lo, hi uint64, b []byte, i1, i2, s int) (uint64, uint64) {
	lo += mix16(b, i1, s)
	lo ^= r64(b, i2) + r64(b, i2+8)
	hi += mix16(b, i2, s+16)
	hi ^= r64(b, i1) + r64(b, i1+8)
	return lo, hi
}

func finish128(alo, ahi uint64, n int) (hi, lo uint64) {
	lo = alo + ahi
	hi = alo*prime64_1 + ahi*prime64_4 + uint64(n)*prime64_2
	return -avalanche(hi), avalanche(lo)
}

// state is the streaming state both widths share: the accumulators of
// the long-input path, the bytes not yet folded in, and the first
// midSizeMax bytes for inputs that turn out short.
type state struct {
	acc     [8]uint64
	n       uint64 // bytes written
	stripes int    // stripes folded into the current block
	buf     [stripeLen]byte
	nbuf    int
	last    [stripeLen]byte // the last stripe folded in
	small   [midSizeMax]byte
	ready   bool
}

func (s *state) reset() {
	*s = state{ready: true}
	s.acc = [8]uint64{prime32_3, prime64_1, prime64_2, prime64_3, prime64_4, prime32_2, prime64_5, prime32_1}
}

func accumulate512(acc *[8]uint64, in []byte, s int) {
	for i := 0; i < 8; i++ {
		v := r64(in, 8*i)
		k := v ^ r64(secret[:], s+8*i)
		acc[i^1] += v
		acc[i] += uint64(uint32(k)) * (k >> 32)
	}
}

func scramble(acc *[8]uint64) {
	for i := range acc {
		a := acc[i]
		a ^= a >> 47
		a ^= r64(secret[:], secretSize-stripeLen+8*i)
		acc[i] = a * prime32_1
	}
}

// stripe folds in one stripe known not to be the input's last bytes.
func (s *state) stripe(in []byte) {
	accumulate512(&s.acc, in, 8*s.stripes)
	s.stripes++
	if s.stripes == stripesPerBlock {
		scramble(&s.acc)
		s.stripes = 0
	}
}

func (s *state) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if s.n < midSizeMax {
		copy(s.small[s.n:], p)
	}
	s.n += uint64(len(p))
	// Written so far: the folded stripes, then buf[:nbuf]. A stripe is
	// folded in only once a byte after it has arrived: the input's last
	// stripe is the digest's business.
	c := copy(s.buf[s.nbuf:], p)
	s.nbuf += c
	p = p[c:]
	if len(p) == 0 {
		return
	}
	s.stripe(s.buf[:])
	s.last = s.buf
	var lastIn []byte
	for len(p) > stripeLen {
		s.stripe(p[:stripeLen])
		lastIn = p[:stripeLen]
		p = p[stripeLen:]
	}
	if lastIn != nil {
		copy(s.last[:], lastIn)
	}
	s.nbuf = copy(s.buf[:], p)
}

// long returns the accumulators after the final stripe (inputs over
// midSizeMax bytes).
func (s *state) long() [8]uint64 {
	acc := s.acc
	var lastStripe [stripeLen]byte
	copy(lastStripe[:], s.last[s.nbuf:])
	copy(lastStripe[stripeLen-s.nbuf:], s.buf[:s.nbuf])
	accumulate512(&acc, lastStripe[:], secretSize-stripeLen-7)
	return acc
}

func mergeAccs(acc *[8]uint64, s int, start uint64) uint64 {
	r := start
	for i := 0; i < 4; i++ {
		r += mulFold64(acc[2*i]^r64(secret[:], s+16*i), acc[2*i+1]^r64(secret[:], s+16*i+8))
	}
	return avalanche(r)
}

// Digest64 is a streaming XXH3 64-bit hash. The zero value is ready to
// use, as is New64's.
type Digest64 struct{ s state }

// Digest128 is a streaming XXH3 128-bit hash, ready as its zero value.
type Digest128 struct{ s state }

var (
	_ hash.Hash64 = (*Digest64)(nil)
	_ hash.Hash   = (*Digest128)(nil)
)

// New64 returns a new XXH3 64-bit hash.
func New64() *Digest64 {
	d := &Digest64{}
	d.Reset()
	return d
}

// New128 returns a new XXH3 128-bit hash.
func New128() *Digest128 {
	d := &Digest128{}
	d.Reset()
	return d
}

func (d *Digest64) Reset()         { d.s.reset() }
func (d *Digest64) Size() int      { return 8 }
func (d *Digest64) BlockSize() int { return stripeLen }

func (d *Digest64) Write(p []byte) (int, error) {
	if !d.s.ready {
		d.s.reset()
	}
	d.s.write(p)
	return len(p), nil
}

// Sum64 returns the hash of what was written.
func (d *Digest64) Sum64() uint64 {
	if d.s.n <= midSizeMax {
		return Sum64(d.s.small[:d.s.n])
	}
	acc := d.s.long()
	return mergeAccs(&acc, 11, d.s.n*prime64_1)
}

func (d *Digest64) Sum(b []byte) []byte { return binary.BigEndian.AppendUint64(b, d.Sum64()) }

func (d *Digest128) Reset()         { d.s.reset() }
func (d *Digest128) Size() int      { return 16 }
func (d *Digest128) BlockSize() int { return stripeLen }

func (d *Digest128) Write(p []byte) (int, error) {
	if !d.s.ready {
		d.s.reset()
	}
	d.s.write(p)
	return len(p), nil
}

// Sum128 returns the high and low halves of the hash of what was written.
func (d *Digest128) Sum128() (hi, lo uint64) {
	if d.s.n <= midSizeMax {
		return Sum128(d.s.small[:d.s.n])
	}
	acc := d.s.long()
	lo = mergeAccs(&acc, 11, d.s.n*prime64_1)
	hi = mergeAccs(&acc, secretSize-stripeLen-11, ^(d.s.n * prime64_2))
	return hi, lo
}

func (d *Digest128) Sum(b []byte) []byte {
	hi, lo := d.Sum128()
	b = binary.BigEndian.AppendUint64(b, hi)
	return binary.BigEndian.AppendUint64(b, lo)
}
