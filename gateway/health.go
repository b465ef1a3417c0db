package gateway

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// healthInterval is how often the background health check runs; a probe
// of /healthz only reads its last result.
const healthInterval = 5 * time.Second

// healthMonitor runs check in the background and keeps its last result,
// so that health probes cost no I/O however often they come. Safe for
// concurrent use.
type healthMonitor struct {
	check    func() error
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	started time.Time // when the check in progress (or the last one) began
	done    time.Time // when the last check finished
	err     error     // its result

	stop chan struct{}
	wg   sync.WaitGroup
}

func newHealthMonitor(check func() error, interval time.Duration) *healthMonitor {
	return &healthMonitor{check: check, interval: interval, now: time.Now, stop: make(chan struct{})}
}

// start runs the first check now, then one every interval, until close.
func (h *healthMonitor) start() {
	h.runOnce()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(h.interval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.runOnce()
			}
		}
	}()
}

func (h *healthMonitor) close() {
	close(h.stop)
	h.wg.Wait()
}

func (h *healthMonitor) runOnce() {
	h.mu.Lock()
	h.started = h.now()
	h.mu.Unlock()
	err := h.check()
	h.mu.Lock()
	h.done, h.err = h.now(), err
	h.mu.Unlock()
}

// errHealthStalled reports a background check that does not finish.
var errHealthStalled = errors.New("health check stalled")

// state returns the last result (nil: healthy) and when it was found. A
// check running for more than three intervals (a sync hung on a dying
// device) is a failure by itself.
func (h *healthMonitor) state() (time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done.Before(h.started) && h.now().Sub(h.started) > 3*h.interval {
		return h.started, fmt.Errorf("%w: running since %v", errHealthStalled, h.started.UTC().Format(time.RFC3339))
	}
	return h.done, h.err
}
