// Package bench is gpucache's load generator: the library behind the
// gpucache-bench command. It drives a RESP endpoint (gpucache, redis-server,
// KVRocks, ...), an S3 endpoint, or a built-in raw loopback probe with the
// traffic LMCache produces, measures throughput and latency, and compares
// gpucache against redis-server and against the raw TCP limit of the host.
//
// # Basics
//
// A Target names an endpoint. A workload (lmcache, small, s3) runs phases
// (set, get, mix) against one target with a fixed amount of work, so every
// target moves exactly the same bytes with the same key sequence. Each worker
// owns one connection, one Recorder (a log-linear latency Histogram and
// counters) and reused request/reply buffers: the load path allocates nothing
// per operation. Compare starts the servers, alternates targets round by
// round, and prints one table (and optionally JSON and an SVG plot).
//
// The RESP client here is deliberately minimal and not a general client: it
// writes each batch of requests with one scatter-gather write (net.Buffers,
// writev), the way LMCache's native client does, and reads replies into a
// buffer owned by the connection. Large values are never copied on the send
// side: a value is an 8-byte head stamp, a slice of one shared read-only
// pattern body, and an 8-byte tail stamp (see Payload).
//
// # Caveats
//
//   - Client and servers share the host's cores; on a small machine the
//     client's own cost shows in every number. The raw target gives the
//     ceiling under exactly those conditions.
//   - Latency of an operation inside a pipelined batch is measured from the
//     start of the batch's write to the moment its reply has been read, which
//     is what the issuing application observes.
//   - The cheap verification checks the length and the per-key stamps at both
//     ends of a value; use full verification to compare every byte.
package bench
