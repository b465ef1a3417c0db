package resp

import (
	"sync"

	"github.com/gpucache/gpucache/engine"
)

// A connection that pipelines large SETs (LMCache's native client writes
// batches of them before reading any reply) should not wait for each
// value's last write and fdatasync before it reads the next value. A plain
// `SET key <large value>` whose value is already streaming to the NVMe tier
// (its space is reserved, so the write cannot fail for lack of room) is
// handed to the connection's writer goroutine, which stores such values one
// after another, in order; the reader goes on receiving. Its +OK is queued
// at once. Before any other command runs, and before the batch's replies
// are flushed, the writer is drained: nothing is acknowledged before it is
// durable, and a failed write closes the connection with nothing sent.

// largeSetDepth bounds the values a connection has queued for its writer.
const largeSetDepth = 4

type largeSets struct {
	jobs chan largeSet
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

type largeSet struct {
	ns  string
	key []byte
	buf *engine.Buffer
	// Cluster mode: how the SET was routed (see Server.writableAt).
	epoch             uint64
	asking, importing bool
}

// streamingSet reports whether a request is a plain SET whose large value
// is streaming to the NVMe tier.
func streamingSet(cmd *Command) (*engine.Buffer, bool) {
	a := cmd.Args
	if len(a) != 3 || a[2] != nil || cmd.Err != nil {
		return nil, false
	}
	b, ok := cmd.Large(2).(*engine.Buffer)
	return b, ok && b.Streaming()
}

// queueLargeSet hands the SET to the writer and answers it.
func (c *conn) queueLargeSet(cmd *Command) {
	l := &c.large
	if l.jobs == nil {
		l.jobs = make(chan largeSet, largeSetDepth)
		go c.largeWriter()
	}
	l.wg.Add(1)
	l.jobs <- largeSet{ns: c.ns, key: append([]byte(nil), cmd.Args[1]...), buf: cmd.Take(2).(*engine.Buffer),
		epoch: c.cl.epoch, asking: c.cl.routedAsking, importing: c.cl.importing}
	c.dirty = true
	c.wr.OK()
}

func (c *conn) largeWriter() {
	l := &c.large
	for j := range l.jobs {
		l.mu.Lock()
		failed := l.err != nil
		l.mu.Unlock()
		if failed {
			j.buf.Release() // a write before it failed: this one is not acknowledged either
		} else if err := c.putLarge(j); err != nil {
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
		}
		l.wg.Done()
	}
}

// putLarge stores one queued SET, holding the work guard shared (the
// writer is not the connection's goroutine: it takes the lock itself).
func (c *conn) putLarge(j largeSet) error {
	c.s.work.mu.RLock()
	defer c.s.work.mu.RUnlock()
	if !c.s.writableAt(j.epoch, j.key, j.asking, j.importing) {
		j.buf.Release()
		return errRouteChanged
	}
	_, err := c.eng.Put(j.ns, j.key, j.buf, engine.PutOptions{})
	return err
}

// drainLarge waits for the queued SETs. On failure the connection is marked
// failed and closed: their replies must not go out.
func (c *conn) drainLarge() bool {
	l := &c.large
	if l.jobs == nil {
		return !c.failed
	}
	l.wg.Wait()
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if err != nil && !c.failed {
		c.s.logf("resp: client id=%d addr=%s: pipelined SET failed, dropping unacknowledged replies: %v", c.id, c.addr, err)
		c.failed = true
		c.nc.Close()
	}
	return !c.failed
}

// stopLarge ends the writer once its queue is done.
func (c *conn) stopLarge() {
	l := &c.large
	if l.jobs != nil {
		l.wg.Wait()
		close(l.jobs)
		l.jobs = nil
	}
}
