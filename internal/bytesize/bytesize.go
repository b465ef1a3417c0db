// Package bytesize parses the byte sizes of configuration values, with one
// meaning everywhere: in the config file, on the command line and in
// CONFIG SET.
//
// The units are KVRocks's (its ParseSizeAndUnit): k, m, g, t and p are
// powers of 1024, case-insensitive, so a kvrocks.conf means what it meant
// to KVRocks. Redis's spellings kb, mb, gb and tb are accepted with the
// same (binary) meaning, and b means bytes. NB: Redis reads a bare "1k" as
// 1000 bytes; here, as in KVRocks, it is 1024.
package bytesize

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax marks a value that is not a size.
var ErrSyntax = errors.New("bytesize: not a size")

// ErrRange marks a size too large for an int64.
var ErrRange = errors.New("bytesize: size out of range")

// units maps a suffix to its power of 1024.
var units = map[string]uint{
	"": 0, "b": 0,
	"k": 10, "kb": 10,
	"m": 20, "mb": 20,
	"g": 30, "gb": 30,
	"t": 40, "tb": 40,
	"p": 50, "pb": 50,
}

// Parse returns the byte count s denotes: digits, then an optional unit.
// Surrounding blanks are ignored; signs, fractions and blanks between the
// number and the unit are errors.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
	}
	shift, ok := units[strings.ToLower(t[i:])]
	if i == 0 || !ok {
		return 0, fmt.Errorf("%w: %q (want a number with an optional unit k, m, g, t, p or kb, mb, gb, tb)", ErrSyntax, s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("%w: %q", ErrRange, s)
	}
	return n << shift, nil
}
