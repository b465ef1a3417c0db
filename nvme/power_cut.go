package nvme

import (
	"sync"
	"sync/atomic"
)

// A power cut loses what a drive was never asked to make durable. With
// TrackUnsynced on, a Fault device remembers, for every write no later Sync
// of its file has covered, the bytes it overwrote. PowerCut then decides
// the fate of each such write as a drive losing power might: kept, lost
// (the old bytes come back), or torn (only a whole-Align prefix kept). File
// creation and removal count as durable (DirDevice syncs the directory for
// both). After the cut the device is dead: every operation fails, and Close
// leaves the inner device open, so a test can wrap the inner device again
// and "boot" on what survived.

// PowerCutStats counts what PowerCut did to the unsynced writes.
type PowerCutStats struct {
	Kept, Lost, Torn int
}

type powerCut struct {
	tracking atomic.Bool
	dead     atomic.Bool
	// gate is held shared by every tracked write and sync for its whole
	// duration, and exclusively by PowerCut, so the cut sees no write half
	// done.
	gate sync.RWMutex

	mu      sync.Mutex
	seq     uint64
	pending []unsyncedWrite
}

// unsyncedWrite is one write not yet covered by a Sync of its file.
type unsyncedWrite struct {
	file *faultFile
	off  int64
	old  []byte // AlignedAlloc'd: the bytes the write replaced
	seq  uint64
}

// TrackUnsynced turns on (or off, forgetting what it tracked) the record
// of unsynced writes that PowerCut needs. It costs a read of the old bytes
// and a copy per write: for tests.
func (f *Fault) TrackUnsynced(on bool) {
	c := &f.cut
	c.gate.Lock()
	defer c.gate.Unlock()
	c.tracking.Store(on)
	if !on {
		c.mu.Lock()
		for _, w := range c.pending {
			AlignedFree(w.old)
		}
		c.pending = nil
		c.mu.Unlock()
	}
}

// PowerCut cuts the device's power: every write no Sync covered is kept,
// lost or torn (chosen with the device's generator, lost writes undone
// newest first), and from then on every operation fails with ErrFailed.
func (f *Fault) PowerCut() PowerCutStats {
	c := &f.cut
	c.gate.Lock()
	defer c.gate.Unlock()
	c.dead.Store(true)
	f.health.MarkFailed()
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	var st PowerCutStats
	for i := len(pending) - 1; i >= 0; i-- {
		w := pending[i]
		f.mu.Lock()
		fate := f.rng.IntN(3)
		var keep int64
		if fate == 2 {
			keep = f.rng.Int64N(int64(len(w.old))/Align) * Align
		}
		f.mu.Unlock()
		switch fate {
		case 0:
			st.Kept++
		case 1:
			st.Lost++
		case 2:
			st.Torn++
		}
		if fate != 0 {
			// The inner device is not dead: this is the drive's own state.
			_, _ = w.file.inner.WritevAt([][]byte{w.old[keep:]}, w.off+keep)
		}
		AlignedFree(w.old)
	}
	return st
}

// beginWrite is called before a write of total bytes at off. When tracking
// it holds the gate shared and saves the bytes about to be overwritten;
// endWrite must follow.
func (c *powerCut) beginWrite(ff *faultFile, off, total int64) (*unsyncedWrite, error) {
	if !c.tracking.Load() {
		return nil, nil
	}
	c.gate.RLock()
	if c.dead.Load() {
		c.gate.RUnlock()
		return nil, ErrFailed
	}
	w := &unsyncedWrite{file: ff, off: off, old: AlignedAlloc(int(total))}
	if _, err := ff.inner.ReadvAt([][]byte{w.old}, off); err != nil && err != errEOF {
		AlignedFree(w.old)
		c.gate.RUnlock()
		return nil, err
	}
	return w, nil
}

// endWrite records a tracked write once it is done (ok) and releases the
// gate.
func (c *powerCut) endWrite(w *unsyncedWrite, ok bool) {
	if w == nil {
		return
	}
	if ok {
		c.mu.Lock()
		c.seq++
		w.seq = c.seq
		c.pending = append(c.pending, *w)
		c.mu.Unlock()
	} else {
		AlignedFree(w.old)
	}
	c.gate.RUnlock()
}

// beginSync is called before a Sync of ff: it returns the sequence number
// every write completed so far has, and holds the gate shared when
// tracking (endSync releases it).
func (c *powerCut) beginSync() (uint64, bool, error) {
	if !c.tracking.Load() {
		return 0, false, nil
	}
	c.gate.RLock()
	if c.dead.Load() {
		c.gate.RUnlock()
		return 0, false, ErrFailed
	}
	c.mu.Lock()
	s := c.seq
	c.mu.Unlock()
	return s, true, nil
}

// endSync forgets ff's writes up to upTo once its Sync succeeded.
func (c *powerCut) endSync(ff *faultFile, upTo uint64, held, ok bool) {
	if !held {
		return
	}
	if ok {
		c.mu.Lock()
		kept := c.pending[:0]
		for _, w := range c.pending {
			if w.file.name == ff.name && w.seq <= upTo {
				AlignedFree(w.old)
				continue
			}
			kept = append(kept, w)
		}
		clear(c.pending[len(kept):])
		c.pending = kept
		c.mu.Unlock()
	}
	c.gate.RUnlock()
}
