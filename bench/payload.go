package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// MinValueSize is the smallest value size the harness writes: a value starts
// and ends with an 8-byte stamp.
const MinValueSize = 16

// Payload produces the bytes of every value the harness writes without
// materializing any of them. The value of size n with stamp s is
//
//	stamp(s) | body[8:n-8] | tailStamp(s, n)
//
// where body is one shared read-only pseudo-random block as large as the
// largest value. Senders pass the slice of body by reference (one iovec), so
// a 80 MiB SET costs no copy on the client. Two different keys never share a
// stamp pair, so a server that returns another key's value, a truncated
// value or a shifted one fails the cheap check; a server that corrupts the
// middle fails the full check.
//
// A Payload is immutable and safe for concurrent use.
type Payload struct {
	body []byte
}

// NewPayload returns a payload able to produce values up to maxSize bytes.
func NewPayload(maxSize int) *Payload {
	if maxSize < MinValueSize {
		maxSize = MinValueSize
	}
	b := make([]byte, maxSize)
	// xorshift64*: position-dependent and far from periodic, so a shifted or
	// spliced body does not compare equal.
	x := uint64(0x9E3779B97F4A7C15)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		binary.LittleEndian.PutUint64(b[i:], x*0x2545F4914F6CDD1D)
	}
	for ; i < len(b); i++ {
		b[i] = byte(i)
	}
	return &Payload{body: b}
}

// MaxSize returns the largest value size the payload can produce.
func (p *Payload) MaxSize() int { return len(p.body) }

// Middle returns the shared bytes between the stamps of a value of size n.
// The caller must not modify them.
func (p *Payload) Middle(n int) []byte { return p.body[8 : n-8] }

// headStamp and tailStamp are the per-key seed pattern at both ends of a
// value. The tail mixes in the size so that a value of the right key but the
// wrong length fails too.
func headStamp(stamp uint64) uint64 { return stamp }

func tailStamp(stamp uint64, n int) uint64 {
	return mix64(stamp ^ uint64(n)*0x9E3779B97F4A7C15)
}

// mix64 is the splitmix64 finalizer: a cheap bijective hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// AppendHead appends the 8-byte head stamp of a value.
func AppendHead(dst []byte, stamp uint64) []byte {
	return binary.LittleEndian.AppendUint64(dst, headStamp(stamp))
}

// AppendTail appends the 8-byte tail stamp of a value of size n.
func AppendTail(dst []byte, stamp uint64, n int) []byte {
	return binary.LittleEndian.AppendUint64(dst, tailStamp(stamp, n))
}

// AppendValue appends the whole value of size n (a copy: used for small
// values and by tests).
func (p *Payload) AppendValue(dst []byte, stamp uint64, n int) []byte {
	dst = AppendHead(dst, stamp)
	dst = append(dst, p.Middle(n)...)
	return AppendTail(dst, stamp, n)
}

// VerifyMode selects how GET replies are checked.
type VerifyMode uint8

const (
	// VerifyCheap checks the length and the stamps at both ends.
	VerifyCheap VerifyMode = iota
	// VerifyFull also compares every byte in between.
	VerifyFull
	// VerifyNone checks the length only.
	VerifyNone
)

// ParseVerifyMode parses "cheap", "full" or "none".
func ParseVerifyMode(s string) (VerifyMode, error) {
	switch s {
	case "cheap", "":
		return VerifyCheap, nil
	case "full":
		return VerifyFull, nil
	case "none":
		return VerifyNone, nil
	}
	return 0, fmt.Errorf("cannot parse verify mode %q: want cheap, full or none", s)
}

func (m VerifyMode) String() string {
	switch m {
	case VerifyFull:
		return "full"
	case VerifyNone:
		return "none"
	}
	return "cheap"
}

// Verify checks that got is the value of size n with the given stamp. It
// returns nil or an error wrapping ErrCorrupt; it allocates only on failure.
func (p *Payload) Verify(got []byte, stamp uint64, n int, mode VerifyMode) error {
	if len(got) != n {
		return fmt.Errorf("%w: length %d, want %d", ErrCorrupt, len(got), n)
	}
	if mode == VerifyNone {
		return nil
	}
	if h := binary.LittleEndian.Uint64(got); h != headStamp(stamp) {
		return fmt.Errorf("%w: head stamp %#x, want %#x", ErrCorrupt, h, headStamp(stamp))
	}
	if t := binary.LittleEndian.Uint64(got[n-8:]); t != tailStamp(stamp, n) {
		return fmt.Errorf("%w: tail stamp %#x, want %#x", ErrCorrupt, t, tailStamp(stamp, n))
	}
	if mode == VerifyFull && !bytes.Equal(got[8:n-8], p.Middle(n)) {
		i := 8
		for got[i] == p.body[i] {
			i++
		}
		return fmt.Errorf("%w: first differing byte at offset %d of %d", ErrCorrupt, i, n)
	}
	return nil
}
