package ec

import "sync/atomic"

// volumeStats are the volume's running counters, reported by Status.
type volumeStats struct {
	labelErrors    atomic.Int64
	readErrors     atomic.Int64
	writeErrors    atomic.Int64
	checksumErrors atomic.Int64
	reconstructed  atomic.Int64 // stripes decoded on read
	unrecoverable  atomic.Int64
	readRepaired   atomic.Int64 // units rewritten by reads
}
