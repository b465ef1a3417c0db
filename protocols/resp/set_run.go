package resp

import "errors"

// A run of plain `SET key value` requests with small values, as pipelining
// clients send them, is stored with one engine.PutMany instead of one
// metadata commit per request: far fewer commits queue behind other
// connections' log syncs, and the run is atomic. MSETs of small values join
// the run too, each with all of its pairs. Each request's +OK is queued at
// once, in order; the run commits before any other command runs and before
// the batch's replies are flushed, with the batch's Sync in the same log
// write, so no reply is sent before its write is acknowledged. If the
// commit fails, the queued replies are never sent and the connection
// closes, as when Sync fails.

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
}

func (r *setRun) empty() bool { return len(r.offs) == 0 }

// plainSet reports whether a SET can join the run: no options, and a small
// value already in the read buffer.
func plainSet(cmd *Command) bool {
	a := cmd.Args
	return len(a) == 3 && a[2] != nil && len(a[2]) <= setRunValueMax && cmd.Err == nil
}

// plainMSet reports whether an MSET can join the run: well formed, every
// value small and already in the read buffer.
func plainMSet(cmd *Command) bool {
	a := cmd.Args
	if len(a) < 3 || len(a)%2 != 1 || cmd.Err != nil {
		return false
	}
	for i := 2; i < len(a); i += 2 {
		if a[i] == nil || len(a[i]) > setRunValueMax {
			return false
		}
	}
	return true
}

// queueMSet adds an MSET's pairs to the run and answers it. Its pairs
// always commit together (the run commits first if they would not fit),
// so the MSET stays atomic.
func (c *conn) queueMSet(args [][]byte) {
	r := &c.run
	size := 0
	for _, a := range args[1:] {
		size += len(a)
	}
	if !r.empty() && (len(r.offs)/3+len(args)/2 > setRunMax || len(r.buf)+size > setRunBytesMax) && !c.commitRun() {
		return
	}
	for i := 1; i < len(args); i += 2 {
		c.appendPair(args[i], args[i+1])
	}
	c.dirty = true
	c.wr.OK()
	if len(r.offs)/3 >= setRunMax || len(r.buf) >= setRunBytesMax {
		c.commitRun()
	}
}

func (c *conn) appendPair(key, val []byte) {
	r := &c.run
	r.offs = append(r.offs, len(r.buf))
	r.buf = append(r.buf, key...)
	r.offs = append(r.offs, len(r.buf))
	r.buf = append(r.buf, val...)
	r.offs = append(r.offs, len(r.buf))
}

// queueSet adds a plain SET to the run and answers it.
func (c *conn) queueSet(key, val []byte) {
	r := &c.run
	c.appendPair(key, val)
	c.dirty = true
	c.wr.OK()
	if len(r.offs)/3 >= setRunMax || len(r.buf) >= setRunBytesMax {
		c.commitRun()
	}
}

// commitRun stores the queued SETs. On failure the connection is marked
// failed: its queued replies must not go out.
func (c *conn) commitRun() bool { return c.commitRunSync(false) }

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
	if sync {
		err = c.eng.PutManySync(c.ns, r.keys, r.vals)
	} else {
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
