package resp

import (
	"bytes"
	"strconv"
	"testing"
)

// FuzzParseRegions: any tail of arguments either parses into triples that
// print back to the same numbers, or is refused with one of the
// reference's error texts; never a panic.
func FuzzParseRegions(f *testing.F) {
	f.Add([]byte("1 2 3"))
	f.Add([]byte("999 0 4096 7"))
	f.Add([]byte("18446744073709551615 18446744073709551615 18446744073709551615"))
	f.Add([]byte("x 0 1"))
	f.Add([]byte("1 -1 1"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, in []byte) {
		args := bytes.Fields(in)
		regions, bad := parseRegions(args)
		if bad != "" {
			switch bad {
			case errBlobTriples, errBlobTooMany, errBlobRKey, errBlobRemoteAddr, errBlobAddrLen:
			default:
				t.Fatalf("unexpected error %q", bad)
			}
			return
		}
		if len(regions)*3 != len(args) {
			t.Fatalf("%d regions from %d args", len(regions), len(args))
		}
		for i, r := range regions {
			for j, v := range []uint64{r.RKey, r.Addr, r.Len} {
				if n, _ := strconv.ParseUint(string(args[3*i+j]), 10, 64); n != v {
					t.Fatalf("arg %d: %d, parsed %d", 3*i+j, n, v)
				}
			}
		}
	})
}
