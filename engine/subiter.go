package engine

import "github.com/cockroachdb/pebble/v2"

// subIter walks one collection's sub-keys in order, exposing suffixes
// (the part after 's' | version).
type subIter struct {
	it  *pebble.Iterator
	v   uint64
	buf []byte
}

func newSubIter(r pebble.Reader, v uint64, lo, hi []byte) (*subIter, error) {
	lower := appendSubKey(nil, v, lo)
	var upper []byte
	if hi != nil {
		upper = appendSubKey(nil, v, hi)
	} else {
		_, upper = subRange(v)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return &subIter{it: it, v: v}, nil
}

func (s *subIter) First() bool { return s.it.First() }
func (s *subIter) Last() bool  { return s.it.Last() }
func (s *subIter) Next() bool  { return s.it.Next() }
func (s *subIter) Prev() bool  { return s.it.Prev() }
func (s *subIter) Valid() bool { return s.it.Valid() }

// SeekGE positions at the first suffix >= suffix.
func (s *subIter) SeekGE(suffix []byte) bool {
	s.buf = appendSubKey(s.buf[:0], s.v, suffix)
	return s.it.SeekGE(s.buf)
}

// SeekLT positions at the last suffix < suffix.
func (s *subIter) SeekLT(suffix []byte) bool {
	s.buf = appendSubKey(s.buf[:0], s.v, suffix)
	return s.it.SeekLT(s.buf)
}

// Suffix is the current sub-key's suffix, valid until the iterator moves.
func (s *subIter) Suffix() []byte { return s.it.Key()[subHeaderLen:] }

// Value is the current sub-key's value, valid until the iterator moves.
func (s *subIter) Value() ([]byte, error) { return s.it.ValueAndErr() }

func (s *subIter) Close() error { return s.it.Close() }
