package cluster

import (
	"errors"
	"fmt"
	"strconv"
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
	slot  int    // the last import's slot; -1: none yet
	state int    // ImportStart ... importNone
	link  uint64 // the importing connection (while ImportStart)
}

// importing is the slot being imported, -1 when none.
func (im *importer) importing() int {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.slot >= 0 && im.state == ImportStart {
		return im.slot
	}
	return -1
}

func (im *importer) appendInfo(b []byte) []byte {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.slot < 0 {
		return b
	}
	b = append(b, "importing_slot: "...)
	b = strconv.AppendInt(b, int64(im.slot), 10)
	b = append(b, "\r\nimport_state: "...)
	b = append(b, importStateNames[im.state]...)
	return append(b, "\r\n"...)
}

// Import is CLUSTER IMPORT <slot> <state> sent on connection link.
func (m *Migrator) Import(slot, state int, link uint64) error {
	v := m.cfg.State.View()
	switch {
	case v.Myself == nil || v.Myself.Role != Master:
		return ErrSlaveImport
	case slot < 0 || slot >= Slots:
		return ErrSlotOutOfRange
	case v.Topology.Owner(slot) == v.Myself:
		return ErrImportMine
	}
	im := &m.imp
	switch state {
	case ImportStart:
		im.mu.Lock()
		if im.state == ImportStart && im.slot >= 0 {
			cur := im.slot
			im.mu.Unlock()
			if cur == slot {
				return nil
			}
			return fmt.Errorf("only one importing job is allowed, current importing: %d", cur)
		}
		im.mu.Unlock()
		// Keys of the slot left from before (an earlier failed import, a
		// slot that moved away and comes back) go first.
		m.waitDrops()
		if _, err := m.cfg.Engine.DeleteSlotKeys(m.cfg.Keyspace, slot, KeySlot); err != nil {
			return fmt.Errorf("clear keys of slot error: %w", err)
		}
		im.mu.Lock()
		im.slot, im.state, im.link = slot, ImportStart, link
		im.mu.Unlock()
		src := ""
		if n := v.Topology.Owner(slot); n != nil {
			src = n.ID
		}
		m.cfg.Logf("import: slot %d from %s started", slot, src)
		return m.cfg.State.SetSlotState(SlotRange{slot, slot}, SlotImporting, src)
	case ImportSuccess, ImportFailed:
		im.mu.Lock()
		if im.slot != slot {
			cur := im.slot
			im.mu.Unlock()
			return fmt.Errorf("mismatch slot, importing slot: %d, but got: %d", cur, slot)
		}
		im.mu.Unlock()
		if state == ImportSuccess {
			if err := m.cfg.State.SetSlotState(SlotRange{slot, slot}, SlotImported, ""); err != nil {
				return err
			}
			im.mu.Lock()
			im.state = ImportSuccess // the link may still send late keys
			im.mu.Unlock()
			m.cfg.Logf("import: slot %d received", slot)
			return nil
		}
		return m.failImport(slot)
	}
	return ErrInvalidImportState
}

// failImport drops what was received of slot.
func (m *Migrator) failImport(slot int) error {
	im := &m.imp
	im.mu.Lock()
	im.state, im.link = ImportFailed, 0
	im.mu.Unlock()
	_ = m.cfg.State.SetSlotState(SlotRange{slot, slot}, SlotNormal, "")
	n, err := m.cfg.Engine.DeleteSlotKeys(m.cfg.Keyspace, slot, KeySlot)
	if err != nil {
		return fmt.Errorf("clear keys of slot error: %w", err)
	}
	m.cfg.Logf("import: slot %d failed: %d keys received dropped", slot, n)
	return nil
}

// LinkClosed tells that connection link closed: if it was importing a
// slot not yet complete, the import fails and its keys go.
func (m *Migrator) LinkClosed(link uint64) {
	im := &m.imp
	im.mu.Lock()
	slot := -1
	if im.state == ImportStart && im.link == link {
		slot = im.slot
	}
	im.mu.Unlock()
	if slot >= 0 {
		m.cfg.Logf("import: the link importing slot %d closed", slot)
		_ = m.failImport(slot)
	}
}

// ImportKey stores one key image sent by the source on connection link,
// which must be importing the key's slot (or have just imported it: a
// write the source admitted just before it stopped taking writes may
// follow the success).
func (m *Migrator) ImportKey(link uint64, key, img []byte) error {
	im := &m.imp
	im.mu.Lock()
	ok := (im.state == ImportStart || im.state == ImportSuccess) && im.link == link && KeySlot(key) == im.slot
	im.mu.Unlock()
	if !ok {
		return ErrNotImportingKey
	}
	return m.cfg.Engine.ImportKey(m.cfg.Keyspace, key, img)
}
