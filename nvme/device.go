package nvme

import "io"

// Align is the alignment, in bytes, of every buffer address, offset and
// length passed to a File opened with O_DIRECT. Callers that write through a
// Device must pad writes to a multiple of Align.
const Align = 4096

// Device is one storage device: a directory on an NVMe file system, or an
// in-memory device for tests. It holds named files (blob segments, device
// labels). It is the only way the engine and ec packages touch storage, so a
// fault-injecting Device can stand in for any of them.
//
// A Device is safe for concurrent use.
type Device interface {
	// Name identifies the device in logs, errors and INFO (its path for a
	// directory device).
	Name() string
	// Create creates (or truncates) the named file and reserves size bytes
	// for it. size is a multiple of Align.
	Create(name string, size int64) (File, error)
	// Open opens an existing file for reading and writing.
	Open(name string) (File, error)
	// Remove deletes the named file. Removing a missing file is not an error.
	Remove(name string) error
	// List returns the names of all files on the device, sorted.
	List() ([]string, error)
	// Usage reports the bytes used by files and the bytes still free.
	Usage() (used, free int64, err error)
	// Health is the device's error and latency record.
	Health() *Health
	// Close releases the device. Files opened from it must be closed first.
	Close() error
}

// File is a file on a Device. All offsets, lengths and buffer addresses are
// multiples of Align. A File is safe for concurrent use by readers and by
// writers of disjoint ranges.
type File interface {
	io.ReaderAt
	io.WriterAt
	// WritevAt writes the buffers back to back starting at off, as one
	// vectored write where the platform allows. Each buffer's length is a
	// multiple of Align.
	WritevAt(bufs [][]byte, off int64) (int64, error)
	// ReadvAt fills the buffers back to back from off.
	ReadvAt(bufs [][]byte, off int64) (int64, error)
	// Sync makes every completed write durable (fdatasync).
	Sync() error
	// Size is the file's size in bytes.
	Size() (int64, error)
	Close() error
}
