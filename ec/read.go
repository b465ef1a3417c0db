package ec

import (
	"fmt"
	"io"
	"sync"
)

// readOp is the reusable state of one ReadvAt (pooled like writeOp).
type readOp struct {
	v  *Volume
	st *fileState
	wg sync.WaitGroup

	degraded bool       // second phase: reading whole stripes into scratch
	units    [][]byte   // requested units of the batch, in logical order
	ua       int64      // logical unit index of units[0]
	first    int64      // first stripe of the batch
	ns       int        // stripes in the batch
	iov      [][][]byte // per shard
	from     []int64    // per shard: stripe of its first unit in iov
	bad      [][]bool   // per shard, per stripe of the batch: unit unusable
	errs     []error    // per shard: first error seen in this read
	scratch  [][]byte   // per shard, degraded phase
	hdr      [][]byte   // k+m shard headers for reconstruction
	tasks    []shardTask
}

func (v *Volume) getReadOp(st *fileState) *readOp {
	var op *readOp
	select {
	case op = <-v.readOps:
	default:
		op = &readOp{
			v:       v,
			iov:     make([][][]byte, v.n),
			from:    make([]int64, v.n),
			bad:     make([][]bool, v.n),
			errs:    make([]error, v.n),
			scratch: make([][]byte, v.n),
			hdr:     make([][]byte, v.n),
			tasks:   make([]shardTask, v.n),
		}
		for i := range op.tasks {
			op.tasks[i] = shardTask{r: op, i: i}
			op.bad[i] = make([]bool, v.opts.batch)
		}
	}
	op.st = st
	clear(op.errs)
	return op
}

func (v *Volume) putReadOp(op *readOp) {
	op.st = nil
	clear(op.units)
	op.units = op.units[:0]
	for i := range op.iov {
		clear(op.iov[i])
		op.iov[i] = op.iov[i][:0]
	}
	clear(op.hdr)
	select {
	case v.readOps <- op:
	default: // enough idle ops; let this one go
	}
}

// ReadvAt fills the buffers back to back from off. off and every buffer
// (address and length) are multiples of nvme.Align. A healthy read touches
// only the data shards holding the range, reading straight into the
// buffers, and verifies every unit's checksum; a unit that is missing,
// unreadable or corrupt is reconstructed from the other shards. If that is
// impossible the read fails with a *ShardError wrapping ErrUnrecoverable:
// the bytes returned are the bytes written, or an error. Reading past Size
// returns io.EOF with the bytes before it.
func (f *File) ReadvAt(bufs [][]byte, off int64) (int64, error) {
	if f.closed.Load() {
		return 0, ErrClosed
	}
	st := f.st
	v := st.v
	total, err := checkBufs(bufs)
	if err != nil {
		return 0, err
	}
	if off < 0 || off%unit != 0 {
		return 0, fmt.Errorf("%w: read at %d", ErrUnaligned, off)
	}
	if off >= st.size {
		if total == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want, eof := total, false
	if off+total > st.size {
		want, eof = st.size-off, true
	}
	if v.n == 1 {
		sh := st.shards[0].Load()
		if !sh.readable() {
			return 0, &ShardError{Op: "read", File: st.name, Offset: off, Faults: []ShardFault{st.fault(0, sh.why())}, Err: ErrUnrecoverable}
		}
		return sh.f.ReadvAt(bufs, off)
	}
	op := v.getReadOp(st)
	defer v.putReadOp(op)
	c := cursor{bufs: bufs}
	k := int64(v.k)
	ua, ub := off/unit, (off+want)/unit
	var done int64
	for ua < ub {
		first := ua / k
		last := min(first+int64(v.opts.batch), (ub+k-1)/k) // exclusive
		ue := min(ub, last*k)
		op.first, op.ns, op.ua = first, int(last-first), ua
		op.units = op.units[:0]
		for j := ua; j < ue; j++ {
			op.units = append(op.units, c.next())
		}
		if err := op.readBatch(); err != nil {
			return done, err
		}
		done += (ue - ua) * unit
		ua = ue
	}
	if eof {
		return done, io.EOF
	}
	return done, nil
}

// readBatch reads op.units: data shards straight into the caller's
// buffers, then reconstruction for whatever failed.
func (op *readOp) readBatch() error {
	v, st := op.v, op.st
	k := int64(v.k)
	op.degraded = false
	for i := 0; i < v.n; i++ {
		op.iov[i] = op.iov[i][:0]
		clear(op.bad[i][:op.ns])
	}
	for idx, u := range op.units {
		j := op.ua + int64(idx)
		i := int(j % k)
		if len(op.iov[i]) == 0 {
			op.from[i] = j / k
		}
		op.iov[i] = append(op.iov[i], u)
	}
	var pending [256]int
	np := 0
	anyBad := false
	for i := 0; i < v.k; i++ {
		if len(op.iov[i]) == 0 {
			continue
		}
		if sh := st.shards[i].Load(); !sh.readable() {
			op.markBad(i, op.from[i]-op.first, len(op.iov[i]), sh.why())
			anyBad = true
			continue
		}
		pending[np] = i
		np++
	}
	op.run(pending[:np])
	if !anyBad {
		for i := 0; i < v.k && !anyBad; i++ {
			for _, b := range op.bad[i][:op.ns] {
				if b {
					anyBad = true
					break
				}
			}
		}
	}
	if !anyBad {
		return nil
	}
	return op.reconstruct()
}

// run runs the read tasks for the given shards, the last one inline.
func (op *readOp) run(shards []int) {
	if len(shards) == 0 {
		return
	}
	op.wg.Add(len(shards))
	for _, i := range shards[:len(shards)-1] {
		op.v.work <- &op.tasks[i]
	}
	op.tasks[shards[len(shards)-1]].run()
	op.wg.Wait()
}

func (op *readOp) markBad(i int, t int64, n int, err error) {
	for x := t; x < t+int64(n); x++ {
		op.bad[i][x] = true
	}
	if op.errs[i] == nil {
		op.errs[i] = err
	}
}

// readTask reads shard i's iov and verifies each unit's checksum.
func (op *readOp) readTask(i int) {
	sh := op.st.shards[i].Load()
	if sh == nil {
		op.markBad(i, op.from[i]-op.first, len(op.iov[i]), errMissing)
		return
	}
	if _, err := sh.f.ReadvAt(op.iov[i], op.from[i]*unit); err != nil {
		op.markBad(i, op.from[i]-op.first, len(op.iov[i]), err)
		op.v.stats.readErrors.Add(1)
		return
	}
	if sh.sums == nil {
		return
	}
	for x, u := range op.iov[i] {
		s := op.from[i] + int64(x)
		if op.st.unitBad(sh, s, u) {
			op.markBad(i, s-op.first, 1, errChecksum)
			op.v.stats.checksumErrors.Add(1)
		}
	}
}

// reconstruct handles the stripes of the batch in which some requested
// unit is bad: it reads every readable shard of those stripes into
// scratch, verifies them, decodes the missing data units and copies the
// requested ones into the caller's buffers.
func (op *readOp) reconstruct() error {
	v, st := op.v, op.st
	// Bad stripes, relative to the batch: [lo, hi).
	lo, hi := op.ns, -1
	for i := 0; i < v.k; i++ {
		for t, b := range op.bad[i][:op.ns] {
			if b {
				lo, hi = min(lo, t), max(hi, t+1)
			}
		}
	}
	if v.m == 0 {
		return op.unrecoverable(int64(lo))
	}
	need := make([]bool, op.ns) // stripes to decode
	for i := 0; i < v.k; i++ {
		for t := lo; t < hi; t++ {
			if op.bad[i][t] {
				need[t] = true
			}
		}
	}
	op.degraded = true
	var pending [256]int
	np := 0
	for j := 0; j < v.n; j++ {
		clear(op.bad[j][:op.ns])
		op.scratch[j] = v.pool.Get(op.ns * unit)
		op.iov[j] = op.iov[j][:0]
		if sh := st.shards[j].Load(); !sh.readable() {
			op.markBad(j, int64(lo), hi-lo, sh.why())
			continue
		}
		for t := lo; t < hi; t++ {
			op.iov[j] = append(op.iov[j], op.scratch[j][t*unit:(t+1)*unit])
		}
		op.from[j] = op.first + int64(lo)
		pending[np] = j
		np++
	}
	defer func() {
		for j := 0; j < v.n; j++ {
			v.pool.Put(op.scratch[j])
			op.scratch[j] = nil
		}
	}()
	op.run(pending[:np])
	k := int64(v.k)
	for t := lo; t < hi; t++ {
		if !need[t] {
			continue
		}
		good := 0
		for j := 0; j < v.n; j++ {
			b := op.scratch[j][t*unit : (t+1)*unit]
			if op.bad[j][t] {
				op.hdr[j] = b[:0]
			} else {
				op.hdr[j] = b
				good++
			}
		}
		if good < v.k {
			return op.unrecoverable(int64(t))
		}
		if err := v.enc.ReconstructData(op.hdr); err != nil {
			return op.unrecoverable(int64(t))
		}
		v.stats.reconstructed.Add(1)
		s := op.first + int64(t)
		for i := int64(0); i < k; i++ {
			j := s*k + i
			if j >= op.ua && j < op.ua+int64(len(op.units)) {
				copy(op.units[j-op.ua], op.hdr[i][:unit])
			}
			if op.bad[i][t] {
				op.repairUnit(int(i), s)
			}
		}
	}
	return nil
}

// repairUnit writes reconstructed data unit back to shard i if the shard
// is in service: it read back corrupt or failed twice, so the copy on the
// device is bad (read repair). Absent or failed shards wait for Rebuild;
// parity units for Scrub.
func (op *readOp) repairUnit(i int, s int64) {
	sh := op.st.shards[i].Load()
	if !sh.readable() {
		return
	}
	t := s - op.first
	var iov [1][]byte
	iov[0] = op.scratch[i][t*unit : (t+1)*unit]
	if _, err := sh.f.WritevAt(iov[:], s*unit); err != nil {
		return // the device's health records it; scrub retries
	}
	var sum [1]uint32
	sum[0] = sumOf(iov[0])
	sh.sums.set(s, sum[:])
	op.v.stats.readRepaired.Add(1)
}

func (op *readOp) unrecoverable(t int64) error {
	se := &ShardError{Op: "read", File: op.st.name, Offset: (op.first + t) * op.v.StripeWidth(), Err: ErrUnrecoverable}
	for j, e := range op.errs {
		if e != nil {
			se.Faults = append(se.Faults, op.st.fault(j, e))
		}
	}
	op.v.stats.unrecoverable.Add(1)
	return se
}
