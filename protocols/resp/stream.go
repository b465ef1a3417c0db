package resp

import (
	"sync"

	"github.com/gpucache/gpucache/engine"
)

// Helpers of the stream commands: collected entries, consumer-group
// delivery, and Redis's logical read counters (entries-read, lag).

// streamEntries collects entries read in a transaction, to be written
// once it commits: the fields are copied into one buffer.
type streamEntries struct {
	ids  []engine.StreamID
	nf   []int // fields per entry; -1: the entry is gone (a nil reply)
	ends []int // end offset of each field in buf
	buf  []byte
}

var entriesPool = sync.Pool{New: func() any { return new(streamEntries) }}

// getEntries returns an empty collector from the pool; putEntries gives
// it back (small ones only, so one huge read does not pin its memory).
func getEntries() *streamEntries { return entriesPool.Get().(*streamEntries) }

func putEntries(s *streamEntries) {
	if cap(s.buf) > 1<<20 || cap(s.ends) > 1<<14 {
		return
	}
	s.ids, s.nf, s.ends, s.buf = s.ids[:0], s.nf[:0], s.ends[:0], s.buf[:0]
	entriesPool.Put(s)
}

func (s *streamEntries) add(id engine.StreamID, fields [][]byte) {
	s.ids = append(s.ids, id)
	s.nf = append(s.nf, len(fields))
	for _, f := range fields {
		s.buf = append(s.buf, f...)
		s.ends = append(s.ends, len(s.buf))
	}
}

func (s *streamEntries) addGone(id engine.StreamID) {
	s.ids = append(s.ids, id)
	s.nf = append(s.nf, -1)
}

func (s *streamEntries) len() int { return len(s.ids) }

// writeEntries writes the entries as [[id, [field, value, ...]], ...].
func (c *conn) writeEntries(s *streamEntries) {
	c.wr.Array(len(s.ids))
	fi, off := 0, 0
	for i, id := range s.ids {
		c.wr.Array(2)
		c.streamID(id)
		n := s.nf[i]
		if n < 0 {
			c.wr.NullArray()
			continue
		}
		c.wr.Array(n)
		for j := 0; j < n; j++ {
			end := s.ends[fi]
			c.wr.Bulk(s.buf[off:end])
			off = end
			fi++
		}
	}
}

// hasTombstones is Redis's streamRangeHasTombstones: whether an entry
// deleted by XDEL may lie in [start, end].
func hasTombstones(info *engine.StreamInfo, start, end engine.StreamID) bool {
	if info.Length == 0 || info.MaxDeleted.IsZero() {
		return false
	}
	if info.MaxDeleted.Less(info.FirstID) {
		return false
	}
	return !info.MaxDeleted.Less(start) && !end.Less(info.MaxDeleted)
}

// estimateEntriesRead is Redis's streamEstimateDistanceFromFirstEverEntry:
// the logical read counter of id, -1 when it cannot be known.
func estimateEntriesRead(info *engine.StreamInfo, id engine.StreamID) int64 {
	if info.EntriesAdded == 0 {
		return 0
	}
	added := int64(info.EntriesAdded)
	if info.Length == 0 && id.Compare(info.LastID) < 1 {
		return added
	}
	switch id.Compare(info.LastID) {
	case 0:
		return added
	case 1:
		return -1
	}
	cmpFirst := id.Compare(info.FirstID)
	if info.MaxDeleted.IsZero() || info.MaxDeleted.Less(info.FirstID) {
		switch {
		case cmpFirst < 0:
			return added - info.Length
		case cmpFirst == 0:
			return added - info.Length + 1
		}
	}
	return -1
}

// groupLag is a group's lag as XINFO reports it; false for nil.
func groupLag(info *engine.StreamInfo, g *engine.StreamGroup) (int64, bool) {
	if info.EntriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != -1 && !hasTombstones(info, g.LastID, engine.MaxStreamID) {
		return int64(info.EntriesAdded) - g.EntriesRead, true
	}
	if n := estimateEntriesRead(info, g.LastID); n != -1 {
		return int64(info.EntriesAdded) - n, true
	}
	return 0, false
}

// touchConsumer loads or creates consumer of group (counting it in g) and
// marks it seen at now.
func touchConsumer(t *engine.Txn, i int, group, consumer []byte, g *engine.StreamGroup, now int64) (engine.StreamConsumer, error) {
	cons, ok, err := t.StreamGetConsumer(i, group, consumer)
	if err != nil {
		return cons, err
	}
	if !ok {
		g.Consumers++
		cons.ActiveTime = -1
	}
	cons.SeenTime = now
	return cons, nil
}

// deliverNew serves XREADGROUP's ">" for stream key i: up to count (0:
// all) entries after the group's last-delivered ID go to consumer and,
// unless noack, into the PEL. It reports whether the stream had any.
func deliverNew(t *engine.Txn, i int, group, consumer []byte, count int64, noack bool, now int64, out *streamEntries) (bool, error) {
	g, ok, err := t.StreamGetGroup(i, group)
	if err != nil || !ok {
		return false, err
	}
	info := t.StreamInfo(i)
	if info.Length == 0 || !g.LastID.Less(info.LastEntry) {
		return false, nil
	}
	start, _ := g.LastID.Next()
	from := out.len()
	err = t.StreamRange(i, start, engine.MaxStreamID, false, func(id engine.StreamID, fields [][]byte) bool {
		out.add(id, fields)
		return count == 0 || int64(out.len()-from) < count
	})
	if err != nil {
		return false, err
	}
	cons, err := touchConsumer(t, i, group, consumer, &g, now)
	if err != nil {
		return false, err
	}
	for _, id := range out.ids[from:] {
		if g.EntriesRead != -1 && !hasTombstones(&info, id, engine.MaxStreamID) {
			g.EntriesRead++
		} else if info.EntriesAdded != 0 {
			g.EntriesRead = estimateEntriesRead(&info, id)
		}
		g.LastID = id
		if noack {
			continue
		}
		_, had, err := t.StreamGetPending(i, group, id)
		if err != nil {
			return false, err
		}
		if !had {
			g.Pending++
		}
		t.StreamPutPending(i, group, id, engine.StreamPending{DeliveryTime: now, DeliveryCount: 1, Consumer: consumer})
	}
	if out.len() > from {
		cons.ActiveTime = now
	}
	t.StreamPutConsumer(i, group, consumer, cons)
	t.StreamPutGroup(i, group, g, false)
	return true, nil
}

// deliverHistory serves XREADGROUP with an ID: consumer's pending entries
// after start, up to count (0: all), each delivered once more.
func deliverHistory(t *engine.Txn, i int, group, consumer []byte, after engine.StreamID, count int64, now int64, out *streamEntries) error {
	g, ok, err := t.StreamGetGroup(i, group)
	if err != nil || !ok {
		return err
	}
	cons, err := touchConsumer(t, i, group, consumer, &g, now)
	if err != nil {
		return err
	}
	t.StreamPutConsumer(i, group, consumer, cons)
	t.StreamPutGroup(i, group, g, false)
	start, ok := after.Next()
	if !ok {
		return nil
	}
	type pend struct {
		id engine.StreamID
		p  engine.StreamPending
	}
	var ps []pend
	err = t.StreamPendingRange(i, group, start, engine.MaxStreamID, func(id engine.StreamID, p engine.StreamPending) bool {
		if string(p.Consumer) == string(consumer) {
			ps = append(ps, pend{id, engine.StreamPending{DeliveryTime: p.DeliveryTime, DeliveryCount: p.DeliveryCount}})
		}
		return count == 0 || int64(len(ps)) < count
	})
	if err != nil {
		return err
	}
	var fields [][]byte
	for _, x := range ps {
		var found bool
		fields, found, err = t.StreamGet(i, x.id, fields[:0])
		if err != nil {
			return err
		}
		if !found {
			out.addGone(x.id)
			continue
		}
		out.add(x.id, fields)
		x.p.DeliveryTime, x.p.DeliveryCount, x.p.Consumer = now, x.p.DeliveryCount+1, consumer
		t.StreamPutPending(i, group, x.id, x.p)
	}
	return nil
}

// trimStream applies a parsed MAXLEN/MINID trim to stream key i.
func trimStream(t *engine.Txn, i int, tr *streamTrim) (int64, error) {
	switch tr.strategy {
	case 'l':
		return t.StreamTrim(i, tr.limit, func(_ engine.StreamID, length int64) bool { return length > tr.maxLen })
	case 'i':
		return t.StreamTrim(i, tr.limit, func(id engine.StreamID, _ int64) bool { return id.Less(tr.minID) })
	}
	return 0, nil
}
