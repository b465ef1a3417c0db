// Package s3test serves the S3 front end in-process for tests and
// benchmarks that exercise a client against it: an engine under the test's
// temporary directory, a listener on a free loopback port, and cleanup
// when the test ends. Compatibility claims still need the real binary
// (compat-tests); this is for testing clients and handlers.
package s3test

import (
	"net"
	"testing"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/s3"
)

// Start serves cfg (its Logf defaults to t.Logf) on an engine with a
// DRAM tier of dramBytes and returns the listener's address.
func Start(t testing.TB, dramBytes int64, cfg s3.Config, opts ...s3.Option) string {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir(), DRAMCacheSize: dramBytes})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	srv, err := s3.NewServer(eng, cfg, opts...)
	if err != nil {
		eng.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		eng.Close()
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		eng.Close()
	})
	return ln.Addr().String()
}
