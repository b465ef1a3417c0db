package engine

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// HyperLogLogs are Redis's dense HLL (16384 six-bit registers, the
// element hash MurmurHash64A with Redis's seed, Ertl's estimator), so
// counts equal redis-server's for the same elements. As in KVRocks the
// registers are split in 16 segments of 1024 registers as sub-keys:
//
//	segment u8 -> 768 bytes, registers packed as Redis's dense encoding packs them
//
// A segment never written is all zeros and not stored.
const (
	hllP          = 14
	hllQ          = 64 - hllP
	HLLRegisters  = 1 << hllP
	hllSegRegs    = 1024
	hllSegBytes   = hllSegRegs * 6 / 8
	hllSegments   = HLLRegisters / hllSegRegs
	hllSeed       = 0xadc83b19
	hllAlphaInf   = 0.721347520444481703680
	hllRegMax     = 63
	murmurM       = 0xc6a4a7935bd1e995
	murmurR       = 47
	hllSegFamily  = 'r'
	hllSegKeySize = 2
)

// murmurHash64A is Austin Appleby's MurmurHash64A as Redis runs it
// (little-endian blocks).
func murmurHash64A(key []byte, seed uint64) uint64 {
	h := seed ^ (uint64(len(key)) * murmurM)
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= murmurM
		k ^= k >> murmurR
		k *= murmurM
		h ^= k
		h *= murmurM
		key = key[8:]
	}
	if n := len(key); n > 0 {
		for i := n - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * i)
		}
		h *= murmurM
	}
	h ^= h >> murmurR
	h *= murmurM
	h ^= h >> murmurR
	return h
}

// hllPatLen returns the register an element goes to and its run length
// (the position of the first 1 bit after the index bits).
func hllPatLen(elem []byte) (int, uint8) {
	h := murmurHash64A(elem, hllSeed)
	idx := int(h & (HLLRegisters - 1))
	h >>= hllP
	h |= 1 << hllQ
	return idx, uint8(bits.TrailingZeros64(h) + 1)
}

func hllGetReg(seg []byte, r int) uint8 {
	bit := r * 6
	b0, fb := bit/8, uint(bit&7)
	v := uint(seg[b0]) >> fb
	if b0+1 < len(seg) {
		v |= uint(seg[b0+1]) << (8 - fb)
	}
	return uint8(v & hllRegMax)
}

func hllSetReg(seg []byte, r int, val uint8) {
	bit := r * 6
	b0, fb := bit/8, uint(bit&7)
	v := uint(val)
	seg[b0] &^= byte(hllRegMax << fb)
	seg[b0] |= byte(v << fb)
	if b0+1 < len(seg) {
		seg[b0+1] &^= byte(hllRegMax >> (8 - fb))
		seg[b0+1] |= byte(v >> (8 - fb))
	}
}

func hllSegSuffix(dst []byte, seg int) []byte { return append(dst, hllSegFamily, byte(seg)) }

// HLLAdd adds elements to HyperLogLog key i, creating it (even with no
// elements, as PFADD does). It reports whether a register changed or the
// key was created.
func (t *Txn) HLLAdd(i int, elems [][]byte) (bool, error) {
	exists, err := t.Open(i, TypeHyperLogLog)
	if err != nil {
		return false, err
	}
	changed := !exists
	if !exists {
		if err := t.Create(i, TypeHyperLogLog); err != nil {
			return false, err
		}
	}
	var segs [hllSegments][]byte
	var dirty [hllSegments]bool
	var sfx [hllSegKeySize]byte
	for _, el := range elems {
		idx, n := hllPatLen(el)
		s := idx / hllSegRegs
		if segs[s] == nil {
			seg, ok, err := t.getSub(i, hllSegSuffix(sfx[:0], s), make([]byte, 0, hllSegBytes))
			if err != nil {
				return false, err
			}
			if !ok || len(seg) != hllSegBytes {
				seg = make([]byte, hllSegBytes)
			}
			segs[s] = seg
		}
		if hllGetReg(segs[s], idx%hllSegRegs) < n {
			hllSetReg(segs[s], idx%hllSegRegs, n)
			dirty[s], changed = true, true
		}
	}
	for s := range segs {
		if dirty[s] {
			t.setSub(i, hllSegSuffix(sfx[:0], s), segs[s])
		}
	}
	if changed {
		t.hllStale(i)
	}
	return changed, nil
}

// The estimate of a HyperLogLog is cached in its metadata record's
// attributes (as Redis caches it in the HLL's header): PFCOUNT of an
// unchanged key reads one record. A write that changes a register drops
// the cache.
const hllCacheLen = 8

func (t *Txn) hllStale(i int) {
	k := &t.keys[t.slots[i]]
	k.m.Attrs = k.m.Attrs[:0]
	k.dirty = true
}

// HLLCount estimates the cardinality of HyperLogLog key i (0 when absent),
// from the cached estimate when the key has not changed since the last
// count; otherwise it counts and caches the result.
func (t *Txn) HLLCount(i int) (uint64, error) {
	exists, err := t.Open(i, TypeHyperLogLog)
	if !exists || err != nil {
		return 0, err
	}
	k := &t.keys[t.slots[i]]
	if len(k.m.Attrs) == hllCacheLen {
		return binary.BigEndian.Uint64(k.m.Attrs), nil
	}
	var histo [64]int
	histo[0] = HLLRegisters
	it, err := t.subIter(i, []byte{hllSegFamily}, []byte{hllSegFamily + 1})
	if err != nil {
		return 0, err
	}
	for valid := it.First(); valid; valid = it.Next() {
		sfx := it.Suffix()
		v, err := it.Value()
		if err != nil {
			it.Close()
			return 0, err
		}
		if len(sfx) != hllSegKeySize || int(sfx[1]) >= hllSegments || len(v) != hllSegBytes {
			it.Close()
			return 0, ErrCorrupt
		}
		histo[0] -= hllSegRegs
		hllHisto(v, &histo)
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	n := hllEstimate(&histo)
	k.m.Attrs = binary.BigEndian.AppendUint64(k.m.Attrs[:0], n)
	k.dirty = true
	return n, nil
}

// hllHisto adds a segment's registers to a histogram of their values,
// four registers (three bytes) at a time.
func hllHisto(seg []byte, histo *[64]int) {
	for j := 0; j+3 <= len(seg); j += 3 {
		v := uint32(seg[j]) | uint32(seg[j+1])<<8 | uint32(seg[j+2])<<16
		histo[v&63]++
		histo[v>>6&63]++
		histo[v>>12&63]++
		histo[v>>18&63]++
	}
}

// HLLRegisters folds HyperLogLog key i's registers into regs (one byte
// per register, the maximum of both), and reports whether the key exists.
func (t *Txn) HLLRegisters(i int, regs *[HLLRegisters]uint8) (bool, error) {
	exists, err := t.Open(i, TypeHyperLogLog)
	if !exists || err != nil {
		return false, err
	}
	it, err := t.subIter(i, []byte{hllSegFamily}, []byte{hllSegFamily + 1})
	if err != nil {
		return false, err
	}
	for valid := it.First(); valid; valid = it.Next() {
		sfx := it.Suffix()
		v, err := it.Value()
		if err != nil {
			it.Close()
			return false, err
		}
		if len(sfx) != hllSegKeySize || int(sfx[1]) >= hllSegments || len(v) != hllSegBytes {
			it.Close()
			return false, ErrCorrupt
		}
		dst := regs[int(sfx[1])*hllSegRegs:][:hllSegRegs]
		for j, r := 0, 0; j+3 <= len(v); j, r = j+3, r+4 {
			x := uint32(v[j]) | uint32(v[j+1])<<8 | uint32(v[j+2])<<16
			for q := 0; q < 4; q++ {
				if reg := uint8(x >> (6 * q) & 63); reg > dst[r+q] {
					dst[r+q] = reg
				}
			}
		}
	}
	return true, it.Close()
}

// HLLStore makes key i a HyperLogLog holding regs (PFMERGE's
// destination), keeping its expiry when it already was one.
func (t *Txn) HLLStore(i int, regs *[HLLRegisters]uint8) error {
	if err := t.Create(i, TypeHyperLogLog); err != nil {
		return err
	}
	var sfx [hllSegKeySize]byte
	seg := make([]byte, hllSegBytes)
	for s := 0; s < hllSegments; s++ {
		clear(seg)
		nz := false
		for r := 0; r < hllSegRegs; r++ {
			if v := regs[s*hllSegRegs+r]; v != 0 {
				hllSetReg(seg, r, v)
				nz = true
			}
		}
		// NB: a register that is zero here was zero in the destination
		// too (it is one of the merged keys), so zero segments need no
		// deleting.
		if nz {
			t.setSub(i, hllSegSuffix(sfx[:0], s), seg)
		}
	}
	t.hllStale(i)
	return nil
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if zp == z {
			return z / 3
		}
	}
}

// HLLCount estimates the cardinality of regs as Redis does.
func HLLCount(regs *[HLLRegisters]uint8) uint64 {
	var histo [64]int
	for _, r := range regs {
		histo[r&63]++
	}
	return hllEstimate(&histo)
}

// hllEstimate is Redis's estimator (Ertl's) over the histogram of the
// register values.
func hllEstimate(histo *[64]int) uint64 {
	const m = float64(HLLRegisters)
	z := m * hllTau((m-float64(histo[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(histo[0])/m)
	return uint64(math.Round(hllAlphaInf * m * m / z))
}
