package resp

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client limits, as Redis names them, enforced per connection and across
// connections:
//
//   - maxclients: a connection over it is refused before anything is
//     allocated for it.
//   - query-buffer-limit (client-query-buffer-limit): the memory one
//     request holds, its read buffer plus arguments on the heap. Values
//     streamed to the engine are DRAM-tier memory, bounded by
//     dram-cache-size and answered -BUSY when it stays full.
//   - output-buffer-limit (client-output-buffer-limit normal): a client
//     whose queued replies exceed the hard limit is disconnected; one that
//     does not take soft-limit bytes of replies within soft-seconds is too.
//     A connection stops reading while its replies wait on the socket, so
//     a pipelining client holds at most about 1 MiB of copied replies
//     (plus one reply) at a time.
//   - maxmemory-clients: the memory of all client buffers together (read
//     buffers past their first 4 KiB, heap arguments, reply buffers). A
//     connection that needs more waits for it (it reads nothing meanwhile),
//     up to clientMemoryWait, and is then answered -BUSY.

// clientMemoryWait is how long a connection waits for client-buffer memory
// before its request is refused.
const clientMemoryWait = 5 * time.Second

// errClientMemory answers a request refused for lack of client-buffer
// memory.
const errClientMemory = "BUSY client buffers are full (maxmemory-clients), try again later"

// errQueryBufLimit answers a non-value argument that would take a client's
// request past query-buffer-limit.
const errQueryBufLimit = "ERR request exceeds the client query buffer limit (query-buffer-limit)"

// clientBudget is the server's account of client-buffer memory. Connections
// charge their initial buffers and reply buffers after the fact (add) and
// reserve any other growth beforehand (Reserve), which waits for memory.
type clientBudget struct {
	max     atomic.Int64 // 0: no bound
	used    atomic.Int64
	waiting atomic.Int64 // connections waiting in Reserve
	// Backpressure (metrics.go): Reserve calls, their time in all, and
	// those refused when the wait ran out.
	waits, waitNanos, refused atomic.Int64

	mu    sync.Mutex
	freed chan struct{} // closed and replaced when memory is released to waiters
}

var _ Budget = (*clientBudget)(nil)

func (b *clientBudget) setMax(n int64) {
	b.max.Store(n)
	b.wake()
}

// over reports whether the bound is reached.
func (b *clientBudget) over() bool {
	max := b.max.Load()
	return max > 0 && b.used.Load() >= max
}

// add charges (or with n < 0 releases) memory already taken.
func (b *clientBudget) add(n int64) {
	b.used.Add(n)
	if n < 0 {
		b.wake()
	}
}

// TryReserve takes n bytes if they are free now.
func (b *clientBudget) TryReserve(n int64) bool {
	for {
		max, used := b.max.Load(), b.used.Load()
		if max > 0 && used+n > max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Reserve takes n bytes, waiting up to clientMemoryWait for them.
func (b *clientBudget) Reserve(n int64) error {
	start := time.Now()
	deadline := start.Add(clientMemoryWait)
	var timer *time.Timer
	b.waiting.Add(1)
	defer func() {
		b.waiting.Add(-1)
		b.waits.Add(1)
		b.waitNanos.Add(int64(time.Since(start)))
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		b.mu.Lock()
		if b.TryReserve(n) {
			b.mu.Unlock()
			return nil
		}
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		freed := b.freed
		b.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			b.refused.Add(1)
			return replyError(errClientMemory)
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-freed:
		case <-timer.C:
		}
	}
}

// Release gives n bytes back and wakes the waiters.
func (b *clientBudget) Release(n int64) { b.add(-n) }

func (b *clientBudget) wake() {
	b.mu.Lock()
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
	b.mu.Unlock()
}

// OutputLimit is client-output-buffer-limit for normal clients.
type OutputLimit struct {
	// Hard disconnects a client whose queued replies exceed it. 0: none.
	Hard int64
	// Soft disconnects a client that does not take this many bytes of
	// replies within SoftFor. 0: none.
	Soft    int64
	SoftFor time.Duration
	// PubSub is the pubsub class, which bounds the pushes queued for a
	// subscriber or a monitor.
	PubSub PubSubLimit
}

// PubSubLimit is client-output-buffer-limit for pubsub clients. Unless
// Given, Redis's default applies: 32mb hard, 8mb soft for 60 seconds.
type PubSubLimit struct {
	Hard    int64
	Soft    int64
	SoftFor time.Duration
	Given   bool
}

// defaultPubSubLimit is Redis's client-output-buffer-limit pubsub default.
var defaultPubSubLimit = PubSubLimit{Hard: 32 << 20, Soft: 8 << 20, SoftFor: 60 * time.Second, Given: true}

// pubsub is the pubsub class in force.
func (o OutputLimit) pubsub() PubSubLimit {
	if o.PubSub.Given {
		return o.PubSub
	}
	return defaultPubSubLimit
}

// ParseOutputLimit parses output-buffer-limit: "<hard>", "<hard> <soft>
// <soft-seconds>", or Redis's client-output-buffer-limit form, one or more
// "<class> <hard> <soft> <soft-seconds>" groups, of which the normal and
// pubsub classes apply (replica clients do not exist here). Sizes take the
// config's units (k, kb, m, mb, g, gb).
func ParseOutputLimit(s string) (OutputLimit, error) {
	f := strings.Fields(s)
	switch {
	case len(f) == 1 || len(f) == 3:
		return parseOutputSizes(f)
	case len(f) > 0 && len(f)%4 == 0:
		var l OutputLimit
		var ps PubSubLimit
		for i := 0; i < len(f); i += 4 {
			class := strings.ToLower(f[i])
			if class != "normal" && class != "replica" && class != "slave" && class != "pubsub" {
				return OutputLimit{}, errOutputLimit
			}
			// Every class is checked; replica clients do not exist here.
			o, err := parseOutputSizes(f[i+1 : i+4])
			if err != nil {
				return OutputLimit{}, err
			}
			switch class {
			case "normal":
				l = o
			case "pubsub":
				ps = PubSubLimit{Hard: o.Hard, Soft: o.Soft, SoftFor: o.SoftFor, Given: true}
			}
		}
		l.PubSub = ps
		return l, nil
	}
	return OutputLimit{}, errOutputLimit
}

// parseOutputSizes parses "<hard>" or "<hard> <soft> <soft-seconds>".
func parseOutputSizes(v []string) (OutputLimit, error) {
	var o OutputLimit
	var err error
	if o.Hard, err = parseSize(v[0]); err != nil || o.Hard < 0 {
		return OutputLimit{}, errOutputLimit
	}
	if len(v) == 1 {
		return o, nil
	}
	if o.Soft, err = parseSize(v[1]); err != nil || o.Soft < 0 {
		return OutputLimit{}, errOutputLimit
	}
	secs, err := strconv.Atoi(v[2])
	if err != nil || secs < 0 {
		return OutputLimit{}, errOutputLimit
	}
	o.SoftFor = time.Duration(secs) * time.Second
	return o, nil
}
