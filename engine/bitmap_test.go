package engine

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// bitsModel applies random writes to a bitmap key and to a byte slice and
// checks every read against the slice, across a restart.
func TestBitmapModel(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	r := rand.New(rand.NewPCG(1, 2))
	var model []byte
	key := []byte("bm")
	for i := 0; i < 300; i++ {
		off := r.Int64N(20000)
		if r.IntN(10) == 0 {
			off = r.Int64N(3 << 20)
		}
		p := make([]byte, 1+r.IntN(2500))
		for j := range p {
			if r.IntN(3) == 0 {
				p[j] = byte(r.Uint32())
			}
		}
		if err := e.WriteBits("", key, func(b *Bits) error { return b.WriteAt(p, off) }); err != nil {
			t.Fatal(err)
		}
		if need := int(off) + len(p); need > len(model) {
			model = append(model, make([]byte, need-len(model))...)
		}
		copy(model[off:], p)
		lo := r.Int64N(int64(len(model)))
		n := 1 + r.Int64N(5000)
		err := e.ReadBits("", key, func(b *Bits) error {
			if b.IsString() || b.Len() != int64(len(model)) {
				t.Fatalf("len %d string %v; want %d", b.Len(), b.IsString(), len(model))
			}
			got := make([]byte, n)
			if err := b.ReadAt(got, lo); err != nil {
				return err
			}
			want := make([]byte, n)
			if lo < int64(len(model)) {
				copy(want, model[lo:])
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("ReadAt(%d, %d) differs", lo, n)
			}
			// Chunks cover [lo, lo+n) in order, zeros between them.
			next := lo
			return b.Chunks(lo, lo+n, func(o int64, c []byte) bool {
				if o < next {
					t.Fatalf("chunk at %d before %d", o, next)
				}
				for ; next < o; next++ {
					if model[next] != 0 {
						t.Fatalf("gap byte %d is %x in the model", next, model[next])
					}
				}
				if !bytes.Equal(c, model[o:o+int64(len(c))]) {
					t.Fatalf("chunk at %d differs", o)
				}
				next = o + int64(len(c))
				return true
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = openTest(t, dir, nil)
	defer e.Close()
	got, err := e.BitmapString("", key, 1<<30)
	if err != nil || !bytes.Equal(got, model) {
		t.Fatalf("after restart: %d bytes, %v; want %d", len(got), err, len(model))
	}
	if _, err := e.BitmapString("", key, 10); err != ErrBitmapTooLarge {
		t.Fatalf("BitmapString over max: %v", err)
	}
	m, err := e.Stat("", key)
	if err != nil || m.Type != TypeBitmap || m.Size != int64(len(model)) {
		t.Fatalf("Stat: %+v %v", m, err)
	}
}

// A bit set far out writes one fragment, not the bytes before it.
func TestBitmapSparse(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	const off = 400 << 20
	if err := e.WriteBits("", []byte("s"), func(b *Bits) error { return b.WriteAt([]byte{0x80}, off) }); err != nil {
		t.Fatal(err)
	}
	var frags int
	txn(t, e, []string{"s"}, func(tx *Txn) error {
		if _, _, err := tx.Meta(0); err != nil {
			return err
		}
		it, err := tx.subIter(0, nil, nil)
		if err != nil {
			return err
		}
		for ok := it.First(); ok; ok = it.Next() {
			frags++
			if v, _ := it.Value(); len(v) > BitmapFragmentBytes {
				t.Fatalf("fragment of %d bytes", len(v))
			}
		}
		return it.Close()
	})
	if frags != 1 {
		t.Fatalf("%d fragments; want 1", frags)
	}
	m, _ := e.Stat("", []byte("s"))
	if m.Size != off+1 {
		t.Fatalf("size %d", m.Size)
	}
	if err := e.WriteBits("", []byte("s"), func(b *Bits) error { return b.Grow(MaxBitmapBytes + 1) }); err != ErrTooLarge {
		t.Fatalf("Grow past the limit: %v", err)
	}
}

// Bit writes to a string key rewrite the string; other types are refused.
func TestBitsOnString(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	if _, err := e.PutBytes("", []byte("str"), []byte("ab"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.WriteBits("", []byte("str"), func(b *Bits) error {
		if !b.IsString() || b.Len() != 2 {
			t.Fatalf("string view: %v %d", b.IsString(), b.Len())
		}
		return b.WriteAt([]byte{'Z'}, 3)
	}); err != nil {
		t.Fatal(err)
	}
	v, err := e.Get("", []byte("str"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Meta().Type != TypeString || string(v.Bytes()) != "ab\x00Z" {
		t.Fatalf("got %v %q", v.Meta().Type, v.Bytes())
	}
	v.Release()
	txn(t, e, []string{"h"}, func(tx *Txn) error { _, err := tx.HashSet(0, []byte("f"), []byte("v"), false); return err })
	if err := e.ReadBits("", []byte("h"), func(*Bits) error { return nil }); err != ErrWrongType {
		t.Fatalf("ReadBits of a hash: %v", err)
	}
	if _, err := e.BitmapString("", []byte("str"), 100); err != ErrWrongType {
		t.Fatalf("BitmapString of a string: %v", err)
	}
	// Reading an absent key sees an empty value and creates nothing.
	if err := e.WriteBits("", []byte("none"), func(b *Bits) error {
		p := make([]byte, 3)
		return b.ReadAt(p, 100)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Stat("", []byte("none")); err != ErrNotFound {
		t.Fatalf("a read created the key: %v", err)
	}
}

func TestBitOp(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	r := rand.New(rand.NewPCG(3, 4))
	srcs := map[string][]byte{}
	for _, k := range []string{"a", "b", "c"} {
		p := make([]byte, r.IntN(5000))
		for i := range p {
			if r.IntN(4) == 0 {
				p[i] = byte(r.Uint32())
			}
		}
		srcs[k] = p
		if err := e.WriteBits("", []byte(k), func(b *Bits) error { return b.WriteAt(p, 0) }); err != nil {
			t.Fatal(err)
		}
	}
	srcs["s"] = []byte("a string source")
	if _, err := e.PutBytes("", []byte("s"), srcs["s"], PutOptions{}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "b", "missing", "s", "c"}
	for _, op := range []BitOpKind{BitAnd, BitOr, BitXor} {
		var want []byte
		for _, k := range keys {
			want = append(want, make([]byte, max(0, len(srcs[k])-len(want)))...)
		}
		for i := range want {
			var v byte
			for j, k := range keys {
				var c byte
				if i < len(srcs[k]) {
					c = srcs[k][i]
				}
				switch {
				case j == 0:
					v = c
				case op == BitAnd:
					v &= c
				case op == BitOr:
					v |= c
				default:
					v ^= c
				}
			}
			want[i] = v
		}
		bk := make([][]byte, len(keys))
		for i, k := range keys {
			bk[i] = []byte(k)
		}
		// The destination is a source too: it is read before it is replaced.
		n, err := e.BitOp("", op, []byte("a"), bk)
		if err != nil || n != int64(len(want)) {
			t.Fatalf("op %d: %d %v", op, n, err)
		}
		got, err := e.BitmapString("", []byte("a"), 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("op %d: result differs (%v)", op, err)
		}
		srcs["a"] = want
	}
	n, err := e.BitOp("", BitNot, []byte("d"), [][]byte{[]byte("s")})
	if err != nil || n != int64(len(srcs["s"])) {
		t.Fatal(n, err)
	}
	got, _ := e.BitmapString("", []byte("d"), 1<<20)
	for i := range got {
		if got[i] != ^srcs["s"][i] {
			t.Fatalf("NOT byte %d", i)
		}
	}
	if n, err := e.BitOp("", BitOr, []byte("d"), [][]byte{[]byte("x"), []byte("y")}); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := e.Stat("", []byte("d")); err != ErrNotFound {
		t.Fatalf("an empty result left the destination: %v", err)
	}
}

// Bit writes retry across a key turning from string to bitmap to absent
// and back: each lands on whatever the key is, and none fails.
func TestBitsTypeChurn(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	key := []byte("churn")
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 300; i++ {
			var err error
			switch i % 3 {
			case 0:
				_, err = e.PutBytes("", key, []byte("string value"), PutOptions{})
			case 1:
				_, err = e.Delete("", [][]byte{key})
			default:
				err = e.WriteBits("", key, func(b *Bits) error { return b.WriteAt([]byte{1}, 5000) })
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 300; i++ {
		off := int64(i % 64)
		if err := e.WriteBits("", key, func(b *Bits) error {
			var p [1]byte
			if err := b.ReadAt(p[:], off); err != nil {
				return err
			}
			p[0] |= 0x80
			return b.WriteAt(p[:], off)
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.ReadBits("", key, func(b *Bits) error {
			var p [1]byte
			return b.ReadAt(p[:], off)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func BenchmarkBitmapSetBit(b *testing.B) {
	e := openTest(b, b.TempDir(), nil)
	defer e.Close()
	key := []byte("bench")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		off := int64(i*7919) % 1_000_000
		if err := e.WriteBits("", key, func(bs *Bits) error {
			var p [1]byte
			if err := bs.ReadAt(p[:], off>>3); err != nil {
				return err
			}
			p[0] |= 0x80 >> (off & 7)
			return bs.WriteAt(p[:], off>>3)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashSetForComparison(b *testing.B) {
	e := openTest(b, b.TempDir(), nil)
	defer e.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f := []byte{byte(i), byte(i >> 8)}
		if err := e.Txn("", [][]byte{[]byte("h")}, func(t *Txn) error {
			_, err := t.HashSet(0, f, f, false)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BITOP of sparse bitmaps computes only the fragments some source stores.
func TestBitOpSparse(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	set := func(key string, off int64, v byte) {
		if err := e.WriteBits("", []byte(key), func(b *Bits) error { return b.WriteAt([]byte{v}, off) }); err != nil {
			t.Fatal(err)
		}
	}
	set("x", 10, 0x0f)
	set("x", 3<<20, 0xf0)
	set("y", 10, 0xff)
	set("y", 2<<20, 0x01)
	check := func(op BitOpKind, want map[int64]byte) {
		n, err := e.BitOp("", op, []byte("d"), [][]byte{[]byte("x"), []byte("y")})
		if err != nil || n != 3<<20+1 {
			t.Fatalf("op %d: %d %v", op, n, err)
		}
		got, err := e.BitmapString("", []byte("d"), 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if want[int64(i)] != v {
				t.Fatalf("op %d: byte %d = %x; want %x", op, i, v, want[int64(i)])
			}
		}
	}
	check(BitOr, map[int64]byte{10: 0xff, 2 << 20: 0x01, 3 << 20: 0xf0})
	check(BitAnd, map[int64]byte{10: 0x0f})
	check(BitXor, map[int64]byte{10: 0xf0, 2 << 20: 0x01, 3 << 20: 0xf0})
}
