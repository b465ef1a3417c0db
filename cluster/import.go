package cluster

import (
	"errors"
	"fmt"
	"sync"
)

// The target side of a slot migration: CLUSTER IMPORT <slot> 0|1|2 from
// the source's link, as KVRocks's SlotImport. Start clears whatever the
// node holds of the slot and serves the slot to that link only (and to
// ASKING clients); success serves it to everyone until the topology
// catches up; failure, or the link closing before success, drops the keys
// received and the slot is not served here.

// Import states, CLUSTER IMPORT's last argument (KVRocks's numbers).
const (
	ImportStart   = 0
	ImportSuccess = 1
	ImportFailed  = 2
	importNone    = 3
)

var importStateNames = [...]string{"start", "success", "error", "none"}

// Errors of CLUSTER IMPORT and IMPORTKEY (sent after "ERR ").
var (
	ErrSlaveImport     = errors.New("Slave can't import slot")
	ErrImportMine      = errors.New("Can't import slot which belongs to me")
	ErrNotImportingKey = errors.New("the connection is not importing the slot of this key")
)

type importer struct {
	mu    sync.Mutex
	rng   SlotRange // the last import's slots; zero before the first
	seen  bool      // an import was started
	state int       // ImportStart ... importNone
	link  uint64    // the importing connection (while ImportStart)
}

// importing is the slots being imported.
func (im *importer) importing() (SlotRange, bool) {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.rng, im.seen && im.state == ImportStart
}

func (im *importer) appendInfo(b []byte) []byte {
	im.mu.Lock()
	defer im.mu.Unlock()
	if !im.seen {
		return b
	}
	b = append(b, "importing_slot: "...)
	b = im.rng.AppendTo(b)
	b = append(b, "\r\nimport_state: "...)
	b = append(b, importStateNames[im.state]...)
	return append(b, "\r\n"...)
}

// Import is CLUSTER IMPORT <slots> <state> sent on connection link.
func (m *Migrator) Import(r SlotRange, state int, link uint64) error {
	v := m.cfg.State.View()
	if v.Myself == nil || v.Myself.Role != Master {
		return ErrSlaveImport
	}
	if !r.Valid() {
		return ErrSlotOutOfRange
	}
	for slot := r.Start; slot <= r.End; slot++ {
		if v.Topology.Owner(slot) == v.Myself {
			return ErrImportMine
		}
	}
	im := &m.imp
	switch state {
	case ImportStart:
		im.mu.Lock()
		if im.seen && im.state == ImportStart {
			cur := im.rng
			im.mu.Unlock()
			if cur == r {
				return nil
			}
			return fmt.Errorf("only one importing job is allowed, current importing: %s", cur)
		}
		im.mu.Unlock()
		// Keys of the slot left from before (an earlier failed import, a
		// slot that moved away and comes back) go first.
		m.waitDrops()
		if _, err := m.cfg.Engine.DeleteSlotKeys(m.cfg.Keyspace, r.Start, r.End, KeySlot); err != nil {
			return fmt.Errorf("clear keys of slot error: %w", err)
		}
		im.mu.Lock()
		im.rng, im.seen, im.state, im.link = r, true, ImportStart, link
		im.mu.Unlock()
		src := ""
		if n := v.Topology.Owner(r.Start); n != nil {
			src = n.ID
		}
		m.cfg.Logf("import: slot %s from %s started", r, src)
		return m.cfg.State.SetSlotState(r, SlotImporting, src)
	case ImportSuccess, ImportFailed:
		im.mu.Lock()
		if !im.seen || im.rng != r {
			cur := "-1"
			if im.seen {
				cur = im.rng.String()
			}
			im.mu.Unlock()
			return fmt.Errorf("mismatch slot, importing slot: %s, but got: %s", cur, r)
		}
		im.mu.Unlock()
		if state == ImportSuccess {
			if err := m.cfg.State.SetSlotState(r, SlotImported, ""); err != nil {
				return err
			}
			im.mu.Lock()
			im.state = ImportSuccess // the link may still send late keys
			im.mu.Unlock()
			m.cfg.Logf("import: slot %s received", r)
			return nil
		}
		return m.failImport(r)
	}
	return ErrInvalidImportState
}

// failImport drops what was received of the slots of r.
func (m *Migrator) failImport(r SlotRange) error {
	im := &m.imp
	im.mu.Lock()
	im.state, im.link = ImportFailed, 0
	im.mu.Unlock()
	_ = m.cfg.State.SetSlotState(r, SlotNormal, "")
	n, err := m.cfg.Engine.DeleteSlotKeys(m.cfg.Keyspace, r.Start, r.End, KeySlot)
	if err != nil {
		return fmt.Errorf("clear keys of slot error: %w", err)
	}
	m.cfg.Logf("import: slot %s failed: %d keys received dropped", r, n)
	return nil
}

// LinkClosed tells that connection link closed: if it was importing a
// slot not yet complete, the import fails and its keys go.
func (m *Migrator) LinkClosed(link uint64) {
	im := &m.imp
	im.mu.Lock()
	r, failed := im.rng, im.seen && im.state == ImportStart && im.link == link
	im.mu.Unlock()
	if failed {
		m.cfg.Logf("import: the link importing slot %s closed", r)
		_ = m.failImport(r)
	}
}

// ImportKey stores one key image sent by the source on connection link,
// which must be importing the key's slot (or have just imported it: a
// write the source admitted just before it stopped taking writes may
// follow the success).
func (m *Migrator) ImportKey(link uint64, key, img []byte) error {
	if !m.ImportsKey(link, key) {
		return ErrNotImportingKey
	}
	return m.cfg.Engine.ImportKey(m.cfg.Keyspace, key, img)
}

// ImportsKey reports whether connection link may send key's image (the
// parts of a large one included): see ImportKey.
func (m *Migrator) ImportsKey(link uint64, key []byte) bool {
	im := &m.imp
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.seen && (im.state == ImportStart || im.state == ImportSuccess) && im.link == link && im.rng.Contains(KeySlot(key))
}
