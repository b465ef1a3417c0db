package engine

import (
	"context"
	"time"

	"github.com/gpucache/gpucache/ec"
)

// repairLoop keeps the volume's redundancy: at start and whenever a slot
// holds a blank replacement device, it rebuilds that slot in the background
// at Options.RebuildRate; every Options.ScrubInterval it verifies every
// shard's checksums and repairs bad ones. Both run while the engine serves.
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
	check := time.NewTicker(5 * time.Second)
	defer check.Stop()
	var scrub <-chan time.Time
	if e.opts.ScrubInterval > 0 {
		t := time.NewTicker(e.opts.ScrubInterval)
		defer t.Stop()
		scrub = t.C
	}
	e.rebuildPending(ctx, v.Volume)
	for {
		select {
		case <-ctx.Done():
			return
		case <-check.C:
			e.rebuildPending(ctx, v.Volume)
		case <-scrub:
			start := time.Now()
			if err := v.Scrub(ctx); err != nil && ctx.Err() == nil {
				e.opts.Logf("scrub failed: %v", err)
				continue
			}
			p := v.Status().Scrub
			e.opts.Logf("scrub done in %v: %d MiB verified, %d units repaired, %d stripes lost",
				time.Since(start).Round(time.Millisecond), p.Bytes>>20, p.Repaired, p.Lost)
		}
	}
}

// rebuildPending rebuilds every slot that holds a replacement device.
func (e *Engine) rebuildPending(ctx context.Context, v *ec.Volume) {
	for _, d := range v.Status().Devices {
		if d.State != ec.DeviceRebuilding || ctx.Err() != nil {
			continue
		}
		e.opts.Logf("rebuilding device slot %d (%s) at %d MiB/s", d.Slot, d.Name, e.opts.RebuildRate>>20)
		start := time.Now()
		if err := v.Rebuild(ctx, d.Slot, e.opts.RebuildRate); err != nil {
			if ctx.Err() == nil {
				e.opts.Logf("rebuild of slot %d failed: %v", d.Slot, err)
			}
			continue
		}
		p := v.Status().Rebuild
		e.opts.Logf("rebuilt slot %d in %v: %d MiB, %d stripes lost",
			d.Slot, time.Since(start).Round(time.Millisecond), p.Bytes>>20, p.Lost)
	}
}

// Devices returns the volume's device and repair status (nil without
// erasure coding).
func (e *Engine) Devices() *ec.Status {
	v, ok := e.vol.(ecVolume)
	if !ok {
		return nil
	}
	s := v.Status()
	return &s
}
