package nvme

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func newFaultFile(t *testing.T, seed uint64) (*Fault, File, []byte) {
	t.Helper()
	f := NewFault(NewMem("m", 1<<20), seed)
	file, err := f.Create("x", 16*Align)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	return f, file, randAligned(t, 4*Align, seed)
}

func TestFaultNth(t *testing.T) {
	f, file, buf := newFaultFile(t, 1)
	f.SetRule(OpWrite, Rule{Nth: 3})
	for i := 1; i <= 5; i++ {
		_, err := file.WriteAt(buf, 0)
		if (i == 3) != errors.Is(err, ErrInjected) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	f.SetRule(OpRead, Rule{Nth: 2, Every: true})
	for i := 1; i <= 4; i++ {
		_, err := file.ReadAt(buf, 0)
		if (i >= 2) != errors.Is(err, ErrInjected) {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	f.SetRule(OpSync, Rule{Nth: 1})
	if err := file.Sync(); !errors.Is(err, ErrInjected) || !bytes.Contains([]byte(err.Error()), []byte("m")) {
		t.Fatalf("sync: %v", err)
	}
	st := f.Stats()
	if st.Errors[OpWrite] != 1 || st.Errors[OpRead] != 3 || st.Errors[OpSync] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultProbDeterministic(t *testing.T) {
	run := func() []bool {
		f, file, buf := newFaultFile(t, 42)
		f.SetRule(OpRead, Rule{Prob: 0.3})
		var out []bool
		for i := 0; i < 100; i++ {
			_, err := file.ReadAt(buf, 0)
			out = append(out, err != nil)
			f.Health().Reset() // keep going past FailAfter
		}
		return out
	}
	a, b := run(), run()
	n := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed, different faults")
		}
		if a[i] {
			n++
		}
	}
	if n < 15 || n > 45 {
		t.Fatalf("%d of 100 reads failed at p=0.3", n)
	}
}

func TestFaultMarkedFailed(t *testing.T) {
	f, file, buf := newFaultFile(t, 1)
	f.SetRule(OpRead, Rule{Prob: 1})
	for i := 0; i < 8; i++ {
		file.ReadAt(buf, 0)
	}
	if !f.Health().Failed() {
		t.Fatal("not failed after 8 consecutive errors")
	}
	if _, err := file.WriteAt(buf, 0); !errors.Is(err, ErrFailed) {
		t.Fatalf("write on failed device: %v", err)
	}
	f.Heal()
	if _, err := file.WriteAt(buf, 0); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}

func TestFaultTornWrite(t *testing.T) {
	f, file, buf := newFaultFile(t, 5)
	f.TearWrites(1)
	if n, err := file.WriteAt(buf, 0); err != nil || n != len(buf) {
		t.Fatalf("torn write must look successful: %d %v", n, err)
	}
	got := AlignedAlloc(len(buf))
	defer AlignedFree(got)
	f.TearWrites(0)
	if _, err := file.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, buf) {
		t.Fatal("torn write wrote everything")
	}
	// What did land is a prefix of whole units.
	for u := 0; u < 4; u++ {
		g, w := got[u*Align:(u+1)*Align], buf[u*Align:(u+1)*Align]
		if !bytes.Equal(g, w) {
			if !bytes.Equal(got[u*Align:], make([]byte, len(got)-u*Align)) {
				t.Fatal("torn write is not a prefix")
			}
			break
		}
	}
	if f.Stats().TornWrites != 1 {
		t.Fatal("torn write not counted")
	}
}

func TestFaultFlipBits(t *testing.T) {
	f, file, buf := newFaultFile(t, 6)
	if _, err := file.WriteAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	f.FlipBits(1)
	got := AlignedAlloc(len(buf))
	defer AlignedFree(got)
	if _, err := file.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range got {
		x := got[i] ^ buf[i]
		for ; x != 0; x &= x - 1 {
			diff++
		}
	}
	if diff != 1 {
		t.Fatalf("%d bits differ, want 1", diff)
	}
}

func TestFaultVanishReadOnlyLatency(t *testing.T) {
	f, file, buf := newFaultFile(t, 7)
	f.SetReadOnly(true)
	if _, err := file.WriteAt(buf, 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("write on read-only: %v", err)
	}
	if _, err := f.Create("y", Align); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("create on read-only: %v", err)
	}
	if _, err := file.ReadAt(buf, 0); err != nil {
		t.Fatalf("read on read-only: %v", err)
	}
	f.SetReadOnly(false)
	f.SetLatency(20 * time.Millisecond)
	start := time.Now()
	file.ReadAt(buf, 0)
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("latency not added")
	}
	f.SetLatency(0)
	f.Vanish()
	if _, err := file.ReadAt(buf, 0); !errors.Is(err, ErrFailed) {
		t.Fatalf("read on vanished: %v", err)
	}
	if _, err := f.List(); !errors.Is(err, ErrFailed) {
		t.Fatalf("list on vanished: %v", err)
	}
	if !f.Stats().Vanished || !f.Health().Failed() {
		t.Fatal("vanish not reported")
	}
}
