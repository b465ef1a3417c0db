package resp

import (
	"net"
	"testing"
)

// TestClientMemoryWaitStats: a Reserve (the path of a request that found
// no memory at once) is counted, with its time; one that gets the memory
// is not refused.
func TestClientMemoryWaitStats(t *testing.T) {
	eng := openEngine(t)
	s := NewServer(eng, Config{})
	defer s.Close()
	b := &s.budget
	b.setMax(b.used.Load() + 100)
	if !b.TryReserve(80) {
		t.Fatal("TryReserve under the bound failed")
	}
	done := make(chan error)
	go func() { done <- b.Reserve(30) }()
	b.Release(40)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waits, waited, refused := s.ClientMemoryWaits()
	if waits != 1 || waited <= 0 || refused != 0 {
		t.Errorf("waits %d, waited %v, refused %d", waits, waited, refused)
	}
}

// TestTransportOf: connections are classified by their type.
func TestTransportOf(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if transportNames[transportOf(a)] != "tcp" {
		t.Errorf("a plain connection is not tcp")
	}
	ua, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: t.TempDir() + "/s", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	if transportNames[transportOf(ua)] != "unix" {
		t.Errorf("a Unix socket is not unix")
	}
}
