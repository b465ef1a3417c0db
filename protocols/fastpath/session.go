package fastpath

import (
	"errors"
	"sync"
	"time"
	"unsafe"

	"github.com/gpucache/gpucache/engine"
	"github.com/gpucache/gpucache/protocols/fastpath/fabric"
)

// Session is one connection's BLOB.HELLO: the client's address in every
// domain's address vector. Close it when the connection ends.
type Session struct {
	s     *Server
	addr  []byte
	peers []fabric.Peer

	mu     sync.Mutex
	closed bool
	busy   int           // transfers running
	idle   chan struct{} // closed when busy drops to 0 after Close
	ops    []fabric.Op   // reused
}

// Region is one (rkey, addr, len) triple of a BLOB.GET or BLOB.SET: where
// in the client's registered memory bytes go or come from.
type Region struct {
	RKey, Addr, Len uint64
}

// Hello opens a session for a client whose fabric address is addr.
func (s *Server) Hello(addr []byte) (*Session, error) {
	if !s.Available() {
		return nil, ErrUnavailable
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrUnavailable
	}
	if len(s.sessions) >= s.cfg.MaxSessions {
		s.mu.Unlock()
		s.stats.RefusedHellos.Add(1)
		return nil, ErrTooManySessions
	}
	x := &Session{s: s, addr: append([]byte(nil), addr...)}
	s.sessions[x] = struct{}{}
	s.mu.Unlock()
	for _, d := range s.eps {
		p, err := d.ep.InsertPeer(addr)
		if err != nil {
			x.Close()
			return nil, errors.Join(ErrBadAddress, err)
		}
		x.peers = append(x.peers, p)
	}
	s.stats.Sessions.Add(1)
	s.stats.SessionsTotal.Add(1)
	return x, nil
}

// Close ends the session: it waits for its transfers (each bounded by the
// transfer timeout) and removes the client's address.
func (x *Session) Close() {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return
	}
	x.closed = true
	var idle chan struct{}
	if x.busy > 0 {
		idle = make(chan struct{})
		x.idle = idle
	}
	x.mu.Unlock()
	if idle != nil {
		<-idle
	}
	for i, p := range x.peers {
		x.s.eps[i].ep.RemovePeer(p)
	}
	counted := len(x.peers) == len(x.s.eps)
	x.s.mu.Lock()
	delete(x.s.sessions, x)
	x.s.mu.Unlock()
	if counted {
		x.s.stats.Sessions.Add(-1)
	}
}

// begin takes a transfer slot for the session: it waits up to the
// transfer timeout for one (backpressure), then fails with ErrBusy.
func (x *Session) begin(deadline time.Time) (*domain, int, error) {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil, 0, ErrSessionClosed
	}
	x.busy++
	x.mu.Unlock()
	select {
	case x.s.slot <- struct{}{}:
	default:
		x.s.stats.Waits.Add(1)
		t := time.NewTimer(time.Until(deadline))
		select {
		case x.s.slot <- struct{}{}:
			t.Stop()
		case <-t.C:
			x.end(nil)
			return nil, 0, ErrBusy
		}
	}
	x.s.stats.TransfersNow.Add(1)
	// The least busy domain carries it.
	best := 0
	for i, d := range x.s.eps {
		if d.busy.Load() < x.s.eps[best].busy.Load() {
			best = i
		}
	}
	d := x.s.eps[best]
	d.busy.Add(1)
	return d, best, nil
}

func (x *Session) end(d *domain) {
	if d != nil {
		d.busy.Add(-1)
		<-x.s.slot
		x.s.stats.TransfersNow.Add(-1)
	}
	x.mu.Lock()
	x.busy--
	if x.busy == 0 && x.idle != nil {
		close(x.idle)
		x.idle = nil
	}
	x.mu.Unlock()
}

// Covers reports whether regions hold at least n bytes (the check made
// before any transfer).
func Covers(regions []Region, n int64) bool {
	var sum uint64
	for _, r := range regions {
		if sum+r.Len < sum {
			return true // more than any value
		}
		sum += r.Len
	}
	return sum >= uint64(n)
}

// maxOp caps one RMA operation, so a large value goes out as several
// operations in flight at once.
const maxOp = 4 << 20

// plan cuts the local pages and the client's regions into operations:
// each one contiguous on both sides, at most maxOp long. Local pages that
// lie next to each other in the arena merge.
func plan(ops []fabric.Op, local [][]byte, regions []Region) []fabric.Op {
	ri, roff := 0, uint64(0)
	for _, p := range local {
		for len(p) > 0 {
			for ri < len(regions) && roff == regions[ri].Len {
				ri, roff = ri+1, 0
			}
			if ri == len(regions) {
				return ops
			}
			r := regions[ri]
			n := min(uint64(len(p)), r.Len-roff)
			base := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
			raddr := r.Addr + roff
			if k := len(ops) - 1; k >= 0 {
				last := &ops[k]
				if last.Local+uintptr(last.Len) == base && last.RKey == r.RKey &&
					last.RAddr+last.Len == raddr && last.Len+n <= maxOp {
					last.Len += n
					p, roff = p[n:], roff+n
					continue
				}
			}
			n = min(n, maxOp)
			ops = append(ops, fabric.Op{Local: base, Len: n, RAddr: raddr, RKey: r.RKey})
			p, roff = p[n:], roff+n
		}
	}
	return ops
}

// transfer moves bytes between local (arena memory) and the client's
// regions; write: to the client. When it fails, it disposes of the memory
// with release: at once, or after a timeout only once the operations
// still in flight have ended (until then the pages stay held, so a late
// completion never lands in reused memory). On success the caller keeps
// the memory.
//
// filled, when set, hears how many leading bytes of local are final as
// the operations complete (in any order), so a value read from the client
// can start on its way to the NVMe tier before the whole of it arrived.
//
// gone, when it closes, ends the wait as a timeout does: the client went
// away, and providers do not always fail its operations (tcp;ofi_rxm).
func (x *Session) transfer(write bool, local [][]byte, regions []Region, release func(), filled func(int64), gone <-chan struct{}) error {
	deadline := time.Now().Add(x.s.cfg.Timeout)
	d, di, err := x.begin(deadline)
	if err != nil {
		release()
		return err
	}
	if len(x.peers) <= di {
		release()
		return ErrSessionClosed
	}
	defer x.end(d)
	x.mu.Lock()
	ops := plan(x.ops[:0], local, regions)
	x.ops = ops
	x.mu.Unlock()
	start := time.Now()
	var watched chan struct{}
	var watch func(*fabric.Batch)
	if filled != nil {
		// NB: concurrent with posting (PostWatched), and over before
		// transfer returns, so filled never runs beside the caller's Put.
		watched = make(chan struct{})
		watch = func(b *fabric.Batch) {
			go func() {
				defer close(watched)
				waitFilled(b, ops, deadline, filled)
			}()
		}
	}
	b := d.ep.PostWatched(write, d.arena, x.peers[di], ops, deadline, watch, gone)
	err = b.WaitOr(deadline, gone)
	if watched != nil {
		<-watched
	}
	us := time.Since(start).Microseconds()
	st := &x.s.stats
	if errors.Is(err, fabric.ErrTimeout) || errors.Is(err, fabric.ErrCanceled) {
		if errors.Is(err, fabric.ErrTimeout) {
			st.Timeouts.Add(1)
		}
		var held int64
		for _, p := range local {
			held += int64(len(p))
		}
		st.HeldBytes.Add(held)
		b.Abandon(func(error) {
			st.HeldBytes.Add(-held)
			release()
		})
	} else if err != nil {
		release()
	}
	if write {
		st.Writes.Add(int64(b.Count))
		st.WriteMicros.Add(us)
		if err == nil {
			st.WriteBytes.Add(int64(b.Bytes))
		} else {
			st.WriteErrors.Add(1)
		}
	} else {
		st.Reads.Add(int64(b.Count))
		st.ReadMicros.Add(us)
		if err == nil {
			st.ReadBytes.Add(int64(b.Bytes))
		} else {
			st.ReadErrors.Add(1)
		}
	}
	if err != nil {
		return &TransferError{Write: write, Err: err}
	}
	return nil
}

// waitFilled reports the final leading bytes of a batch's local memory to
// filled as its operations complete, until it is done or the deadline.
func waitFilled(b *fabric.Batch, ops []fabric.Op, deadline time.Time, filled func(int64)) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	k, n := 0, int64(0)
	for {
		select {
		case <-b.Done():
			return
		case <-t.C:
			return
		case <-b.Progress():
			p := b.Prefix()
			for ; k < p; k++ {
				n += int64(ops[k].Len)
			}
			filled(n)
		}
	}
}

// Get writes the value v into the client's regions (fi_write) and
// releases v. Values outside the arena (small values kept inline) are
// first copied into arena pages, the only memory registered. gone, if not
// nil, closes when the client has gone away: the transfer is abandoned.
func (x *Session) Get(v *engine.Value, regions []Region, gone <-chan struct{}) error {
	if !Covers(regions, v.Len()) {
		v.Release()
		return ErrShort
	}
	bufs := v.Buffers()
	for _, p := range bufs {
		if !x.s.inArena(p) {
			return x.getCopy(v, regions, gone)
		}
	}
	if err := x.transfer(true, bufs, regions, v.Release, nil, gone); err != nil {
		return err
	}
	v.Release()
	return nil
}

func (x *Session) getCopy(v *engine.Value, regions []Region, gone <-chan struct{}) error {
	buf, err := x.s.eng.NewBuffer(v.Len())
	if err != nil {
		v.Release()
		return err
	}
	off := 0
	pages := buf.Pages()
	for _, p := range v.Buffers() {
		for len(p) > 0 {
			i, o := off/len(pages[0]), off%len(pages[0])
			n := copy(pages[i][o:], p)
			p, off = p[n:], off+n
		}
	}
	v.Release()
	if err := x.transfer(true, pages, regions, buf.Release, nil, gone); err != nil {
		return err
	}
	buf.Release()
	return nil
}

// Set reads n bytes from the client's regions (fi_read) into a new arena
// buffer and returns it, ready for engine.Put. Nothing is stored here;
// on failure the buffer is gone. gone is as for Get.
func (x *Session) Set(n int64, regions []Region, gone <-chan struct{}) (*engine.Buffer, error) {
	if !Covers(regions, n) {
		return nil, ErrShort
	}
	buf, err := x.s.eng.NewBuffer(n)
	if err != nil {
		return nil, err
	}
	pages := buf.Pages()
	full := 0 // pages reported filled
	var at int64
	filled := func(n int64) {
		k := full
		for k < len(pages) && at+int64(len(pages[k])) <= n {
			at += int64(len(pages[k]))
			k++
		}
		if k > full {
			full = k
			buf.Filled(k)
		}
	}
	if err := x.transfer(false, pages, regions, buf.Release, filled, gone); err != nil {
		return nil, err
	}
	return buf, nil
}
