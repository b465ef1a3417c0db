package ec

import (
	"fmt"
	"sync"

	"github.com/gpucache/gpucache/nvme"
)

// writeOp is the reusable state of one WritevAt or Sync. Ops are pooled
// per volume, so a steady stream of writes allocates nothing: unit and
// iovec slices keep their capacity, and parity buffers come from the
// volume's aligned pool.
type writeOp struct {
	v    *Volume
	st   *fileState
	kind int
	wg   sync.WaitGroup

	units  [][]byte   // data units of the batch, stripe-major
	iov    [][][]byte // per shard: buffers for one vectored write
	parity [][]byte   // m buffers of batch×unit
	sums   [][]uint32 // per shard: sums of the batch's units
	errs   []error    // per shard
	first  int64      // first stripe of the batch
	ns     int        // stripes in the batch

	tasks []shardTask
	encs  []encodeTask
}

func (v *Volume) getWriteOp(st *fileState) *writeOp {
	var op *writeOp
	select {
	case op = <-v.writeOps:
	default:
		op = &writeOp{
			v:      v,
			iov:    make([][][]byte, v.n),
			parity: make([][]byte, v.m),
			sums:   make([][]uint32, v.n),
			errs:   make([]error, v.n),
			tasks:  make([]shardTask, v.n),
			encs:   make([]encodeTask, v.opts.encoders),
		}
		for i := range op.tasks {
			op.tasks[i] = shardTask{w: op, i: i}
		}
		for i := range op.encs {
			op.encs[i] = encodeTask{w: op, shards: make([][]byte, v.n)}
		}
		if v.m > 0 {
			for i := range op.sums {
				op.sums[i] = make([]uint32, v.opts.batch)
			}
		}
	}
	op.st = st
	clear(op.errs)
	return op
}

func (v *Volume) putWriteOp(op *writeOp) {
	op.st = nil
	clear(op.units) // drop references to caller memory
	op.units = op.units[:0]
	for i := range op.iov {
		clear(op.iov[i])
		op.iov[i] = op.iov[i][:0]
	}
	select {
	case v.writeOps <- op:
	default: // enough idle ops; let this one go
	}
}

// cursor walks a caller's buffers one unit at a time. Buffer lengths are
// multiples of unit, so a unit never spans two buffers.
type cursor struct {
	bufs [][]byte
	i    int
	off  int
}

func (c *cursor) next() []byte {
	for c.off == len(c.bufs[c.i]) {
		c.i++
		c.off = 0
	}
	b := c.bufs[c.i][c.off : c.off+unit : c.off+unit]
	c.off += unit
	return b
}

// checkBufs validates caller buffers and returns their total length.
func checkBufs(bufs [][]byte) (int64, error) {
	var total int64
	for _, b := range bufs {
		if !nvme.IsAligned(b) {
			return 0, fmt.Errorf("%w: buffer of %d bytes is not nvme.Align aligned", ErrUnaligned, len(b))
		}
		total += int64(len(b))
	}
	return total, nil
}

// WritevAt writes the buffers back to back at off. off and the total
// length are multiples of StripeWidth, every buffer is nvme.Align aligned
// in address and length, and the range has not been written before
// (regions are written once: parity is computed from the new data alone).
// Parity is computed and all k+m shards are written in parallel; the write
// succeeds if at least the write quorum of shards took it. It is not
// durable until Sync. The buffers are not retained.
func (f *File) WritevAt(bufs [][]byte, off int64) (int64, error) {
	if f.closed.Load() {
		return 0, ErrClosed
	}
	st := f.st
	v := st.v
	total, err := checkBufs(bufs)
	if err != nil {
		return 0, err
	}
	sw := v.StripeWidth()
	if off < 0 || off%sw != 0 || total%sw != 0 {
		return 0, fmt.Errorf("%w: write of %d at %d is not in whole stripes of %d", ErrUnaligned, total, off, sw)
	}
	if off+total > st.size {
		return 0, fmt.Errorf("%w: write of %d at %d beyond size %d", ErrRange, total, off, st.size)
	}
	if total == 0 {
		return 0, nil
	}
	if v.n == 1 {
		// Pass-through: the caller's buffers go to the device as they are.
		sh := st.shards[0].Load()
		if !sh.writable() {
			return 0, &ShardError{Op: "write", File: st.name, Offset: off, Faults: []ShardFault{st.fault(0, sh.why())}, Err: ErrQuorum}
		}
		return sh.f.WritevAt(bufs, off)
	}
	st.repairMu.RLock()
	defer st.repairMu.RUnlock()
	op := v.getWriteOp(st)
	defer v.putWriteOp(op)
	op.kind = opWrite
	c := cursor{bufs: bufs}
	var written int64
	for s, end := off/sw, (off+total)/sw; s < end; {
		ns := int(min(int64(v.opts.batch), end-s))
		op.first, op.ns = s, ns
		op.units = op.units[:0]
		for j := 0; j < ns*v.k; j++ {
			op.units = append(op.units, c.next())
		}
		for i := 0; i < v.k; i++ {
			op.iov[i] = op.iov[i][:0]
			for t := 0; t < ns; t++ {
				op.iov[i] = append(op.iov[i], op.units[t*v.k+i])
			}
		}
		if v.m > 0 {
			for p := 0; p < v.m; p++ {
				op.parity[p] = v.pool.Get(ns * unit)
				op.iov[v.k+p] = append(op.iov[v.k+p][:0], op.parity[p])
			}
			op.encodeAll()
		}
		clear(op.errs)
		op.wg.Add(v.n)
		for i := 0; i < v.n; i++ {
			v.work <- &op.tasks[i]
		}
		op.wg.Wait()
		for p := 0; p < v.m; p++ {
			v.pool.Put(op.parity[p])
			op.parity[p] = nil
			op.iov[v.k+p][0] = nil
		}
		if err := op.quorumErr("write", s*sw); err != nil {
			return written, err
		}
		written += int64(ns) * sw
		s += int64(ns)
	}
	return written, nil
}

// encodeAll computes parity and checksums for the batch, splitting the
// stripes over up to opts.encoders tasks; the calling goroutine takes the
// first share itself.
func (op *writeOp) encodeAll() {
	parts := min(len(op.encs), max(1, op.ns/16))
	per := (op.ns + parts - 1) / parts
	op.wg.Add(parts)
	for p := parts - 1; p >= 0; p-- {
		t := &op.encs[p]
		t.from, t.to = p*per, min(op.ns, (p+1)*per)
		if p == 0 {
			t.run()
		} else {
			op.v.work <- t
		}
	}
	op.wg.Wait()
}

// encode fills parity and sums for stripes [t.from, t.to) of the batch.
func (op *writeOp) encode(t *encodeTask) {
	v := op.v
	for s := t.from; s < t.to; s++ {
		copy(t.shards, op.units[s*v.k:(s+1)*v.k])
		for p := 0; p < v.m; p++ {
			t.shards[v.k+p] = op.parity[p][s*unit : (s+1)*unit]
		}
		// Encode cannot fail: shard count and sizes are fixed here.
		_ = v.enc.Encode(t.shards)
		for i, b := range t.shards {
			op.sums[i][s] = sumOf(b)
		}
	}
	clear(t.shards)
}

// writeShard writes shard i's part of the batch. Checksums are recorded
// even if the write fails: they describe what the shard should hold, so a
// torn or lost write is caught on read instead of returning stale bytes.
func (op *writeOp) writeShard(i int) {
	sh := op.st.shards[i].Load()
	if !sh.writable() {
		op.errs[i] = sh.why()
		return
	}
	_, err := sh.f.WritevAt(op.iov[i], op.first*unit)
	if sh.sums != nil {
		sh.sums.set(op.first, op.sums[i][:op.ns])
	}
	if err != nil {
		sh.bad.Store(true)
		op.st.v.stats.writeErrors.Add(1)
	}
	op.errs[i] = err
}

// quorumErr reports the op's failure if too few shards succeeded.
func (op *writeOp) quorumErr(what string, off int64) error {
	ok := 0
	for _, e := range op.errs {
		if e == nil {
			ok++
		}
	}
	if ok >= op.v.quorum {
		return nil
	}
	se := &ShardError{Op: what, File: op.st.name, Offset: off, Err: ErrQuorum}
	for i, e := range op.errs {
		if e != nil {
			se.Faults = append(se.Faults, op.st.fault(i, e))
		}
	}
	return se
}
