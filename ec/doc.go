// Package ec stores logical files over several nvme devices with
// systematic Reed-Solomon erasure coding (klauspost/reedsolomon): k data
// and m parity shards per stripe, so any m devices can be lost without
// losing data. Volume is the only storage type the engine uses.
//
// # Basics
//
// Open assembles a Volume from devices and a k+m layout. A stripe is one
// nvme.Align unit on each of k+m devices; StripeWidth (k units) is the
// logical bytes per stripe. A file of k+m <= len(devs) shards lives on k+m
// consecutive device slots (rotated per file, so parity, and therefore read
// load, spreads over all devices); shard i holds unit i of every stripe, so
// each shard is a contiguous file and a write of many stripes is one
// vectored write per device.
//
// Files are append-only regions written once, in whole stripes: WritevAt
// computes parity from the new data alone, writes all shards in parallel
// and records a CRC32C for every unit. Sync writes the checksum pages and
// fdatasyncs every shard; only then is a write durable. ReadvAt reads any
// nvme.Align range.
//
// # Repair
//
// A read that finds a corrupt or unreadable data unit on a device still
// in service writes the reconstructed unit back (read repair). Scrub
// verifies every unit of every shard, parity included, and rewrites the bad
// ones. A device that died is replaced by a blank one (at Open, or with
// Replace) and Rebuild restores its shards in the background at a bounded
// rate. Status reports device states, error counters and scrub and rebuild
// progress for INFO.
//
// With k=1, m=0 the volume is a pass-through: each file lives whole on one
// device (the emptiest), reads and writes go straight to the device with
// the caller's buffers, and no checksums are kept (the engine checksums
// blobs itself).
//
// # Invariants
//
//   - Systematic: a healthy read touches only data shards, reads straight
//     into the caller's buffers and decodes nothing.
//   - Every unit read from a volume with parity is checked against its
//     CRC32C. A missing, unreadable or corrupt unit is reconstructed from
//     the other shards; if more than m shards of a stripe are unusable the
//     read fails with a *ShardError (wrapping ErrUnrecoverable) naming the
//     shards and devices. Never wrong bytes.
//   - A write is acknowledged if at least the write quorum of shards
//     (default k) took it; checksums are recorded even for a shard whose
//     write failed, so its stale content is detected, never returned.
//   - Each device carries a label (volume id, slot, k, m): Open accepts
//     devices in any order, with up to m of them absent, and takes a blank
//     device as the replacement for an absent slot.
//   - Steady-state writes and healthy reads allocate nothing: per-request
//     state is pooled, parity comes from an aligned buffer pool.
//
// # Caveats
//
//   - Writing a region twice is not supported: parity and checksums
//     describe the first write. Segments are append-only.
//   - Close the volume only after all I/O on its files has finished.
//   - A device that was absent while a file was removed still holds that
//     file's stale shard; a later Open lists the name again only if the
//     device comes back with enough of its shards.
//   - Usage is an estimate (device bytes scaled by k/(k+m)).
//   - Degraded reads allocate (reedsolomon's reconstruction does); so does
//     each stripe's encode on amd64 (24 bytes, inside reedsolomon).
//   - Read repair rewrites data units only, and does not sync; parity
//     units wait for Scrub.
package ec
