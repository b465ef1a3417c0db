package engine

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// Scan calls fn for keys of the keyspace in byte order, starting at
// opts.Start (or opts.Prefix), skipping expired keys, until fn returns
// false or opts.Limit keys have been examined (returned, with LimitMatches).
// It returns the key to resume from, or nil when the keyspace is exhausted.
// m is valid only during fn.
func (e *Engine) Scan(ks string, opts ScanOptions, fn func(key []byte, m *Meta) bool) ([]byte, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	e.drain()
	// A pattern's literal head narrows the range like a prefix, so
	// SCAN MATCH user:* seeks straight to the user: keys.
	if lit := globPrefix(opts.Match); len(lit) > len(opts.Prefix) && bytes.HasPrefix(lit, opts.Prefix) {
		opts.Prefix = lit
	}
	lower := appendKeyspacePrefix(nil, ks)
	base := len(lower)
	lower = append(lower, opts.Prefix...)
	upper := prefixEnd(lower)
	start := lower
	if opts.Start != nil && bytes.Compare(opts.Start, opts.Prefix) > 0 {
		start = append(appendKeyspacePrefix(nil, ks), opts.Start...)
	}
	it, err := e.reader().NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	now := nowMs()
	var m Meta
	n := 0
	for valid := it.SeekGE(start); valid; valid = it.Next() {
		key := it.Key()[base:]
		if opts.Limit > 0 && n >= opts.Limit {
			return append([]byte(nil), key...), nil
		}
		if !opts.LimitMatches {
			n++
		}
		if opts.Filter != nil && !opts.Filter(key) || len(opts.Match) > 0 && !matchGlob(opts.Match, key) {
			continue
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if err := decodeRecord(val, &m); err != nil {
			return nil, err
		}
		if m.ExpireAt != 0 && m.ExpireAt <= now {
			continue
		}
		if opts.Type != TypeNone && m.Type != opts.Type {
			continue
		}
		if opts.LimitMatches {
			n++
		}
		if !fn(key, &m) {
			for it.Next() {
				if k := it.Key()[base:]; opts.Filter == nil || opts.Filter(k) {
					return append([]byte(nil), k...), nil
				}
			}
			return nil, it.Error()
		}
	}
	return nil, it.Error()
}

// RandomKey returns a key of the keyspace, or ErrNotFound if it is empty.
// It takes a window of up to randomWindow keys from a random point of the
// key space (wrapping around once) and picks one of them uniformly: every
// key of a small keyspace is equally likely, and a large one is sampled
// without scanning it.
func (e *Engine) RandomKey(ks string) ([]byte, error) {
	if e.DBSize(ks) == 0 {
		return nil, ErrNotFound
	}
	var seed [8]byte
	for i := range seed {
		seed[i] = byte(fastrand())
	}
	var window [][]byte
	_, err := e.Scan(ks, ScanOptions{Start: seed[:], Limit: randomWindow, LimitMatches: true}, func(k []byte, _ *Meta) bool {
		window = append(window, append([]byte(nil), k...))
		return true
	})
	if err == nil && len(window) < randomWindow {
		// Wrap around: the keys before the seed, stopping where the first
		// pass began so that no key counts twice.
		_, err = e.Scan(ks, ScanOptions{Limit: randomWindow - len(window), LimitMatches: true}, func(k []byte, _ *Meta) bool {
			if bytes.Compare(k, seed[:]) >= 0 {
				return false
			}
			window = append(window, append([]byte(nil), k...))
			return true
		})
	}
	if err != nil {
		return nil, err
	}
	if len(window) == 0 {
		return nil, ErrNotFound
	}
	return window[int(fastrand())%len(window)], nil
}

// randomWindow is how many neighbouring keys RandomKey chooses among.
const randomWindow = 16

// Flush removes every key of the keyspace.
func (e *Engine) Flush(ks string) error {
	if e.closed.Load() {
		return ErrClosed
	}
	prefix := appendKeyspacePrefix(nil, ks)
	return e.flushRange(prefix, prefixEnd(prefix))
}

// FlushAll removes every key of every keyspace (keyspaces themselves stay).
func (e *Engine) FlushAll() error {
	if e.closed.Load() {
		return ErrClosed
	}
	return e.flushRange([]byte{prefixKey}, []byte{prefixKey + 1})
}

// flushRange deletes the metadata keys in [lower, upper) one stripe-locked
// key at a time, so blob references, counts and the DRAM tier stay exact.
func (e *Engine) flushRange(lower, upper []byte) error {
	e.drain()
	it, err := e.reader().NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	var keys [][]byte
	for valid := it.First(); valid; valid = it.Next() {
		keys = append(keys, append([]byte(nil), it.Key()...))
		if len(keys) == 1024 {
			if err := e.deleteMetaKeys(keys); err != nil {
				it.Close()
				return err
			}
			keys = keys[:0]
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	return e.deleteMetaKeys(keys)
}

func (e *Engine) deleteMetaKeys(mks [][]byte) error {
	kb := getKeyBuf()
	defer putKeyBuf(kb)
	var m Meta
	for _, mk := range mks {
		ks, key, ok := splitMetaKey(mk)
		if !ok {
			continue
		}
		st := e.locks.of(mk)
		e.lock(st)
		exists, err := e.loadMeta(mk, &m, false)
		if err == nil && exists {
			if err = e.deleteLocked(kb, string(ks), key, mk, &m); err == nil {
				st.gen++
			}
		}
		e.unlock(st)
		if err != nil {
			return err
		}
	}
	return nil
}
