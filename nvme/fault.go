package nvme

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Op names a kind of I/O operation for fault rules.
type Op int

// Kinds of I/O a Rule applies to.
const (
	OpRead Op = iota
	OpWrite
	OpSync
	numOps
)

func (o Op) String() string {
	return [...]string{"read", "write", "sync"}[o]
}

// Rule says which operations of one kind a Fault device fails.
type Rule struct {
	// Nth fails the Nth operation of the kind (1-based, counted from when
	// the rule is set). Zero disables.
	Nth int64
	// Every, with Nth, also fails every operation after the Nth: a drive
	// that started dying.
	Every bool
	// Prob fails each operation with this probability.
	Prob float64
}

// FaultStats counts what a Fault device injected, next to its health.
type FaultStats struct {
	Health                  HealthStats
	Ops                     [3]int64 // operations seen, indexed by Op
	Errors                  [3]int64 // injected errors, indexed by Op
	TornWrites, FlippedBits int64
	Vanished, ReadOnly      bool
	Latency                 time.Duration
}

// Fault wraps a Device and injects faults: I/O errors (on the Nth
// operation or at random, for reads, writes and syncs separately), torn
// writes (only a prefix reaches the device, and the write reports
// success, as a drive losing power or lying about completion would),
// flipped bits in data read, added latency, the device vanishing (every
// operation fails) and the device turning read-only.
//
// Randomness comes from one generator seeded at construction, so a
// single-threaded test replays exactly. The Fault keeps its own Health,
// which injected errors count towards: after FailAfter consecutive errors
// it is marked failed like a real device. Safe for concurrent use; rules
// may change while I/O runs.
type Fault struct {
	dev    Device
	health Health

	vanished, readOnly atomic.Bool
	latency            atomic.Int64

	mu         sync.Mutex
	rng        *rand.Rand
	rules      [numOps]Rule
	counts     [numOps]int64 // ops since the rule was set
	ops        [numOps]int64
	injected   [numOps]int64
	tornProb   float64
	flipProb   float64
	torn, flip int64

	cut powerCut // power_cut.go
}

var _ Device = (*Fault)(nil)

// NewFault wraps dev. seed makes random faults reproducible.
func NewFault(dev Device, seed uint64) *Fault {
	return &Fault{dev: dev, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Inner returns the wrapped device.
func (f *Fault) Inner() Device { return f.dev }

// SetRule replaces the rule for one kind of operation and restarts its
// count.
func (f *Fault) SetRule(op Op, r Rule) {
	f.mu.Lock()
	f.rules[op] = r
	f.counts[op] = 0
	f.mu.Unlock()
}

// TearWrites makes each write, with probability p, write only a random
// whole-Align prefix of its data and still report success.
func (f *Fault) TearWrites(p float64) {
	f.mu.Lock()
	f.tornProb = p
	f.mu.Unlock()
}

// FlipBits makes each read, with probability p, return one flipped bit.
func (f *Fault) FlipBits(p float64) {
	f.mu.Lock()
	f.flipProb = p
	f.mu.Unlock()
}

// SetLatency adds d to every operation.
func (f *Fault) SetLatency(d time.Duration) { f.latency.Store(int64(d)) }

// Vanish makes the device disappear: every operation fails with
// ErrFailed and the device is marked failed.
func (f *Fault) Vanish() {
	f.vanished.Store(true)
	f.health.MarkFailed()
}

// SetReadOnly makes writes, syncs, creates and removes fail with
// ErrReadOnly (on) or work again (off).
func (f *Fault) SetReadOnly(on bool) { f.readOnly.Store(on) }

// Heal clears every rule, probability and latency, brings a vanished
// device back and clears the failed mark: the drive was reseated.
func (f *Fault) Heal() {
	f.mu.Lock()
	f.rules = [numOps]Rule{}
	f.tornProb, f.flipProb = 0, 0
	f.mu.Unlock()
	f.latency.Store(0)
	f.vanished.Store(false)
	f.readOnly.Store(false)
	f.health.Reset()
}

// Stats returns what has been injected so far and the device's health.
func (f *Fault) Stats() FaultStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FaultStats{
		Health:     f.health.Stats(),
		Errors:     f.injected,
		Ops:        f.ops,
		TornWrites: f.torn, FlippedBits: f.flip,
		Vanished: f.vanished.Load(), ReadOnly: f.readOnly.Load(),
		Latency: time.Duration(f.latency.Load()),
	}
}

func (f *Fault) Name() string    { return f.dev.Name() }
func (f *Fault) Health() *Health { return &f.health }

func (f *Fault) opErr(op, file string, err error) error {
	return &OpError{Op: op, Device: f.dev.Name(), File: file, Err: err}
}

// gate applies vanishing, failure, read-only mode and latency to any
// operation; mutating says whether read-only mode refuses it.
func (f *Fault) gate(mutating bool) error {
	if d := f.latency.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	if f.vanished.Load() || f.health.Failed() {
		return ErrFailed
	}
	if mutating && f.readOnly.Load() {
		return ErrReadOnly
	}
	return nil
}

// inject decides whether this operation of kind op fails.
func (f *Fault) inject(op Op) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops[op]++
	f.counts[op]++
	r := f.rules[op]
	fail := r.Nth > 0 && (f.counts[op] == r.Nth || (r.Every && f.counts[op] > r.Nth))
	if !fail && r.Prob > 0 && f.rng.Float64() < r.Prob {
		fail = true
	}
	if fail {
		f.injected[op]++
	}
	return fail
}

func (f *Fault) Create(name string, size int64) (File, error) {
	if err := f.gate(true); err != nil {
		return nil, f.opErr("create", name, err)
	}
	inner, err := f.dev.Create(name, size)
	if err != nil {
		return nil, err
	}
	return &faultFile{f: f, inner: inner, name: name}, nil
}

func (f *Fault) Open(name string) (File, error) {
	if err := f.gate(false); err != nil {
		return nil, f.opErr("open", name, err)
	}
	inner, err := f.dev.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{f: f, inner: inner, name: name}, nil
}

func (f *Fault) Remove(name string) error {
	if err := f.gate(true); err != nil {
		return f.opErr("remove", name, err)
	}
	return f.dev.Remove(name)
}

func (f *Fault) List() ([]string, error) {
	if err := f.gate(false); err != nil {
		return nil, f.opErr("list", "", err)
	}
	return f.dev.List()
}

func (f *Fault) Usage() (used, free int64, err error) {
	if err := f.gate(false); err != nil {
		return 0, 0, f.opErr("usage", "", err)
	}
	return f.dev.Usage()
}

// Close closes the wrapped device, except after PowerCut: the inner device
// then stands for the drive itself, to be opened again.
func (f *Fault) Close() error {
	if f.cut.dead.Load() {
		return nil
	}
	return f.dev.Close()
}

// faultFile is a File on a Fault device.
type faultFile struct {
	f     *Fault
	inner File
	name  string
}

func (ff *faultFile) WritevAt(bufs [][]byte, off int64) (int64, error) {
	f := ff.f
	start := time.Now()
	if err := f.gate(true); err != nil {
		return 0, f.opErr("write", ff.name, err)
	}
	total, err := checkIO(bufs, off)
	if err != nil {
		return 0, f.opErr("write", ff.name, err)
	}
	if f.inject(OpWrite) {
		err := f.opErr("write", ff.name, ErrInjected)
		f.health.ObserveWrite(0, time.Since(start), err)
		return 0, err
	}
	w, err := f.cut.beginWrite(ff, off, total)
	if err != nil {
		return 0, f.opErr("write", ff.name, err)
	}
	n, err := ff.writev(bufs, off, total, start)
	f.cut.endWrite(w, err == nil)
	return n, err
}

// writev is WritevAt past the gates: the write, possibly torn.
func (ff *faultFile) writev(bufs [][]byte, off, total int64, start time.Time) (int64, error) {
	f := ff.f
	f.mu.Lock()
	tear := f.tornProb > 0 && total > 0 && f.rng.Float64() < f.tornProb
	var keep int64
	if tear {
		keep = f.rng.Int64N(total/Align) * Align
		f.torn++
	}
	f.mu.Unlock()
	if tear {
		prefix := make([][]byte, 0, len(bufs))
		for _, b := range bufs {
			if keep == 0 {
				break
			}
			n := min(int64(len(b)), keep)
			prefix = append(prefix, b[:n])
			keep -= n
		}
		n, err := ff.inner.WritevAt(prefix, off)
		f.health.ObserveWrite(int(n), time.Since(start), healthErr(err))
		if err != nil {
			return n, err
		}
		return total, nil // the lie a torn write tells
	}
	n, err := ff.inner.WritevAt(bufs, off)
	f.health.ObserveWrite(int(n), time.Since(start), healthErr(err))
	return n, err
}

func (ff *faultFile) ReadvAt(bufs [][]byte, off int64) (int64, error) {
	f := ff.f
	start := time.Now()
	if err := f.gate(false); err != nil {
		return 0, f.opErr("read", ff.name, err)
	}
	if _, err := checkIO(bufs, off); err != nil {
		return 0, f.opErr("read", ff.name, err)
	}
	if f.inject(OpRead) {
		err := f.opErr("read", ff.name, ErrInjected)
		f.health.ObserveRead(0, time.Since(start), err)
		return 0, err
	}
	n, err := ff.inner.ReadvAt(bufs, off)
	f.health.ObserveRead(int(n), time.Since(start), healthErr(err))
	if n > 0 {
		f.mu.Lock()
		if f.flipProb > 0 && f.rng.Float64() < f.flipProb {
			pos := f.rng.Int64N(n)
			bit := byte(1) << f.rng.IntN(8)
			f.flip++
			for _, b := range bufs {
				if pos < int64(len(b)) {
					b[pos] ^= bit
					break
				}
				pos -= int64(len(b))
			}
		}
		f.mu.Unlock()
	}
	return n, err
}

func (ff *faultFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := ff.WritevAt([][]byte{p}, off)
	return int(n), err
}

func (ff *faultFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := ff.ReadvAt([][]byte{p}, off)
	return int(n), err
}

func (ff *faultFile) Sync() error {
	f := ff.f
	start := time.Now()
	if err := f.gate(true); err != nil {
		return f.opErr("sync", ff.name, err)
	}
	if f.inject(OpSync) {
		err := f.opErr("sync", ff.name, ErrInjected)
		f.health.ObserveSync(time.Since(start), err)
		return err
	}
	upTo, held, err := f.cut.beginSync()
	if err != nil {
		return f.opErr("sync", ff.name, err)
	}
	err = ff.inner.Sync()
	f.cut.endSync(ff, upTo, held, err == nil)
	f.health.ObserveSync(time.Since(start), healthErr(err))
	return err
}

func (ff *faultFile) Size() (int64, error) {
	if err := ff.f.gate(false); err != nil {
		return 0, ff.f.opErr("stat", ff.name, err)
	}
	return ff.inner.Size()
}

func (ff *faultFile) Close() error { return ff.inner.Close() }
