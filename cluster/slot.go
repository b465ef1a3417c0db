package cluster

import "bytes"

// Slots is the number of hash slots of a Redis Cluster.
const Slots = 16384

// crcTables are CRC-16/XMODEM (polynomial 0x1021, initial value 0, no
// reflection), the checksum Redis Cluster hashes keys with, for slicing by
// 8: crcTables[k][b] is the CRC of byte b followed by k zero bytes.
var crcTables = func() (t [8][256]uint16) {
	for i := range t[0] {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < len(t); k++ {
		for i := range t[k] {
			c := t[k-1][i]
			t[k][i] = c<<8 ^ t[0][c>>8]
		}
	}
	return t
}()

// crc16 is CRC-16/XMODEM of b. NB: eight bytes at a time, from eight
// independent table lookups (the CRC is linear), rather than one byte per
// dependent step: keys of LMCache's shape (50-odd bytes) hash about four
// times faster, and every keyed request in cluster mode hashes its keys.
func crc16(b []byte) uint16 {
	var c uint16
	t := &crcTables
	for len(b) >= 8 {
		c = t[7][byte(c>>8)^b[0]] ^ t[6][byte(c)^b[1]] ^ t[5][b[2]] ^ t[4][b[3]] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, x := range b {
		c = c<<8 ^ t[0][byte(c>>8)^x]
	}
	return c
}

// HashTag is the part of key that decides its slot: the bytes between the
// first '{' and the first '}' after it when that is not empty, else the
// whole key, as Redis Cluster defines it.
func HashTag(key []byte) []byte {
	// NB: bytes.IndexByte scans with vector instructions; most keys have
	// no '{' at all.
	i := bytes.IndexByte(key, '{')
	if i < 0 {
		return key
	}
	j := bytes.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return key
	}
	return key[i+1 : i+1+j]
}

// KeySlot is the hash slot of key, 0 to Slots-1.
func KeySlot(key []byte) int {
	return int(crc16(HashTag(key)) & (Slots - 1))
}
