// Package fastpath is the server side of the BLOB.* fast path: the
// protocol of Valkey's large-object module, which LMCache's valkey_rdma
// adapter speaks. A client names its fabric address with BLOB.HELLO on
// its RESP connection; then BLOB.GET and BLOB.SET carry (rkey, addr, len)
// triples naming its registered memory, and the server, always the RMA
// initiator, writes values there (fi_write) or reads them from there
// (fi_read), straight between the client's memory and the DRAM tier's
// arena pages, which are registered with the fabric once at start.
//
// The RESP commands themselves live in protocols/resp (cmd_blob.go);
// this package owns the fabric endpoints, sessions, limits, transfers
// and their counters. The libfabric binding (package fabric) is built
// only with the build tag "fabric"; without it New reports the fabric
// unavailable and BLOB.HELLO says so.
package fastpath
