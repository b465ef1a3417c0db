package ec

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by a Volume. Errors from a device keep their *nvme.OpError
// inside, so errors.Is(err, nvme.ErrFailed) and friends work through them;
// a missing file wraps nvme.ErrNotExist.
var (
	// ErrLayout reports devices whose labels disagree with each other or
	// with the k and m passed to Open (devices from two volumes, a changed
	// layout), or an unlabeled device that already holds shard files.
	ErrLayout = errors.New("ec: device layout mismatch")
	// ErrDevices reports too few devices for the layout.
	ErrDevices = errors.New("ec: not enough devices")
	// ErrUnaligned reports a write whose offset or length is not a multiple
	// of the stripe width, or a read not a multiple of nvme.Align.
	ErrUnaligned = errors.New("ec: unaligned I/O")
	// ErrRange reports I/O beyond the end of a file, or a bad size.
	ErrRange = errors.New("ec: offset out of range")
	// ErrClosed reports use of a closed volume or file.
	ErrClosed = errors.New("ec: closed")
	// ErrBadName reports a logical file name the volume cannot store.
	ErrBadName = errors.New("ec: bad file name")
	// ErrUnrecoverable reports data that cannot be read back correctly:
	// more than m shards of a stripe are missing, failing or corrupt. It
	// arrives inside a *ShardError that says which.
	ErrUnrecoverable = errors.New("ec: too many shards lost")
	// ErrQuorum reports a write or sync that reached fewer shards than the
	// write quorum, so it is not acknowledged.
	ErrQuorum = errors.New("ec: write quorum not reached")
	// ErrBusy reports a rebuild or scrub already running.
	ErrBusy = errors.New("ec: operation already running")
)

// ShardFault names one shard that could not be used, and why.
type ShardFault struct {
	Shard  int    // shard index within the stripe, 0..k+m-1 (data first)
	Slot   int    // device slot in the volume
	Device string // device name, empty if the slot has no device
	Err    error
}

// ShardError reports an operation on a logical file that failed because
// of particular shards. It wraps ErrUnrecoverable (reads) or ErrQuorum
// (writes and syncs); the faults say which devices to blame.
type ShardError struct {
	Op     string // "read", "write", "sync", "create"
	File   string
	Offset int64 // logical offset of the first failing stripe
	Faults []ShardFault
	Err    error // ErrUnrecoverable or ErrQuorum
}

func (e *ShardError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "ec: %s %s at %d: %s", e.Op, e.File, e.Offset, strings.TrimPrefix(e.Err.Error(), "ec: "))
	for i, f := range e.Faults {
		if i == 0 {
			sb.WriteString(" (")
		} else {
			sb.WriteString("; ")
		}
		dev := f.Device
		if dev == "" {
			dev = "missing device"
		}
		fmt.Fprintf(&sb, "shard %d on slot %d [%s]: %v", f.Shard, f.Slot, dev, f.Err)
	}
	if len(e.Faults) > 0 {
		sb.WriteString(")")
	}
	return sb.String()
}

// Unwrap returns the class (ErrUnrecoverable or ErrQuorum) and the
// per-shard causes, so errors.Is finds either.
func (e *ShardError) Unwrap() []error {
	errs := make([]error, 0, 1+len(e.Faults))
	errs = append(errs, e.Err)
	for _, f := range e.Faults {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// errMissing is the cause recorded for a shard whose device is absent,
// failed or still being rebuilt.
var errMissing = errors.New("ec: shard unavailable")

// errBadShard is the cause recorded for a shard whose earlier write failed:
// its content is unknown until scrub repairs it.
var errBadShard = errors.New("ec: shard has a failed write")

// errRebuilding is the cause recorded for a shard being rebuilt.
var errRebuilding = errors.New("ec: shard being rebuilt")

// errChecksum is the cause recorded for a shard unit whose CRC32C does
// not match.
var errChecksum = errors.New("ec: checksum mismatch")

// ErrChecksum reports a shard unit whose CRC32C did not match. It appears
// as a ShardFault cause; the read itself succeeds if enough shards remain.
var ErrChecksum = errChecksum
