//go:build fabric

package fabric

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// providers are the ones Debian's libfabric runs with no hardware; tests
// bind on loopback only.
var providers = []struct{ name, domain, node string }{
	{"shm", "", ""},
	{"tcp;ofi_rxm", "lo", "127.0.0.1"},
}

func mmap(t *testing.T, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

func base(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// pair opens an initiator and a passive target, each knowing the other.
func pair(t *testing.T, prov, domain, node string) (ini, tgt *Endpoint, peer Peer) {
	t.Helper()
	ini, err := Open(prov, domain, node)
	if err != nil {
		t.Skipf("provider %s: %v", prov, err)
	}
	t.Cleanup(ini.Close)
	tgt, err = Open(prov, domain, node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tgt.Close)
	peer, err = ini.InsertPeer(tgt.Info().Addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.InsertPeer(ini.Info().Addr); err != nil {
		t.Fatal(err)
	}
	return ini, tgt, peer
}

// remote is where a peer names a byte of its region.
func remote(e *Endpoint, r *Region, off uint64) uint64 {
	if e.Info().VirtAddr {
		return uint64(r.Base) + off
	}
	return off
}

func TestReadWrite(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			ini, tgt, peer := pair(t, p.name, p.domain, p.node)
			const n = 3<<20 + 17
			local, far := mmap(t, n), mmap(t, n)
			lr, err := ini.Register(base(local), n, AccessLocal)
			if err != nil {
				t.Fatal(err)
			}
			defer lr.Close()
			fr, err := tgt.Register(base(far), n, AccessRemote)
			if err != nil {
				t.Fatal(err)
			}
			defer fr.Close()
			defer tgt.Progress()()
			for i := range local {
				local[i] = byte(i*7 + i>>9)
			}
			// Two pieces, the second straddling nothing in particular.
			ops := []Op{
				{Local: base(local), Len: 1 << 20, RAddr: remote(tgt, fr, 0), RKey: fr.Key},
				{Local: base(local) + 1<<20, Len: n - 1<<20, RAddr: remote(tgt, fr, 1<<20), RKey: fr.Key},
			}
			b := ini.Post(true, lr, peer, ops, time.Now().Add(10*time.Second))
			if err := b.Wait(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if b.Bytes != n {
				t.Fatalf("bytes %d, want %d", b.Bytes, n)
			}
			if !bytes.Equal(local, far) {
				t.Fatal("write: bytes differ")
			}
			clear(local)
			b = ini.Post(false, lr, peer, ops, time.Now().Add(10*time.Second))
			if err := b.Wait(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(local, far) {
				t.Fatal("read: bytes differ")
			}
			// A key that names nothing fails that batch only: tcp reports
			// the peer's refusal; shm's peer drops the request, so the
			// write never completes and times out.
			bad := []Op{{Local: base(local), Len: 4096, RAddr: remote(tgt, fr, 0), RKey: fr.Key + 12345}}
			b = ini.Post(true, lr, peer, bad, time.Now().Add(2*time.Second))
			err = b.Wait(time.Now().Add(2 * time.Second))
			var fe *Error
			if !errors.As(err, &fe) && !errors.Is(err, ErrTimeout) {
				t.Fatalf("bad key: err %v", err)
			}
			t.Logf("bad key: %v", err)
			if errors.Is(err, ErrTimeout) {
				// NB: libfabric 1.17's shm peer stops reading its command
				// queue at the refused request, so this pair is wedged for
				// good: nothing more to check here.
				return
			}
			// tcp;ofi_rxm drops the connection at the refused request and
			// connects again within a second or two; the endpoint works
			// on.
			if err := ini.RemovePeer(peer); err != nil {
				t.Fatal(err)
			}
			if peer, err = ini.InsertPeer(tgt.Info().Addr); err != nil {
				t.Fatal(err)
			}
			for i := 0; ; i++ {
				b = ini.Post(false, lr, peer, ops[:1], time.Now().Add(10*time.Second))
				err := b.Wait(time.Now().Add(10 * time.Second))
				if err == nil {
					t.Logf("recovered after %d", i)
					break
				}
				if i > 200 {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
