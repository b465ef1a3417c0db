package bench

import (
	"encoding/binary"
	"strconv"
)

// Key shapes from LMCache (see shared/clients/LMCACHE.md). All Append
// functions write into a caller-owned buffer and allocate nothing.

// Suffixes of the Python redis connector's two keys per chunk.
const (
	suffixKV   = "kv_bytes"
	suffixMeta = "metadata"
)

// pythonMetaSize is the size of the Python connector's metadata value for
// one tensor group: int32 length, fmt, then dtype and four shape dims.
const pythonMetaSize = 28

// KeySpace generates the keys of one run. Keys embed a per-run seed so that
// runs never read each other's keys, and the same KeySpace used against two
// targets yields the same key sequence.
//
// A KeySpace is immutable and safe for concurrent use.
type KeySpace struct {
	seed  uint64
	model string
	world int
}

// NewKeySpace returns the key space of a run.
func NewKeySpace(seed uint64, model string, worldSize int) *KeySpace {
	if worldSize < 1 {
		worldSize = 1
	}
	return &KeySpace{seed: seed, model: model, world: worldSize}
}

// missBit marks chunk indexes that are never written.
const missBit = 1 << 62

// ChunkHash returns the chunk hash of chunk idx; MissIndex(i) gives indexes
// whose chunks are never stored.
func (ks *KeySpace) ChunkHash(idx uint64) uint64 {
	return mix64(ks.seed ^ (idx+1)*0xD6E8FEB86659FD93)
}

// MissIndex maps i to a chunk index that is never written.
func MissIndex(i uint64) uint64 { return i | missBit }

// Stamp returns the value stamp of chunk idx (see Payload).
func (ks *KeySpace) Stamp(idx uint64) uint64 { return mix64(ks.ChunkHash(idx) + 1) }

// Rank returns the worker rank owning chunk idx.
func (ks *KeySpace) Rank(idx uint64) int { return int(idx % uint64(ks.world)) }

// AppendNative appends the native client's key: <model>@<rank %08x>@<hash hex>.
func (ks *KeySpace) AppendNative(dst []byte, idx uint64) []byte {
	dst = append(dst, ks.model...)
	dst = append(dst, '@')
	r := uint64(ks.Rank(idx))
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, "0123456789abcdef"[(r>>uint(shift))&0xf])
	}
	dst = append(dst, '@')
	return strconv.AppendUint(dst, ks.ChunkHash(idx), 16)
}

// AppendPython appends the Python connector's chunk key plus suffix:
// vllm@<model>@<world>@<worker>@<signed hash hex>@bfloat16<suffix>.
func (ks *KeySpace) AppendPython(dst []byte, idx uint64, suffix string) []byte {
	dst = append(dst, "vllm@"...)
	dst = append(dst, ks.model...)
	dst = append(dst, '@')
	dst = strconv.AppendInt(dst, int64(ks.world), 10)
	dst = append(dst, '@')
	dst = strconv.AppendInt(dst, int64(ks.Rank(idx)), 10)
	dst = append(dst, '@')
	dst = strconv.AppendInt(dst, int64(ks.ChunkHash(idx)), 16) // Python's f"{h:x}" of a signed hash
	dst = append(dst, "@bfloat16"...)
	return append(dst, suffix...)
}

// AppendSmall appends the key of small-workload key idx.
func (ks *KeySpace) AppendSmall(dst []byte, idx uint64) []byte {
	dst = append(dst, "bench:"...)
	dst = strconv.AppendUint(dst, ks.seed&0xffffffff, 16)
	dst = append(dst, ":small:"...)
	return strconv.AppendUint(dst, idx, 10)
}

// AppendObject appends the S3 object name of chunk idx, shaped the way the
// LMCache S3 connector shapes it ('/' replaced by '_').
func (ks *KeySpace) AppendObject(dst []byte, idx uint64) []byte {
	start := len(dst)
	dst = ks.AppendNative(dst, idx)
	for i := start; i < len(dst); i++ {
		if dst[i] == '/' {
			dst[i] = '_'
		}
	}
	return dst
}

// PythonMeta returns the 28-byte metadata value the Python connector stores
// next to a bf16 chunk of n bytes: native-endian (little-endian on the hosts
// we run on) int32 length, fmt, dtype, then the shape [2, 32, tokens, 1024].
func PythonMeta(n int) []byte {
	const perToken = 2 * 32 * 1024 * 2 // K and V, 32 layers, 8 heads x 128, bf16
	tokens := n / perToken
	b := make([]byte, 0, pythonMetaSize)
	for _, v := range []int32{int32(tokens), 1 /* fmt */, 3 /* bf16 */, 2, 32, int32(tokens), 1024} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}
