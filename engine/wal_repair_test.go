package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestLogHoleAfterPowerCut: in sync-no mode a power cut that keeps some of
// the log's unsynced pages and loses earlier ones (the operating system
// writes pages back in any order) leaves a hole followed by chunks whose
// synced-offset stamps pebble trusts. The engine must still open, with
// every write acknowledged before the last real sync intact and the rest
// recovered to one point in time: a prefix of the later writes, each
// value exact.
//
// Small strings are logged by the write-back tier, whose log file gets the
// same treatment: its replay stops at the first torn frame.
func TestLogHoleAfterPowerCut(t *testing.T) {
	for _, c := range []struct {
		name, cut   string
		noWriteBack bool
	}{
		{"metadata log", "cut at offset", true},
		{"write-back log", "torn frame at offset", false},
	} {
		t.Run(c.name, func(t *testing.T) { testLogHoleAfterPowerCut(t, c.cut, c.noWriteBack) })
	}
}

func testLogHoleAfterPowerCut(t *testing.T, cut string, noWriteBack bool) {
	mem := vfs.NewCrashableMem()
	dir := t.TempDir()
	var logMu sync.Mutex
	var logs []string
	mod := func(fs vfs.FS) func(*Options) {
		return func(o *Options) {
			o.MetadataFS = fs
			o.NoWriteBack = noWriteBack
			o.SyncInterval = time.Hour // only the test's own round syncs
			o.Logf = func(format string, args ...any) {
				logMu.Lock()
				logs = append(logs, fmt.Sprintf(format, args...))
				logMu.Unlock()
			}
		}
	}
	e := openTest(t, dir, mod(mem))
	// The store's ancestors were made in memory by MkdirAll, unsynced: a
	// real disk has them already.
	for d := dir; ; d = filepath.Dir(d) {
		f, err := mem.OpenDir(d)
		if err != nil {
			t.Fatal(err)
		}
		f.Sync()
		f.Close()
		if d == "/" {
			break
		}
	}
	const synced, n = 1000, 3000
	value := func(i int) []byte { return pattern(uint64(i), 64+i%200) }
	key := func(i int) []byte { return fmt.Appendf(nil, "k%05d", i) }
	for i := range n {
		if i == synced {
			if err := e.syncRound(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.PutBytes("", key(i), value(i), PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := e.Sync(); err != nil { // acknowledged: in the operating system
			t.Fatal(err)
		}
	}
	var clones []*vfs.MemFS
	for seed := range uint64(12) {
		clones = append(clones, mem.CrashClone(vfs.CrashCloneCfg{
			UnsyncedDataPercent: 50, RNG: rand.New(rand.NewPCG(seed, 3)),
		}))
	}
	e.Close()

	repaired := 0
	for seed, clone := range clones {
		logMu.Lock()
		logs = logs[:0]
		logMu.Unlock()
		e2, err := Open(func() Options {
			o := Options{Dir: dir, DRAMCacheSize: 64 << 20, SegmentSize: 8 << 20, MemoryWait: 2 * time.Second}
			mod(clone)(&o)
			return o
		}())
		if err != nil {
			t.Fatalf("clone %d: open: %v", seed, err)
		}
		logMu.Lock()
		for _, l := range logs {
			if strings.Contains(l, cut) {
				repaired++
				t.Logf("clone %d: %s", seed, l)
			}
		}
		logMu.Unlock()
		last := -1
		for i := range n {
			v, err := e2.Get("", key(i))
			if errors.Is(err, ErrNotFound) {
				if i < synced {
					t.Fatalf("clone %d: key %d, written before the real sync, is lost", seed, i)
				}
				continue
			}
			if err != nil {
				t.Fatalf("clone %d: key %d: %v", seed, i, err)
			}
			got, _ := v.AppendTo(nil)
			v.Release()
			if !bytes.Equal(got, value(i)) {
				t.Fatalf("clone %d: key %d has a wrong value", seed, i)
			}
			if i != last+1 {
				t.Fatalf("clone %d: key %d is present but key %d is not: not one point in time", seed, i, last+1)
			}
			last = i
		}
		t.Logf("clone %d: %d of %d writes recovered", seed, last+1, n)
		e2.Close()
	}
	if repaired == 0 {
		t.Fatal("no clone needed its log cut: the test did not make the hole it is about")
	}
}
