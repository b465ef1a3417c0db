package cluster

// Slots is the number of hash slots of a Redis Cluster.
const Slots = 16384

// crcTable is CRC-16/XMODEM (polynomial 0x1021, initial value 0, no
// reflection), the checksum Redis Cluster hashes keys with.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>8)^x]
	}
	return c
}

// HashTag is the part of key that decides its slot: the bytes between the
// first '{' and the first '}' after it when that is not empty, else the
// whole key, as Redis Cluster defines it.
func HashTag(key []byte) []byte {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key
				}
				return key[i+1 : j]
			}
		}
		return key
	}
	return key
}

// KeySlot is the hash slot of key, 0 to Slots-1.
func KeySlot(key []byte) int {
	return int(crc16(HashTag(key)) & (Slots - 1))
}
