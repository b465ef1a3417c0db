//go:build fabric

package fabric

/*
#cgo LDFLAGS: -lfabric
#include <stdlib.h>
#include <rdma/fabric.h>
#include <rdma/fi_errno.h>
#include "gcfabric.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Available reports whether this binary has the fabric built in.
const Available = true

// Access flags for Register.
const (
	// AccessLocal registers memory the endpoint reads and writes itself
	// (the server's arena).
	AccessLocal = uint64(C.FI_READ | C.FI_WRITE)
	// AccessRemote registers memory a peer reads and writes (a client's
	// buffers).
	AccessRemote = uint64(C.FI_READ | C.FI_WRITE | C.FI_REMOTE_READ | C.FI_REMOTE_WRITE)
)

const maxSlots = C.GCF_MAX_SLOTS

// eagain is libfabric's "queue full, progress and retry".
const eagain = -int(C.FI_EAGAIN)

// Endpoint is one RDM endpoint with its fabric, domain, address vector
// and completion queue.
type Endpoint struct {
	p       *C.gcf_ep
	info    Info
	canWait bool

	mu     sync.Mutex
	cond   *sync.Cond // a slot freed, or the endpoint closed
	free   []uint32
	slots  [maxSlots]slot
	closed bool

	inflight atomic.Int64
	wake     chan struct{}
	stop     chan struct{}
	stopped  chan struct{}
}

type slot struct {
	b *Batch
	i int // the operation's index in its batch
	n uint64
}

// Info describes what an endpoint opened.
type Info struct {
	Provider string // e.g. "tcp;ofi_rxm"
	Fabric   string
	Domain   string
	Addr     []byte // the endpoint's fabric address (fi_getname)
	// VirtAddr: remote addresses are virtual addresses (FI_MR_VIRT_ADDR);
	// otherwise they are offsets from the start of the peer's region.
	VirtAddr bool
	// LocalMR: local buffers must be registered (FI_MR_LOCAL).
	LocalMR bool
}

// Open opens an endpoint of provider on domain (a fabric domain or
// interface name such as "lo"; "" for the provider's first), bound to
// node (an address such as "127.0.0.1", or "" to let the provider pick).
func Open(provider, domain, node string) (*Endpoint, error) {
	cprov, cdom, cnode := C.CString(provider), C.CString(domain), C.CString(node)
	defer C.free(unsafe.Pointer(cprov))
	defer C.free(unsafe.Pointer(cdom))
	defer C.free(unsafe.Pointer(cnode))
	var errbuf [256]C.char
	var p *C.gcf_ep
	if rc := C.gcf_open(cprov, cdom, cnode, &p, &errbuf[0], C.size_t(len(errbuf))); rc != 0 {
		return nil, &Error{Op: "open " + provider, Code: -int(rc), Text: C.GoString(&errbuf[0])}
	}
	e := &Endpoint{p: p, canWait: C.gcf_can_wait(p) != 0,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	var addr [256]byte
	n := C.gcf_addr(p, (*C.uint8_t)(unsafe.Pointer(&addr[0])), C.size_t(len(addr)))
	mode := uint64(C.gcf_mr_mode(p))
	e.info = Info{
		Provider: C.GoString(C.gcf_prov_name(p)),
		Fabric:   C.GoString(C.gcf_fabric_name(p)),
		Domain:   C.GoString(C.gcf_domain_name(p)),
		Addr:     append([]byte(nil), addr[:min(int(n), len(addr))]...),
		VirtAddr: mode&C.FI_MR_VIRT_ADDR != 0,
		LocalMR:  mode&C.FI_MR_LOCAL != 0,
	}
	e.cond = sync.NewCond(&e.mu)
	e.free = make([]uint32, maxSlots)
	for i := range e.free {
		e.free[i] = uint32(maxSlots - 1 - i)
	}
	go e.poll()
	return e, nil
}

// Info returns what the endpoint opened.
func (e *Endpoint) Info() Info { return e.info }

// Region is registered memory.
type Region struct {
	e      *Endpoint
	handle C.int
	Base   uintptr
	Len    uint64
	Key    uint64 // the key a peer names it by (rkey)
}

// Progress keeps the poller reading the completion queue until the
// returned function is called. A passive peer (the client during a
// server-initiated transfer) needs it: with manual progress (tcp, shm)
// its side of the transfer moves only while its queue is read.
func (e *Endpoint) Progress() (stop func()) {
	e.inflight.Add(1)
	e.kick()
	var once sync.Once
	return func() { once.Do(func() { e.inflight.Add(-1) }) }
}

// Register registers len bytes at base (memory outside the Go heap that
// stays mapped until Close) with the given access.
func (e *Endpoint) Register(base uintptr, n uint64, access uint64) (*Region, error) {
	var errbuf [256]C.char
	r := &Region{e: e, Base: base, Len: n}
	var key C.uint64_t
	if rc := C.gcf_mr_reg(e.p, C.uint64_t(base), C.uint64_t(n), C.uint64_t(access), &key, &r.handle,
		&errbuf[0], C.size_t(len(errbuf))); rc != 0 {
		return nil, &Error{Op: "register", Code: -int(rc), Text: C.GoString(&errbuf[0])}
	}
	r.Key = uint64(key)
	return r, nil
}

// Close deregisters the region (closing the endpoint deregisters all).
func (r *Region) Close() {
	if r == nil || r.e == nil {
		return
	}
	e := r.e
	r.e = nil
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		C.gcf_mr_close(e.p, r.handle)
	}
}

// Peer is a peer's address inserted into the endpoint's address vector.
type Peer uint64

// InsertPeer inserts a peer's fabric address.
func (e *Endpoint) InsertPeer(addr []byte) (Peer, error) {
	if len(addr) == 0 || len(addr) > 256 {
		return 0, &Error{Op: "fi_av_insert", Code: int(C.FI_EINVAL), Text: "bad address length"}
	}
	var p C.uint64_t
	if rc := C.gcf_av_insert(e.p, (*C.uint8_t)(unsafe.Pointer(&addr[0])), C.size_t(len(addr)), &p); rc != 0 {
		return 0, errorOf("fi_av_insert", int(rc))
	}
	return Peer(p), nil
}

// RemovePeer removes a peer; the provider fails its operations still in
// flight, which completes their batches.
func (e *Endpoint) RemovePeer(p Peer) error {
	if rc := C.gcf_av_remove(e.p, C.uint64_t(p)); rc != 0 {
		return errorOf("fi_av_remove", int(rc))
	}
	return nil
}

func errorOf(op string, rc int) *Error {
	code := rc
	if code < 0 {
		code = -code
	}
	return &Error{Op: op, Code: code, Text: C.GoString(C.gcf_strerror(C.int(rc)))}
}

// Post posts ops as one batch: reads from the peer's memory into local
// memory (write false), or writes local memory to the peer's (write true).
// mem is the registered region holding every op's local memory. When the
// send queue is full, Post waits for completions, up to deadline.
func (e *Endpoint) Post(write bool, mem *Region, peer Peer, ops []Op, deadline time.Time) *Batch {
	return e.PostWatched(write, mem, peer, ops, deadline, nil, nil)
}

// PostWatched is Post that hands the batch to watch before the first
// operation is posted: some providers (shm) move the bytes while posting,
// so a watcher of Progress sees the leading operations end while the rest
// are still being posted. Posting gives up, with ErrCanceled, when stop
// closes while the send queue is full.
func (e *Endpoint) PostWatched(write bool, mem *Region, peer Peer, ops []Op, deadline time.Time, watch func(*Batch), stop <-chan struct{}) *Batch {
	b := newBatch(len(ops))
	if watch != nil {
		watch(b)
	}
	handle := C.int(-1)
	if mem != nil {
		handle = mem.handle
	}
	w := C.int(0)
	name := "fi_read"
	if write {
		w, name = 1, "fi_write"
	}
	var err error
	for _, op := range ops {
		i := b.add()
		s, serr := e.takeSlot(deadline, slot{b: b, i: i, n: op.Len})
		if serr != nil {
			b.complete(-1, 0, serr)
			err = serr
			break
		}
		e.inflight.Add(1)
		for {
			rc := int(C.gcf_post(e.p, w, handle, C.uint64_t(op.Local), C.uint64_t(op.Len), C.uint64_t(peer),
				C.uint64_t(op.RAddr), C.uint64_t(op.RKey), C.uint64_t(s)))
			if rc == 0 {
				break
			}
			canceled := false
			if rc == eagain {
				select {
				case <-stop:
					canceled = true
				default:
				}
			}
			if rc == eagain && !canceled && time.Now().Before(deadline) {
				e.kick()
				runtime.Gosched()
				continue
			}
			e.inflight.Add(-1)
			e.releaseSlot(s)
			if canceled {
				err = ErrCanceled
			} else if rc == eagain {
				// The queue stayed full (or the connection to the peer
				// never came up) until the deadline.
				err = ErrTimeout
			} else {
				err = errorOf(name, rc)
			}
			b.complete(-1, 0, err)
			break
		}
		if err != nil {
			break
		}
		e.kick()
	}
	b.seal(err)
	return b
}

// kick wakes the poller if it sleeps.
func (e *Endpoint) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// takeSlot takes a free slot for an operation and records it there.
func (e *Endpoint) takeSlot(deadline time.Time, sl slot) (uint32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.free) == 0 {
		t := time.AfterFunc(time.Until(deadline), func() {
			e.mu.Lock()
			e.cond.Broadcast()
			e.mu.Unlock()
		})
		defer t.Stop()
		for len(e.free) == 0 && !e.closed && time.Now().Before(deadline) {
			e.cond.Wait()
		}
	}
	if e.closed {
		return 0, ErrClosed
	}
	if len(e.free) == 0 {
		return 0, ErrTimeout
	}
	s := e.free[len(e.free)-1]
	e.free = e.free[:len(e.free)-1]
	e.slots[s] = sl
	return s, nil
}

func (e *Endpoint) releaseSlot(s uint32) {
	e.mu.Lock()
	e.slots[s] = slot{}
	e.free = append(e.free, s)
	e.cond.Signal()
	e.mu.Unlock()
}

// poll collects completions. libfabric's software providers progress
// data only when the queue is read (FI_PROGRESS_MANUAL), so it reads
// while anything is in flight: blocking in the provider where it can wait
// (fi_cq_sread), otherwise polling; with nothing in flight it sleeps
// until Post wakes it.
func (e *Endpoint) poll() {
	defer close(e.stopped)
	runtime.LockOSThread()
	var ctx [64]C.uint64_t
	var status [64]C.int
	idle := 0
	var backoff time.Duration
	for {
		if e.inflight.Load() == 0 {
			select {
			case <-e.wake:
			case <-e.stop:
				return
			}
		}
		select {
		case <-e.stop:
			return
		default:
		}
		timeout := 0
		if e.canWait && idle > 64 {
			timeout = 10
		}
		n := int(C.gcf_poll(e.p, &ctx[0], &status[0], C.int(len(ctx)), C.int(timeout)))
		if n <= 0 {
			idle++
			if !e.canWait && idle > 64 {
				// A queue nobody can wait on (shm) is polled: at once
				// for a while, then backing off up to pollMax between
				// polls, which bounds the CPU a long transfer burns
				// while the peer works, at the cost of up to pollMax of
				// latency.
				backoff = min(max(2*backoff, pollMin), pollMax)
				e.sleep(backoff)
			}
			continue
		}
		idle, backoff = 0, 0
		for i := 0; i < n; i++ {
			s := uint32(ctx[i])
			if s >= maxSlots {
				continue
			}
			e.mu.Lock()
			sl := e.slots[s]
			e.slots[s] = slot{}
			e.free = append(e.free, s)
			e.cond.Signal()
			e.mu.Unlock()
			e.inflight.Add(-1)
			if sl.b == nil {
				continue
			}
			var err error
			if status[i] != 0 {
				err = errorOf("completion", int(status[i]))
			}
			sl.b.complete(sl.i, sl.n, err)
		}
	}
}

// Polling backoff for queues that cannot block (see poll).
const (
	pollMin = 20 * time.Microsecond
	pollMax = 500 * time.Microsecond
)

// sleep waits d, or less when Post wakes the poller for new work.
func (e *Endpoint) sleep(d time.Duration) {
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-e.wake:
		t.Stop()
	case <-e.stop:
		t.Stop()
	}
}

// Close stops the poller and closes the endpoint. Operations still in
// flight are abandoned: call it after their peers are gone.
func (e *Endpoint) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.cond.Broadcast()
	e.mu.Unlock()
	close(e.stop)
	<-e.stopped
	C.gcf_close(e.p)
	e.p = nil
}
