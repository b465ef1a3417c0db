package ec

import (
	"sync"
	"sync/atomic"

	"github.com/gpucache/gpucache/nvme"
)

// File is an open logical file on a Volume. It is safe for concurrent use
// by readers and by writers of disjoint stripe ranges. Several Files for
// the same name share one set of shard handles.
type File struct {
	st     *fileState
	closed atomic.Bool
}

// fileState is the shared state of an open logical file.
type fileState struct {
	v         *Volume
	name      string
	start     int
	size      int64 // logical bytes
	shardSize int64
	shards    []atomic.Pointer[shard] // len k+m; nil: absent

	// repairMu orders writes against rebuild and scrub repairs: writers
	// hold it shared, a repair batch exclusively, so a repair never
	// reconstructs a stripe that a writer is halfway through.
	repairMu sync.RWMutex

	refs int // open Files; v.mu protects

	// retired holds shards replaced by a rebuild. A reader may still be
	// using one, so they close with the file, not at once.
	retiredMu sync.Mutex
	retired   []*shard
}

func (st *fileState) retire(sh *shard) {
	st.retiredMu.Lock()
	st.retired = append(st.retired, sh)
	st.retiredMu.Unlock()
}

// shard is one shard file of a logical file.
type shard struct {
	i, slot int
	dev     nvme.Device
	f       nvme.File
	sums    *sums // nil when m == 0, or while untrusted

	// trusted is false while the shard is being rebuilt: writes go to it,
	// reads do not.
	trusted atomic.Bool
	// bad is set when a write to the shard failed: its content is unknown
	// until scrub or rebuild repairs it, so reads skip it.
	bad atomic.Bool
}

// readable reports whether reads may use the shard.
func (sh *shard) readable() bool {
	return sh != nil && sh.trusted.Load() && !sh.bad.Load() && !sh.dev.Health().Failed()
}

// writable reports whether writes should go to the shard.
func (sh *shard) writable() bool {
	return sh != nil && !sh.bad.Load() && !sh.dev.Health().Failed()
}

// why says why a shard is not readable or writable, for error reports.
func (sh *shard) why() error {
	switch {
	case sh == nil:
		return errMissing
	case sh.dev.Health().Failed():
		return &nvme.OpError{Op: "use", Device: sh.dev.Name(), Err: nvme.ErrFailed}
	case sh.bad.Load():
		return errBadShard
	case !sh.trusted.Load():
		return errRebuilding
	}
	return nil
}

// unitBad reports whether unit b, read from stripe s of sh, must not be
// used. A unit without a checksum is suspect if any shard has one for the
// stripe: the stripe was written, so this unit's checksum was lost (a torn
// checksum page), and unverifiable bytes are never returned.
func (st *fileState) unitBad(sh *shard, s int64, b []byte) bool {
	want := sh.sums.get(s)
	if want == 0 {
		return st.stripeWritten(s)
	}
	return sumOf(b) != want
}

// stripeWritten reports whether any shard holds a checksum for stripe s.
func (st *fileState) stripeWritten(s int64) bool {
	for i := range st.shards {
		if sh := st.shards[i].Load(); sh != nil && sh.sums != nil && sh.sums.get(s) != 0 {
			return true
		}
	}
	return false
}

func (sh *shard) close() {
	sh.f.Close()
	if sh.sums != nil {
		sh.sums.close()
	}
}

func (v *Volume) newState(name string, start int, size int64) *fileState {
	return &fileState{
		v: v, name: name, start: start, size: size,
		shardSize: size / int64(v.k),
		shards:    make([]atomic.Pointer[shard], v.n),
	}
}

func (st *fileState) closeShards() {
	for i := range st.shards {
		if sh := st.shards[i].Swap(nil); sh != nil {
			sh.close()
		}
	}
	st.retiredMu.Lock()
	for _, sh := range st.retired {
		sh.close()
	}
	st.retired = nil
	st.retiredMu.Unlock()
}

// fault describes shard i for an error report.
func (st *fileState) fault(i int, err error) ShardFault {
	si := (st.start + i) % len(st.v.slots)
	f := ShardFault{Shard: i, Slot: si, Err: err}
	if sh := st.shards[i].Load(); sh != nil {
		f.Device = sh.dev.Name()
	}
	return f
}

// Size returns the logical size fixed at Create.
func (f *File) Size() int64 { return f.st.size }

// Name returns the logical file name.
func (f *File) Name() string { return f.st.name }

// Close releases the handle. The shards close with the last handle.
func (f *File) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	st := f.st
	v := st.v
	v.mu.Lock()
	defer v.mu.Unlock()
	st.refs--
	if st.refs > 0 {
		return nil
	}
	if e, ok := v.files[st.name]; ok && e.st == st {
		e.st = nil
	}
	if _, ok := v.open[st]; ok { // else Volume.Close closed it already
		delete(v.open, st)
		st.closeShards()
	}
	return nil
}

// Sync makes every completed write durable: checksum pages are written,
// then data and checksum files are synced on every shard in parallel. It
// fails with ErrQuorum if fewer than the write quorum of shards synced.
func (f *File) Sync() error {
	if f.closed.Load() {
		return ErrClosed
	}
	st := f.st
	v := st.v
	if v.n == 1 {
		sh := st.shards[0].Load()
		if sh == nil {
			return &ShardError{Op: "sync", File: st.name, Faults: []ShardFault{st.fault(0, errMissing)}, Err: ErrQuorum}
		}
		return sh.f.Sync()
	}
	op := v.getWriteOp(st)
	defer v.putWriteOp(op)
	op.kind = opSync
	b := op.b[0]
	b.submit()
	b.wg.Wait()
	return op.quorumErr(b, "sync", 0)
}

func (b *batch) syncShard(i int) {
	sh := b.op.st.shards[i].Load()
	if !sh.writable() {
		b.errs[i] = sh.why()
		return
	}
	var err error
	if sh.sums != nil {
		err = sh.sums.flush()
	}
	if err == nil {
		err = sh.f.Sync()
	}
	if err != nil {
		sh.bad.Store(true)
	}
	b.errs[i] = err
}
