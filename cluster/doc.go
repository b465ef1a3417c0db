// Package cluster holds what a gpucache node knows of the Redis Cluster
// it is part of, run the way Apache KVRocks runs one: nodes do not gossip;
// a controller (apache/kvrocks-controller) pushes the whole topology to
// every node with CLUSTERX SETNODES and a version.
//
// # API
//
//   - KeySlot, HashTag: the hash slot of a key (CRC-16/XMODEM, hash tags).
//   - ParseNodes parses SETNODES text into an immutable *Topology: Nodes
//     (id, host, port, role, master id, replicas, slot ranges),
//     Owner(slot), Node(id), OwnedRanges, Assigned, Size; AppendText
//     prints it back. ParseSlotRange parses "a" or "a-b".
//   - State is one node's cluster state. View() returns the current
//     immutable *View (Version, Topology, MyID, Myself) without locking;
//     SetNodeID, SetNodes, SetSlot and Reset are the CLUSTERX/CLUSTER
//     commands' effects, with KVRocks's version rules and errors.
//   - Slot migration states: SetSlotState(range, state, peer id) with
//     SlotMigrating, SlotWriteForbidden (writes answer TRYAGAIN),
//     SlotMigrated (MOVED to the peer until the topology catches up),
//     SlotImporting (served to the importing connection and after ASKING),
//     SlotImported (served here), SlotNormal (cleared); Status(slot)
//     reads one. SetNodes clears the migrated and imported marks, calling
//     Hooks.DropSlots for the slots that left this node.
//   - Hooks (State.SetHooks) let migration add its CLUSTER INFO fields
//     (Info), the CLUSTER NODES note of this node (NodesNote), delete the
//     keys of slots that left (DropSlots) and refuse CLUSTER RESET while
//     busy (Busy).
//   - Route(view, slot, Request) is the request path's decision, as
//     KVRocks's Cluster::CanExecByMySelf: Serve, Moved (with the target
//     address), TryAgain or Down. It neither locks nor allocates.
//
// # Caveats
//
// Replication is not supported: a topology may list replicas (they show
// in CLUSTER NODES and SLOTS), but no data flows to them, so a node listed
// as a replica redirects every keyed request to the master, reads after
// READONLY included (KVRocks's replicas serve those).
package cluster
