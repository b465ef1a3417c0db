package ec

import (
	"errors"
	"io"
	"sync"
)

// lostSum is stored for a rebuilt unit that could not be reconstructed.
// The unit holds zeros, whose CRC32C is not lostSum, so a read sees a
// checksum mismatch and fails (or reconstructs, if shards came back)
// instead of returning zeros as data.
const lostSum = 1

// repairer holds the scratch state of one scrub or rebuild pass over a
// file. It runs on the scrub or rebuild goroutine, not on the hot path, so
// it favours plainness over avoiding allocations.
type repairer struct {
	v       *Volume
	scratch [][]byte // per shard: batch×unit
	bad     [][]bool // per shard, per stripe of the batch
	written [][]bool // per shard, per stripe: checksum says written
	hdr     [][]byte
	sums    []uint32
	req     []bool
}

func newRepairer(v *Volume) *repairer {
	r := &repairer{v: v, hdr: make([][]byte, v.n), sums: make([]uint32, v.opts.batch), req: make([]bool, v.n)}
	for j := 0; j < v.n; j++ {
		r.scratch = append(r.scratch, v.pool.Get(v.opts.batch*unit))
		r.bad = append(r.bad, make([]bool, v.opts.batch))
		r.written = append(r.written, make([]bool, v.opts.batch))
	}
	return r
}

func (r *repairer) close() {
	for _, b := range r.scratch {
		r.v.pool.Put(b)
	}
}

// batchResult counts what one repair batch did.
type batchResult struct {
	read     int64 // shard bytes read and verified
	repaired int64 // units rewritten
	lost     int64 // stripes with too few good units
	errs     []error
}

// repairBatch verifies stripes [first, first+ns) of st and repairs them.
// With target < 0 (scrub) it rewrites every corrupt or unreadable unit of
// a shard it can write; with target >= 0 (rebuild) it recreates shard
// target's units from the others and writes them as one vectored write.
// The caller holds st.repairMu exclusively.
func (r *repairer) repairBatch(st *fileState, first int64, ns int, target int) batchResult {
	v := r.v
	var res batchResult
	var wg sync.WaitGroup
	var mu sync.Mutex
	shards := make([]*shard, v.n)
	for j := 0; j < v.n; j++ {
		sh := st.shards[j].Load()
		shards[j] = sh
		buf := r.scratch[j][:ns*unit]
		for t := 0; t < ns; t++ {
			r.bad[j][t], r.written[j][t] = true, false
		}
		if j == target {
			clear(buf)
			continue
		}
		if sh == nil || !sh.trusted.Load() || sh.dev.Health().Failed() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var iov [1][]byte
			iov[0] = buf
			n, err := sh.f.ReadvAt(iov[:], first*unit)
			if err != nil && !errors.Is(err, io.EOF) {
				mu.Lock()
				res.errs = append(res.errs, &ShardError{Op: "repair", File: st.name, Offset: first * v.StripeWidth(), Faults: []ShardFault{st.fault(j, err)}, Err: err})
				mu.Unlock()
				return
			}
			// A shard file that ends early (cut short) is judged unit by
			// unit: those it holds are checked, the rest stay bad and are
			// rewritten from the others.
			for t := 0; t < ns && int64(t+1)*unit <= n; t++ {
				s := first + int64(t)
				r.written[j][t] = sh.sums.get(s) != 0
				r.bad[j][t] = st.unitBad(sh, s, buf[t*unit:(t+1)*unit])
			}
			mu.Lock()
			res.read += int64(len(buf))
			mu.Unlock()
		}()
	}
	wg.Wait()
	for t := 0; t < ns; t++ {
		r.sums[t] = 0
		written, good, fix := st.stripeWritten(first+int64(t)), 0, 0
		for j := 0; j < v.n; j++ {
			if !r.bad[j][t] {
				good++
			} else if r.fixable(shards[j], j, target) {
				fix++
			}
		}
		if !written || fix == 0 {
			continue // never written, or nothing here to repair
		}
		if good < v.k {
			res.lost++
			if target >= 0 {
				r.sums[t] = lostSum
			}
			continue
		}
		for j := 0; j < v.n; j++ {
			b := r.scratch[j][t*unit : (t+1)*unit]
			if r.bad[j][t] {
				r.hdr[j] = b[:0]
			} else {
				r.hdr[j] = b
			}
		}
		if err := v.enc.Reconstruct(r.hdr); err != nil {
			res.lost++
			res.errs = append(res.errs, err)
			continue
		}
		for j := 0; j < v.n; j++ {
			if !r.bad[j][t] || !r.fixable(shards[j], j, target) {
				continue
			}
			sum := sumOf(r.hdr[j])
			if target >= 0 {
				r.sums[t] = sum
				continue
			}
			var iov [1][]byte
			iov[0] = r.scratch[j][t*unit : (t+1)*unit]
			if _, err := shards[j].f.WritevAt(iov[:], (first+int64(t))*unit); err != nil {
				res.errs = append(res.errs, err)
				continue
			}
			shards[j].sums.set(first+int64(t), []uint32{sum})
			res.repaired++
		}
	}
	if target >= 0 {
		sh := shards[target]
		var iov [1][]byte
		iov[0] = r.scratch[target][:ns*unit]
		if _, err := sh.f.WritevAt(iov[:], first*unit); err != nil {
			res.errs = append(res.errs, err)
		}
		sh.sums.set(first, r.sums[:ns])
		res.repaired += int64(ns)
	}
	return res
}

// fixable reports whether repair should rewrite shard j's units.
func (r *repairer) fixable(sh *shard, j, target int) bool {
	if target >= 0 {
		return j == target
	}
	return sh != nil && sh.trusted.Load() && !sh.dev.Health().Failed()
}

// syncShard flushes a repaired shard's checksums and data.
func syncShard(sh *shard) error {
	if err := sh.sums.flush(); err != nil {
		return err
	}
	return sh.f.Sync()
}

// eachFile calls fn on each named file, opened (files removed meanwhile
// are skipped). Callers list the names once, so progress totals and the
// files visited agree even while files are created.
func (v *Volume) eachFile(names []string, fn func(st *fileState) error) (int, error) {
	done := 0
	for _, name := range names {
		f, err := v.Open(name)
		if err != nil {
			continue // removed meanwhile, or unreadable: counted by fn's callers
		}
		err = fn(f.st)
		f.Close()
		if err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}
