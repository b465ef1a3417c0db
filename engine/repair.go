package engine

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gpucache/gpucache/ec"
)

// Repair loop timing.
const (
	// repairCheckInterval is how often the loop looks for replacement
	// devices to rebuild and for I/O errors that call for a scrub.
	repairCheckInterval = 5 * time.Second
	// errorScrubPause is how long, in multiples of its duration, a scrub
	// started because of I/O errors is followed by none: such scrubs take
	// at most a fifth of the devices' time, even while clients keep
	// reading lost data or a device keeps returning garbage.
	errorScrubPause = 4
)

// repairState is what the repair loop knows beyond the volume's status.
type repairState struct {
	// verified is the volume's I/O error count (ioErrors) when the last
	// scrub that found the volume sound started. Errors beyond it mean
	// some shards may be bad — a read repairs the data units it reads,
	// not the parity — and nothing has verified them since: the volume
	// reports degraded, and the loop scrubs early, until a scrub has.
	verified atomic.Int64
	// lost is the number of stripes the last rebuild or scrub could not
	// reconstruct (data beyond repair); zero once a scrub finds none.
	lost atomic.Int64
}

// ioErrors counts the shard I/O and checksum errors and unrecoverable
// reads the volume has seen.
func ioErrors(s *ec.Status) int64 {
	return s.ReadErrors + s.WriteErrors + s.ChecksumErrors + s.Unrecoverable
}

// repairLoop keeps the volume's redundancy: at start and whenever a slot
// holds a blank replacement device, it rebuilds that slot in the background
// at Options.RebuildRate; every Options.ScrubInterval, and soon after reads
// or writes meet shard errors, it verifies every shard's checksums and
// repairs bad ones. Both run while the engine serves.
func (e *Engine) repairLoop() {
	defer e.wg.Done()
	v, ok := e.vol.(ecVolume)
	if !ok || v.M() == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-e.stop
		cancel()
	}()
	check := time.NewTicker(repairCheckInterval)
	defer check.Stop()
	var scrub <-chan time.Time
	if e.opts.ScrubInterval > 0 {
		t := time.NewTicker(e.opts.ScrubInterval)
		defer t.Stop()
		scrub = t.C
	}
	var nextErrorScrub time.Time
	e.rebuildPending(ctx, v.Volume)
	for {
		select {
		case <-ctx.Done():
			return
		case <-check.C:
			if n := v.CheckDevices(); n > 0 {
				e.opts.Logf("%d device(s) vanished or were replaced under the running server: marked failed", n)
			}
			e.rebuildPending(ctx, v.Volume)
			st := v.Status()
			if ioErrors(&st) > e.repair.verified.Load() && !rebuilding(&st) && time.Now().After(nextErrorScrub) {
				start := time.Now()
				e.scrub(ctx, v.Volume, "after I/O errors")
				nextErrorScrub = time.Now().Add(errorScrubPause * time.Since(start))
			}
		case <-scrub:
			e.scrub(ctx, v.Volume, "periodic")
		}
	}
}

// scrub runs one scrub of v and, if it found nothing lost, records the
// error count at its start as verified.
func (e *Engine) scrub(ctx context.Context, v *ec.Volume, why string) {
	start := time.Now()
	before := v.Status()
	err := v.Scrub(ctx)
	if ctx.Err() != nil {
		return
	}
	p := v.Status().Scrub
	if err != nil {
		e.opts.Logf("scrub (%s) failed: %v", why, err)
	}
	// NB: logged before the state it ends is published, so whoever sees
	// the volume sound again (INFO, /metrics) finds the scrub in the log.
	e.opts.Logf("scrub done in %v (%s): %d MiB verified, %d units repaired, %d stripes lost",
		time.Since(start).Round(time.Millisecond), why, p.Bytes>>20, p.Repaired, p.Lost)
	if err == nil && p.Lost == 0 {
		e.repair.verified.Store(ioErrors(&before))
	}
	e.repair.lost.Store(p.Lost) // a clean scrub clears what earlier passes found lost
}

func rebuilding(s *ec.Status) bool {
	for _, d := range s.Devices {
		if d.State == ec.DeviceRebuilding {
			return true
		}
	}
	return false
}

// rebuildPending rebuilds every slot that holds a replacement device.
func (e *Engine) rebuildPending(ctx context.Context, v *ec.Volume) {
	for _, d := range v.Status().Devices {
		if d.State != ec.DeviceRebuilding || ctx.Err() != nil {
			continue
		}
		e.opts.Logf("rebuilding device slot %d (%s) at %d MiB/s", d.Slot, d.Name, e.opts.RebuildRate>>20)
		start := time.Now()
		err := v.Rebuild(ctx, d.Slot, e.opts.RebuildRate)
		p := v.Status().Rebuild
		if p.Lost > 0 {
			e.repair.lost.Store(p.Lost)
		}
		if err != nil {
			if ctx.Err() == nil {
				e.opts.Logf("rebuild of slot %d failed: %v", d.Slot, err)
			}
			continue
		}
		e.opts.Logf("rebuilt slot %d in %v: %d MiB, %d stripes lost",
			d.Slot, time.Since(start).Round(time.Millisecond), p.Bytes>>20, p.Lost)
	}
}

// Devices returns the volume's device and repair status (nil without
// erasure coding). With parity, Degraded also holds while shard errors
// seen by reads or writes have not yet been verified away by a scrub, and
// while stripes known to be lost have not been cleared by one.
func (e *Engine) Devices() *ec.Status {
	v, ok := e.vol.(ecVolume)
	if !ok {
		return nil
	}
	s := v.Status()
	if s.M > 0 && ioErrors(&s) > e.repair.verified.Load() {
		s.Degraded = true
	}
	// Stripes a rebuild or scrub could not reconstruct stay reported until
	// a scrub finds none: a slot rebuilt as well as it could be is "ok",
	// but the volume is not.
	if e.repair.lost.Load() > 0 {
		s.Degraded = true
	}
	return &s
}
