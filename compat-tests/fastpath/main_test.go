// Package fastpath tests the BLOB.* fast path against a real gpucache
// process: built with -tags fabric (fabric_test.go, run with `go test
// -tags fabric`), driven by the Go client (package client) over
// libfabric's shm and tcp;ofi_rxm providers on loopback, every byte and
// CRC checked; and without the fabric (unavailable_test.go), where
// BLOB.HELLO says so and the TCP forms work.
package fastpath

import (
	"testing"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

func TestMain(m *testing.M) { internal.Main(m) }
