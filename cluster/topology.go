package cluster

import (
	"errors"
	"strconv"
	"strings"
)

// NodeIDLen is the length of a node id (40 characters, as Redis Cluster's).
const NodeIDLen = 40

// Role is a node's role in the topology.
type Role uint8

const (
	// Master serves slots.
	Master Role = 1
	// Replica follows a master.
	Replica Role = 2
)

// Errors of the topology commands. Their texts are KVRocks's, sent to
// clients after "ERR ".
var (
	ErrInvalidNodeID       = errors.New("Invalid cluster node id")
	ErrInvalidSlotID       = errors.New("Invalid slot id")
	ErrSlotOutOfRange      = errors.New("Slot is out of range")
	ErrSlotRangeInvalid    = errors.New("Slot range is invalid")
	ErrInvalidVersion      = errors.New("Invalid cluster version")
	ErrSlotOverlapped      = errors.New("Slot distribution is overlapped")
	ErrNotMaster           = errors.New("The node isn't a master")
	ErrNotInitialized      = errors.New("The cluster is not initialized")
	ErrInvalidNodesInfo    = errors.New("Invalid cluster nodes info")
	ErrInvalidPort         = errors.New("Invalid cluster node port")
	ErrInvalidRole         = errors.New("Invalid cluster node role")
	ErrMissingNewline      = errors.New("Invalid nodes definition: Missing newline between node entries.")
	ErrNoSuchNode          = errors.New("No this node in the cluster")
	ErrInvalidImportState  = errors.New("Invalid import state")
	ErrResetNotEmpty       = errors.New("Can't reset cluster while database is not empty")
	ErrResetWhileMigrating = errors.New("Can't reset cluster while migrating slot")
	ErrResetWhileImporting = errors.New("Can't reset cluster while importing slot")
)

// SlotRange is the slots Start to End, both included.
type SlotRange struct{ Start, End int }

// Valid reports whether r is a non-empty range of real slots.
func (r SlotRange) Valid() bool { return 0 <= r.Start && r.Start <= r.End && r.End < Slots }

// Contains reports whether slot is in r.
func (r SlotRange) Contains(slot int) bool { return r.Valid() && r.Start <= slot && slot <= r.End }

// String is "a" for one slot and "a-b" for more, as KVRocks prints ranges
// ("empty" when r is not valid).
func (r SlotRange) String() string {
	if !r.Valid() {
		return "empty"
	}
	return string(r.AppendTo(nil))
}

// AppendTo appends r as String formats it.
func (r SlotRange) AppendTo(b []byte) []byte {
	b = strconv.AppendInt(b, int64(r.Start), 10)
	if r.End != r.Start {
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(r.End), 10)
	}
	return b
}

// ParseSlotRange parses "a" or "a-b" (a <= b) as CLUSTERX SETSLOT and
// MIGRATE take them.
func ParseSlotRange(s string) (SlotRange, error) {
	a, b, dash := strings.Cut(s, "-")
	start, err := strconv.Atoi(a)
	if err != nil {
		return SlotRange{}, ErrSlotRangeInvalid
	}
	end := start
	if dash {
		if end, err = strconv.Atoi(b); err != nil {
			return SlotRange{}, ErrSlotRangeInvalid
		}
	}
	r := SlotRange{start, end}
	if !r.Valid() {
		return SlotRange{}, ErrSlotRangeInvalid
	}
	return r, nil
}

// Node is one node of a topology. A Topology's nodes are never modified
// once it is published: read them freely, never write them.
type Node struct {
	ID   string
	Host string
	Port int
	Role Role
	// MasterID is the master a replica follows; "" for a master.
	MasterID string
	// Replicas are the ids of the replicas following this master, in the
	// order the topology lists them.
	Replicas []string
	// Slots are the master's slots as the topology text assigns them,
	// merged into ascending ranges.
	Slots []SlotRange

	index uint16 // 1 + position in Topology.Nodes
	addr  string // host:port
}

// Addr is host:port as MOVED and CLUSTER NODES print it.
func (n *Node) Addr() string { return n.addr }

// Topology is a parsed CLUSTERX SETNODES text: the nodes and which master
// owns each slot. Immutable once returned by ParseNodes (SETSLOT makes a
// changed copy); safe for concurrent readers.
type Topology struct {
	// Nodes in the order the text lists them (a repeated id keeps the
	// position of its first line and the fields of its last).
	Nodes []*Node
	// Size is the number of masters that own at least one slot.
	Size int

	byID  map[string]*Node
	owner [Slots]uint16 // Node.index of the slot's master; 0: not served
}

// ParseNodes parses the topology text kvrocks-controller pushes with
// CLUSTERX SETNODES: one node a line, fields separated by spaces,
//
//	<id> <host> <port> master - [<slot>|<first>-<last> ...]
//	<id> <host> <port> slave|replica <master-id>
//
// with KVRocks's rules and error texts: empty lines and repeated spaces
// are skipped, a range's first slot is below its last, no slot is given
// twice.
func ParseNodes(text string) (*Topology, error) {
	t := &Topology{byID: make(map[string]*Node)}
	owners := make(map[int]string) // slot -> master id, while parsing
	lines := 0
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' })
		if len(f) == 0 {
			continue
		}
		lines++
		if len(f) < 5 {
			return nil, ErrInvalidNodesInfo
		}
		if len(f[0]) != NodeIDLen {
			return nil, ErrInvalidNodeID
		}
		port, err := strconv.ParseUint(f[2], 10, 16)
		if err != nil {
			return nil, ErrInvalidPort
		}
		n := &Node{ID: f[0], Host: f[1], Port: int(port)}
		n.addr = n.Host + ":" + strconv.Itoa(n.Port) // NB: as KVRocks, no brackets for IPv6
		switch {
		case strings.EqualFold(f[3], "master"):
			n.Role = Master
		case strings.EqualFold(f[3], "slave"), strings.EqualFold(f[3], "replica"):
			n.Role = Replica
		default:
			return nil, ErrInvalidRole
		}
		if n.Role == Master && f[4] != "-" || n.Role == Replica && len(f[4]) != NodeIDLen {
			return nil, ErrInvalidNodeID
		}
		if n.Role == Replica {
			if len(f) != 5 {
				return nil, ErrInvalidNodesInfo
			}
			n.MasterID = f[4]
		}
		for _, field := range f[5:] {
			r, err := parseTopologyRange(field)
			if err != nil {
				return nil, err
			}
			for s := r.Start; s <= r.End; s++ {
				if _, dup := owners[s]; dup {
					return nil, ErrSlotOverlapped
				}
				owners[s] = n.ID
			}
		}
		if old, ok := t.byID[n.ID]; ok {
			*old = *n
			continue
		}
		t.Nodes = append(t.Nodes, n)
		t.byID[n.ID] = n
	}
	if lines == 0 {
		return nil, ErrInvalidNodesInfo
	}
	if len(t.Nodes) >= 1<<16 {
		return nil, ErrInvalidNodesInfo
	}
	for i, n := range t.Nodes {
		n.index = uint16(i + 1)
	}
	for s, id := range owners {
		t.owner[s] = t.byID[id].index
	}
	t.finish()
	return t, nil
}

// parseTopologyRange parses one slot field of a SETNODES line as KVRocks
// does: split at '-' skipping empty parts, so "5-" is slot 5, and a
// two-part range needs first < last.
func parseTopologyRange(field string) (SlotRange, error) {
	var parts [3]string
	n := 0
	for p := range strings.SplitSeq(field, "-") {
		if p == "" {
			continue
		}
		if n == len(parts) {
			return SlotRange{}, ErrSlotOutOfRange
		}
		parts[n] = p
		n++
	}
	slot := func(s string) (int, bool) {
		v, err := strconv.Atoi(s)
		return v, err == nil && 0 <= v && v < Slots
	}
	switch n {
	case 1:
		if len(field) == NodeIDLen && isHex(field) {
			return SlotRange{}, ErrMissingNewline
		}
		s, ok := slot(parts[0])
		if !ok {
			return SlotRange{}, ErrSlotOutOfRange
		}
		return SlotRange{s, s}, nil
	case 2:
		a, ok1 := slot(parts[0])
		b, ok2 := slot(parts[1])
		if !ok1 || !ok2 || a >= b {
			return SlotRange{}, ErrSlotOutOfRange
		}
		return SlotRange{a, b}, nil
	}
	return SlotRange{}, ErrSlotOutOfRange
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// finish derives Slots, Replicas and Size from owner and the nodes.
func (t *Topology) finish() {
	t.Size = 0
	for _, n := range t.Nodes {
		n.Slots = nil
		n.Replicas = nil
	}
	for _, r := range t.OwnedRanges() {
		n := t.Nodes[t.owner[r.Start]-1]
		n.Slots = append(n.Slots, r)
	}
	for _, n := range t.Nodes {
		if n.Role == Replica {
			if m := t.byID[n.MasterID]; m != nil {
				m.Replicas = append(m.Replicas, n.ID)
			}
		}
		if n.Role == Master && len(n.Slots) > 0 {
			t.Size++
		}
	}
}

// Owner is the master serving slot, nil when no node serves it.
func (t *Topology) Owner(slot int) *Node {
	if i := t.owner[slot]; i != 0 {
		return t.Nodes[i-1]
	}
	return nil
}

// Node is the node with id, nil if there is none.
func (t *Topology) Node(id string) *Node { return t.byID[id] }

// Assigned is the number of slots some master serves.
func (t *Topology) Assigned() int {
	n := 0
	for _, o := range t.owner {
		if o != 0 {
			n++
		}
	}
	return n
}

// OwnedRanges are the maximal runs of slots served by one master, in
// slot order (CLUSTER SLOTS's rows).
func (t *Topology) OwnedRanges() []SlotRange {
	var out []SlotRange
	for s := 0; s < Slots; {
		o := t.owner[s]
		e := s
		for e+1 < Slots && t.owner[e+1] == o {
			e++
		}
		if o != 0 {
			out = append(out, SlotRange{s, e})
		}
		s = e + 1
	}
	return out
}

// withSlots returns a copy of t in which the slots of ranges belong to
// the master id (CLUSTERX SETSLOT).
func (t *Topology) withSlots(ranges []SlotRange, id string) (*Topology, error) {
	if t.byID[id] == nil {
		return nil, ErrNoSuchNode
	}
	if t.byID[id].Role != Master {
		return nil, ErrNotMaster
	}
	c := &Topology{byID: make(map[string]*Node, len(t.Nodes)), owner: t.owner}
	for _, n := range t.Nodes {
		cp := *n
		c.Nodes = append(c.Nodes, &cp)
		c.byID[cp.ID] = &cp
	}
	idx := c.byID[id].index
	for _, r := range ranges {
		for s := r.Start; s <= r.End; s++ {
			c.owner[s] = idx
		}
	}
	c.finish()
	return c, nil
}

// AppendText appends the topology in the SETNODES text form (one line per
// node ending in "\n"), which ParseNodes reads back.
func (t *Topology) AppendText(b []byte) []byte {
	for _, n := range t.Nodes {
		b = append(b, n.ID...)
		b = append(b, ' ')
		b = append(b, n.Host...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(n.Port), 10)
		if n.Role == Master {
			b = append(b, " master -"...)
			for _, r := range n.Slots {
				b = append(b, ' ')
				b = r.AppendTo(b)
			}
		} else {
			b = append(b, " slave "...)
			b = append(b, n.MasterID...)
		}
		b = append(b, '\n')
	}
	return b
}
