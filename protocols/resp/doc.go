// Package resp is gpucache's Redis protocol front end: a bounded,
// streaming RESP2/RESP3 codec, the connection loop, and the command table
// that maps Redis and KVRocks commands onto the engine.
//
// # Basics
//
// NewServer wraps an *engine.Engine; Serve runs it on a listener, one
// goroutine per connection. A connection reads one request at a time with
// a Reader, runs it, and queues the reply in a Writer; replies go out in one
// (vectored) write per batch of pipelined requests, right before the
// connection would block reading more input.
//
// Small arguments are parsed in place from a reused read buffer. A bulk
// larger than Limits.SmallBulk that a command stores as a value (SET's
// value, MSET's values, ...) is read straight from the socket into engine
// arena pages (engine.Buffer) and handed to Engine.Put: at most one copy
// per value. Large GET replies go out as "$n\r\n", the value's pages and
// "\r\n" through net.Buffers, without copying.
//
// Replies are byte-exact with KVRocks (error texts, INFO sections) and with
// what LMCache's C++ client compares: +OK, :0/:1, $-1 under RESP2; the
// RESP3 null "_" only after HELLO 3.
//
// # Invariants
//
//   - A mutation's reply leaves only after Engine.Sync returned: one sync
//     per batch, before the batch's replies are flushed. If Sync fails the
//     connection closes and nothing of the batch is acknowledged.
//   - One connection holds arena memory for at most one request's values
//     while reading (the next request is not read before this one ran), and
//     queues at most about 1 MiB of replies (plus one reply) before writing.
//     TCP backpressure does the rest.
//   - With requirepass set, a client that has not authenticated sends at
//     most UnauthMaxArgs arguments of UnauthMaxBulkLen bytes per request
//     (a larger header is a protocol error, as in Redis): it never reaches
//     the engine's memory or devices, and holds a few KiB per argument.
//   - Client memory is bounded by configuration (limits.go): maxclients
//     is checked before a connection gets any buffer; one request holds at
//     most query-buffer-limit; replies over output-buffer-limit disconnect;
//     all client buffers together stay under maxmemory-clients, a
//     connection needing more waits (reading nothing) and then gets -BUSY.
//     An idle connection holds 4 KiB read and reply buffers.
//   - A subscriber or monitor sends everything through its push queue
//     (pubsub_queue.go): published messages are shared frames, written by
//     the queue's own goroutine, bounded by the pubsub class of
//     output-buffer-limit; a publisher never waits for a subscriber.
//     Connections that never subscribe or monitor pay one atomic load per
//     request (MONITOR) and nil checks.
//   - Malformed input gets "-ERR Protocol error: ..." and closes that
//     connection only.
//   - The request path of GET, SET, EXISTS and DEL allocates nothing in
//     steady state.
//
// # Caveats
//
//   - MSET with a value too large to live in the metadata store writes
//     its pairs one by one, so it is not atomic; MSETNX always is.
//   - SELECT is accepted and ignored, as KVRocks does: namespaces (AUTH with
//     a namespace token) separate keyspaces.
//   - SCAN cursors are numbers mapped to resume keys by a bounded table; a
//     cursor evicted from it restarts the scan.
package resp
