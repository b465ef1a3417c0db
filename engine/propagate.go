package engine

import (
	"github.com/cockroachdb/pebble/v2"
)

// The propagate records: server state that is not data of any keyspace,
// as KVRocks keeps in its propagate column family (Lua scripts loaded with
// SCRIPT LOAD, function libraries). They live under their own prefix, so
// SCAN, KEYS, DBSIZE, FLUSHDB and FLUSHALL never see them:
//
//	'p' | name -> value
//
// Writes are not synced here: callers make them durable with Sync before
// answering, as for any write.
const prefixPropagate = 'p'

func propagateKey(name []byte) []byte {
	return append([]byte{prefixPropagate}, name...)
}

// SetPropagate stores a propagate record.
func (e *Engine) SetPropagate(name, val []byte) error {
	if e.closed.Load() {
		return ErrClosed
	}
	return e.wrote(e.db.Set(propagateKey(name), val, pebble.NoSync))
}

// GetPropagate returns a propagate record, or ErrNotFound.
func (e *Engine) GetPropagate(name []byte) ([]byte, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	val, closer, err := e.db.Get(propagateKey(name))
	if err == pebble.ErrNotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), val...), nil
}

// DeletePropagate removes the propagate records named, in one batch.
func (e *Engine) DeletePropagate(names ...[]byte) error {
	if e.closed.Load() {
		return ErrClosed
	}
	b := e.db.NewBatch()
	defer b.Close()
	for _, n := range names {
		if err := b.Delete(propagateKey(n), nil); err != nil {
			return err
		}
	}
	return e.wrote(b.Commit(pebble.NoSync))
}

// ScanPropagate calls fn with every propagate record whose name starts with
// prefix, in name order, until fn returns false.
func (e *Engine) ScanPropagate(prefix []byte, fn func(name, val []byte) bool) error {
	if e.closed.Load() {
		return ErrClosed
	}
	lower := propagateKey(prefix)
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		if !fn(it.Key()[1:], val) {
			break
		}
	}
	return it.Close()
}
