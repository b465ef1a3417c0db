package engine

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
)

var errFillNotNew = errors.New("engine: Fill needs a collection just made by Replace")

// Fill writes the elements of collection key i, which this Txn has just
// made a new, empty typ collection with Replace (RESTORE): no element can
// exist yet but those Fill writes, so none is looked up. Duplicates are
// resolved in memory, the last one winning, as adding them one by one
// would: hash fields come as field, value pairs; set members once each;
// list elements in order; sorted-set members with scores (never NaN).
func (t *Txn) Fill(i int, typ Type, elems [][]byte, scores []float64) error {
	k := &t.keys[t.slots[i]]
	if !k.exists || k.m.Type != typ || k.m.Size != 0 || !slices.Contains(k.created, k.m.Version) {
		return errFillNotNew
	}
	switch typ {
	case TypeList:
		head, _ := t.listBounds(i)
		var ib [8]byte
		for n, v := range elems {
			t.setSub(i, listIndexKey(ib[:0], head+uint64(n)), v)
		}
		t.setListBounds(i, head, head+uint64(len(elems)))
		return nil
	case TypeHash:
		if len(elems)%2 != 0 {
			return errors.New("engine: Fill of a hash needs field, value pairs")
		}
		last := make(map[string]int, len(elems)/2)
		for n := 0; n < len(elems); n += 2 {
			last[string(elems[n])] = n
		}
		for n := 0; n < len(elems); n += 2 {
			if last[string(elems[n])] == n {
				t.setSub(i, elems[n], elems[n+1])
			}
		}
		t.addSize(i, int64(len(last)))
	case TypeSet:
		seen := make(map[string]struct{}, len(elems))
		for _, m := range elems {
			if _, dup := seen[string(m)]; !dup {
				seen[string(m)] = struct{}{}
				t.setSub(i, m, nil)
			}
		}
		t.addSize(i, int64(len(seen)))
	case TypeZSet:
		if len(scores) != len(elems) {
			return errors.New("engine: Fill of a sorted set needs a score per member")
		}
		last := make(map[string]int, len(elems))
		for n, m := range elems {
			if math.IsNaN(scores[n]) {
				return errors.New("engine: NaN score")
			}
			last[string(m)] = n
		}
		var sb [8]byte
		for n, m := range elems {
			if last[string(m)] != n {
				continue
			}
			binary.BigEndian.PutUint64(sb[:], math.Float64bits(scores[n]))
			t.setSub(i, t.zMemberKey(m), sb[:])
			t.setSub(i, t.zIndexKey(scores[n], m), nil)
		}
		t.addSize(i, int64(len(last)))
	default:
		return ErrWrongType
	}
	return nil
}
