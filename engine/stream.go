package engine

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

// Streams, encoded as KVRocks encodes them: the metadata record carries the
// stream's own counters (streamMeta: last generated ID, max deleted ID,
// entries added, first and last entry, group count) and every entry is a
// sub-key named by its 128-bit ID in big-endian, so sub-key order is ID
// order. Consumer groups, their consumers and their pending entries (PEL)
// are sub-keys of the same collection, each kind under its own family byte:
//
//	'e' | ms u64 BE | seq u64 BE                 -> entry: uvarint n | n x (uvarint len | bytes)
//	'g' | group                                  -> group: last-delivered ID, entries-read, counts
//	'p' | u32 BE len(group) | group | ID (16)    -> pending entry: delivery time, count, consumer
//	'c' | u32 BE len(group) | group | consumer   -> consumer: seen time, active time
//
// KVRocks keeps entries in a stream column family and tells groups from
// entries by the sub-key's length. Here one sorted space holds everything,
// so the family byte does that work: the entries stay one contiguous run
// (a range read or a trim never steps over a group record), a group's PEL
// and its consumers are each one contiguous run in ID and name order (XPENDING
// walks only its group's PEL, in ID order, as Redis's rax does), and all of
// them share the stream's version, so DEL, expiry and RENAME treat the
// stream's groups exactly as its entries: one range, O(1).
const (
	streamEntry    = 'e'
	streamGroup    = 'g'
	streamPending  = 'p'
	streamConsumer = 'c'
)

// StreamID is a stream entry ID (ms-seq).
type StreamID struct{ Ms, Seq uint64 }

// MaxStreamID is the largest ID (the "+" of ranges).
var MaxStreamID = StreamID{math.MaxUint64, math.MaxUint64}

// Less reports whether a sorts before b.
func (a StreamID) Less(b StreamID) bool {
	return a.Ms < b.Ms || a.Ms == b.Ms && a.Seq < b.Seq
}

// Compare returns -1, 0 or 1 as a is before, equal to or after b.
func (a StreamID) Compare(b StreamID) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// IsZero reports whether a is 0-0.
func (a StreamID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Next returns the ID after a; false when a is the largest.
func (a StreamID) Next() (StreamID, bool) {
	switch {
	case a.Seq < math.MaxUint64:
		return StreamID{a.Ms, a.Seq + 1}, true
	case a.Ms < math.MaxUint64:
		return StreamID{a.Ms + 1, 0}, true
	}
	return a, false
}

// Prev returns the ID before a; false when a is 0-0.
func (a StreamID) Prev() (StreamID, bool) {
	switch {
	case a.Seq > 0:
		return StreamID{a.Ms, a.Seq - 1}, true
	case a.Ms > 0:
		return StreamID{a.Ms - 1, math.MaxUint64}, true
	}
	return a, false
}

// AppendTo appends "ms-seq".
func (a StreamID) AppendTo(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

func (a StreamID) String() string { return string(a.AppendTo(nil)) }

func appendStreamID(dst []byte, id StreamID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id.Ms)
	return binary.BigEndian.AppendUint64(dst, id.Seq)
}

func decodeStreamID(b []byte) StreamID {
	return StreamID{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

// streamMeta is the part of a stream's metadata record beyond the common
// fields (Meta.Size is the entry count, XLEN).
type streamMeta struct {
	lastID       StreamID // last generated ID
	maxDeleted   StreamID // largest ID deleted (XDEL, trims)
	firstID      StreamID // first entry (0-0 when empty)
	lastEntry    StreamID // last entry (0-0 when empty)
	entriesAdded uint64   // entries ever added
	groups       uint64   // consumer groups
}

func appendStreamMeta(dst []byte, s *streamMeta) []byte {
	if s == nil {
		s = &streamMeta{}
	}
	for _, v := range [...]uint64{s.lastID.Ms, s.lastID.Seq, s.maxDeleted.Ms, s.maxDeleted.Seq,
		s.firstID.Ms, s.firstID.Seq, s.lastEntry.Ms, s.lastEntry.Seq, s.entriesAdded, s.groups} {
		dst = binary.AppendUvarint(dst, v)
	}
	return dst
}

func decodeStreamMeta(b []byte) (*streamMeta, []byte, error) {
	var v [10]uint64
	for i := range v {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, b, errBadRecord
		}
		v[i], b = x, b[n:]
	}
	return &streamMeta{
		lastID: StreamID{v[0], v[1]}, maxDeleted: StreamID{v[2], v[3]},
		firstID: StreamID{v[4], v[5]}, lastEntry: StreamID{v[6], v[7]},
		entriesAdded: v[8], groups: v[9],
	}, b, nil
}

// StreamInfo is a stream's metadata as commands read it.
type StreamInfo struct {
	Length       int64
	LastID       StreamID
	MaxDeleted   StreamID
	FirstID      StreamID // 0-0 when empty
	LastEntry    StreamID // 0-0 when empty
	EntriesAdded uint64
	Groups       uint64
}

var errStreamValue = errors.New("engine: corrupt stream entry")

func (t *Txn) sm(i int) *streamMeta {
	k := &t.keys[t.slots[i]]
	if k.m.stream == nil {
		k.m.stream = new(streamMeta)
	}
	return k.m.stream
}

// StreamInfo returns stream key i's metadata; the caller has opened it.
func (t *Txn) StreamInfo(i int) StreamInfo {
	s := t.sm(i)
	return StreamInfo{Length: t.Size(i), LastID: s.lastID, MaxDeleted: s.maxDeleted, FirstID: s.firstID,
		LastEntry: s.lastEntry, EntriesAdded: s.entriesAdded, Groups: s.groups}
}

// StreamSetInfo sets what XSETID changes: the last generated ID, entries
// added and the max deleted ID. The caller has checked them.
func (t *Txn) StreamSetInfo(i int, lastID StreamID, entriesAdded uint64, maxDeleted StreamID) {
	s := t.sm(i)
	s.lastID, s.entriesAdded, s.maxDeleted = lastID, entriesAdded, maxDeleted
	t.keys[t.slots[i]].dirty = true
}

func streamEntryKey(dst []byte, id StreamID) []byte {
	return appendStreamID(append(dst, streamEntry), id)
}

// appendStreamValue encodes an entry's field-value list.
func appendStreamValue(dst []byte, fields [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(fields)))
	for _, f := range fields {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

// decodeStreamValue appends the entry's fields to dst (aliasing b).
func decodeStreamValue(b []byte, dst [][]byte) ([][]byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return dst, errStreamValue
	}
	b = b[w:]
	for j := uint64(0); j < n; j++ {
		l, w := binary.Uvarint(b)
		if w <= 0 || l > uint64(len(b)-w) {
			return dst, errStreamValue
		}
		dst = append(dst, b[w:w+int(l)])
		b = b[w+int(l):]
	}
	if len(b) != 0 {
		return dst, errStreamValue
	}
	return dst, nil
}

// StreamAdd appends an entry with id, which the caller has checked is
// above the last generated ID, to stream key i (opened or created).
func (t *Txn) StreamAdd(i int, id StreamID, fields [][]byte) {
	s := t.sm(i)
	var kb [17]byte
	t.rec = appendStreamValue(t.rec[:0], fields)
	t.setSub(i, streamEntryKey(kb[:0], id), t.rec)
	if t.Size(i) == 0 {
		s.firstID = id
	}
	s.lastID, s.lastEntry = id, id
	s.entriesAdded++
	t.addSize(i, 1)
}

// StreamGet appends entry id's fields to dst; false when absent.
func (t *Txn) StreamGet(i int, id StreamID, dst [][]byte) ([][]byte, bool, error) {
	var kb [17]byte
	v, ok, err := t.getSub(i, streamEntryKey(kb[:0], id), nil)
	if !ok || err != nil {
		return dst, false, err
	}
	dst, err = decodeStreamValue(v, dst)
	return dst, err == nil, err
}

// StreamHas reports whether entry id exists.
func (t *Txn) StreamHas(i int, id StreamID) (bool, error) {
	var kb [17]byte
	return t.hasSub(i, streamEntryKey(kb[:0], id))
}

// StreamRange calls fn with the entries of stream key i whose IDs are in
// [lo, hi], from lo (reverse: from hi), until fn returns false. fields
// are valid only during the call.
func (t *Txn) StreamRange(i int, lo, hi StreamID, reverse bool, fn func(id StreamID, fields [][]byte) bool) error {
	if hi.Less(lo) || t.Size(i) == 0 {
		return nil
	}
	s := t.sm(i)
	if lo.Less(s.firstID) {
		lo = s.firstID // deleted entries' tombstones lie below it
	}
	if s.lastEntry.Less(hi) {
		hi = s.lastEntry
	}
	if hi.Less(lo) {
		return nil
	}
	var lb, hb [17]byte
	end := streamEntryKey(hb[:0], hi)
	end = append(end, 0) // inclusive
	it, err := t.subIter(i, streamEntryKey(lb[:0], lo), end)
	if err != nil {
		return err
	}
	step, valid := it.Next, it.First()
	if reverse {
		step, valid = it.Prev, it.Last()
	}
	var fields [][]byte
	for ; valid; valid = step() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		sfx := it.Suffix()
		if len(sfx) != 17 {
			it.Close()
			return errStreamValue
		}
		if fields, err = decodeStreamValue(v, fields[:0]); err != nil {
			it.Close()
			return err
		}
		if !fn(decodeStreamID(sfx[1:]), fields) {
			break
		}
	}
	return it.Close()
}

// StreamDelete removes entry id from stream key i; false when absent.
func (t *Txn) StreamDelete(i int, id StreamID) (bool, error) {
	ok, err := t.StreamHas(i, id)
	if !ok || err != nil {
		return false, err
	}
	var kb [17]byte
	t.delSub(i, streamEntryKey(kb[:0], id))
	s := t.sm(i)
	if s.maxDeleted.Less(id) {
		s.maxDeleted = id
	}
	t.addSize(i, -1)
	if t.Size(i) == 0 {
		s.firstID, s.lastEntry = StreamID{}, StreamID{}
		return true, nil
	}
	if id == s.firstID {
		if s.firstID, err = t.streamEdge(i, id, false); err != nil {
			return true, err
		}
	}
	if id == s.lastEntry {
		if s.lastEntry, err = t.streamEdge(i, id, true); err != nil {
			return true, err
		}
	}
	return true, nil
}

// streamEdge finds the entry after (before: before) id.
func (t *Txn) streamEdge(i int, id StreamID, before bool) (StreamID, error) {
	var lb, hb [17]byte
	var it *subIter
	var err error
	if before {
		it, err = t.subIter(i, []byte{streamEntry}, streamEntryKey(hb[:0], id))
	} else {
		lo := streamEntryKey(lb[:0], id)
		it, err = t.subIter(i, append(lo, 0), []byte{streamEntry + 1})
	}
	if err != nil {
		return StreamID{}, err
	}
	valid := it.First()
	if before {
		valid = it.Last()
	}
	var found StreamID
	if valid {
		if sfx := it.Suffix(); len(sfx) == 17 {
			found = decodeStreamID(sfx[1:])
		}
	}
	return found, it.Close()
}

// StreamTrim removes entries from the start of stream key i while fn
// (given the entry ID and the length before removing it) says so, and at
// most limit of them (0: no limit). It returns how many it removed.
func (t *Txn) StreamTrim(i int, limit int64, fn func(id StreamID, length int64) bool) (int64, error) {
	if t.Size(i) == 0 {
		return 0, nil
	}
	s := t.sm(i)
	length := t.Size(i)
	var n int64
	var last StreamID
	// The walk goes in chunks, each deleted before the next is read (a
	// new iterator sees the deletes), so a trim of millions of entries
	// holds one chunk of keys, not all of them.
	const chunk = 1024
	dels := make([][]byte, 0, 64)
	var lb [17]byte
	start := streamEntryKey(lb[:0], s.firstID)
	for done := false; !done; {
		it, err := t.subIter(i, start, []byte{streamEntry + 1})
		if err != nil {
			return 0, err
		}
		dels = dels[:0]
		valid := it.First()
		for ; valid && len(dels) < chunk; valid = it.Next() {
			if limit > 0 && n >= limit {
				break
			}
			sfx := it.Suffix()
			if len(sfx) != 17 {
				it.Close()
				return 0, errStreamValue
			}
			id := decodeStreamID(sfx[1:])
			if !fn(id, length-n) {
				break
			}
			dels = append(dels, append([]byte(nil), sfx...))
			last = id
			n++
		}
		done = len(dels) < chunk
		if err := it.Close(); err != nil {
			return 0, err
		}
		for _, d := range dels {
			t.delSub(i, d)
		}
		if !done {
			start = append(streamEntryKey(lb[:0], last), 0)
		}
	}
	if n == 0 {
		return 0, nil
	}
	// NB: as in Redis, a trim leaves the max deleted ID alone (only
	// XDEL makes holes that the lag arithmetic must know about).
	t.addSize(i, -n)
	if t.Size(i) == 0 {
		s.firstID, s.lastEntry = StreamID{}, StreamID{}
		return n, nil
	}
	var err error
	s.firstID, err = t.streamEdge(i, last, false)
	return n, err
}

// StreamGroup is a consumer group's record.
type StreamGroup struct {
	LastID StreamID
	// EntriesRead is the group's logical read counter; -1 when unknown.
	EntriesRead int64
	Pending     int64 // entries in the PEL
	Consumers   int64
}

func (t *Txn) streamGroupKey(group []byte) []byte {
	return append(append(t.kb.mk[:0], streamGroup), group...)
}

// StreamGetGroup reads group's record in stream key i.
func (t *Txn) StreamGetGroup(i int, group []byte) (StreamGroup, bool, error) {
	var tmp [48]byte
	v, ok, err := t.getSub(i, t.streamGroupKey(group), tmp[:0])
	if !ok || err != nil {
		return StreamGroup{}, false, err
	}
	g, err := decodeStreamGroup(v)
	return g, err == nil, err
}

func decodeStreamGroup(v []byte) (StreamGroup, error) {
	var f [5]uint64
	for j := range f {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			return StreamGroup{}, errStreamValue
		}
		f[j], v = x, v[n:]
	}
	return StreamGroup{LastID: StreamID{f[0], f[1]}, EntriesRead: int64(f[2]) - 1, Pending: int64(f[3]), Consumers: int64(f[4])}, nil
}

// StreamPutGroup writes group's record; created says it is new (the
// stream's group count grows).
func (t *Txn) StreamPutGroup(i int, group []byte, g StreamGroup, created bool) {
	var v [50]byte
	b := v[:0]
	for _, x := range [...]uint64{g.LastID.Ms, g.LastID.Seq, uint64(g.EntriesRead + 1), uint64(g.Pending), uint64(g.Consumers)} {
		b = binary.AppendUvarint(b, x)
	}
	t.setSub(i, t.streamGroupKey(group), b)
	if created {
		t.sm(i).groups++
	}
}

// StreamGroups calls fn for each group of stream key i in name order.
func (t *Txn) StreamGroups(i int, fn func(name []byte, g StreamGroup) bool) error {
	it, err := t.subIter(i, []byte{streamGroup}, []byte{streamGroup + 1})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		g, err := decodeStreamGroup(v)
		if err != nil {
			it.Close()
			return err
		}
		if !fn(it.Suffix()[1:], g) {
			break
		}
	}
	return it.Close()
}

// StreamDestroyGroup removes group with its consumers and PEL; false when
// absent.
func (t *Txn) StreamDestroyGroup(i int, group []byte) (bool, error) {
	_, ok, err := t.StreamGetGroup(i, group)
	if !ok || err != nil {
		return false, err
	}
	for _, fam := range []byte{streamPending, streamConsumer} {
		lo := streamGroupPrefix(nil, fam, group)
		if err := t.deleteSubRange(i, lo, prefixEnd(lo)); err != nil {
			return false, err
		}
	}
	t.delSub(i, t.streamGroupKey(group))
	t.sm(i).groups--
	return true, nil
}

// deleteSubRange deletes key i's sub-keys in [lo, hi) one by one (they
// share the collection's range with live ones), a chunk at a time.
func (t *Txn) deleteSubRange(i int, lo, hi []byte) error {
	const chunk = 1024
	dels := make([][]byte, 0, 64)
	start := lo
	for {
		it, err := t.subIter(i, start, hi)
		if err != nil {
			return err
		}
		dels = dels[:0]
		for valid := it.First(); valid && len(dels) < chunk; valid = it.Next() {
			dels = append(dels, append([]byte(nil), it.Suffix()...))
		}
		if err := it.Close(); err != nil {
			return err
		}
		for _, d := range dels {
			t.delSub(i, d)
		}
		if len(dels) < chunk {
			return nil
		}
		start = append(dels[len(dels)-1], 0)
	}
}

func streamGroupPrefix(dst []byte, fam byte, group []byte) []byte {
	dst = append(dst, fam)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(group)))
	return append(dst, group...)
}

// StreamConsumer is a consumer's record.
type StreamConsumer struct {
	SeenTime   int64 // Unix ms of its last attempted interaction
	ActiveTime int64 // Unix ms of its last successful interaction; -1 never
}

func (t *Txn) consumerKey(group, name []byte) []byte {
	return append(streamGroupPrefix(t.kb.mk[:0], streamConsumer, group), name...)
}

// StreamGetConsumer reads consumer name of group.
func (t *Txn) StreamGetConsumer(i int, group, name []byte) (StreamConsumer, bool, error) {
	var tmp [24]byte
	v, ok, err := t.getSub(i, t.consumerKey(group, name), tmp[:0])
	if !ok || err != nil {
		return StreamConsumer{}, false, err
	}
	c, err := decodeConsumer(v)
	return c, err == nil, err
}

func decodeConsumer(v []byte) (StreamConsumer, error) {
	seen, n := binary.Uvarint(v)
	if n <= 0 {
		return StreamConsumer{}, errStreamValue
	}
	act, m := binary.Uvarint(v[n:])
	if m <= 0 {
		return StreamConsumer{}, errStreamValue
	}
	return StreamConsumer{SeenTime: int64(seen), ActiveTime: int64(act) - 1}, nil
}

// StreamPutConsumer writes consumer name of group.
func (t *Txn) StreamPutConsumer(i int, group, name []byte, c StreamConsumer) {
	var v [20]byte
	b := binary.AppendUvarint(v[:0], uint64(c.SeenTime))
	b = binary.AppendUvarint(b, uint64(c.ActiveTime+1))
	t.setSub(i, t.consumerKey(group, name), b)
}

// StreamDelConsumer deletes consumer name's record (its pending entries
// are the caller's).
func (t *Txn) StreamDelConsumer(i int, group, name []byte) {
	t.delSub(i, t.consumerKey(group, name))
}

// StreamConsumers calls fn for each consumer of group in name order.
func (t *Txn) StreamConsumers(i int, group []byte, fn func(name []byte, c StreamConsumer) bool) error {
	lo := streamGroupPrefix(nil, streamConsumer, group)
	it, err := t.subIter(i, lo, prefixEnd(lo))
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		c, err := decodeConsumer(v)
		if err != nil {
			it.Close()
			return err
		}
		if !fn(it.Suffix()[len(lo):], c) {
			break
		}
	}
	return it.Close()
}

// StreamPending is a pending entry: delivered to Consumer, not yet acked.
type StreamPending struct {
	DeliveryTime  int64 // Unix ms
	DeliveryCount int64
	Consumer      []byte
}

func (t *Txn) pendingKey(group []byte, id StreamID) []byte {
	return appendStreamID(streamGroupPrefix(t.kb.mk[:0], streamPending, group), id)
}

func decodePending(v []byte) (StreamPending, error) {
	tm, n := binary.Uvarint(v)
	if n <= 0 {
		return StreamPending{}, errStreamValue
	}
	cnt, m := binary.Uvarint(v[n:])
	if m <= 0 {
		return StreamPending{}, errStreamValue
	}
	return StreamPending{DeliveryTime: int64(tm), DeliveryCount: int64(cnt), Consumer: v[n+m:]}, nil
}

// StreamGetPending reads group's pending entry id; Consumer is a copy.
func (t *Txn) StreamGetPending(i int, group []byte, id StreamID) (StreamPending, bool, error) {
	v, ok, err := t.getSub(i, t.pendingKey(group, id), nil)
	if !ok || err != nil {
		return StreamPending{}, false, err
	}
	p, err := decodePending(v)
	return p, err == nil, err
}

// StreamPutPending writes group's pending entry id.
func (t *Txn) StreamPutPending(i int, group []byte, id StreamID, p StreamPending) {
	var v [20]byte
	b := binary.AppendUvarint(v[:0], uint64(p.DeliveryTime))
	b = binary.AppendUvarint(b, uint64(p.DeliveryCount))
	b = append(b, p.Consumer...)
	t.setSub(i, t.pendingKey(group, id), b)
}

// StreamDelPending deletes group's pending entry id.
func (t *Txn) StreamDelPending(i int, group []byte, id StreamID) {
	t.delSub(i, t.pendingKey(group, id))
}

// StreamPendingRange calls fn for group's pending entries with IDs in
// [lo, hi] in ID order until fn returns false. p.Consumer is valid only
// during the call.
func (t *Txn) StreamPendingRange(i int, group []byte, lo, hi StreamID, fn func(id StreamID, p StreamPending) bool) error {
	if hi.Less(lo) {
		return nil
	}
	pre := streamGroupPrefix(nil, streamPending, group)
	start := appendStreamID(append([]byte(nil), pre...), lo)
	end := append(appendStreamID(append([]byte(nil), pre...), hi), 0)
	it, err := t.subIter(i, start, end)
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		sfx := it.Suffix()
		if len(sfx) != len(pre)+16 {
			it.Close()
			return errStreamValue
		}
		p, err := decodePending(v)
		if err != nil {
			it.Close()
			return err
		}
		if !fn(decodeStreamID(sfx[len(pre):]), p) {
			break
		}
	}
	return it.Close()
}
