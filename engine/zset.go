package engine

import (
	"encoding/binary"
	"math"
)

// Sorted sets keep two sub-keys per member, as KVRocks does (it puts the
// second in its own column family):
//
//	'm' | member              -> score (float64 bits, 8 bytes BE)
//	's' | score (ordered) | member -> empty: the score index
//
// The ordered score encoding sorts as the floats do (-inf first), so a
// score range is one contiguous range of the index, read alone; equal
// scores sort by member, as Redis orders them.
const (
	zMember = 'm'
	zScore  = 's'
)

// appendScore appends f so that byte order is numeric order.
func appendScore(dst []byte, f float64) []byte {
	if f == 0 {
		f = 0 // -0 and +0 are one score
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, b)
}

func decodeScore(b []byte) float64 {
	u := binary.BigEndian.Uint64(b)
	if u&(1<<63) != 0 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u)
}

func (t *Txn) zMemberKey(member []byte) []byte {
	buf := append(t.kb.mk[:0], zMember)
	return append(buf, member...)
}

func (t *Txn) zIndexKey(score float64, member []byte) []byte {
	buf := append(t.kb.rec[:0], zScore)
	buf = appendScore(buf, score)
	return append(buf, member...)
}

// ZSetScore returns member's score in sorted set key i.
func (t *Txn) ZSetScore(i int, member []byte) (float64, bool, error) {
	if ok, err := t.Open(i, TypeZSet); !ok || err != nil {
		return 0, false, err
	}
	var tmp [8]byte
	v, ok, err := t.getSub(i, t.zMemberKey(member), tmp[:0])
	if !ok || err != nil || len(v) != 8 {
		return 0, false, err
	}
	return math.Float64frombits(binary.BigEndian.Uint64(v)), true, nil
}

// ZSetAdd sets member's score in sorted set key i, creating the key. It
// returns the old score and whether the member existed. score must not be
// NaN.
func (t *Txn) ZSetAdd(i int, member []byte, score float64) (float64, bool, error) {
	if err := t.Create(i, TypeZSet); err != nil {
		return 0, false, err
	}
	old, existed := 0.0, false
	if t.Size(i) > 0 {
		var err error
		if old, existed, err = t.ZSetScore(i, member); err != nil {
			return 0, false, err
		}
	}
	if existed && old == score {
		return old, true, nil
	}
	if existed {
		t.delSub(i, t.zIndexKey(old, member))
	}
	var sb [8]byte
	binary.BigEndian.PutUint64(sb[:], math.Float64bits(score))
	t.setSub(i, t.zMemberKey(member), sb[:])
	t.noteAdd(i, zMember, t.zMemberKey(member))
	t.setSub(i, t.zIndexKey(score, member), nil)
	t.noteAdd(i, zScore, t.zIndexKey(score, member))
	if !existed {
		t.addSize(i, 1)
	}
	return old, existed, nil
}

// ZSetRemove removes member from sorted set key i; false when absent.
func (t *Txn) ZSetRemove(i int, member []byte) (bool, error) {
	score, ok, err := t.ZSetScore(i, member)
	if !ok || err != nil {
		return false, err
	}
	t.delSub(i, t.zMemberKey(member))
	t.delSub(i, t.zIndexKey(score, member))
	t.addSize(i, -1)
	return true, nil
}

// ZSetRemoveScored removes member, whose score the caller has just read
// in this Txn (from a range walk), without looking it up again.
func (t *Txn) ZSetRemoveScored(i int, member []byte, score float64) {
	t.delSub(i, t.zMemberKey(member))
	t.delSub(i, t.zIndexKey(score, member))
	t.addSize(i, -1)
}

// ZSetByScore calls fn for the members of sorted set key i whose scores
// are in [min, max], in score order (reverse: from the highest), until fn
// returns false. Only that range of the index is read. member is valid
// only during fn.
func (t *Txn) ZSetByScore(i int, min, max float64, reverse bool, fn func(member []byte, score float64) bool) error {
	if ok, err := t.Open(i, TypeZSet); !ok || err != nil {
		return err
	}
	if min > max {
		return nil
	}
	lo := appendScore([]byte{zScore}, min)
	hi := prefixEnd(appendScore([]byte{zScore}, max))
	if hi == nil || hi[0] != zScore {
		hi = []byte{zScore + 1}
	}
	fromStart := !reverse && math.IsInf(min, -1)
	if fromStart {
		lo = t.hintedStart(i, zScore, lo)
	}
	it, err := t.subIter(i, lo, hi)
	if err != nil {
		return err
	}
	step, valid := it.Next, it.First()
	if reverse {
		step, valid = it.Prev, it.Last()
	}
	for ; valid; valid = step() {
		s := it.Suffix()
		if fromStart {
			t.noteFirst(i, zScore, s)
			fromStart = false
		}
		if !fn(s[9:], decodeScore(s[1:9])) {
			break
		}
	}
	return it.Close()
}

// ZSetByRank calls fn for the members of sorted set key i from rank start
// (0-based, in score order, or from the highest with reverse) until fn
// returns false. Reaching rank start steps over the members before it.
func (t *Txn) ZSetByRank(i int, start int64, reverse bool, fn func(member []byte, score float64) bool) error {
	skip := start
	return t.ZSetByScore(i, math.Inf(-1), math.Inf(1), reverse, func(m []byte, s float64) bool {
		if skip > 0 {
			skip--
			return true
		}
		return fn(m, s)
	})
}

// ZSetByLex calls fn for the members of sorted set key i in byte order
// from the first >= lo (nil: the first) up to hi (exclusive; nil: the
// end), reverse from the last, until fn returns false.
func (t *Txn) ZSetByLex(i int, lo, hi []byte, reverse bool, fn func(member []byte, score float64) bool) error {
	if ok, err := t.Open(i, TypeZSet); !ok || err != nil {
		return err
	}
	lower := append([]byte{zMember}, lo...)
	upper := []byte{zMember + 1}
	if hi != nil {
		upper = append([]byte{zMember}, hi...)
	}
	fromStart := lo == nil && !reverse
	if fromStart {
		lower = t.hintedStart(i, zMember, lower)
	}
	it, err := t.subIter(i, lower, upper)
	if err != nil {
		return err
	}
	step, valid := it.Next, it.First()
	if reverse {
		step, valid = it.Prev, it.Last()
	}
	for ; valid; valid = step() {
		if fromStart {
			t.noteFirst(i, zMember, it.Suffix())
			fromStart = false
		}
		v, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		if len(v) != 8 {
			it.Close()
			return errBadRecord
		}
		if !fn(it.Suffix()[1:], math.Float64frombits(binary.BigEndian.Uint64(v))) {
			break
		}
	}
	return it.Close()
}

// ZSetRank returns member's 0-based rank in score order (reverse: from
// the highest) and its score; false when absent. It counts the members
// ranked before it.
func (t *Txn) ZSetRank(i int, member []byte, reverse bool) (int64, float64, bool, error) {
	score, ok, err := t.ZSetScore(i, member)
	if !ok || err != nil {
		return 0, 0, false, err
	}
	var rank int64
	err = t.ZSetByScore(i, math.Inf(-1), math.Inf(1), reverse, func(m []byte, s float64) bool {
		if s == score && string(m) == string(member) {
			return false
		}
		rank++
		return true
	})
	return rank, score, true, err
}
