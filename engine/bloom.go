package engine

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// Bloom filters are KVRocks's scalable chains of block-split Bloom filters
// (Putze et al., as Parquet builds them: 32-byte blocks, 8 bits set per
// item, XXH64 of the item). The chain's parameters sit in the metadata
// record's attributes, Size counts the items added, and each filter is a
// sub-key:
//
//	'f' | filter index u16 BE -> the filter's bitset (a power of two, 32 B to 128 MiB)
//
// When the items reach the chain's capacity a scaling chain adds a filter
// expansion times larger than the last; a non-scaling one is full.
const (
	bloomFamily    = 'f'
	bloomMinBytes  = 32
	bloomMaxBytes  = 128 << 20
	bloomBlock     = 32
	bloomAttrsSize = 2 + 2 + 4 + 8 + 4

	BloomDefaultCapacity  = 100
	BloomDefaultErrorRate = 0.01
	BloomDefaultExpansion = 2
)

var (
	// ErrBloomExists reports BF.RESERVE of an existing key.
	ErrBloomExists = errors.New("engine: bloom filter exists")
	errBloomAttrs  = errors.New("engine: corrupt bloom filter parameters")
)

var bloomSalt = [8]uint32{0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31}

// BloomParams are a new chain's parameters. Expansion 0 is non-scaling.
type BloomParams struct {
	Capacity  uint32
	ErrorRate float64
	Expansion uint16
}

// BloomInfo is what BF.INFO reports.
type BloomInfo struct {
	Capacity  uint32 // of the whole chain
	Bytes     uint32 // of all its filters
	Filters   uint16
	Items     int64
	Expansion uint16
}

// BloomResult is one item's outcome of an add.
type BloomResult uint8

const (
	BloomAdded BloomResult = iota
	BloomExisted
	BloomFull
)

type bloomChain struct {
	filters   uint16
	expansion uint16
	base      uint32
	errorRate float64
	bytes     uint32
}

func (c *bloomChain) encode(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, c.filters)
	dst = binary.BigEndian.AppendUint16(dst, c.expansion)
	dst = binary.BigEndian.AppendUint32(dst, c.base)
	dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(c.errorRate))
	return binary.BigEndian.AppendUint32(dst, c.bytes)
}

func decodeBloomChain(b []byte) (bloomChain, error) {
	if len(b) != bloomAttrsSize {
		return bloomChain{}, errBloomAttrs
	}
	return bloomChain{
		filters:   binary.BigEndian.Uint16(b),
		expansion: binary.BigEndian.Uint16(b[2:]),
		base:      binary.BigEndian.Uint32(b[4:]),
		errorRate: math.Float64frombits(binary.BigEndian.Uint64(b[8:])),
		bytes:     binary.BigEndian.Uint32(b[16:]),
	}, nil
}

// capacity is the chain's total capacity (the sum of its filters').
func (c *bloomChain) capacity() uint32 {
	switch c.expansion {
	case 0:
		return c.base
	case 1:
		return c.base * uint32(c.filters)
	}
	e := float64(c.expansion)
	return uint32(float64(c.base) * (1 - math.Pow(e, float64(c.filters))) / (1 - e))
}

// bloomBytes is the bitset size for ndv items at false-positive rate fpp.
func bloomBytes(ndv uint32, fpp float64) uint32 {
	m := -8.0 * float64(ndv) / math.Log(1-math.Pow(fpp, 1.0/8))
	var nbits uint32
	if m < 0 || m > bloomMaxBytes<<3 {
		nbits = bloomMaxBytes << 3
	} else {
		nbits = uint32(m)
	}
	nbits = max(nbits, bloomMinBytes<<3)
	if nbits&(nbits-1) != 0 {
		nbits = 1 << bits.Len32(nbits)
	}
	return min(nbits, bloomMaxBytes<<3) >> 3
}

func bloomSlots(bitset []byte, h uint64) (block int, key uint32) {
	nblocks := uint64(len(bitset) / bloomBlock)
	return int(((h >> 32) * nblocks) >> 32), uint32(h)
}

func bloomFind(bitset []byte, h uint64) bool {
	block, key := bloomSlots(bitset, h)
	for i, s := range bloomSalt {
		w := binary.LittleEndian.Uint32(bitset[(block*8+i)*4:])
		if w&(1<<((key*s)>>27)) == 0 {
			return false
		}
	}
	return true
}

func bloomInsert(bitset []byte, h uint64) {
	block, key := bloomSlots(bitset, h)
	for i, s := range bloomSalt {
		off := (block*8 + i) * 4
		w := binary.LittleEndian.Uint32(bitset[off:])
		binary.LittleEndian.PutUint32(bitset[off:], w|1<<((key*s)>>27))
	}
}

func bloomSuffix(dst []byte, i uint16) []byte {
	return binary.BigEndian.AppendUint16(append(dst, bloomFamily), i)
}

// bloomOpen returns key i's chain; false when absent.
func (t *Txn) bloomOpen(i int) (bloomChain, bool, error) {
	ok, err := t.Open(i, TypeBloom)
	if !ok || err != nil {
		return bloomChain{}, false, err
	}
	c, err := decodeBloomChain(t.keys[t.slots[i]].m.Attrs)
	return c, err == nil, err
}

func (t *Txn) bloomSave(i int, c *bloomChain) {
	k := &t.keys[t.slots[i]]
	k.m.Attrs = c.encode(k.m.Attrs[:0])
	k.dirty = true
}

// BloomReserve creates key i as an empty chain; ErrBloomExists when the
// key exists (ErrWrongType when it holds another type).
func (t *Txn) BloomReserve(i int, p BloomParams) error {
	ok, err := t.Open(i, TypeBloom)
	if err != nil {
		return err
	}
	if ok {
		return ErrBloomExists
	}
	return t.bloomCreate(i, p)
}

func (t *Txn) bloomCreate(i int, p BloomParams) error {
	if err := t.Replace(i, TypeBloom); err != nil {
		return err
	}
	c := bloomChain{filters: 1, expansion: p.Expansion, base: p.Capacity, errorRate: p.ErrorRate,
		bytes: bloomBytes(p.Capacity, p.ErrorRate)}
	t.setSub(i, bloomSuffix(nil, 0), make([]byte, c.bytes))
	t.bloomSave(i, &c)
	return nil
}

func (t *Txn) bloomFilters(i int, c *bloomChain) ([][]byte, error) {
	out := make([][]byte, c.filters)
	var sfx [3]byte
	for f := range out {
		b, ok, err := t.getSub(i, bloomSuffix(sfx[:0], uint16(f)), nil)
		if err != nil {
			return nil, err
		}
		if !ok || len(b) < bloomMinBytes || len(b)&(len(b)-1) != 0 {
			return nil, ErrCorrupt
		}
		out[f] = b
	}
	return out, nil
}

// BloomAdd adds items to chain key i, creating it with p when absent and
// create is set (ErrNotFound otherwise). Results are per item.
func (t *Txn) BloomAdd(i int, items [][]byte, p BloomParams, create bool) ([]BloomResult, error) {
	c, ok, err := t.bloomOpen(i)
	if err != nil {
		return nil, err
	}
	if !ok {
		if !create {
			return nil, ErrNotFound
		}
		if err := t.bloomCreate(i, p); err != nil {
			return nil, err
		}
		if c, _, err = t.bloomOpen(i); err != nil {
			return nil, err
		}
	}
	filters, err := t.bloomFilters(i, &c)
	if err != nil {
		return nil, err
	}
	res := make([]BloomResult, len(items))
	dirty := make([]bool, len(filters), len(filters)+1)
	added := int64(0)
	for n, item := range items {
		h := xxhash.Sum64(item)
		found := false
		for f := len(filters) - 1; f >= 0 && !found; f-- {
			found = bloomFind(filters[f], h)
		}
		if found {
			res[n] = BloomExisted
			continue
		}
		if uint64(t.Size(i)+added)+1 > uint64(c.capacity()) {
			if c.expansion == 0 {
				res[n] = BloomFull
				continue
			}
			nb := bloomBytes(uint32(float64(c.base)*math.Pow(float64(c.expansion), float64(c.filters))), c.errorRate)
			c.filters++
			c.bytes += nb
			filters = append(filters, make([]byte, nb))
			dirty = append(dirty, true)
		}
		bloomInsert(filters[len(filters)-1], h)
		dirty[len(filters)-1] = true
		added++
	}
	var sfx [3]byte
	for f, d := range dirty {
		if d {
			t.setSub(i, bloomSuffix(sfx[:0], uint16(f)), filters[f])
		}
	}
	if added > 0 {
		t.addSize(i, added)
		t.bloomSave(i, &c)
	}
	return res, nil
}

// BloomExists reports, per item, whether it may be in chain key i (false
// for all when the key is absent).
func (t *Txn) BloomExists(i int, items [][]byte) ([]bool, error) {
	out := make([]bool, len(items))
	c, ok, err := t.bloomOpen(i)
	if !ok || err != nil {
		return out, err
	}
	filters, err := t.bloomFilters(i, &c)
	if err != nil {
		return nil, err
	}
	for n, item := range items {
		h := xxhash.Sum64(item)
		for f := len(filters) - 1; f >= 0 && !out[n]; f-- {
			out[n] = bloomFind(filters[f], h)
		}
	}
	return out, nil
}

// BloomInfo describes chain key i; false when absent.
func (t *Txn) BloomInfo(i int) (BloomInfo, bool, error) {
	c, ok, err := t.bloomOpen(i)
	if !ok || err != nil {
		return BloomInfo{}, false, err
	}
	return BloomInfo{Capacity: c.capacity(), Bytes: c.bytes, Filters: c.filters, Items: t.Size(i), Expansion: c.expansion}, true, nil
}
