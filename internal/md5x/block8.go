package md5x

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// lanes is the most streams one kernel call advances.
const lanes = 16

// kernelFunc advances the MD5 state of each of its lanes (transposed:
// state[w][lane] is word w of that lane) over n 64-byte blocks read from
// ptrs[lane]. An 8-lane kernel advances lanes 0-7 and leaves the others
// alone. scratch is working memory.
type kernelFunc func(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, scratch *[16][lanes]uint32)

var (
	// shifts and consts are MD5's per-step rotations and additive
	// constants (RFC 1321, section 3.4).
	shifts = [4][4]int{{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}}
	consts = [64]uint32{
		0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
		0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
		0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
		0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
		0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
		0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
		0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
		0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
	}
)

// block1 advances one MD5 state over the whole blocks of p: the portable
// kernel, used on CPUs without a vector one and as the tests' reference.
func block1(s *[4]uint32, p []byte) {
	for len(p) >= 64 {
		var m [16]uint32
		for i := range m {
			m[i] = binary.LittleEndian.Uint32(p[4*i:])
		}
		a, b, c, d := s[0], s[1], s[2], s[3]
		for i := 0; i < 64; i++ {
			var f uint32
			var g int
			switch i / 16 {
			case 0:
				f, g = d^(b&(c^d)), i
			case 1:
				f, g = c^(d&(b^c)), (5*i+1)%16
			case 2:
				f, g = b^c^d, (3*i+5)%16
			default:
				f, g = c^(b|^d), 7*i%16
			}
			a, b, c, d = d, b+bits.RotateLeft32(a+f+consts[i]+m[g], shifts[i/16][i%4]), b, c
		}
		s[0] += a
		s[1] += b
		s[2] += c
		s[3] += d
		p = p[64:]
	}
}

// generic returns the portable kernel of the given width: the kernel
// contract implemented lane by lane, skipping idle lanes (zeroRun).
func generic(width int) kernelFunc {
	return func(state *[4][lanes]uint32, ptrs *[lanes]*byte, n int, _ *[16][lanes]uint32) {
		for l := 0; l < width; l++ {
			if ptrs[l] == &zeroRun[0] {
				continue
			}
			s := [4]uint32{state[0][l], state[1][l], state[2][l], state[3][l]}
			block1(&s, unsafe.Slice(ptrs[l], 64*n))
			for w := range s {
				state[w][l] = s[w]
			}
		}
	}
}
