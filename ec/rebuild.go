package ec

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gpucache/gpucache/nvme"
)

// Replace puts dev, a blank device, into slot: the slot's old device (if
// any) is dropped and dev is labelled as a replacement. Shards on the
// slot read as missing until Rebuild restores them; new writes reach dev
// at once.
func (v *Volume) Replace(index int, dev nvme.Device) error {
	if v.m == 0 {
		return fmt.Errorf("%w: no parity to rebuild from", ErrLayout)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return ErrClosed
	}
	if index < 0 || index >= len(v.slots) {
		return fmt.Errorf("%w: slot %d of %d", ErrRange, index, len(v.slots))
	}
	names, err := dev.List()
	if err != nil {
		return err
	}
	for _, nm := range names {
		if _, _, ok := parseShardName(nm); ok || nm == labelName {
			return fmt.Errorf("%w: %s is not blank", ErrLayout, dev.Name())
		}
	}
	l := label{id: v.id, index: index, devices: len(v.slots), k: v.k, m: v.m, state: labelRebuilding}
	if err := writeLabel(dev, l); err != nil {
		return err
	}
	v.slots[index] = slot{dev: dev, rebuilding: true}
	return nil
}

// Rebuild restores every shard that belongs on slot (absent, untrusted,
// bad, or on a device other than the slot's current one) by reconstructing
// it from the other shards, writing at most bytesPerSec bytes per second
// (0: unlimited), so foreground I/O keeps its bandwidth. Each rebuilt
// shard is synced, then its checksum file is written: that file marks the
// shard trusted, so a rebuild cut short resumes where it matters. When
// every file is done the slot's label is marked active. Rebuild blocks;
// run it on its own goroutine and follow Status().Rebuild. Only one
// rebuild runs at a time (ErrBusy).
func (v *Volume) Rebuild(ctx context.Context, slot int, bytesPerSec int64) error {
	if v.m == 0 {
		return fmt.Errorf("%w: no parity to rebuild from", ErrLayout)
	}
	v.mu.Lock()
	if slot < 0 || slot >= len(v.slots) || v.slots[slot].dev == nil {
		v.mu.Unlock()
		return fmt.Errorf("%w: slot %d has no device", ErrDevices, slot)
	}
	dev := v.slots[slot].dev
	v.mu.Unlock()
	if !v.rebuildingNow.CompareAndSwap(false, true) {
		return ErrBusy
	}
	defer v.rebuildingNow.Store(false)
	names, listErr := v.List()
	v.rebuildProgress.update(func(p *Progress) {
		*p = Progress{Running: true, Slot: slot, Files: len(names), Started: time.Now()}
	})
	r := newRepairer(v)
	defer r.close()
	lim := limiter{rate: bytesPerSec, start: time.Now()}
	var errs []error
	_, err := v.eachFile(names, func(st *fileState) error {
		err := v.rebuildFile(ctx, r, st, slot, dev, &lim)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
		v.rebuildProgress.update(func(p *Progress) { p.FilesDone++ })
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if listErr != nil {
		errs = append(errs, listErr)
	}
	if len(errs) == 0 {
		l := label{id: v.id, index: slot, devices: len(v.slots), k: v.k, m: v.m, state: labelActive}
		if err := writeLabel(dev, l); err != nil {
			errs = append(errs, err)
		} else {
			v.mu.Lock()
			if v.slots[slot].dev == dev {
				v.slots[slot].rebuilding = false
			}
			v.mu.Unlock()
		}
	}
	err = errors.Join(errs...)
	v.rebuildProgress.update(func(p *Progress) {
		p.Running, p.Ended = false, time.Now()
		if err != nil {
			p.Err = err.Error()
		}
	})
	return err
}

// rebuildFile restores st's shard on slot, if st has one there.
func (v *Volume) rebuildFile(ctx context.Context, r *repairer, st *fileState, slot int, dev nvme.Device, lim *limiter) error {
	d := len(v.slots)
	i := ((slot-st.start)%d + d) % d
	if i >= v.n {
		return nil // the file has no shard on this slot
	}
	old := st.shards[i].Load()
	if old != nil && old.dev == dev && old.trusted.Load() && !old.bad.Load() {
		return nil // written after the device joined, or rebuilt already
	}
	// Start from a fresh shard file: whatever an old one holds is suspect.
	f, err := dev.Create(shardName(st.name, i), st.shardSize)
	if err != nil {
		return err
	}
	_ = dev.Remove(sumsName(st.name, i))
	sh := &shard{i: i, slot: slot, dev: dev, f: f, sums: newMemSums(st.shardSize / unit)}
	st.repairMu.Lock()
	st.shards[i].Store(sh) // untrusted: writers reach it, readers do not
	st.repairMu.Unlock()
	if old != nil {
		st.retire(old)
	}
	stripes := st.shardSize / unit
	var lost int64
	var errs []error
	for s := int64(0); s < stripes; s += int64(v.opts.batch) {
		if err := ctx.Err(); err != nil {
			return err
		}
		ns := int(min(int64(v.opts.batch), stripes-s))
		st.repairMu.Lock()
		res := r.repairBatch(st, s, ns, i)
		st.repairMu.Unlock()
		lost += res.lost
		errs = append(errs, res.errs...)
		v.rebuildProgress.update(func(p *Progress) {
			p.Bytes += int64(ns) * unit
			p.Repaired += res.repaired
			p.Lost += res.lost
		})
		if err := lim.wait(ctx, int64(ns)*unit); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		sh.bad.Store(true)
		return fmt.Errorf("ec: rebuild %s shard %d: %w", st.name, i, errors.Join(errs...))
	}
	if err := sh.f.Sync(); err != nil {
		return err
	}
	if err := sh.sums.persist(dev, sumsName(st.name, i)); err != nil {
		return err
	}
	sh.trusted.Store(true)
	if lost > 0 {
		return fmt.Errorf("ec: rebuild %s shard %d: %d stripes: %w", st.name, i, lost, ErrUnrecoverable)
	}
	return nil
}

// limiter paces a background job to rate bytes per second.
type limiter struct {
	rate  int64
	start time.Time
	done  int64
}

func (l *limiter) wait(ctx context.Context, n int64) error {
	if l.rate <= 0 {
		return nil
	}
	l.done += n
	due := l.start.Add(time.Duration(float64(l.done) / float64(l.rate) * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
