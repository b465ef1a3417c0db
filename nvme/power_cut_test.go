package nvme

import (
	"bytes"
	"errors"
	"testing"
)

// TestPowerCut writes a synced block and an unsynced one over it, cuts the
// power, and reads the drive back: the synced bytes always survive, and
// the unsynced write is kept, lost or torn at a whole-Align boundary.
func TestPowerCut(t *testing.T) {
	var fates PowerCutStats
	for seed := uint64(1); seed <= 40; seed++ {
		inner := NewMem("m", 1<<20)
		f := NewFault(inner, seed)
		f.TrackUnsynced(true)
		file, err := f.Create("x", 16*Align)
		if err != nil {
			t.Fatal(err)
		}
		a, b := randAligned(t, 4*Align, seed), randAligned(t, 4*Align, seed+1000)
		if _, err := file.WriteAt(a, 0); err != nil {
			t.Fatal(err)
		}
		if err := file.Sync(); err != nil {
			t.Fatal(err)
		}
		if _, err := file.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
		st := f.PowerCut()
		fates.Kept += st.Kept
		fates.Lost += st.Lost
		fates.Torn += st.Torn
		if st.Kept+st.Lost+st.Torn != 1 {
			t.Fatalf("seed %d: %+v, want one unsynced write", seed, st)
		}
		if _, err := file.WriteAt(a, 0); !errors.Is(err, ErrFailed) {
			t.Fatalf("write after the cut: %v, want ErrFailed", err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		// Boot again on the inner device.
		again, err := NewFault(inner, seed).Open("x")
		if err != nil {
			t.Fatal(err)
		}
		got := AlignedAlloc(4 * Align)
		if _, err := again.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		// Every Align block is a's or b's, and b's blocks form a prefix.
		inB := true
		for i := 0; i < len(got); i += Align {
			blk := got[i : i+Align]
			switch {
			case bytes.Equal(blk, b[i:i+Align]) && inB:
			case bytes.Equal(blk, a[i:i+Align]):
				inB = false
			default:
				t.Fatalf("seed %d: block %d is neither the synced nor the unsynced write's prefix (%+v)", seed, i/Align, st)
			}
		}
		switch {
		case st.Kept == 1 && !bytes.Equal(got, b), st.Lost == 1 && !bytes.Equal(got, a):
			t.Fatalf("seed %d: %+v but the drive holds something else", seed, st)
		}
		AlignedFree(got)
	}
	if fates.Kept == 0 || fates.Lost == 0 || fates.Torn == 0 {
		t.Fatalf("40 cuts gave %+v: every fate should occur", fates)
	}
}

// TestPowerCutSyncedFile: a Sync covers its own file's writes only.
func TestPowerCutSyncedFile(t *testing.T) {
	inner := NewMem("m", 1<<20)
	f := NewFault(inner, 7)
	f.TrackUnsynced(true)
	x, _ := f.Create("x", 4*Align)
	y, _ := f.Create("y", 4*Align)
	buf := randAligned(t, Align, 3)
	x.WriteAt(buf, 0)
	y.WriteAt(buf, 0)
	if err := x.Sync(); err != nil {
		t.Fatal(err)
	}
	if st := f.PowerCut(); st.Kept+st.Lost+st.Torn != 1 {
		t.Fatalf("after syncing x, the cut saw %+v; want y's one write", st)
	}
}
