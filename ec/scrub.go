package ec

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Scrub reads every shard unit of every file, verifies its checksum and
// rewrites corrupt or unreadable units from the other shards, then syncs
// what it repaired. It returns when done or when ctx ends; progress is in
// Status().Scrub. Writers of a file wait while a batch of its stripes is
// being repaired; readers do not. A shard left bad by a failed write is
// trusted again once every unit of it verifies. Only one scrub runs at a
// time (ErrBusy).
func (v *Volume) Scrub(ctx context.Context) error {
	if v.m == 0 {
		return nil // nothing to verify against
	}
	if !v.scrubbing.CompareAndSwap(false, true) {
		return ErrBusy
	}
	defer v.scrubbing.Store(false)
	names, listErr := v.List()
	v.scrubProgress.update(func(p *Progress) {
		*p = Progress{Running: true, Files: len(names), Started: time.Now()}
	})
	r := newRepairer(v)
	defer r.close()
	var errs []error
	_, err := v.eachFile(names, func(st *fileState) error {
		if err := v.scrubFile(ctx, r, st); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
		v.scrubProgress.update(func(p *Progress) { p.FilesDone++ })
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if listErr != nil {
		errs = append(errs, listErr)
	}
	err = errors.Join(errs...)
	v.scrubProgress.update(func(p *Progress) {
		p.Running, p.Ended = false, time.Now()
		if err != nil {
			p.Err = err.Error()
		}
	})
	return err
}

func (v *Volume) scrubFile(ctx context.Context, r *repairer, st *fileState) error {
	stripes := st.shardSize / unit
	var lost int64
	var errs []error
	clean := true
	for s := int64(0); s < stripes; s += int64(v.opts.batch) {
		if err := ctx.Err(); err != nil {
			return err
		}
		ns := int(min(int64(v.opts.batch), stripes-s))
		st.repairMu.Lock()
		res := r.repairBatch(st, s, ns, -1)
		st.repairMu.Unlock()
		lost += res.lost
		errs = append(errs, res.errs...)
		if len(res.errs) > 0 || res.lost > 0 {
			clean = false
		}
		v.scrubProgress.update(func(p *Progress) {
			p.Bytes += res.read
			p.Repaired += res.repaired
			p.Lost += res.lost
		})
	}
	for i := range st.shards {
		sh := st.shards[i].Load()
		if sh == nil || !sh.trusted.Load() || sh.dev.Health().Failed() {
			continue
		}
		if err := syncShard(sh); err != nil {
			errs = append(errs, err)
			continue
		}
		if clean {
			sh.bad.Store(false)
		}
	}
	if lost > 0 {
		errs = append(errs, fmt.Errorf("ec: scrub %s: %d stripes: %w", st.name, lost, ErrUnrecoverable))
	}
	return errors.Join(errs...)
}
