package resp

import "sync"

// cursorTable maps SCAN's numeric cursors to the keys to resume from. It
// holds a bounded number of cursors; an evicted or unknown cursor restarts
// the scan from the beginning, as KVRocks does.
type cursorTable struct {
	mu    sync.Mutex
	next  uint64
	slots []cursorSlot
}

type cursorSlot struct {
	id  uint64
	ns  string
	key []byte
}

func (t *cursorTable) init(n int) { t.slots = make([]cursorSlot, n) }

// put records a resume key and returns its cursor (never 0).
func (t *cursorTable) put(ns string, key []byte) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	id := t.next
	s := &t.slots[id%uint64(len(t.slots))]
	s.id, s.ns = id, ns
	s.key = append(s.key[:0], key...)
	return id
}

// get appends the resume key of cursor id in namespace ns to dst; nil if
// the cursor is unknown.
func (t *cursorTable) get(id uint64, ns string, dst []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &t.slots[id%uint64(len(t.slots))]
	if s.id != id || s.ns != ns {
		return nil
	}
	return append(dst, s.key...)
}
