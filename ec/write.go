package ec

import (
	"fmt"
	"sync"

	"github.com/gpucache/gpucache/nvme"
)

// writeOp is the reusable state of one WritevAt or Sync. Ops are kept on
// a free list per volume, so a steady stream of writes allocates nothing:
// unit and iovec slices keep their capacity, and parity buffers come from
// the volume's aligned pool.
//
// A write runs as a pipeline of batches over two batch slots: while one
// batch's shard writes are in flight, the next batch is encoded, so
// encoding hides behind device time instead of adding to it.
type writeOp struct {
	v    *Volume
	st   *fileState
	kind int
	b    [2]*batch
	encs []encodeTask
	ewg  sync.WaitGroup // encode tasks
}

// batch is one round of a write: up to opts.batch stripes.
type batch struct {
	op     *writeOp
	wg     sync.WaitGroup // shard tasks
	units  [][]byte       // data units, stripe-major
	iov    [][][]byte     // per shard: buffers for one vectored write
	parity [][]byte       // m buffers of ns×unit
	sums   [][]uint32     // per shard: sums of the batch's units
	errs   []error        // per shard
	first  int64          // first stripe
	ns     int            // stripes
	tasks  []shardTask
}

func (v *Volume) getWriteOp(st *fileState) *writeOp {
	var op *writeOp
	select {
	case op = <-v.writeOps:
	default:
		op = &writeOp{v: v, encs: make([]encodeTask, v.opts.encoders)}
		for i := range op.encs {
			op.encs[i] = encodeTask{w: op, shards: make([][]byte, v.n)}
		}
		for x := range op.b {
			b := &batch{
				op:     op,
				iov:    make([][][]byte, v.n),
				parity: make([][]byte, v.m),
				sums:   make([][]uint32, v.n),
				errs:   make([]error, v.n),
				tasks:  make([]shardTask, v.n),
			}
			for i := range b.tasks {
				b.tasks[i] = shardTask{b: b, i: i}
			}
			if v.m > 0 {
				for i := range b.sums {
					b.sums[i] = make([]uint32, v.opts.batch)
				}
			}
			op.b[x] = b
		}
	}
	op.st = st
	for _, b := range op.b {
		clear(b.errs)
	}
	return op
}

func (v *Volume) putWriteOp(op *writeOp) {
	op.st = nil
	for _, b := range op.b {
		clear(b.units) // drop references to caller memory
		b.units = b.units[:0]
		for i := range b.iov {
			clear(b.iov[i])
			b.iov[i] = b.iov[i][:0]
		}
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
	s, end := off/sw, (off+total)/sw
	cur, next := op.b[0], op.b[1]
	op.prepare(cur, &c, s, end)
	var written int64
	for {
		cur.submit()
		more := cur.first+int64(cur.ns) < end
		if more {
			op.prepare(next, &c, cur.first+int64(cur.ns), end)
		}
		cur.wg.Wait()
		cur.release()
		if err := op.quorumErr(cur, "write", cur.first*sw); err != nil {
			if more {
				next.release()
			}
			return written, err
		}
		written += int64(cur.ns) * sw
		if !more {
			return written, nil
		}
		cur, next = next, cur
	}
}

// prepare fills b with the next batch of stripes from c, starting at
// stripe s (end exclusive), and encodes it.
func (op *writeOp) prepare(b *batch, c *cursor, s, end int64) {
	v := op.v
	ns := int(min(int64(v.opts.batch), end-s))
	b.first, b.ns = s, ns
	b.units = b.units[:0]
	for j := 0; j < ns*v.k; j++ {
		b.units = append(b.units, c.next())
	}
	for i := 0; i < v.k; i++ {
		b.iov[i] = b.iov[i][:0]
		for t := 0; t < ns; t++ {
			b.iov[i] = append(b.iov[i], b.units[t*v.k+i])
		}
	}
	if v.m > 0 {
		for p := 0; p < v.m; p++ {
			b.parity[p] = v.pool.Get(ns * unit)
			b.iov[v.k+p] = append(b.iov[v.k+p][:0], b.parity[p])
		}
		op.encodeAll(b)
	}
}

// submit hands the batch's shard writes to the workers.
func (b *batch) submit() {
	clear(b.errs)
	b.wg.Add(len(b.tasks))
	for i := range b.tasks {
		b.op.v.work <- &b.tasks[i]
	}
}

// release returns the batch's parity buffers.
func (b *batch) release() {
	for p := range b.parity {
		if b.parity[p] != nil {
			b.op.v.pool.Put(b.parity[p])
			b.parity[p] = nil
			b.iov[b.op.v.k+p][0] = nil
		}
	}
}

// encodeAll computes parity and checksums for b, splitting the stripes
// over up to opts.encoders tasks; the calling goroutine takes the first
// share itself.
func (op *writeOp) encodeAll(b *batch) {
	parts := min(len(op.encs), max(1, b.ns/16))
	per := (b.ns + parts - 1) / parts
	op.ewg.Add(parts)
	for p := parts - 1; p >= 0; p-- {
		t := &op.encs[p]
		t.b = b
		t.from, t.to = p*per, min(b.ns, (p+1)*per)
		if p == 0 {
			t.run()
		} else {
			op.v.work <- t
		}
	}
	op.ewg.Wait()
}

// encode fills parity and sums for stripes [t.from, t.to) of t.b.
func (op *writeOp) encode(t *encodeTask) {
	v, b := op.v, t.b
	for s := t.from; s < t.to; s++ {
		copy(t.shards, b.units[s*v.k:(s+1)*v.k])
		for p := 0; p < v.m; p++ {
			t.shards[v.k+p] = b.parity[p][s*unit : (s+1)*unit]
		}
		// Encode cannot fail: shard count and sizes are fixed here.
		_ = v.enc.Encode(t.shards)
		for i, u := range t.shards {
			b.sums[i][s] = sumOf(u)
		}
	}
	clear(t.shards)
	t.b = nil
}

// writeShard writes shard i's part of the batch. Checksums are recorded
// even if the write fails: they describe what the shard should hold, so a
// torn or lost write is caught on read instead of returning stale bytes.
func (b *batch) writeShard(i int) {
	sh := b.op.st.shards[i].Load()
	if !sh.writable() {
		b.errs[i] = sh.why()
		return
	}
	_, err := sh.f.WritevAt(b.iov[i], b.first*unit)
	if sh.sums != nil {
		sh.sums.set(b.first, b.sums[i][:b.ns])
	}
	if err != nil {
		sh.bad.Store(true)
		b.op.v.stats.writeErrors.Add(1)
	}
	b.errs[i] = err
}

// quorumErr reports b's failure if too few shards succeeded.
func (op *writeOp) quorumErr(b *batch, what string, off int64) error {
	ok := 0
	for _, e := range b.errs {
		if e == nil {
			ok++
		}
	}
	if ok >= op.v.quorum {
		return nil
	}
	se := &ShardError{Op: what, File: op.st.name, Offset: off, Err: ErrQuorum}
	for i, e := range b.errs {
		if e != nil {
			se.Faults = append(se.Faults, op.st.fault(i, e))
		}
	}
	return se
}
