package engine

import "errors"

// Errors returned by the engine. Protocol front ends map them to their own
// error forms at the edge (one table per protocol).
var (
	// ErrNotFound reports that the key does not exist (or has expired).
	ErrNotFound = errors.New("engine: not found")
	// ErrWrongType reports an operation on a key holding another type.
	ErrWrongType = errors.New("engine: wrong type")
	// ErrNoSpace reports that the NVMe tier is full and the eviction policy
	// is noeviction: nothing was written.
	ErrNoSpace = errors.New("engine: out of capacity")
	// ErrTooLarge reports a value larger than the engine can ever hold in
	// memory at once (beyond the DRAM arena).
	ErrTooLarge = errors.New("engine: value too large")
	// ErrBusy reports that memory for an incoming value did not free up in
	// time: the caller should answer with a retryable busy error.
	ErrBusy = errors.New("engine: busy, memory exhausted")
	// ErrCorrupt reports that stored bytes failed their checksum and could
	// not be reconstructed. The bytes are never returned.
	ErrCorrupt = errors.New("engine: corrupt data")
	// ErrClosed reports use of a closed engine.
	ErrClosed = errors.New("engine: closed")
	// ErrKeyspaceExists reports CreateKeyspace of an existing keyspace.
	ErrKeyspaceExists = errors.New("engine: keyspace exists")
	// ErrKeyspaceNotFound reports a missing keyspace.
	ErrKeyspaceNotFound = errors.New("engine: keyspace not found")
	// ErrKeyspaceNotEmpty reports DeleteKeyspace of a keyspace with keys.
	ErrKeyspaceNotEmpty = errors.New("engine: keyspace not empty")
	// ErrNotInteger reports an increment of a value that is not an integer
	// (or would overflow).
	ErrNotInteger = errors.New("engine: value is not an integer or out of range")
	// ErrChanged reports a Compose source whose version no longer matches.
	ErrChanged = errors.New("engine: source changed")
	// ErrNotFloat reports an increment of a value that is not a float.
	ErrNotFloat = errors.New("engine: value is not a valid float")
)

// errRetryCopy restarts a Copy whose source changed type under it.
var errRetryCopy = errors.New("engine: copy source changed type")
