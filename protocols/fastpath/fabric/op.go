package fabric

import (
	"sync"
	"time"
)

// Op is one RMA operation: Len bytes between local memory at Local (inside
// the registered region Mem) and the peer's memory at RAddr under key RKey.
type Op struct {
	Local uintptr
	Len   uint64
	RAddr uint64
	RKey  uint64
}

// Batch is a set of operations posted together, which complete together.
// Its memory must stay valid until Done is closed, even when Wait gave up
// (ErrTimeout): operations already posted may still complete.
type Batch struct {
	mu      sync.Mutex
	pending int
	sealed  bool // no more operations will be posted
	err     error
	done    chan struct{}
	after   func(error) // run once when the batch drains, after Abandon
	left    bool        // abandoned by its waiter
	Bytes   uint64      // bytes of operations that completed successfully
	Count   int         // operations posted

	ended  []bool        // per operation, in posting order: completed successfully
	prefix int           // operations 0..prefix-1 all completed successfully
	notify chan struct{} // a completion advanced prefix
}

func newBatch(n int) *Batch {
	return &Batch{done: make(chan struct{}), ended: make([]bool, n), notify: make(chan struct{}, 1)}
}

// Progress is signalled when more leading operations have completed.
func (b *Batch) Progress() <-chan struct{} { return b.notify }

// Prefix is how many leading operations (in posting order) have all
// completed successfully: their memory is final.
func (b *Batch) Prefix() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.prefix
}

// seal marks the end of posting; err, if any, is why posting stopped.
func (b *Batch) seal(err error) {
	b.mu.Lock()
	b.sealed = true
	if err != nil && b.err == nil {
		b.err = err
	}
	b.finishLocked()
}

// finishLocked closes done once sealed and drained; b.mu is held and
// released here.
func (b *Batch) finishLocked() {
	if !b.sealed || b.pending > 0 {
		b.mu.Unlock()
		return
	}
	select {
	case <-b.done:
		b.mu.Unlock()
		return
	default:
	}
	close(b.done)
	after, err := b.after, b.err
	if !b.left {
		after = nil
	}
	b.mu.Unlock()
	if after != nil {
		after(err)
	}
}

// Done is closed when every posted operation has completed.
func (b *Batch) Done() <-chan struct{} { return b.done }

// Wait waits until the batch completes or the deadline passes
// (ErrTimeout). It returns the first operation's error, if any.
func (b *Batch) Wait(deadline time.Time) error { return b.WaitOr(deadline, nil) }

// WaitOr is Wait that also gives up, with ErrCanceled, when stop closes.
func (b *Batch) WaitOr(deadline time.Time, stop <-chan struct{}) error {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-b.done:
	case <-t.C:
		select {
		case <-b.done:
		default:
			return ErrTimeout
		}
	case <-stop:
		select {
		case <-b.done:
		default:
			return ErrCanceled
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Abandon hands the batch's resources to f, which runs once every posted
// operation has completed (at once if they have). For a waiter that gave
// up: the memory the operations use must outlive them.
func (b *Batch) Abandon(f func(error)) {
	b.mu.Lock()
	select {
	case <-b.done:
		err := b.err
		b.mu.Unlock()
		f(err)
		return
	default:
	}
	b.left, b.after = true, f
	b.mu.Unlock()
}
