package ec

// task is a unit of work for the volume's worker goroutines. Tasks are
// pointers into pooled op structs, so handing one over allocates nothing.
type task interface{ run() }

func (v *Volume) worker() {
	defer v.workers.Done()
	for t := range v.work {
		t.run()
	}
}

// Kinds of shard task.
const (
	opWrite = iota
	opSync
	opRead
)

// shardTask runs one shard's part of an op.
type shardTask struct {
	b *batch
	r *readOp
	i int
}

func (t *shardTask) run() {
	if t.b != nil {
		switch t.b.op.kind {
		case opWrite:
			t.b.writeShard(t.i)
		case opSync:
			t.b.syncShard(t.i)
		}
		t.b.wg.Done()
		return
	}
	t.r.readTask(t.i)
	t.r.wg.Done()
}

// encodeTask encodes stripes [from, to) of a write batch.
type encodeTask struct {
	w        *writeOp
	b        *batch
	from, to int
	shards   [][]byte // k+m headers, reused
}

func (t *encodeTask) run() {
	w := t.w
	w.encode(t)
	w.ewg.Done()
}
