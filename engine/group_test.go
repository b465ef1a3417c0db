package engine

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gpucache/gpucache/nvme"
)

// groupWrites is what the group tests write in one group: a small and a
// large overwrite, a new key, a hash field, a delete, an expiry and a
// rename, reading each write back inside the group.
func groupWrites(t *testing.T, g *Engine) error {
	t.Helper()
	if _, err := g.PutBytes("", []byte("small"), []byte("new"), PutOptions{}); err != nil {
		return err
	}
	if got := mustGet(t, g, "", "small"); string(got) != "new" {
		t.Errorf("inside the group GET small = %q, want its own write", got)
	}
	if _, err := g.PutBytes("", []byte("large"), pattern(2, 300<<10), PutOptions{}); err != nil {
		return err
	}
	if got := mustGet(t, g, "", "large"); !bytes.Equal(got, pattern(2, 300<<10)) {
		t.Errorf("inside the group GET large is not its own write")
	}
	if err := g.PutMany("", [][]byte{[]byte("fresh")}, [][]byte{[]byte("v")}); err != nil {
		return err
	}
	if err := g.Txn("", [][]byte{[]byte("h")}, func(tx *Txn) error {
		if err := tx.Create(0, TypeHash); err != nil {
			return err
		}
		_, err := tx.HashSet(0, []byte("f2"), []byte("v2"), false)
		return err
	}); err != nil {
		return err
	}
	if n, err := g.Delete("", [][]byte{[]byte("gone")}); err != nil || n != 1 {
		t.Errorf("inside the group DEL gone = %d, %v", n, err)
	}
	if _, err := g.Stat("", []byte("gone")); err != ErrNotFound {
		t.Errorf("inside the group, a deleted key stats as %v", err)
	}
	if _, err := g.Expire("", []byte("ttl"), nowMs()+100_000, ExpireAlways); err != nil {
		return err
	}
	if _, err := g.Rename("", []byte("from"), []byte("to"), false); err != nil {
		return err
	}
	if n := g.DBSize(""); n != 6 {
		t.Errorf("inside the group DBSIZE = %d, want 6", n)
	}
	return nil
}

func groupBaseline(t *testing.T, e *Engine) {
	t.Helper()
	mustPut(t, e, "", "small", []byte("old"), PutOptions{})
	mustPut(t, e, "", "large", pattern(1, 200<<10), PutOptions{})
	mustPut(t, e, "", "gone", []byte("here"), PutOptions{})
	mustPut(t, e, "", "ttl", []byte("t"), PutOptions{})
	mustPut(t, e, "", "from", []byte("r"), PutOptions{})
	txn(t, e, []string{"h"}, func(tx *Txn) error {
		if err := tx.Create(0, TypeHash); err != nil {
			return err
		}
		_, err := tx.HashSet(0, []byte("f1"), []byte("v1"), false)
		return err
	})
}

// checkBaseline: nothing of the group is there.
func checkBaseline(t *testing.T, e *Engine) {
	t.Helper()
	if got := mustGet(t, e, "", "small"); string(got) != "old" {
		t.Errorf("small = %q, want old", got)
	}
	if got := mustGet(t, e, "", "large"); !bytes.Equal(got, pattern(1, 200<<10)) {
		t.Errorf("large is not its old value")
	}
	for _, k := range []string{"fresh", "to"} {
		if _, err := e.Stat("", []byte(k)); err != ErrNotFound {
			t.Errorf("%s exists (%v): the group's write leaked", k, err)
		}
	}
	for _, k := range []string{"gone", "from"} {
		if _, err := e.Stat("", []byte(k)); err != nil {
			t.Errorf("%s: %v, want it still there", k, err)
		}
	}
	if m, err := e.Stat("", []byte("ttl")); err != nil || m.ExpireAt != 0 {
		t.Errorf("ttl: %+v, %v: want no expiry", m, err)
	}
	if h := hashAll(t, e, "h"); len(h) != 1 || h["f1"] != "v1" {
		t.Errorf("h = %v, want only f1", h)
	}
	if n := e.DBSize(""); n != 6 {
		t.Errorf("DBSIZE = %d, want 6", n)
	}
}

func checkGroup(t *testing.T, e *Engine) {
	t.Helper()
	if got := mustGet(t, e, "", "small"); string(got) != "new" {
		t.Errorf("small = %q, want new", got)
	}
	if got := mustGet(t, e, "", "large"); !bytes.Equal(got, pattern(2, 300<<10)) {
		t.Errorf("large is not the group's value")
	}
	for _, k := range []string{"fresh", "to"} {
		if _, err := e.Stat("", []byte(k)); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	for _, k := range []string{"gone", "from"} {
		if _, err := e.Stat("", []byte(k)); err != ErrNotFound {
			t.Errorf("%s exists (%v) after the group deleted it", k, err)
		}
	}
	if m, err := e.Stat("", []byte("ttl")); err != nil || m.ExpireAt == 0 {
		t.Errorf("ttl: %+v, %v: want an expiry", m, err)
	}
	if h := hashAll(t, e, "h"); len(h) != 2 || h["f2"] != "v2" {
		t.Errorf("h = %v, want f1 and f2", h)
	}
	if n := e.DBSize(""); n != 6 {
		t.Errorf("DBSIZE = %d, want 6", n)
	}
}

// TestGroupCommitsOnce: the group's writes appear together, and readers
// that take the key's lock wait for the commit instead of seeing half.
func TestGroupCommitsOnce(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	groupBaseline(t, e)
	got := make(chan string, 1)
	err := e.Group(func(g *Engine) error {
		if err := groupWrites(t, g); err != nil {
			return err
		}
		go func() {
			// NB: "small" was written by the group: its small-value
			// entry is gone, so this read takes the key's lock.
			v, err := e.Get("", []byte("small"))
			if err != nil {
				got <- err.Error()
				return
			}
			got <- string(v.Bytes())
			v.Release()
		}()
		// The outside reader cannot finish while the group holds the key.
		select {
		case s := <-got:
			t.Errorf("a reader outside the group saw %q before the commit", s)
		case <-time.After(50 * time.Millisecond):
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "new" {
		t.Errorf("the outside reader got %q after the commit, want new", s)
	}
	checkGroup(t, e)
}

// TestGroupFailsWhole: a group whose function fails writes nothing, and
// its in-memory traces (counts, references, tiers) are gone.
func TestGroupFailsWhole(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, nil)
	groupBaseline(t, e)
	boom := errors.New("boom")
	err := e.Group(func(g *Engine) error {
		if err := groupWrites(t, g); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Group = %v, want its function's error", err)
	}
	checkBaseline(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, dir, nil)
	defer e.Close()
	checkBaseline(t, e)
}

// TestGroupTxnErrorRollsBack: a Txn that fails inside a group takes back
// only its own writes; the group's earlier writes stay.
func TestGroupTxnErrorRollsBack(t *testing.T) {
	e := openTest(t, t.TempDir(), nil)
	defer e.Close()
	boom := errors.New("boom")
	err := e.Group(func(g *Engine) error {
		if _, err := g.PutBytes("", []byte("a"), []byte("1"), PutOptions{}); err != nil {
			return err
		}
		if err := g.Txn("", [][]byte{[]byte("h")}, func(tx *Txn) error {
			if err := tx.Create(0, TypeHash); err != nil {
				return err
			}
			if _, err := tx.HashSet(0, []byte("f"), []byte("v"), false); err != nil {
				return err
			}
			return boom
		}); err != boom {
			t.Errorf("Txn = %v, want boom", err)
		}
		return g.Txn("", [][]byte{[]byte("s")}, func(tx *Txn) error {
			if err := tx.Create(0, TypeSet); err != nil {
				return err
			}
			_, err := tx.SetAdd(0, []byte("m"))
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, e, "", "a"); string(got) != "1" {
		t.Errorf("a = %q", got)
	}
	if _, err := e.Stat("", []byte("h")); err != ErrNotFound {
		t.Errorf("the failed Txn's hash exists: %v", err)
	}
	if m, err := e.Stat("", []byte("s")); err != nil || m.Type != TypeSet || m.Size != 1 {
		t.Errorf("s: %+v, %v", m, err)
	}
	if n := e.DBSize(""); n != 2 {
		t.Errorf("DBSIZE = %d, want 2", n)
	}
}

// TestGroupPowerCut cuts the power inside a group, after all of its calls
// returned and before it commits: recovery finds none of its writes, even
// keeping every unsynced byte of the metadata log. A cut after the commit
// and Sync finds all of them.
func TestGroupPowerCut(t *testing.T) {
	for _, after := range []bool{false, true} {
		inner := nvme.NewMem("dev0", 1<<30)
		open := func(fs vfs.FS) *Engine {
			e, err := Open(Options{
				Dir: "/db", Devices: []string{"dev0"}, ECData: 1, MetadataFS: fs,
				DRAMCacheSize: 64 << 20, SegmentSize: 4 << 20, MetadataCacheSize: 8 << 20,
				OpenDevice: func(string) (nvme.Device, error) { return inner, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		memFS := vfs.NewCrashableMem()
		e := open(memFS)
		groupBaseline(t, e)
		var crashed *vfs.MemFS
		clone := func() *vfs.MemFS {
			return memFS.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 2))})
		}
		err := e.Group(func(g *Engine) error {
			if err := groupWrites(t, g); err != nil {
				return err
			}
			if !after {
				crashed = clone()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if after {
			if err := e.Sync(); err != nil {
				t.Fatal(err)
			}
			crashed = clone()
		}
		// NB: the devices are in memory and keep every write, as after a
		// kill -9; the metadata store is what the cut decides.
		e.Close()
		e2 := open(crashed)
		if after {
			checkGroup(t, e2)
		} else {
			checkBaseline(t, e2)
		}
		e2.Close()
	}
}
