package cluster

// Verdict is what the request path does with a request whose keys hash
// to one slot.
type Verdict uint8

const (
	// Serve: this node serves the request.
	Serve Verdict = iota
	// Moved: answer "MOVED <slot> <addr>".
	Moved
	// TryAgain: answer "TRYAGAIN Can't write to slot being migrated which
	// is in write forbidden phase".
	TryAgain
	// Down: answer "CLUSTERDOWN Hash slot not served".
	Down
)

// Request is what Route needs to know of a request and its connection.
type Request struct {
	Write bool // the command writes
	// ReadOnly: the connection sent READONLY (a replica would serve reads
	// of its master's slots, were there replication).
	ReadOnly bool
	// Asking: the connection sent ASKING just before this request.
	Asking bool
	// Importing: the connection is the importing link of a migration
	// (CLUSTER IMPORT).
	Importing bool
}

// Route decides who serves a request for slot under view v, as KVRocks's
// Cluster::CanExecByMySelf does. addr is the MOVED target. It neither
// locks nor allocates.
func (s *State) Route(v *View, slot int, r Request) (verdict Verdict, addr string) {
	t := v.Topology
	if t == nil {
		return Down, ""
	}
	owner := t.Owner(slot)
	if owner == nil {
		return Down, ""
	}
	me := v.Myself
	st := s.Status(slot)
	if me != nil && owner == me {
		switch {
		case st.State == SlotMigrated:
			return Moved, st.Addr
		case st.State == SlotWriteForbidden && r.Write:
			return TryAgain, ""
		}
		return Serve, ""
	}
	if me != nil && (st.State == SlotImporting && (r.Importing || r.Asking) || st.State == SlotImported) {
		return Serve, ""
	}
	// NB: KVRocks lets a replica serve reads of its master's slots after
	// READONLY. Without replication a replica here holds none of its
	// master's data, so its reads would answer empty: it redirects them
	// too (r.ReadOnly changes nothing).
	return Moved, owner.Addr()
}
