package resp

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// pushQueue carries everything a subscriber or monitor is sent: messages
// that other connections publish, and, once the connection has one, its own
// replies too, so that the two never interleave mid-frame and keep their
// order. Publishers append shared, already encoded frames (one per message
// and protocol, whatever the number of subscribers) and never block; one
// goroutine per queue writes them out, a batch per vectored write.
//
// The queue is bounded by the pubsub class of output-buffer-limit: the
// connection is closed when its queued bytes pass the hard limit, or stay
// over the soft limit longer than its seconds, so a subscriber that stops
// reading costs at most that much memory, and neither the publisher nor
// the other subscribers wait for it.
type pushQueue struct {
	c     *conn
	nc    net.Conn
	proto atomic.Int32 // the connection's protocol: which frames it takes

	// Subscription counts for CLIENT LIST; the sets are the connection's.
	nsub, npsub, nssub atomic.Int32
	monitor            atomic.Bool
	monitorNS          string // the monitor's namespace; set under the hub's monMu

	mu        sync.Mutex
	q         [][]byte // frames to write, in order
	spare     [][]byte // the slice the writer returned, reused
	queued    int64    // bytes in q plus those being written
	softSince time.Time
	closed    bool // killed or ending: push no more
	draining  bool // ending: write what is queued, then stop
	writing   bool
	idle      *sync.Cond // signalled when the writer has nothing left (tests, QUIT)

	wake chan struct{} // cap 1: frames arrived in an empty queue
	done chan struct{} // closed when the writer returns
}

// writePiece is about the most one write of the queue's writer carries.
const writePiece = 64 << 10

func newPushQueue(c *conn) *pushQueue {
	p := &pushQueue{c: c, nc: c.nc, wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.q, p.spare = make([][]byte, 0, 16), make([][]byte, 0, 16)
	p.idle = sync.NewCond(&p.mu)
	p.proto.Store(int32(c.proto))
	go p.run()
	return p
}

// push queues a shared frame and wakes the writer. The frame must not
// change afterwards.
func (p *pushQueue) push(f []byte) {
	if p.add(f) {
		p.signal()
	}
}

// add queues a shared frame without waking the writer, and reports
// whether the writer must be woken (signal) for it: a publisher wakes its
// subscribers' writers once it has run its batch of commands, so that each
// takes the batch's messages in one write.
func (p *pushQueue) add(f []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.q = append(p.q, f)
	p.queued += int64(len(f))
	return p.checkLimit() && len(p.q) == 1
}

func (p *pushQueue) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Write queues a copy of b: the connection's own replies once it pushes.
func (p *pushQueue) Write(b []byte) (int, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	p.push(append([]byte(nil), b...))
	return len(b), nil
}

// checkLimit closes the connection when its queue is over the pubsub
// output limit; p.mu is held. It reports whether the connection lives.
func (p *pushQueue) checkLimit() bool {
	o := p.c.s.live.Load().output.pubsub()
	if o.Hard > 0 && p.queued > o.Hard {
		p.killLocked(fmt.Sprintf("over the pubsub output buffer hard limit %d", o.Hard))
		return false
	}
	if o.Soft > 0 && p.queued > o.Soft {
		now := time.Now()
		if p.softSince.IsZero() {
			p.softSince = now
		} else if now.Sub(p.softSince) >= o.SoftFor {
			p.killLocked(fmt.Sprintf("over the pubsub output buffer soft limit %d for %v", o.Soft, o.SoftFor))
			return false
		}
	}
	return true
}

// checkSoft closes the connection when its queue has stayed over the soft
// limit for its seconds, whether or not more pushes come (the server's
// once-a-second sweep calls it, as Redis's cron checks).
func (p *pushQueue) checkSoft(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.c.s.live.Load().output.pubsub()
	if p.closed || o.Soft <= 0 || p.queued <= o.Soft || p.softSince.IsZero() || now.Sub(p.softSince) < o.SoftFor {
		return
	}
	p.killLocked(fmt.Sprintf("over the pubsub output buffer soft limit %d for %v", o.Soft, o.SoftFor))
}

// killLocked drops the queue and closes the connection; p.mu is held.
func (p *pushQueue) killLocked(why string) {
	p.c.s.logf("resp: client id=%d addr=%s: %d bytes of pushes queued, %s, closing", p.c.id, p.c.addr, p.queued, why)
	p.closed = true
	clear(p.q)
	p.q = p.q[:0]
	// NB: not under the locks held here (a publisher's): a TLS
	// connection's Close may write its closing alert.
	go p.nc.Close()
	p.idle.Broadcast()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run is the writer: it takes what is queued and writes it in one
// vectored write, until the queue closes.
func (p *pushQueue) run() {
	defer close(p.done)
	// NB: WriteTo consumes the slice it is called on: vec is that copy,
	// iov keeps the array for the next batch.
	var iov, vec net.Buffers
	for {
		p.mu.Lock()
		for len(p.q) == 0 {
			if p.closed || p.draining {
				p.closed = true
				p.idle.Broadcast()
				p.mu.Unlock()
				return
			}
			p.idle.Broadcast()
			p.mu.Unlock()
			<-p.wake
			p.mu.Lock()
		}
		q := p.q
		p.q = p.spare[:0]
		p.spare = nil
		p.writing = true
		p.mu.Unlock()

		// Written in pieces of about writePiece bytes, each taken off
		// the queued count once the socket took it: what counts against
		// the limit is what the client has yet to take, as in Redis.
		var err error
		for i := 0; i < len(q) && err == nil; {
			var n int64
			iov = iov[:0]
			for ; i < len(q) && (n == 0 || n+int64(len(q[i])) <= writePiece); i++ {
				iov = append(iov, q[i])
				n += int64(len(q[i]))
			}
			vec = iov
			var w int64
			w, err = vec.WriteTo(p.nc)
			p.c.outBytes.Add(w)
			if w > 0 {
				p.c.lastActive.Store(time.Now().UnixNano())
			}
			clear(iov)
			p.mu.Lock()
			if !p.closed {
				p.queued -= n
				if o := p.c.s.live.Load().output.pubsub(); p.queued <= o.Soft {
					p.softSince = time.Time{}
				}
			}
			p.mu.Unlock()
		}
		clear(q)

		p.mu.Lock()
		p.writing = false
		p.spare = q[:0]
		if err != nil {
			p.closed = true
			clear(p.q)
			p.q = p.q[:0]
			p.mu.Unlock()
			p.nc.Close()
			continue
		}
		p.mu.Unlock()
	}
}

// pending is the number of bytes queued or being written (CLIENT LIST obuf).
func (p *pushQueue) pending() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued
}

// waitIdle waits until everything queued is written (or the queue closed).
func (p *pushQueue) waitIdle() {
	p.mu.Lock()
	for (len(p.q) > 0 || p.writing) && !p.closed {
		p.idle.Wait()
	}
	p.mu.Unlock()
}

// finish ends the queue: with drain, what is queued is written first (up
// to wait); then the writer stops.
func (p *pushQueue) finish(drain bool, wait time.Duration) {
	p.mu.Lock()
	if drain {
		p.draining = true
	} else {
		p.closed = true
		clear(p.q)
		p.q = p.q[:0]
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.nc.Close()
		<-p.done
	}
}
