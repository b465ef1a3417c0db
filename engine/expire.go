package engine

import (
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// expireLoop is the active half of expiry (the lazy half is in every read):
// it walks the expiry index, which is ordered by time, and removes keys whose
// time has come, a bounded number per tick so it never stalls writers.
func (e *Engine) expireLoop() {
	e.every(e.opts.ExpireInterval, func() { e.expireDue(nowMs(), 1000) })
}

// every runs fn each interval until the engine closes, then marks its
// goroutine done.
func (e *Engine) every(interval time.Duration, fn func()) {
	defer e.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

// expireDue removes up to limit keys that expired at or before now and
// returns how many index entries it visited.
func (e *Engine) expireDue(now int64, limit int) int {
	var upper [9]byte
	upper[0] = prefixExpire
	for i := 0; i < 8; i++ {
		upper[1+i] = byte(uint64(now+1) >> (56 - 8*i))
	}
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixExpire}, UpperBound: upper[:]})
	if err != nil {
		return 0
	}
	type due struct {
		at int64
		mk []byte
		ek []byte
	}
	var batch []due
	for valid := it.First(); valid && len(batch) < limit; valid = it.Next() {
		at, mk, ok := splitExpireKey(nil, it.Key())
		if !ok {
			continue
		}
		batch = append(batch, due{at, mk, append([]byte(nil), it.Key()...)})
	}
	it.Close()
	var m Meta
	var sweep [][]byte
	for _, d := range batch {
		st := e.locks.of(d.mk)
		st.mu.Lock()
		exists, err := e.loadMeta(d.mk, &m, false) // removes the key if expired
		if err == nil && (!exists || m.ExpireAt != d.at && m.fieldTTL.next != d.at) {
			// Stale index entry (key gone or expiry changed since).
			_ = e.db.Delete(d.ek, pebble.NoSync)
		}
		if err == nil && exists && m.fieldTTL.next != 0 && m.fieldTTL.next <= now {
			sweep = append(sweep, d.mk)
		}
		st.mu.Unlock()
	}
	for _, mk := range sweep {
		// A hash whose earliest field expiry passed (hash_ttl.go).
		e.sweepFields(mk)
	}
	return len(batch)
}
