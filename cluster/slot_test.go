package cluster

import "testing"

func TestKeySlot(t *testing.T) {
	for _, c := range []struct {
		key  string
		slot int
	}{
		// Values from redis-cli CLUSTER KEYSLOT against redis-server 7.0
		// (cluster-enabled).
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"123456789", 12739}, // CRC-16/XMODEM check value 0x31C3
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", 8363},    // empty first tag: the whole key
		{"foo{{bar}}zap", 4015}, // tag "{bar"
		{"foo{bar}{zap}", 5061}, // first tag only: "bar"
		{"{", 4092},             // no closing brace: the whole key
	} {
		if got := KeySlot([]byte(c.key)); got != c.slot {
			t.Errorf("KeySlot(%q) = %d, want %d", c.key, got, c.slot)
		}
	}
}

func BenchmarkKeySlot(b *testing.B) {
	key := []byte("mistral-7b@00000003@5f2b1c9a0e7d4c3b2a19f8e7d6c5b4a3")
	b.SetBytes(int64(len(key)))
	for b.Loop() {
		KeySlot(key)
	}
}

// crc16Bytewise is the plain one-byte-a-step CRC-16/XMODEM, the reference
// for the sliced crc16.
func crc16Bytewise(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c ^= uint16(x) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
	}
	return c
}

func TestCRC16Sliced(t *testing.T) {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	for n := 0; n <= len(b); n++ {
		if got, want := crc16(b[:n]), crc16Bytewise(b[:n]); got != want {
			t.Fatalf("crc16 of %d bytes = %#x, want %#x", n, got, want)
		}
	}
}

func FuzzCRC16(f *testing.F) {
	f.Add([]byte("123456789"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := crc16(b), crc16Bytewise(b); got != want {
			t.Fatalf("crc16(%q) = %#x, want %#x", b, got, want)
		}
	})
}
