package resp

import "errors"

// A run of plain `SET key value` requests with small values, as pipelining
// clients send them, is stored with one engine.PutMany instead of one
// metadata commit per request: far fewer commits queue behind other
// connections' log syncs, and the run is atomic. Each SET's +OK is queued
// at once, in order; the run commits before any other command runs and
// before the batch's replies are flushed, with the batch's Sync in the same
// log write, so no reply is sent before its write is acknowledged. If the commit fails, the queued replies are never sent and
// the connection closes, as when Sync fails.

var errRunFailed = errors.New("resp: pipelined SETs failed")

const (
	// setRunValueMax is the largest value a run takes; larger ones go
	// through the ordinary path.
	setRunValueMax = 16 << 10
	// setRunMax bounds a run's requests and bytes.
	setRunMax      = 512
	setRunBytesMax = 4 << 20
)

// setRun holds the queued requests' keys and values, copied (the Reader
// reuses its buffer for the next request).
type setRun struct {
	buf  []byte
	offs []int // key start, value start, value end per request
	keys [][]byte
	vals [][]byte
	// In cluster mode, the epoch the first request was routed at and the
	// connection's ASKING/importing flags then (see Server.writableAt).
	epoch             uint64
	asking, importing bool
}

func (r *setRun) empty() bool { return len(r.offs) == 0 }

// plainSet reports whether a SET can join the run: no options, and a small
// value already in the read buffer.
func plainSet(cmd *Command) bool {
	a := cmd.Args
	return len(a) == 3 && a[2] != nil && len(a[2]) <= setRunValueMax && cmd.Err == nil
}

// queueSet adds a plain SET to the run and answers it.
func (c *conn) queueSet(key, val []byte) {
	r := &c.run
	if len(r.offs) == 0 {
		r.epoch, r.asking, r.importing = c.cl.epoch, c.cl.routedAsking, c.cl.importing
	}
	r.offs = append(r.offs, len(r.buf))
	r.buf = append(r.buf, key...)
	r.offs = append(r.offs, len(r.buf))
	r.buf = append(r.buf, val...)
	r.offs = append(r.offs, len(r.buf))
	c.dirty = true
	c.wr.OK()
	if len(r.offs)/3 >= setRunMax || len(r.buf) >= setRunBytesMax {
		c.commitRun()
	}
}

// commitRun stores the queued SETs, or applies the queued collection
// requests (coll_run.go; one of the two runs is empty). On failure the
// connection is marked failed: its queued replies must not go out.
func (c *conn) commitRun() bool { return c.commitColl() && c.commitRunSync(false) }

// commitRunSync is commitRun; with sync it also acknowledges every
// mutation before it, as engine.Sync does, in the same log write.
func (c *conn) commitRunSync(sync bool) bool {
	r := &c.run
	if r.empty() {
		return !c.failed
	}
	r.keys, r.vals = r.keys[:0], r.vals[:0]
	for i := 0; i < len(r.offs); i += 3 {
		r.keys = append(r.keys, r.buf[r.offs[i]:r.offs[i+1]])
		r.vals = append(r.vals, r.buf[r.offs[i+1]:r.offs[i+2]])
	}
	held := c.guard != guardNone
	if !held {
		c.enterGuard(guardShared)
	}
	var err error
	if cs := c.s.cluster; cs != nil && cs.Epoch() != r.epoch {
		for _, k := range r.keys {
			if !c.s.writableAt(r.epoch, k, r.asking, r.importing) {
				err = errRouteChanged
				break
			}
		}
	}
	switch {
	case err != nil:
	case sync:
		err = c.eng.PutManySync(c.ns, r.keys, r.vals)
	default:
		err = c.eng.PutMany(c.ns, r.keys, r.vals)
	}
	if !held {
		c.leaveGuard()
	}
	r.buf, r.offs = r.buf[:0], r.offs[:0]
	if err != nil {
		c.s.logf("resp: client id=%d addr=%s: pipelined SETs failed, dropping unacknowledged replies: %v", c.id, c.addr, err)
		c.failed = true
		c.nc.Close()
		return false
	}
	return true
}
