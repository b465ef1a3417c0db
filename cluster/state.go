package cluster

import (
	"net"
	"slices"
	"sync"
	"sync/atomic"
)

// SlotState is where a slot of this node stands in a migration. Slots
// not named by SetSlotState are SlotNormal: served by their owner.
type SlotState uint8

const (
	// SlotNormal: the topology alone decides.
	SlotNormal SlotState = iota
	// SlotMigrating: this node owns the slot and is copying it to Peer;
	// it still serves the slot (KVRocks moves a snapshot, then the writes
	// made since).
	SlotMigrating
	// SlotWriteForbidden: the last phase of a migration, while the final
	// writes are sent: reads are served, writes answer TRYAGAIN.
	SlotWriteForbidden
	// SlotMigrated: the copy to Peer succeeded; until the controller
	// pushes a topology that says so, requests answer MOVED to Peer.
	SlotMigrated
	// SlotImporting: Peer is sending the slot here; served only to the
	// importing connection (CLUSTER IMPORT) and after ASKING.
	SlotImporting
	// SlotImported: received whole; served here until the topology
	// catches up.
	SlotImported
)

var slotStateNames = [...]string{"normal", "migrating", "write-forbidden", "migrated", "importing", "imported"}

func (s SlotState) String() string {
	if int(s) < len(slotStateNames) {
		return slotStateNames[s]
	}
	return "unknown"
}

// SlotStatus is a slot's state and the other node of its migration.
type SlotStatus struct {
	State SlotState
	// Peer is the other node's id: the target of SlotMigrating,
	// SlotWriteForbidden and SlotMigrated, the source of SlotImporting
	// and SlotImported (may be empty for those).
	Peer string
	// Addr is host:port of the target, for MOVED (SlotMigrated).
	Addr string
}

// View is what the node knows at one instant: the topology, its version
// and this node's id. Views are immutable; State.View returns the current
// one without locking.
type View struct {
	// Version is the topology version, -1 before the first SETNODES.
	Version int64
	// Topology is nil before the first SETNODES.
	Topology *Topology
	// MyID is this node's id, "" until SETNODEID or a topology that lists
	// this node's address.
	MyID string
	// Myself is this node in Topology, nil when it is not listed.
	Myself *Node
}

// Initialized reports whether a topology was set (CLUSTER INFO and the
// like answer "The cluster is not initialized" until then).
func (v *View) Initialized() bool { return v.Version >= 0 && v.Topology != nil }

// Hooks let slot migration plug into the topology's changes. Set them
// with State.SetHooks before the node serves requests; each may be nil.
type Hooks struct {
	// DropSlots deletes this node's keys of slots it migrated away, once a
	// topology update confirms another node owns them (KVRocks clears the
	// keys of a migrated slot then). Called with the State's lock held:
	// it must not call back into State.
	DropSlots func(slots []int)
	// Info appends the migration and import fields of CLUSTER INFO
	// (migrating_slot, destination_node, migrating_state, importing_slot,
	// import_state, each "key:value\r\n"); called on masters only.
	Info func(b []byte) []byte
	// NodesNote appends what CLUSTER NODES shows after this node's slots,
	// e.g. " [5->-<target id>]" while migrating, " [5-<-<source id>]"
	// while importing.
	NodesNote func(b []byte) []byte
	// Busy answers CLUSTER RESET while a migration or an import runs:
	// ErrResetWhileMigrating or ErrResetWhileImporting, nil when idle.
	Busy func() error
}

// State is this node's cluster state: the current View and the slot
// states of migrations. Readers (the request path) use View and Status,
// which take no lock and do not allocate; writers serialize on a mutex.
type State struct {
	port  int
	binds []string

	mu    sync.Mutex // writers
	view  atomic.Pointer[View]
	hooks atomic.Pointer[Hooks]

	// special counts slots whose state is not SlotNormal, so the request
	// path skips the table when no migration runs.
	special atomic.Int32
	slots   [Slots]atomic.Pointer[SlotStatus]

	// epoch moves on every change of the topology or of a slot's state,
	// after the change is visible. A request routed at one epoch and
	// about to write at another routes again (see Epoch).
	epoch atomic.Uint64

	// changed is closed, and replaced, when epoch moves (Changed).
	chMu    sync.Mutex
	changed chan struct{}
}

// bump moves the epoch and wakes those waiting in Changed.
func (s *State) bump() {
	s.epoch.Add(1)
	s.chMu.Lock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	s.chMu.Unlock()
}

// Changed returns a channel that is closed once the epoch has moved past
// its value now: a client blocked on a key waits on it to learn that the
// key's slot may have moved. Load the channel before looking at the
// state, so that no change falls between the look and the wait.
func (s *State) Changed() <-chan struct{} {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// Epoch is a counter that moves after every change of the view or of a
// slot's state. The request path loads it before routing a request; when
// it differs by the time the request writes (it waited for the work
// guard, or sat in a pipelined batch), the route may be stale and is
// checked again. Slot migration changes a slot's state under the node's
// work barrier, so a write that passes the check under the guard is one
// the migration sees (its tracker hears the commit) or one that follows
// the new state.
func (s *State) Epoch() uint64 { return s.epoch.Load() }

// NewState returns the state of a node listening on port at the bind
// addresses (used to find this node in a topology when SETNODEID was not
// sent, as KVRocks does).
func NewState(port int, binds []string) *State {
	s := &State{port: port, binds: slices.Clone(binds)}
	s.view.Store(&View{Version: -1})
	s.hooks.Store(&Hooks{})
	return s
}

// SetHooks installs h (see Hooks).
func (s *State) SetHooks(h Hooks) { s.hooks.Store(&h) }

// Hooks returns the installed hooks.
func (s *State) Hooks() *Hooks { return s.hooks.Load() }

// View returns the current view. Never nil.
func (s *State) View() *View { return s.view.Load() }

// Version is the topology version, -1 before the first SETNODES.
func (s *State) Version() int64 { return s.view.Load().Version }

// MyID is this node's id, "" when unknown.
func (s *State) MyID() string { return s.view.Load().MyID }

// SetNodeID is CLUSTERX SETNODEID: this node's id.
func (s *State) SetNodeID(id string) error {
	if len(id) != NodeIDLen {
		return ErrInvalidNodeID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bump()
	v := *s.view.Load()
	v.MyID = id
	v.Myself = nil
	if v.Topology != nil {
		v.Myself = v.Topology.Node(id)
	}
	s.view.Store(&v)
	return nil
}

// SetNodes is CLUSTERX SETNODES: replace the topology with text at
// version. Without force, a lower version than the current one is
// ErrInvalidVersion and the same version changes nothing. Slots this node
// migrated away that the new topology gives to another node are dropped
// (Hooks.DropSlots); the migrated and imported marks are cleared.
func (s *State) SetNodes(text string, version int64, force bool) error {
	if version < 0 {
		return ErrInvalidVersion
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bump()
	cur := s.view.Load()
	if !force {
		if cur.Version > version {
			return ErrInvalidVersion
		}
		if cur.Version == version {
			return nil
		}
	}
	t, err := ParseNodes(text)
	if err != nil {
		return err
	}
	v := &View{Version: version, Topology: t, MyID: cur.MyID}
	if v.MyID == "" || force {
		for _, n := range t.Nodes {
			if n.Port == s.port && matchListening(s.binds, n.Host) {
				v.MyID = n.ID
				break
			}
		}
	}
	if v.MyID != "" {
		v.Myself = t.Node(v.MyID)
	}
	s.view.Store(v)
	var drop []int
	for slot := range s.slots {
		st := s.slots[slot].Load()
		if st == nil {
			continue
		}
		switch st.State {
		case SlotMigrated:
			if t.Owner(slot) != v.Myself || v.Myself == nil {
				drop = append(drop, slot)
			}
			s.clearSlot(slot)
		case SlotImported:
			s.clearSlot(slot)
		}
	}
	if h := s.hooks.Load(); len(drop) > 0 && h.DropSlots != nil {
		h.DropSlots(drop)
	}
	return nil
}

// SetSlot is CLUSTERX SETSLOT: give the slots of ranges to the master id,
// at version, which must be the current version plus one.
func (s *State) SetSlot(ranges []SlotRange, id string, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bump()
	cur := s.view.Load()
	if version <= 0 || version != cur.Version+1 {
		return ErrInvalidVersion
	}
	if len(id) != NodeIDLen {
		return ErrInvalidNodeID
	}
	if cur.Topology == nil {
		return ErrNoSuchNode
	}
	t, err := cur.Topology.withSlots(ranges, id)
	if err != nil {
		return err
	}
	v := &View{Version: version, Topology: t, MyID: cur.MyID}
	if v.MyID != "" {
		v.Myself = t.Node(v.MyID)
	}
	s.view.Store(v)
	var drop []int
	for _, r := range ranges {
		for slot := r.Start; slot <= r.End; slot++ {
			old := cur.Topology.Owner(slot)
			if cur.Myself == nil || old == nil || old.ID != cur.Myself.ID || id == cur.Myself.ID {
				continue
			}
			if st := s.slots[slot].Load(); st != nil {
				if st.State == SlotMigrated {
					drop = append(drop, slot)
				}
				if st.State == SlotMigrated || st.State == SlotImported {
					s.clearSlot(slot)
				}
			}
		}
	}
	if h := s.hooks.Load(); len(drop) > 0 && h.DropSlots != nil {
		h.DropSlots(drop)
	}
	return nil
}

// Reset is CLUSTER RESET: forget the topology, the version and this
// node's id. The caller checks that the store is empty
// (ErrResetNotEmpty); Reset refuses while Hooks.Busy reports a migration.
func (s *State) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bump()
	if h := s.hooks.Load(); h.Busy != nil {
		if err := h.Busy(); err != nil {
			return err
		}
	}
	s.view.Store(&View{Version: -1})
	for slot := range s.slots {
		if s.slots[slot].Load() != nil {
			s.clearSlot(slot)
		}
	}
	return nil
}

// SetSlotState records the migration state of the slots of r. peer is the
// other node's id; for SlotMigrated its address comes from the current
// topology (the MOVED target). SlotNormal clears the slots.
func (s *State) SetSlotState(r SlotRange, state SlotState, peer string) error {
	if !r.Valid() {
		return ErrSlotRangeInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bump()
	var st *SlotStatus
	if state != SlotNormal {
		st = &SlotStatus{State: state, Peer: peer}
		if t := s.view.Load().Topology; t != nil {
			if n := t.Node(peer); n != nil {
				st.Addr = n.Addr()
			}
		}
	}
	for slot := r.Start; slot <= r.End; slot++ {
		if old := s.slots[slot].Swap(st); old == nil && st != nil {
			s.special.Add(1)
		} else if old != nil && st == nil {
			s.special.Add(-1)
		}
	}
	return nil
}

func (s *State) clearSlot(slot int) {
	if s.slots[slot].Swap(nil) != nil {
		s.special.Add(-1)
	}
}

// Status is slot's migration state; SlotNormal (and a nil Peer) for most.
// Lock-free.
func (s *State) Status(slot int) SlotStatus {
	if s.special.Load() == 0 {
		return SlotStatus{}
	}
	if st := s.slots[slot].Load(); st != nil {
		return *st
	}
	return SlotStatus{}
}

// Migrating reports whether any slot is in a state other than SlotNormal.
func (s *State) Migrating() bool { return s.special.Load() != 0 }

// matchListening reports whether host is one of the addresses this node
// listens on: one of binds, or, when binding a wildcard address, one of
// the host's interface addresses (KVRocks's MatchListeningIP).
func matchListening(binds []string, host string) bool {
	if slices.Contains(binds, host) {
		return true
	}
	if !slices.Contains(binds, "0.0.0.0") && !slices.Contains(binds, "::") && !slices.Contains(binds, "*") {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.String() == host {
			return true
		}
	}
	return false
}
