package resp

import (
	"math/big"
	"testing"
)

// memBits is a bitRW over a byte slice, zero past its end.
type memBits struct{ b []byte }

func (m *memBits) ReadAt(p []byte, off int64) error {
	clear(p)
	if off < int64(len(m.b)) {
		copy(p, m.b[off:])
	}
	return nil
}

func (m *memBits) WriteAt(p []byte, off int64) error {
	if need := int(off) + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[off:], p)
	return nil
}

// FuzzBitfieldArgs: BITFIELD's parser never panics, what it accepts is
// within Redis's limits, and running the operations agrees with an
// arbitrary-precision model of WRAP, SAT and FAIL.
func FuzzBitfieldArgs(f *testing.F) {
	for _, s := range []string{
		"get u8 0", "set i64 0 -9223372036854775808 incrby i64 0 -1", "overflow sat incrby u63 #3 9223372036854775807",
		"overflow fail incrby i5 100 16 get i5 100", "set u8 #1000 1", "get u64 0", "get i65 0", "get x8 0",
		"overflow foo get u8 0", "set u8 0", "incrby u1 7 -1 incrby u1 7 -1", "get u8 -1", "get u8 #-1", "set i1 0 -1 get i1 0",
		"overflow wrap set u3 5 100 overflow sat set i4 3 -100 get i4 3",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := splitArgs(data)
		ops, highest, e := parseBitfield(args)
		if e != "" {
			return
		}
		hi := int64(-1)
		for _, op := range ops {
			if op.width < 1 || op.width > 64 || !op.signed && op.width > 63 {
				t.Fatalf("accepted width %d signed %v", op.width, op.signed)
			}
			if op.offset < 0 || op.offset>>3 >= maxBitBytes {
				t.Fatalf("accepted offset %d", op.offset)
			}
			if op.op != 'g' {
				hi = max(hi, op.offset+int64(op.width)-1)
			}
		}
		if hi != highest {
			t.Fatalf("highest %d; ops reach %d", highest, hi)
		}
		if highest >= 1<<16 {
			return // the model below runs on small buffers only
		}
		m := &memBits{}
		for k := range ops {
			op := &ops[k]
			var before [9]byte
			_ = m.ReadAt(before[:], op.offset>>3)
			rel := op.offset - op.offset>>3<<3
			oldU := getBitfield(before[:], rel, op.width)
			old := new(big.Int).SetUint64(oldU)
			if op.signed {
				old.SetInt64(int64(signExtend(oldU, op.width)))
			}
			v, isNil, err := applyBitfield(m, op)
			if err != nil {
				t.Fatal(err)
			}
			if op.op == 'g' {
				if isNil || big.NewInt(v).Cmp(old) != 0 && !(op.width == 64 && !op.signed) {
					t.Fatalf("GET %+v = %d; want %v", *op, v, old)
				}
				continue
			}
			want := new(big.Int).SetInt64(op.val)
			if op.op == 'i' {
				want.Add(want, old)
			}
			lo, top := new(big.Int), new(big.Int).Lsh(big.NewInt(1), uint(op.width))
			if op.signed {
				lo.Neg(new(big.Int).Lsh(big.NewInt(1), uint(op.width-1)))
				top.Lsh(big.NewInt(1), uint(op.width-1))
			}
			top.Sub(top, big.NewInt(1))
			inRange := want.Cmp(lo) >= 0 && want.Cmp(top) <= 0
			stored := new(big.Int).Set(want)
			switch {
			case inRange:
			case op.ovf == 'f':
				if !isNil {
					t.Fatalf("%+v overflowed without FAIL's nil", *op)
				}
				stored.Set(old)
			case op.ovf == 's':
				if want.Cmp(lo) < 0 {
					stored.Set(lo)
				} else {
					stored.Set(top)
				}
			default: // wrap: modulo 2^width, then back into [lo, top]
				mod := new(big.Int).Lsh(big.NewInt(1), uint(op.width))
				stored.Mod(stored, mod)
				if stored.Cmp(top) > 0 {
					stored.Sub(stored, mod)
				}
			}
			var after [9]byte
			_ = m.ReadAt(after[:], op.offset>>3)
			gotU := getBitfield(after[:], rel, op.width)
			got := new(big.Int).SetUint64(gotU)
			if op.signed {
				got.SetInt64(int64(signExtend(gotU, op.width)))
			}
			if got.Cmp(stored) != 0 {
				t.Fatalf("%+v on %v stored %v; want %v", *op, old, got, stored)
			}
			if !isNil {
				ret := old
				if op.op == 'i' {
					ret = stored
				}
				if big.NewInt(v).Cmp(ret) != 0 {
					t.Fatalf("%+v replied %d; want %v", *op, v, ret)
				}
			}
		}
	})
}
