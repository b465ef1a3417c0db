package nvme

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

// deviceImpls lists every Device implementation; each test in the suite
// runs against all of them (the bbolt habit: one suite, every backend).
func deviceImpls(t *testing.T) map[string]func(t *testing.T) Device {
	m := map[string]func(t *testing.T) Device{
		"mem":   func(t *testing.T) Device { return NewMem("mem0", 64<<20) },
		"fault": func(t *testing.T) Device { return NewFault(NewMem("mem1", 64<<20), 1) },
		"dir": func(t *testing.T) Device {
			d, err := OpenDir(t.TempDir() + "/dev")
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		m["dir-shm"] = func(t *testing.T) Device {
			dir, err := os.MkdirTemp("/dev/shm", "nvme-test-")
			if err != nil {
				t.Skip(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			d, err := OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	return m
}

func forEachDevice(t *testing.T, fn func(t *testing.T, d Device)) {
	for name, mk := range deviceImpls(t) {
		t.Run(name, func(t *testing.T) {
			d := mk(t)
			defer d.Close()
			fn(t, d)
		})
	}
}

func randAligned(t testing.TB, n int, seed uint64) []byte {
	b := AlignedAlloc(n)
	t.Cleanup(func() { AlignedFree(b) })
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestDeviceRoundTrip(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d Device) {
		f, err := d.Create("seg1", 64*Align)
		if err != nil {
			t.Fatal(err)
		}
		if sz, _ := f.Size(); sz != 64*Align {
			t.Fatalf("size %d after create", sz)
		}
		src := randAligned(t, 16*Align, 1)
		bufs := [][]byte{src[:4*Align], src[4*Align : 5*Align], src[5*Align:]}
		if n, err := f.WritevAt(bufs, 8*Align); err != nil || n != int64(len(src)) {
			t.Fatalf("write: %d %v", n, err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		f, err = d.Open("seg1")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dst := AlignedAlloc(len(src))
		defer AlignedFree(dst)
		if n, err := f.ReadvAt([][]byte{dst[:Align], dst[Align:]}, 8*Align); err != nil || n != int64(len(dst)) {
			t.Fatalf("read: %d %v", n, err)
		}
		if !bytes.Equal(src, dst) {
			t.Fatal("read back different bytes")
		}
		// Reserved but unwritten space reads as zeros.
		if _, err := f.ReadAt(dst[:Align], 0); err != nil || !bytes.Equal(dst[:Align], make([]byte, Align)) {
			t.Fatalf("unwritten space: %v", err)
		}
		st := d.Health().Stats()
		if st.Reads < 2 || st.Writes < 1 || st.BytesWritten < int64(len(src)) {
			t.Fatalf("health not recorded: %+v", st)
		}
	})
}

func TestDeviceManyBuffers(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d Device) {
		const n = 2*iovMax + 17 // crosses IOV_MAX twice
		f, err := d.Create("many", n*Align)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		src := randAligned(t, n*Align, 2)
		bufs := make([][]byte, n)
		for i := range bufs {
			bufs[i] = src[i*Align : (i+1)*Align]
		}
		if w, err := f.WritevAt(bufs, 0); err != nil || w != int64(len(src)) {
			t.Fatalf("write: %d %v", w, err)
		}
		dst := AlignedAlloc(len(src))
		defer AlignedFree(dst)
		for i := range bufs {
			bufs[i] = dst[i*Align : (i+1)*Align]
		}
		if r, err := f.ReadvAt(bufs, 0); err != nil || r != int64(len(src)) {
			t.Fatalf("read: %d %v", r, err)
		}
		if !bytes.Equal(src, dst) {
			t.Fatal("mismatch")
		}
	})
}

func TestDeviceEOF(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d Device) {
		f, err := d.Create("short", 2*Align)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		buf := AlignedAlloc(4 * Align)
		defer AlignedFree(buf)
		n, err := f.ReadvAt([][]byte{buf}, Align)
		if n != Align || !errors.Is(err, io.EOF) {
			t.Fatalf("got %d %v, want %d io.EOF", n, err, Align)
		}
		// Writing past the reservation grows the file.
		if _, err := f.WriteAt(buf, 2*Align); err != nil {
			t.Fatal(err)
		}
		if sz, _ := f.Size(); sz != 6*Align {
			t.Fatalf("size %d, want %d", sz, 6*Align)
		}
	})
}

func TestDeviceUnaligned(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d Device) {
		f, err := d.Create("u", 4*Align)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		buf := AlignedAlloc(3 * Align)
		defer AlignedFree(buf)
		for name, call := range map[string]func() error{
			"offset":  func() error { _, err := f.WriteAt(buf[:Align], 512); return err },
			"length":  func() error { _, err := f.WriteAt(buf[:100], 0); return err },
			"address": func() error { _, err := f.ReadAt(buf[512:512+Align], 0); return err },
			"create":  func() error { _, err := d.Create("v", 100); return err },
		} {
			if err := call(); !errors.Is(err, ErrUnaligned) {
				t.Errorf("%s: got %v, want ErrUnaligned", name, err)
			}
		}
		if d.Health().Stats().WriteErrors != 0 || d.Health().Failed() {
			t.Fatal("caller mistakes must not count against the device")
		}
	})
}

func TestDeviceNames(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d Device) {
		for _, n := range []string{"b", "a", "c"} {
			f, err := d.Create(n, Align)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		names, err := d.List()
		if err != nil || strings.Join(names, ",") != "a,b,c" {
			t.Fatalf("list: %v %v", names, err)
		}
		if err := d.Remove("b"); err != nil {
			t.Fatal(err)
		}
		if err := d.Remove("b"); err != nil {
			t.Fatalf("removing a missing file: %v", err)
		}
		if _, err := d.Open("b"); !errors.Is(err, ErrNotExist) {
			t.Fatalf("open removed: %v", err)
		}
		for _, bad := range []string{"", ".", "..", "x/y"} {
			if _, err := d.Create(bad, 0); !errors.Is(err, ErrBadName) {
				t.Errorf("create %q: %v", bad, err)
			}
		}
		used, free, err := d.Usage()
		if err != nil || used < 0 || free <= 0 {
			t.Fatalf("usage %d %d %v", used, free, err)
		}
	})
}

func TestDeviceFailed(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d Device) {
		f, err := d.Create("x", Align)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		d.Health().MarkFailed()
		buf := AlignedAlloc(Align)
		defer AlignedFree(buf)
		_, err = f.ReadAt(buf, 0)
		if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), d.Name()) {
			t.Fatalf("read on failed device: %v", err)
		}
		if _, err := d.Create("y", Align); !errors.Is(err, ErrFailed) {
			t.Fatalf("create on failed device: %v", err)
		}
	})
}

func TestDeviceConcurrent(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d Device) {
		const workers, per = 8, 16
		f, err := d.Create("c", workers*per*Align)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		src := randAligned(t, workers*per*Align, 3)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					off := (w*per + i) * Align
					if _, err := f.WriteAt(src[off:off+Align], int64(off)); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		dst := AlignedAlloc(len(src))
		defer AlignedFree(dst)
		if _, err := f.ReadAt(dst, 0); err != nil || !bytes.Equal(src, dst) {
			t.Fatalf("concurrent writes: %v", err)
		}
	})
}

func TestDirDirect(t *testing.T) {
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("O_DIRECT on TempDir: %v", d.Direct())
	if d2, err := OpenDir(t.TempDir(), WithDirect(false)); err != nil || d2.Direct() {
		t.Fatalf("WithDirect(false): %v %v", d2.Direct(), err)
	}
	if d3, err := OpenDir(t.TempDir(), WithQueueDepth(3)); err != nil || d3.QueueDepth() != 3 {
		t.Fatal("queue depth option ignored")
	}
	if _, err := os.Stat("/dev/shm"); err == nil {
		dir, _ := os.MkdirTemp("/dev/shm", "nvme-test-")
		defer os.RemoveAll(dir)
		d, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("O_DIRECT on /dev/shm: %v", d.Direct())
	}
}

func TestPool(t *testing.T) {
	p := NewPool(1<<20, 2)
	defer p.Close()
	for _, n := range []int{1, Align, Align + 1, 1 << 20, 3 << 20} {
		b := p.Get(n)
		if len(b) != n || uintptr(len(b[:cap(b)]))%Align != 0 || !IsAligned(b[:cap(b)]) {
			t.Fatalf("Get(%d): len %d cap %d", n, len(b), cap(b))
		}
		b[n-1] = 1
		p.Put(b)
	}
	b1 := p.Get(5000)
	p.Put(b1)
	b2 := p.Get(6000)
	if &b1[0] != &b2[0] {
		t.Fatal("pool did not reuse a buffer of the same class")
	}
	p.Put(b2)
	if n := testing.AllocsPerRun(100, func() { p.Put(p.Get(64 << 10)) }); n != 0 {
		t.Fatalf("pool allocates %v per Get/Put", n)
	}
}
