package resp_test

import (
	"net"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gpucache/gpucache/compat-tests/internal"
)

// setFileLimit sets another process's RLIMIT_NOFILE (prlimit(2)).
func setFileLimit(t *testing.T, pid int, n uint64) {
	t.Helper()
	lim := syscall.Rlimit{Cur: n, Max: n}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE,
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
	if errno != 0 {
		t.Skipf("prlimit: %v", errno)
	}
}

// TestFileDescriptorExhaustion: a flood of connections beyond the
// server's open-file limit (below maxclients) does not stop it: accepting
// backs off while no descriptor is free, the clients already connected
// are served throughout, and new ones get in once the flood leaves.
func TestFileDescriptorExhaustion(t *testing.T) {
	raiseNoFile(t, 2048)
	srv := internal.Start(t, internal.Options{})
	w := newWitness(t, srv.Addr())
	pid := int(srv.InfoInt(t, "process_id"))
	setFileLimit(t, pid, uint64(openFiles(t, pid)+64))

	var flood []net.Conn
	defer func() {
		for _, nc := range flood {
			nc.Close()
		}
	}()
	for range 400 {
		nc, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
		if err != nil {
			break // the backlog is full: the server stopped accepting
		}
		flood = append(flood, nc)
	}
	waitLog(t, srv, 30*time.Second, "too many open files")
	w.check2(t, srv)
	for _, nc := range flood {
		nc.Close()
	}
	flood = nil
	waitFor(t, 30*time.Second, "the server serving new clients", func() bool {
		nc, err := net.DialTimeout("tcp", srv.Addr(), 2*time.Second)
		if err != nil {
			return false
		}
		defer nc.Close()
		nc.Write(encodeStrings("PING"))
		out, _ := readAll(nc, 2*time.Second)
		return string(out) == "+PONG\r\n"
	})
	w.check(t, srv)
	if exited, err := srv.Exited(); exited {
		t.Fatalf("server exited: %v", err)
	}
}
