package engine

import (
	"encoding/binary"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// CreateKeyspace registers a named keyspace (an S3 bucket) with opaque
// attributes. Keys can be stored in any keyspace name without creating it;
// registration is for front ends that list and delete keyspaces.
func (e *Engine) CreateKeyspace(name string, attrs []byte) error {
	if len(name) > maxKeyspaceLen {
		return errKeyspaceName
	}
	k := append([]byte{prefixKeyspace}, name...)
	st := e.locks.of(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, closer, err := e.db.Get(k); err == nil {
		closer.Close()
		return ErrKeyspaceExists
	} else if err != pebble.ErrNotFound {
		return err
	}
	rec := binary.AppendUvarint(nil, uint64(time.Now().UnixNano()))
	rec = append(rec, attrs...)
	return e.wrote(e.db.Set(k, rec, pebble.NoSync))
}

// DeleteKeyspace removes a registered keyspace, which must hold no keys.
func (e *Engine) DeleteKeyspace(name string) error {
	k := append([]byte{prefixKeyspace}, name...)
	st := e.locks.of(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, closer, err := e.db.Get(k); err == pebble.ErrNotFound {
		return ErrKeyspaceNotFound
	} else if err != nil {
		return err
	} else {
		closer.Close()
	}
	empty := true
	if _, err := e.Scan(name, ScanOptions{Limit: 1, LimitMatches: true}, func([]byte, *Meta) bool {
		empty = false
		return false
	}); err != nil {
		return err
	}
	if !empty {
		return ErrKeyspaceNotEmpty
	}
	return e.wrote(e.db.Delete(k, pebble.NoSync))
}

// Keyspace returns a registered keyspace.
func (e *Engine) Keyspace(name string) (KeyspaceInfo, error) {
	val, closer, err := e.db.Get(append([]byte{prefixKeyspace}, name...))
	if err == pebble.ErrNotFound {
		return KeyspaceInfo{}, ErrKeyspaceNotFound
	}
	if err != nil {
		return KeyspaceInfo{}, err
	}
	defer closer.Close()
	return decodeKeyspace(name, val)
}

// Keyspaces lists registered keyspaces by name.
func (e *Engine) Keyspaces() ([]KeyspaceInfo, error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixKeyspace}, UpperBound: []byte{prefixKeyspace + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []KeyspaceInfo
	for valid := it.First(); valid; valid = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		info, err := decodeKeyspace(string(it.Key()[1:]), val)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, it.Error()
}

func decodeKeyspace(name string, rec []byte) (KeyspaceInfo, error) {
	ns, n := binary.Uvarint(rec)
	if n <= 0 {
		return KeyspaceInfo{}, errBadRecord
	}
	return KeyspaceInfo{Name: name, Created: time.Unix(0, int64(ns)), Attrs: append([]byte(nil), rec[n:]...)}, nil
}
