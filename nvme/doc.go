// Package nvme is the device boundary of gpucache: every byte the engine
// and the ec package store goes through a Device and its Files, the way
// every file pebble touches goes through vfs.FS.
//
// # Basics
//
// OpenDir opens a directory (one NVMe namespace's mount point) as a Device.
// Its files use O_DIRECT, so reads and writes bypass the page cache and a
// completed write plus Sync (fdatasync) is on the drive. NewMem returns an
// in-memory Device with the same rules, and NewFault wraps any Device to
// inject errors, torn writes, flipped bits, latency, read-only mode or the
// device vanishing.
//
// Every buffer address, offset and length passed to a File is a multiple
// of Align. AlignedAlloc returns page-aligned memory outside the Go heap
// and Pool hands out size-classed aligned scratch buffers.
//
// # Invariants
//
//   - Alignment is checked by every implementation (ErrUnaligned), even
//     where the file system would accept unaligned buffered I/O, so code
//     tested on tmpfs or in memory is correct on a drive.
//   - Every operation is recorded in the device's Health: counts, bytes,
//     latency, errors. Caller mistakes (unaligned I/O, bad names, missing
//     files, end of file) do not count as device errors.
//   - A device is marked failed after Health.FailAfter consecutive errors;
//     from then on every operation returns an *OpError wrapping ErrFailed
//     that names the device.
//   - A DirDevice runs at most its queue depth of operations at once.
//   - Vectored I/O is split at IOV_MAX and loops over short transfers, and
//     allocates nothing.
//
// # Caveats
//
//   - If the file system refuses O_DIRECT (OpenDir probes with a real
//     write and read), a DirDevice falls back to buffered I/O and reports
//     it through Direct. Sync still makes writes durable, but the page cache
//     is in the data path.
//   - A File must not be used after Close; with raw descriptors a late
//     operation could reach a reused descriptor.
//   - AlignedAlloc memory is not garbage collected: every buffer needs an
//     AlignedFree, and must not be touched afterwards.
//   - MemDevice Sync is a no-op: it does not model power loss.
package nvme
