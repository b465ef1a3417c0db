package fastpath

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/gpucache/gpucache/protocols/fastpath/fabric"
)

// apply carries out ops as a peer would see them: each op copies Len
// bytes from local memory (inside mem) to the region its RKey names, at
// RAddr (an offset into that region here).
func apply(t *testing.T, mem []byte, ops []fabric.Op, regions [][]byte) {
	t.Helper()
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	for _, op := range ops {
		off := op.Local - base
		r := regions[op.RKey]
		if op.RAddr+op.Len > uint64(len(r)) || uint64(off)+op.Len > uint64(len(mem)) {
			t.Fatalf("op out of range: %+v", op)
		}
		if op.Len > maxOp {
			t.Fatalf("op of %d bytes, more than %d", op.Len, maxOp)
		}
		copy(r[op.RAddr:op.RAddr+op.Len], mem[off:off+uintptr(op.Len)])
	}
}

func TestPlan(t *testing.T) {
	const page = 256 << 10
	mem := make([]byte, 40*page)
	for i := range mem {
		mem[i] = byte(i*31 + i>>12)
	}
	for _, tc := range []struct {
		name    string
		pages   []int // page indexes, in value order
		last    int   // bytes of the last page
		regions []uint64
		maxOps  int
	}{
		{"one region, contiguous pages", []int{0, 1, 2, 3}, page, []uint64{4 * page}, 1},
		{"scattered pages", []int{5, 1, 9, 2}, 1000, []uint64{3*page + 1000}, 4},
		{"regions straddle pages", []int{0, 1, 2}, 77, []uint64{100, page, page + 100, 10 << 20}, 6},
		{"surplus space", []int{3}, 5, []uint64{1 << 20}, 1},
		{"long run cut at maxOp", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35}, page, []uint64{36 * page}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var local [][]byte
			var want []byte
			for i, p := range tc.pages {
				n := page
				if i == len(tc.pages)-1 {
					n = tc.last
				}
				local = append(local, mem[p*page:p*page+n])
				want = append(want, mem[p*page:p*page+n]...)
			}
			var regs []Region
			var bufs [][]byte
			for i, n := range tc.regions {
				regs = append(regs, Region{RKey: uint64(i), Addr: 0, Len: n})
				bufs = append(bufs, make([]byte, n))
			}
			if !Covers(regs, int64(len(want))) {
				t.Fatal("regions do not cover")
			}
			ops := plan(nil, local, regs)
			if len(ops) > tc.maxOps {
				t.Fatalf("%d ops, want at most %d", len(ops), tc.maxOps)
			}
			apply(t, mem, ops, bufs)
			got := bytes.Join(bufs, nil)[:len(want)]
			if !bytes.Equal(got, want) {
				t.Fatal("bytes land in the wrong places")
			}
		})
	}
}

func TestCovers(t *testing.T) {
	if Covers([]Region{{Len: 10}, {Len: 5}}, 16) || !Covers([]Region{{Len: 10}, {Len: 6}}, 16) {
		t.Fatal("sum of lengths")
	}
	if !Covers([]Region{{Len: ^uint64(0)}, {Len: 2}}, 1<<40) {
		t.Fatal("overflow")
	}
}
