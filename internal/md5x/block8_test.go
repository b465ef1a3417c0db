package md5x

import (
	"crypto/md5"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"unsafe"
)

var initState = [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}

// sumBlocks is the MD5 of whole-block data hashed with block1, padded the
// usual way, for checking block1 itself against crypto/md5.
func sumBlocks(p []byte) [16]byte {
	s := initState
	full := len(p) &^ 63
	block1(&s, p[:full])
	tail := append([]byte(nil), p[full:]...)
	tail = append(tail, 0x80)
	for len(tail)%64 != 56 {
		tail = append(tail, 0)
	}
	tail = binary.LittleEndian.AppendUint64(tail, uint64(len(p))<<3)
	block1(&s, tail)
	var out [16]byte
	for i, w := range s {
		binary.LittleEndian.PutUint32(out[4*i:], w)
	}
	return out
}

func TestBlock1MatchesCryptoMD5(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4096 + 17} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		if got, want := sumBlocks(p), md5.Sum(p); got != want {
			t.Fatalf("len %d: %x, want %x", n, got, want)
		}
	}
}

type namedKernel struct {
	fn    kernelFunc
	width int
}

// kernels returns the kernels this CPU can run, by name.
func kernels() map[string]namedKernel {
	k := map[string]namedKernel{"generic8": {generic(8), 8}, "generic16": {generic(16), 16}}
	addPlatformKernels(k)
	return k
}

func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for name, kern := range kernels() {
		for _, n := range []int{0, 1, 2, 7, 33} {
			var state [4][lanes]uint32
			var ptrs [lanes]*byte
			for l := range ptrs {
				// Lanes start at unrelated, unaligned offsets.
				b := make([]byte, 64*n+l+1)
				for i := range b {
					b[i] = byte(r.Uint32())
				}
				ptrs[l] = &b[l]
				for w := range 4 {
					state[w][l] = r.Uint32()
				}
			}
			want := state
			for l := 0; l < kern.width && n > 0; l++ {
				s := [4]uint32{want[0][l], want[1][l], want[2][l], want[3][l]}
				block1(&s, unsafe.Slice(ptrs[l], 64*n))
				for w := range s {
					want[w][l] = s[w]
				}
			}
			var scratch [16][lanes]uint32
			kern.fn(&state, &ptrs, n, &scratch)
			if state != want {
				t.Fatalf("%s, %d blocks: state %x, want %x", name, n, state, want)
			}
		}
	}
}
