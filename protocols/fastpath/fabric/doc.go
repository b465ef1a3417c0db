// Package fabric is gpucache's binding to libfabric: one RDM endpoint per
// fabric domain (provider "verbs;ofi_rxm", "efa", "tcp;ofi_rxm", "tcp",
// "shm"), memory registration, and one-sided RMA (fi_read, fi_write)
// whose completions a poller goroutine collects and hands to the
// goroutine waiting on them.
//
// The binding uses cgo and is built only with the build tag "fabric"
// (go build -tags fabric), where libfabric's headers and library are
// installed (Debian: libfabric-dev). Without the tag Open returns
// ErrUnavailable and everything else is unreachable, so callers need no
// build tags of their own.
//
// Go passes C only integers: addresses of memory outside the Go heap
// (mmap'd arenas), keys, and operation slots. An operation's context is a
// slot in a table the C side owns (room for FI_CONTEXT2 scratch space),
// so no Go pointer is ever kept by C.
package fabric
