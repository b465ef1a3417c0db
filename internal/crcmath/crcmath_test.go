package crcmath

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/minio/crc64nvme"
)

func TestCombineMatchesWholeCRC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	for range 200 {
		n := rng.IntN(len(data) + 1)
		cut := rng.IntN(n + 1)
		a, b := data[:cut], data[cut:n]
		if got, want := CRC32C.Combine(uint64(crc32.Checksum(a, castagnoli)), uint64(crc32.Checksum(b, castagnoli)), int64(len(b))), uint64(crc32.Checksum(data[:n], castagnoli)); got != want {
			t.Fatalf("CRC32C of %d+%d bytes: %08x, want %08x", len(a), len(b), got, want)
		}
		if got, want := CRC32.Combine(uint64(crc32.ChecksumIEEE(a)), uint64(crc32.ChecksumIEEE(b)), int64(len(b))), uint64(crc32.ChecksumIEEE(data[:n])); got != want {
			t.Fatalf("CRC32 of %d+%d bytes: %08x, want %08x", len(a), len(b), got, want)
		}
		if got, want := CRC64NVME.Combine(crc64nvme.Checksum(a), crc64nvme.Checksum(b), int64(len(b))), crc64nvme.Checksum(data[:n]); got != want {
			t.Fatalf("CRC64NVME of %d+%d bytes: %016x, want %016x", len(a), len(b), got, want)
		}
	}
	if CRC32C.Combine(0, 0x1234, 99) != 0x1234 {
		t.Fatal("combining onto nothing changed the CRC")
	}
}
