package engine

// ArenaMemory returns the DRAM tier's whole arena mapping, for a transport
// that registers it once (an RDMA fabric) and then moves values straight
// between its peers and the pages of Buffers and Values. The memory is
// written only through Buffers the caller owns; the mapping stays valid
// until Close.
//
// NB: with sending by reference, a page is dropped from the mapping
// (MADV_DONTNEED) before it is reused, so hardware that pins the pages a
// registration had at the time (verbs, efa without on-demand paging)
// would go on using the old pages: such providers need
// dram-send-by-reference off. Software providers (tcp, shm) copy through
// the virtual addresses and are unaffected.
func (e *Engine) ArenaMemory() []byte { return e.arena.mem }
