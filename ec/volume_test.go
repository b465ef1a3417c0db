package ec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gpucache/gpucache/nvme"
)

// layout is one volume shape under test.
type layout struct{ k, m, devs int }

func (l layout) String() string { return fmt.Sprintf("%d+%d/%d", l.k, l.m, l.devs) }

var layouts = []layout{{1, 0, 1}, {1, 0, 3}, {2, 0, 2}, {1, 1, 2}, {4, 2, 6}, {4, 2, 8}, {8, 3, 11}}

// backends makes n devices of one kind; every volume test runs on each.
var backends = map[string]func(t testing.TB, n int) []nvme.Device{
	"mem": func(t testing.TB, n int) []nvme.Device {
		devs := make([]nvme.Device, n)
		for i := range devs {
			devs[i] = nvme.NewMem(fmt.Sprintf("mem%d", i), 1<<30)
		}
		return devs
	},
	"dir": func(t testing.TB, n int) []nvme.Device {
		root := t.TempDir()
		devs := make([]nvme.Device, n)
		for i := range devs {
			d, err := nvme.OpenDir(fmt.Sprintf("%s/nvme%d", root, i))
			if err != nil {
				t.Fatal(err)
			}
			devs[i] = d
		}
		return devs
	},
}

func forEachLayout(t *testing.T, fn func(t *testing.T, l layout, mk func(t testing.TB, n int) []nvme.Device)) {
	for bname, mk := range backends {
		for _, l := range layouts {
			t.Run(bname+"/"+l.String(), func(t *testing.T) { fn(t, l, mk) })
		}
	}
}

func mustOpen(t testing.TB, devs []nvme.Device, k, m int, opts ...Option) *Volume {
	t.Helper()
	v, err := Open(devs, k, m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// pattern returns n aligned bytes derived from seed.
func pattern(t testing.TB, n int, seed uint64) []byte {
	b := nvme.AlignedAlloc(n)
	t.Cleanup(func() { nvme.AlignedFree(b) })
	r := rand.New(rand.NewPCG(seed, 7))
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// split cuts b into aligned buffers of varied sizes.
func split(b []byte, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 9))
	var bufs [][]byte
	for len(b) > 0 {
		n := min(len(b), (1+r.IntN(5))*nvme.Align)
		bufs = append(bufs, b[:n])
		b = b[n:]
	}
	return bufs
}

// writeFile creates name with stripes of pattern data and syncs it.
func writeFile(t testing.TB, v *Volume, name string, stripes int, seed uint64) []byte {
	t.Helper()
	size := int64(stripes) * v.StripeWidth()
	f, err := v.Create(name, size)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := pattern(t, int(size), seed)
	// Two writes, to exercise a second region.
	half := int64(stripes/2) * v.StripeWidth()
	if n, err := f.WritevAt(split(data[:half], seed), 0); err != nil || n != half {
		t.Fatalf("write: %d %v", n, err)
	}
	if n, err := f.WritevAt(split(data[half:], seed+1), half); err != nil || n != size-half {
		t.Fatalf("write: %d %v", n, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return data
}

// checkFile reads name back whole and in random aligned pieces.
func checkFile(t testing.TB, v *Volume, name string, want []byte) {
	t.Helper()
	f, err := v.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Size() != int64(len(want)) {
		t.Fatalf("size %d, want %d", f.Size(), len(want))
	}
	got := nvme.AlignedAlloc(len(want))
	defer nvme.AlignedFree(got)
	if n, err := f.ReadvAt(split(got, 3), 0); err != nil || n != int64(len(want)) {
		t.Fatalf("read %s: %d %v", name, n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %s: wrong bytes", name)
	}
	r := rand.New(rand.NewPCG(uint64(len(want)), 1))
	units := len(want) / nvme.Align
	for i := 0; i < 20; i++ {
		a := r.IntN(units)
		b := a + 1 + r.IntN(min(units-a, 40))
		clear(got[a*nvme.Align : b*nvme.Align])
		if _, err := f.ReadvAt(split(got[a*nvme.Align:b*nvme.Align], uint64(i)), int64(a*nvme.Align)); err != nil {
			t.Fatalf("read %s [%d,%d) units: %v", name, a, b, err)
		}
		if !bytes.Equal(got[a*nvme.Align:b*nvme.Align], want[a*nvme.Align:b*nvme.Align]) {
			t.Fatalf("read %s [%d,%d) units: wrong bytes", name, a, b)
		}
	}
}

func TestVolumeRoundTrip(t *testing.T) {
	forEachLayout(t, func(t *testing.T, l layout, mk func(testing.TB, int) []nvme.Device) {
		devs := mk(t, l.devs)
		v := mustOpen(t, devs, l.k, l.m)
		want := map[string][]byte{}
		for i := 0; i < 4; i++ {
			name := fmt.Sprintf("seg-%d", i)
			want[name] = writeFile(t, v, name, 300+i, uint64(i))
		}
		for name, w := range want {
			checkFile(t, v, name, w)
		}
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
		// Reopen with the devices in another order.
		rand.Shuffle(len(devs), func(i, j int) { devs[i], devs[j] = devs[j], devs[i] })
		v = mustOpen(t, devs, l.k, l.m)
		defer v.Close()
		names, err := v.List()
		if err != nil || strings.Join(names, ",") != "seg-0,seg-1,seg-2,seg-3" {
			t.Fatalf("list after reopen: %v %v", names, err)
		}
		for name, w := range want {
			checkFile(t, v, name, w)
		}
		if err := v.Remove("seg-1"); err != nil {
			t.Fatal(err)
		}
		if err := v.Remove("seg-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Open("seg-1"); !errors.Is(err, nvme.ErrNotExist) {
			t.Fatalf("open removed: %v", err)
		}
		used, free, err := v.Usage()
		if err != nil || used <= 0 || free <= 0 {
			t.Fatalf("usage: %d %d %v", used, free, err)
		}
	})
}

func TestVolumeErrors(t *testing.T) {
	devs := backends["mem"](t, 6)
	v := mustOpen(t, devs, 4, 2)
	defer v.Close()
	sw := v.StripeWidth()
	if sw != 4*nvme.Align {
		t.Fatalf("stripe width %d", sw)
	}
	if _, err := v.Create("x", sw+nvme.Align); !errors.Is(err, ErrRange) {
		t.Fatalf("odd size: %v", err)
	}
	for _, bad := range []string{"", "a/b", "x.s1", labelName} {
		if _, err := v.Create(bad, sw); !errors.Is(err, ErrBadName) {
			t.Errorf("create %q: %v", bad, err)
		}
	}
	f, err := v.Create("x", 4*sw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := pattern(t, int(2*sw), 1)
	if _, err := f.WritevAt([][]byte{buf[:nvme.Align]}, 0); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("partial stripe: %v", err)
	}
	if _, err := f.WritevAt([][]byte{buf}, sw); !errors.Is(err, nil) {
		t.Fatalf("aligned write: %v", err)
	}
	if _, err := f.WritevAt([][]byte{buf}, 3*sw); !errors.Is(err, ErrRange) {
		t.Fatalf("beyond end: %v", err)
	}
	if _, err := f.ReadvAt([][]byte{buf[1:4097]}, 0); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("unaligned buffer: %v", err)
	}
	n, err := f.ReadvAt([][]byte{buf}, 3*sw)
	if n != sw || !errors.Is(err, io.EOF) {
		t.Fatalf("read past end: %d %v", n, err)
	}
	if _, err := Open(devs, 2, 2); !errors.Is(err, ErrLayout) {
		t.Fatalf("reopen with other k: %v", err)
	}
	if _, err := Open(backends["mem"](t, 3), 4, 2); !errors.Is(err, ErrDevices) {
		t.Fatalf("too few devices: %v", err)
	}
}
